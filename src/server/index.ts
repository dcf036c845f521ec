export { createKlingAudioProxy, type KlingAudioProxy } from './proxy/createProxy';
export {
  type KlingAudioProxyOptions,
  type KlingProxyRateLimit,
  type KlingProxyRequestInfo,
  type KlingProxyResponseInfo,
} from './proxy/options';
export { type KlingProxyRoute } from './http/routes';
export { signKlingToken, type SignKlingTokenOptions } from './vendor/token';
export { toNodeHandler, type ToNodeHandlerOptions } from './adapters/node/toNodeHandler';
export { createMemoryTaskStore } from './storage/memory/taskStore';
export {
  type KlingTaskRecord,
  type KlingTaskRecordCondition,
  type KlingTaskListFilter,
  type KlingTaskRecordPatch,
  type KlingTaskStore,
  type NewKlingTaskRecord,
} from './core/taskStore';
export { createPostgresTaskStore, type PostgresTaskStoreOptions } from './storage/postgres/taskStore';
export { type SqlDatabase } from './core/sql';
export { type KlingTaskEventLog, type TaskEvent } from './core/eventLog';
export { createMemoryTaskEventLog, type MemoryTaskEventLogOptions } from './storage/memory/eventLog';
export { createTaskEventHub, type TaskEventHub, type TaskEventHubOptions } from './push/hub';
export { type EventStreamOptions } from './push/push';
export { encodeServerSentEvent } from './http/sse';
export { createPostgresTaskEventLog, type PostgresTaskEventLogOptions } from './storage/postgres/eventLog';
export { createCallbackTokens, type CallbackTokens } from './push/callbacks';
export { type KeepAudioOptions, type KeptFileMeta } from './keep/keeping';
export { type KeepAddress, type KeepFailureReason, type KeepLookup, type KeepTransport } from './keep/keeper';
export { type KeptFile, type KeptFileInfo, type KeptFileStore } from './core/fileStore';
export { readKlingAccount, type KlingAccountState } from './queue/queue';
export { type KlingProxyLimits, type LimitWindow, type UserLimits } from './queue/limits';
export {
  type Admission,
  type KlingQueueStore,
  type KlingQueueingTaskStore,
  type QueueAccount,
  type QueueRefusal,
  type QueueUsage,
} from './core/queueStore';
