/**
 * The hub that fans task events out to Server-Sent Event streams, each user's own only, with
 * `Last-Event-ID` replay, heartbeats and a per-user connection bound.
 */
import type { WireTask } from '../../api/schemas';
import type { KlingTaskEventLog, TaskEvent } from '../core/eventLog';
import { encodeServerSentEvent, HEARTBEAT } from '../http/sse';

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
