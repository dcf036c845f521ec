export {
  createKlingAudioProxy,
  type KlingAudioProxyOptions,
  type KlingProxyRateLimit,
  type KlingProxyRequestInfo,
  type KlingProxyResponseInfo,
} from './proxy/createProxy';
export { type KlingProxyRoute } from './http/routes';
export { signKlingToken, type SignKlingTokenOptions } from './vendor/token';
export { toNodeHandler } from './adapters/node/toNodeHandler';
export {
  createMemoryTaskStore,
  type KlingTaskRecord,
  type KlingTaskRecordCondition,
  type KlingTaskRecordPatch,
  type KlingTaskStore,
  type NewKlingTaskRecord,
} from './core/taskStore';
export {
  createPostgresTaskStore,
  type PostgresTaskStoreOptions,
  type SqlDatabase,
} from './storage/postgres/taskStore';
export {
  createMemoryTaskEventLog,
  createTaskEventHub,
  encodeServerSentEvent,
  type KlingTaskEventLog,
  type MemoryTaskEventLogOptions,
  type TaskEvent,
  type TaskEventHub,
  type TaskEventHubOptions,
} from './core/eventLog';
export { createPostgresTaskEventLog, type PostgresTaskEventLogOptions } from './storage/postgres/eventLog';
export { createCallbackTokens, type CallbackTokens } from './push/callbacks';
export { type KeepAudioOptions, type KeptFileMeta } from './keep/keeping';
export { type KeepAddress, type KeepFailureReason, type KeepLookup, type KeepTransport } from './keep/keeper';
export { type KeptFile, type KeptFileInfo, type KeptFileStore } from './core/fileStore';
