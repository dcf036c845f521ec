/**
 * The hub that fans task events out to Server-Sent Event streams, each user's own only, with
 * `Last-Event-ID` replay, heartbeats and a per-user connection bound.
 *
 * What one stream costs is what an instance's capacity is counted in, so a stream holds only what it needs:
 * streams are kept in one set per user (a change touches its user's streams and the shared space's, never
 * the others), one timer beats for all of them, and each event is presented and serialised once, then the
 * same bytes are written to every stream that gets it. A client that stops reading keeps at most
 * `maxBacklogBytes` waiting; past that its stream ends (its reconnect resumes, or gets `resync`).
 */
import type { WireTask } from '../../api/schemas';
import type { KlingTaskEventLog, TaskEvent } from '../core/eventLog';
import {
  encodeServerSentEvent,
  EVENT_STREAM_HEADERS,
  eventStreamResponse,
  HEARTBEAT,
  type EventStreamReply,
  type StreamSink,
} from '../http/sse';
import type { ClientSignal } from '../vendor/upstream';

export interface TaskEventHubOptions {
  /** Streams one user (or the shared space) may hold at once; the next gets 429. Defaults to `5`. */
  maxConnectionsPerUser?: number;
  /** Milliseconds between heartbeats. Defaults to `15_000`. */
  heartbeatMs?: number;
  /** The reconnect delay streams suggest to clients (`retry:`), in ms. Defaults to `2000`. */
  retryMs?: number;
  /**
   * Bytes a stream may have waiting for a client that does not read (its socket's buffer full); past it
   * the stream ends, and the client's reconnect resumes from the log or gets `resync`. Defaults to
   * `65_536` (64 KiB).
   */
  maxBacklogBytes?: number;
}

export interface TaskEventHub {
  /** Records a task's state and, when it is a real change, sends it to its owner's streams. */
  publish(owner: string, task: WireTask): Promise<TaskEvent | undefined>;
  /**
   * A streamed `text/event-stream` Response of `owner`'s tasks (`null`: all tasks), replaying what came
   * after `lastEventId`; `undefined` when `owner` already holds the most streams allowed. A stream whose
   * `signal` fires (before or after it opened) ends and frees its place.
   */
  open(
    owner: string | null,
    lastEventId: string | null,
    signal?: ClientSignal,
  ): Promise<Response | undefined>;
  /**
   * The same stream before it has a body (what `open` wraps in a `Response`): `toNodeHandler` writes it to
   * the socket itself. Its place is taken at once; a failure to listen to the log gives it back and throws.
   */
  stream(
    owner: string | null,
    lastEventId: string | null,
    signal?: ClientSignal,
  ): Promise<EventStreamReply | undefined>;
  /** True when `owner` (or the shared space, which hears every owner) has a stream open here. */
  watched(owner: string): boolean;
  /** Stops listening to the log and ends every stream. */
  close(): Promise<void>;
  /** How many streams are open on this instance. */
  readonly streams: number;
}

/**
 * How a stream shows a task: as a get would answer it at that moment (kept copies' URLs, say). Called once
 * per event, in the log's order; when it fails, the task goes out as it was logged.
 */
export type PresentTask = (owner: string, task: WireTask) => Promise<WireTask>;

const encoder = new TextEncoder();
const HEARTBEAT_BYTES = encoder.encode(HEARTBEAT);
const RESYNC_BYTES = encoder.encode(encodeServerSentEvent({ event: 'resync', data: '' }));
// The shared space's streams hear every owner; a user id is never this.
const SHARED_KEY = '\0shared';

const encodeEvent = (event: TaskEvent, task: WireTask) =>
  encoder.encode(encodeServerSentEvent({ event: 'task', id: event.id, data: JSON.stringify(task) }));

/** One open stream: a class, so its methods are shared and each stream holds only its fields. */
class EventStream {
  sink: StreamSink | undefined;
  /** Live events that came while the replay was read: sent after it, in order, each once. */
  queued: { id: string; bytes: Uint8Array }[] | undefined = [];
  closed = false;
  signal: ClientSignal | undefined;
  /** The signal's `abort` listener. */
  readonly onAbort = () => this.end();
  constructor(
    readonly owner: string | null,
    readonly group: Set<EventStream>,
    readonly hub: Hub,
  ) {}

  /** Writes bytes, or ends the stream when its client has left more than the backlog unread. */
  write(bytes: Uint8Array) {
    if (this.closed || !this.sink) return;
    let backlog: number;
    try {
      backlog = this.sink.write(bytes);
    } catch {
      return this.drop();
    }
    if (backlog > this.hub.maxBacklogBytes) this.overflow();
  }

  /** A live event: held back while the replay is read, written otherwise. */
  send(id: string, bytes: Uint8Array) {
    if (this.queued) this.queued.push({ id, bytes });
    else this.write(bytes);
  }

  /** Too much unread: what waits is dropped at once (not kept until read), and the client reconnects. */
  overflow() {
    if (this.closed) return;
    this.drop();
    this.sink?.end(true);
  }

  /** Leaves the hub (its place freed), once. */
  drop() {
    if (this.closed) return;
    this.closed = true;
    this.queued = undefined;
    this.signal?.removeEventListener('abort', this.onAbort);
    this.hub.remove(this);
  }

  /** Ends the stream: what was written is still read, then the body ends. */
  end() {
    if (this.closed) return;
    this.drop();
    this.sink?.end();
  }
}

type Hub = {
  maxBacklogBytes: number;
  remove(stream: EventStream): void;
};

export function createTaskEventHub(
  log: KlingTaskEventLog,
  options: TaskEventHubOptions = {},
  present?: PresentTask,
): TaskEventHub {
  const {
    maxConnectionsPerUser = 5,
    heartbeatMs = 15_000,
    retryMs = 2000,
    maxBacklogBytes = 65_536,
  } = options;
  const connected = encoder.encode(`retry: ${retryMs}\n: connected\n\n`);
  /** The streams of each user (`SHARED_KEY`: the shared space's): its size is the user's count of places. */
  const groups = new Map<string, Set<EventStream>>();
  let count = 0;
  let heartbeat: ReturnType<typeof setInterval> | undefined;
  let listening: Promise<() => Promise<void> | void> | undefined;

  const hub: Hub = {
    maxBacklogBytes,
    remove(stream) {
      const key = stream.owner ?? SHARED_KEY;
      if (!stream.group.delete(stream)) return;
      count--;
      if (stream.group.size === 0 && groups.get(key) === stream.group) groups.delete(key);
      if (count === 0) {
        clearInterval(heartbeat);
        heartbeat = undefined;
      }
    },
  };

  const forEachStream = (fn: (stream: EventStream) => void) => {
    // A stream that ends meanwhile leaves its set: deleting while iterating a Set or Map is safe.
    for (const group of groups.values()) for (const stream of group) fn(stream);
  };

  /** Writes one event's bytes to every stream that hears its owner, as they are now. */
  const fanOut = (event: TaskEvent, bytes: Uint8Array) => {
    const own = groups.get(event.owner);
    if (own) for (const stream of own) stream.send(event.id, bytes);
    const shared = groups.get(SHARED_KEY);
    if (shared) for (const stream of shared) stream.send(event.id, bytes);
  };
  const heard = (owner: string) => groups.has(owner) || groups.has(SHARED_KEY);

  /** The event's bytes as streams send it: presented (when the proxy presents tasks), then serialised. */
  const bytesOf = async (event: TaskEvent) =>
    encodeEvent(event, present ? await present(event.owner, event.task).catch(() => event.task) : event.task);

  // Presenting is asynchronous: one chain for the hub keeps the events in the log's order.
  let presenting = Promise.resolve();
  const deliver = (event: TaskEvent) => {
    // Nobody here hears this owner: nothing to present or serialise.
    if (!heard(event.owner)) return;
    if (!present) return fanOut(event, encodeEvent(event, event.task));
    // A failure must not stop the chain: later events still go out.
    presenting = presenting.then(async () => fanOut(event, await bytesOf(event))).catch(() => {});
  };

  // Every event reaches the hub through the log, whoever appended it: this instance or another one. A
  // LISTEN that failed (the database down) is forgotten, so the next stream or publish tries again.
  const listen = () =>
    (listening ??= log.listen(deliver).catch((error: unknown) => {
      listening = undefined;
      throw error;
    }));

  const beat = () => forEachStream((stream) => stream.write(HEARTBEAT_BYTES));

  /** Replays what came after `lastEventId` (or says `resync`), then the live events held meanwhile. */
  async function catchUp(stream: EventStream, owner: string | null, lastEventId: string | null) {
    const replay = lastEventId ? await log.since(owner, lastEventId).catch(() => undefined) : undefined;
    const replayed = new Set<string>();
    if (replay) {
      for (const event of replay) {
        if (stream.closed) return;
        replayed.add(event.id);
        stream.write(await bytesOf(event));
      }
    }
    // Nothing to resume from: whoever watches tasks reads them once, so nothing slips between their last
    // read and this stream.
    else stream.write(RESYNC_BYTES);
    // Replay and live delivery overlap for a moment: each event goes out once.
    const waiting = stream.queued ?? [];
    stream.queued = undefined;
    for (const { id, bytes } of waiting) if (!replayed.has(id)) stream.write(bytes);
  }

  const openStream: TaskEventHub['stream'] = async (owner, lastEventId, signal) => {
    if (signal?.aborted) return undefined;
    const key = owner ?? SHARED_KEY;
    let group = groups.get(key);
    if (group && group.size >= maxConnectionsPerUser) return undefined;
    if (!group) groups.set(key, (group = new Set()));
    const stream = new EventStream(owner, group, hub);
    // The place is taken now, before anything is awaited, and given back by `drop` whatever happens.
    group.add(stream);
    count++;
    heartbeat ??= setInterval(beat, heartbeatMs);
    // The streams must not keep a Node process alive on their own.
    (heartbeat as { unref?: () => void }).unref?.();
    if (signal) {
      stream.signal = signal;
      signal.addEventListener('abort', stream.onAbort);
    }
    try {
      await listen();
    } catch (error) {
      stream.drop();
      throw error;
    }
    return {
      status: 200,
      headers: EVENT_STREAM_HEADERS,
      start(sink) {
        stream.sink = sink;
        // The client left while we waited: its `abort` has ended the stream already.
        if (stream.closed) sink.end();
        else {
          stream.write(connected);
          void catchUp(stream, owner, lastEventId);
        }
        return () => stream.drop();
      },
    };
  };

  return {
    get streams() {
      return count;
    },
    watched: heard,
    async publish(owner, task) {
      // This instance's LISTEN being down must not lose the change: it is logged for the other instances
      // (and for replay) all the same.
      await listen().catch(() => {});
      return log.append(owner, task);
    },

    async open(owner, lastEventId, signal) {
      const reply = await openStream(owner, lastEventId, signal);
      return reply && eventStreamResponse(reply);
    },

    stream: openStream,

    async close() {
      forEachStream((stream) => stream.end());
      const stop = await listening?.catch(() => undefined);
      listening = undefined;
      await stop?.();
    },
  };
}
