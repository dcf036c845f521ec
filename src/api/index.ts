// What hooks, components, the server and the mocks import from the API layer. Not `./events`: the client
// loads the push reader with `import()` when a stream opens (import it from `./events` directly).
export * from './schemas';
export * from './errors';
export * from './client';
export type {
  ServerSentEvent,
  TaskEventHandlers,
  TaskEventSource,
  TaskEventStreamOptions,
  TaskEventStreamState,
} from './events';
export * from './messages';
export * from './queryOptions';
