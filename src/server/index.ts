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
