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
