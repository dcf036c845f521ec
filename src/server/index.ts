export {
  createKlingAudioProxy,
  type KlingAudioProxyOptions,
  type KlingProxyRateLimit,
  type KlingProxyRequestInfo,
  type KlingProxyResponseInfo,
} from './proxy';
export { type KlingProxyRoute } from './routes';
export { signKlingToken, type SignKlingTokenOptions } from './token';
export { toNodeHandler } from './node';
export {
  createMemoryTaskStore,
  type KlingTaskRecord,
  type KlingTaskRecordCondition,
  type KlingTaskRecordPatch,
  type KlingTaskStore,
  type NewKlingTaskRecord,
} from './store';
export { createPostgresTaskStore, type PostgresTaskStoreOptions, type SqlDatabase } from './postgresStore';
export {
  createMemoryTaskEventLog,
  createTaskEventHub,
  encodeServerSentEvent,
  type KlingTaskEventLog,
  type MemoryTaskEventLogOptions,
  type TaskEvent,
  type TaskEventHub,
  type TaskEventHubOptions,
} from './taskEvents';
export { createPostgresTaskEventLog, type PostgresTaskEventLogOptions } from './postgresTaskEvents';
export { createCallbackTokens, type CallbackTokens } from './callbacks';
export { type KeepAudioOptions, type KeptFileMeta } from './keeping';
export { type KeepAddress, type KeepFailureReason, type KeepLookup, type KeepTransport } from './keeper';
export { type KeptFile, type KeptFileInfo, type KeptFileStore } from './keptFiles';
