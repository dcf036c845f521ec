/**
 * Push, server side: an append-only log of task changes (one event per real change, never backwards),
 * and the hub that fans them out to Server-Sent Event streams, each user's own only, with `Last-Event-ID`
 * replay, heartbeats and a per-user connection bound. The log decides what several proxy instances share:
 * in memory for one process, or PostgreSQL LISTEN/NOTIFY (`createPostgresTaskEventLog`).
 */
import { compareTaskStates, type WireTask } from '../../api/schemas';

/** One change of one task, as streams send it. */
export interface TaskEvent {
  /** Increasing within one log; what a stream sends as `id` and gets back as `Last-Event-ID`. */
  id: string;
  /** Whose task it is: the user id `authorize` returned, or `''` for the shared space. */
  owner: string;
  /** The task as a get answers it (the envelope's `data`). */
  task: WireTask;
}

/** Where task changes are kept and shared. */
export interface KlingTaskEventLog {
  /**
   * Appends a task's new state; `undefined` when it is not newer than what the log has for that task (a
   * duplicate, late or out-of-order update), which then reaches no stream.
   */
  append(owner: string, task: WireTask): Promise<TaskEvent | undefined>;
  /**
   * Events after `id`, oldest first, of `owner` (`null`: every owner); `undefined` when the log cannot
   * resume from `id` (unknown, or older than what it keeps).
   */
  since(owner: string | null, id: string): Promise<TaskEvent[] | undefined>;
  /** Calls `listener` with every event appended here or by another instance sharing the log. */
  listen(listener: (event: TaskEvent) => void): Promise<() => Promise<void> | void>;
}

const state = (task: WireTask) => ({ status: task.task_status, updatedAt: task.updated_at });

export interface MemoryTaskEventLogOptions {
  /** How many events are kept for replay. Defaults to `1000`. */
  limit?: number;
}

/** A log for one process: replay from memory, lost at restart (a resuming stream then gets `resync`). */
export function createMemoryTaskEventLog({
  limit = 1000,
}: MemoryTaskEventLogOptions = {}): KlingTaskEventLog {
  // Ids carry this log's own prefix, so an id from before a restart (or another process) is not mistaken
  // for one of ours.
  const epoch = crypto.randomUUID().slice(0, 8);
  const events: (TaskEvent & { seq: number })[] = [];
  const latest = new Map<string, WireTask>();
  const listeners = new Set<(event: TaskEvent) => void>();
  let seq = 0;
  return {
    async append(owner, task) {
      const last = latest.get(task.task_id);
      if (last && compareTaskStates(state(task), state(last)) <= 0) return undefined;
      latest.set(task.task_id, task);
      // Bounded: the oldest task states go with the events (a very late update of one may then pass).
      if (latest.size > limit * 4) latest.delete(latest.keys().next().value!);
      const event = { id: `${epoch}-${++seq}`, owner, task, seq };
      events.push(event);
      if (events.length > limit) events.shift();
      for (const listener of listeners) listener(event);
      return event;
    },
    async since(owner, id) {
      const match = /^([\da-f]{8})-(\d+)$/.exec(id);
      if (!match || match[1] !== epoch) return undefined;
      const after = Number(match[2]);
      // Nothing lost in between: the event right after `after` must still be here (or none came since).
      if (after > seq || (events.length > 0 && events[0]!.seq > after + 1)) return undefined;
      return events.filter((event) => event.seq > after && (owner === null || event.owner === owner));
    },
    async listen(listener) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
  };
}

// ------------------------------------------------------------------------------------------------
// Server-Sent Events

/** One event in the `text/event-stream` format: `event`, `id`, then one `data:` line per line. */
export function encodeServerSentEvent({
  event,
  id,
  data,
  retry,
}: {
  event?: string;
  id?: string;
  data: string;
  retry?: number;
}): string {
  let text = event ? `event: ${event}\n` : '';
  // An id with a line break would end the field early and be read as something else.
  if (id !== undefined) text += `id: ${id.replace(/[\r\n\0]/g, '')}\n`;
  if (retry !== undefined) text += `retry: ${retry}\n`;
  for (const line of data.split(/\r\n|\r|\n/)) text += `data: ${line}\n`;
  return `${text}\n`;
}

/** A comment: keeps proxies and load balancers from closing an idle stream, and tells the client it lives. */
export const HEARTBEAT = ': heartbeat\n\n';

export interface TaskEventHubOptions {
  /** Streams one user (or the shared space) may hold at once; the next gets 429. Defaults to `5`. */
  maxConnectionsPerUser?: number;
  /** Milliseconds between heartbeats. Defaults to `15_000`. */
  heartbeatMs?: number;
  /** The reconnect delay streams suggest to clients (`retry:`), in ms. Defaults to `2000`. */
  retryMs?: number;
}

export interface TaskEventHub {
  /** Records a task's state and, when it is a real change, sends it to its owner's streams. */
  publish(owner: string, task: WireTask): Promise<TaskEvent | undefined>;
  /**
   * A streamed `text/event-stream` Response of `owner`'s tasks (`null`: all tasks), replaying what came
   * after `lastEventId`; `undefined` when `owner` already holds the most streams allowed.
   */
  open(
    owner: string | null,
    lastEventId: string | null,
    signal?: AbortSignal,
    present?: PresentTask,
  ): Promise<Response | undefined>;
  /** Stops listening to the log and ends every stream. */
  close(): Promise<void>;
  /** How many streams are open on this instance. */
  readonly streams: number;
}

/**
 * How a stream shows a task: as a get would answer it at that moment (kept copies' URLs, say). Called per
 * event, in order; when it fails, the task goes out as it was logged.
 */
export type PresentTask = (owner: string, task: WireTask) => Promise<WireTask>;

interface Subscriber {
  owner: string | null;
  send: (event: TaskEvent) => void;
}

const encoder = new TextEncoder();

export function createTaskEventHub(log: KlingTaskEventLog, options: TaskEventHubOptions = {}): TaskEventHub {
  const { maxConnectionsPerUser = 5, heartbeatMs = 15_000, retryMs = 2000 } = options;
  const subscribers = new Set<Subscriber>();
  const connections = new Map<string, number>();
  const closers = new Set<() => void>();
  let listening: Promise<() => Promise<void> | void> | undefined;

  // Every event reaches the hub through the log, whoever appended it: this instance or another one.
  const listen = () =>
    (listening ??= log.listen((event) => {
      for (const subscriber of subscribers) {
        if (subscriber.owner === null || subscriber.owner === event.owner) subscriber.send(event);
      }
    }));

  return {
    get streams() {
      return subscribers.size;
    },
    async publish(owner, task) {
      await listen();
      return log.append(owner, task);
    },

    async open(owner, lastEventId, signal, present) {
      const key = owner ?? '\0shared';
      const count = connections.get(key) ?? 0;
      if (count >= maxConnectionsPerUser) return undefined;
      connections.set(key, count + 1);
      await listen();

      let controller!: ReadableStreamDefaultController<Uint8Array>;
      let closed = false;
      // Started now, first beat later: by then `write` below exists.
      const heartbeat = setInterval(() => write(HEARTBEAT), heartbeatMs);
      // A stream must not keep a Node process alive on its own.
      (heartbeat as { unref?: () => void }).unref?.();
      const write = (text: string) => {
        if (closed) return;
        try {
          controller.enqueue(encoder.encode(text));
        } catch {
          cleanup();
        }
      };
      const sent = new Set<string>();
      const writeEvent = (event: TaskEvent, task: WireTask) =>
        write(encodeServerSentEvent({ event: 'task', id: event.id, data: JSON.stringify(task) }));
      // Presenting is asynchronous: one chain per stream keeps the events in the log's order.
      let presented = Promise.resolve();
      const sendEvent = (event: TaskEvent) => {
        // Replay and live delivery overlap for a moment: each event goes out once.
        if (sent.has(event.id)) return;
        sent.add(event.id);
        if (sent.size > 1000) sent.delete(sent.values().next().value!);
        if (!present) return writeEvent(event, event.task);
        presented = presented.then(() =>
          present(event.owner, event.task).then(
            (task) => writeEvent(event, task),
            () => writeEvent(event, event.task),
          ),
        );
      };
      // Live events that arrive while the replay is read wait here, so the order stays the log's.
      let queued: TaskEvent[] | undefined = [];
      const subscriber: Subscriber = {
        owner,
        send: (event) => (queued ? queued.push(event) : sendEvent(event)),
      };
      function cleanup() {
        if (closed) return;
        closed = true;
        clearInterval(heartbeat);
        subscribers.delete(subscriber);
        closers.delete(end);
        signal?.removeEventListener('abort', end);
        const left = (connections.get(key) ?? 1) - 1;
        if (left > 0) connections.set(key, left);
        else connections.delete(key);
      }
      function end() {
        if (closed) return;
        cleanup();
        try {
          controller.close();
        } catch {
          // Already cancelled by the reader.
        }
      }
      closers.add(end);
      signal?.addEventListener('abort', end, { once: true });

      const body = new ReadableStream<Uint8Array>({
        start: (c) => void (controller = c),
        cancel: cleanup,
      });
      subscribers.add(subscriber);
      write(`retry: ${retryMs}\n: connected\n\n`);
      const replay = lastEventId ? await log.since(owner, lastEventId).catch(() => undefined) : undefined;
      if (replay) replay.forEach(sendEvent);
      // Nothing to resume from: whoever watches tasks reads them once, so nothing slips between their last
      // read and this stream.
      else write(encodeServerSentEvent({ event: 'resync', data: '' }));
      const waiting = queued;
      queued = undefined;
      waiting.forEach(sendEvent);

      return new Response(body, {
        status: 200,
        headers: {
          'content-type': 'text/event-stream; charset=utf-8',
          'cache-control': 'no-store',
          // nginx and some hosts buffer responses unless told not to.
          'x-accel-buffering': 'no',
        },
      });
    },

    async close() {
      for (const end of [...closers]) end();
      const stop = await listening;
      listening = undefined;
      await stop?.();
    },
  };
}
