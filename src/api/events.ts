/**
 * The client side of push: a Server-Sent Events reader over `fetch` and `ReadableStream`. Not
 * `EventSource`: the client's `headers` may be async (an app's session token), and EventSource cannot send
 * headers at all. Reconnects with `Last-Event-ID` after a capped, jittered delay. No React, server-safe.
 *
 * The client loads this module with `import()` when a stream opens, so a page that never watches a task
 * never downloads it. It imports types only: whatever it needs from the rest of the library (sending a
 * request, reading a task) is passed in, or bundlers would split that shared code into chunks of its own
 * and every page would pay for the extra requests.
 */
import type { AudioTask } from './schemas';

/** The events route, under the proxy's mount point. */
export const TASK_EVENTS_PATH = '/v1/audio/text-to-audio/events';

/**
 * Where the stream is: `live` while it is open, `down` while it reconnects, `unsupported` once the proxy
 * has said it has no events route (the reader then stops for good).
 */
export type TaskEventStreamState = 'live' | 'down' | 'unsupported';

export interface TaskEventHandlers {
  /** A task changed: the same model `getTask` returns. */
  onTask: (task: AudioTask) => void;
  /** The stream opened, dropped or turned out not to exist. */
  onState?: (state: TaskEventStreamState) => void;
  /**
   * The server could not replay what this stream may have missed (a first connection, or a resume point
   * it no longer has): whoever watches tasks should read them once.
   */
  onResync?: () => void;
}

export interface TaskEventStreamOptions {
  /** Stops the stream for good. */
  signal: AbortSignal;
  /**
   * Keep retrying after an answer that says there is no events route (404 and the like) instead of
   * stopping with `unsupported`. Defaults to `false`.
   */
  persistent?: boolean;
  /** First reconnect delay in ms (a server's `retry:` replaces it). Defaults to `1000`. */
  retryMs?: number;
  /** Longest reconnect delay in ms. Defaults to `30_000`. */
  maxRetryMs?: number;
  /** A stream silent this long (no event, no heartbeat) counts as dropped. Defaults to `45_000` ms. */
  idleMs?: number;
}

/** What the client hands the reader. */
export interface TaskEventSource {
  /** GET `path` under the client's base URL, with the client's headers and then `headers`. */
  get(path: string, headers: Record<string, string>, signal: AbortSignal): Promise<Response>;
  /** A `task` event's data as the model `getTask` returns, or `undefined` when it cannot be read. */
  readTask(data: string): AudioTask | undefined;
}

/** One dispatched Server-Sent Event. */
export interface ServerSentEvent {
  event: string;
  data: string;
  id: string | undefined;
  retry: number | undefined;
}

/**
 * Reads an event stream as the HTML standard says: lines end in CRLF, LF or CR; `:` starts a comment;
 * `data` lines join with `\n`; an empty line dispatches; `id` persists until changed.
 */
export async function* readServerSentEvents(
  body: ReadableStream<Uint8Array>,
  signal?: AbortSignal,
): AsyncGenerator<ServerSentEvent> {
  const reader = body.getReader();
  // A `fetch` that ignores its signal (a test double, some polyfills) must still stop on abort.
  const cancel = () => void reader.cancel().catch(() => {});
  signal?.addEventListener('abort', cancel, { once: true });
  const decoder = new TextDecoder();
  let buffer = '';
  let event = '';
  let data: string[] = [];
  let id: string | undefined;
  let retry: number | undefined;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      buffer += decoder.decode(value, { stream: true });
      // A CR at the very end may be the first half of a CRLF: wait for the next chunk.
      const lines = buffer.split(/\r\n|\n|\r(?!$)/);
      buffer = lines.pop()!;
      for (const line of lines) {
        if (line === '') {
          if (data.length) yield { event: event || 'message', data: data.join('\n'), id, retry };
          event = '';
          data = [];
          retry = undefined;
          continue;
        }
        if (line[0] === ':') continue;
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        const text = colon < 0 ? '' : line.slice(colon + (line[colon + 1] === ' ' ? 2 : 1));
        if (field === 'data') data.push(text);
        else if (field === 'event') event = text;
        else if (field === 'id' && !text.includes('\0')) id = text;
        else if (field === 'retry' && /^\d+$/.test(text)) retry = Number(text);
      }
    }
  } finally {
    signal?.removeEventListener('abort', cancel);
    cancel();
  }
}

// Statuses that mean "try again later", not "there is no such route".
const isTransient = (status: number) => status >= 500 || [401, 403, 408, 429].includes(status);

const wait = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
  });

/**
 * Keeps one event stream open until `signal` aborts, reconnecting with `Last-Event-ID` after a capped,
 * jittered delay, and hands every `task` event to `onTask`. Resolves when stopped (or `unsupported`).
 */
export async function followTaskEvents(
  source: TaskEventSource,
  handlers: TaskEventHandlers,
  {
    signal,
    persistent = false,
    retryMs = 1000,
    maxRetryMs = 30_000,
    idleMs = 45_000,
  }: TaskEventStreamOptions,
): Promise<void> {
  let lastEventId: string | undefined;
  let failures = 0;
  let state: TaskEventStreamState | undefined;
  const setState = (next: TaskEventStreamState) => {
    if (next !== state && !signal.aborted) handlers.onState?.((state = next));
  };

  while (!signal.aborted) {
    const attempt = new AbortController();
    const stop = () => attempt.abort();
    signal.addEventListener('abort', stop, { once: true });
    let idle: ReturnType<typeof setTimeout> | undefined;
    const touch = () => {
      clearTimeout(idle);
      idle = setTimeout(stop, idleMs);
    };
    try {
      const headers: Record<string, string> = { Accept: 'text/event-stream' };
      if (lastEventId) headers['Last-Event-ID'] = lastEventId;
      const response = await source.get(TASK_EVENTS_PATH, headers, attempt.signal);
      const type = response.headers.get('content-type') ?? '';
      if (!response.ok || !/^text\/event-stream\b/i.test(type) || !response.body) {
        void response.body?.cancel().catch(() => {});
        if (!persistent && !isTransient(response.status)) return setState('unsupported');
        throw new Error(`HTTP ${response.status}`);
      }
      setState('live');
      touch();
      // Counting the raw bytes, not the events: a heartbeat is a comment, and comments are not dispatched.
      const body = response.body.pipeThrough(
        new TransformStream<Uint8Array, Uint8Array>({
          transform: (chunk, controller) => (touch(), controller.enqueue(chunk)),
        }),
      );
      for await (const message of readServerSentEvents(body, attempt.signal)) {
        failures = 0;
        if (message.retry !== undefined) retryMs = message.retry;
        if (message.id !== undefined) lastEventId = message.id;
        if (message.event === 'resync') handlers.onResync?.();
        if (message.event !== 'task') continue;
        const task = source.readTask(message.data);
        if (task) handlers.onTask(task);
      }
    } catch {
      // A dropped connection, a refused one, or our own abort: the loop decides.
    } finally {
      clearTimeout(idle);
      signal.removeEventListener('abort', stop);
    }
    if (signal.aborted) return;
    setState('down');
    const delay = Math.min(maxRetryMs, retryMs * 2 ** failures++);
    // Full jitter in the upper half: clients dropped together do not all come back together.
    await wait(delay * (0.5 + Math.random() / 2), signal);
  }
}
