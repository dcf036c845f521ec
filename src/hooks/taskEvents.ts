/**
 * Push for the hooks: one event stream per provider, open only while something is worth hearing about (a
 * watched pending task, a list with a pending task, a create in flight). Its events land in the same cache
 * entries polling fills; while it is live the poller stands aside (`isLiveOnPush`), and takes over again
 * the moment it drops. A proxy without an events route answers 404 once, and then it is polling, quietly.
 */
import type { Query, QueryClient } from '@tanstack/react-query';
import {
  audioTaskKeys,
  compareTaskStates,
  isTerminalStatus,
  type AudioTask,
  type KlingAudioClient,
} from '../api';
import { forgetCachedTask, removeCachedTask } from './taskCache';

/**
 * How task updates arrive: `'auto'` the proxy's event stream where it has one, polling where it does not
 * or while the stream is down; `'push'` the same, but a missing route is not taken as final (the stream
 * keeps retrying, polling meanwhile); `'poll'` polling only.
 */
export type TaskUpdatesMode = 'auto' | 'push' | 'poll';

// A watcher that unmounts and another that mounts right after (a new task id, a page change) should not
// cost a reconnect.
const LINGER_MS = 3000;

interface Channel {
  live: boolean;
  /** Resolves once the stream is live, or will not be, or after `ms`. */
  ready(ms: number): Promise<void>;
  hold(): () => void;
}

const channels = new WeakMap<QueryClient, Channel>();
// Kept apart from the channel: pollers start in child effects, before the provider's effect opens it.
const listeners = new WeakMap<QueryClient, Set<() => void>>();

/** True while `queryClient`'s stream is open: its tasks' changes arrive without polling. */
export function isLiveOnPush(queryClient: QueryClient): boolean {
  return channels.get(queryClient)?.live ?? false;
}

/** Calls `listener` whenever the stream goes live or drops. Returns the unsubscribe function. */
export function onPushChange(queryClient: QueryClient, listener: () => void): () => void {
  let set = listeners.get(queryClient);
  if (!set) listeners.set(queryClient, (set = new Set()));
  set.add(listener);
  return () => void set.delete(listener);
}

/**
 * Keeps the stream open for a create: waits (at most `ms`) until it is live, so no change of the new task
 * can happen before the stream hears it. Returns the release function.
 */
export async function holdTaskEvents(queryClient: QueryClient, ms = 2000): Promise<() => void> {
  const channel = channels.get(queryClient);
  if (!channel) return () => {};
  const release = channel.hold();
  await channel.ready(ms);
  return release;
}

type Data = AudioTask | AudioTask[] | undefined;

const isPendingTask = (task: AudioTask | undefined) => !task || !isTerminalStatus(task.status);
const newer = (task: AudioTask, old: AudioTask | undefined): AudioTask => {
  if (!old) return task;
  if (compareTaskStates(task, old) < 0) return old;
  // Events carry what a get answers; the prompt this browser remembered stays, as the query function keeps it.
  return old.request && !task.request ? { ...task, request: old.request } : task;
};

/** A watched (observed, enabled) query of ours that a stream could bring news for. */
function kindOf(query: Query): 'task' | 'list' | undefined {
  const [root, kind, params] = query.queryKey as [unknown, unknown, Record<string, unknown>?];
  if (root !== audioTaskKeys.all[0] || query.getObserversCount() === 0) return undefined;
  if (kind === 'task') return params && Object.values(params)[0] !== '' ? 'task' : undefined;
  return kind === 'list' ? 'list' : undefined;
}

function hasNews(query: Query): boolean {
  const kind = kindOf(query);
  const data = query.state.data as Data;
  if (kind === 'task') return query.state.status !== 'error' && isPendingTask(data as AudioTask | undefined);
  return kind === 'list' && Array.isArray(data) && data.some((task) => isPendingTask(task));
}

/**
 * Starts the provider's stream manager. Returns the function that stops it (and the stream).
 */
export function startTaskEvents(
  queryClient: QueryClient,
  client: KlingAudioClient,
  mode: TaskUpdatesMode,
): () => void {
  // A custom client object may not stream; a second provider on the same QueryClient shares the first one's.
  if (mode === 'poll' || typeof client.streamTaskEvents !== 'function' || channels.has(queryClient)) {
    return () => {};
  }
  const cache = queryClient.getQueryCache();
  let controller: AbortController | undefined;
  let unsupported = false;
  let holds = 0;
  let linger: ReturnType<typeof setTimeout> | undefined;
  let connectedAt = 0;
  let waiters: (() => void)[] = [];

  const channel: Channel = {
    live: false,
    ready: (ms) =>
      channel.live || unsupported
        ? Promise.resolve()
        : new Promise<void>((resolve) => {
            const timer = setTimeout(done, ms);
            function done() {
              clearTimeout(timer);
              resolve();
            }
            waiters.push(done);
          }),
    hold() {
      holds++;
      evaluate();
      let held = true;
      return () => {
        if (!held) return;
        held = false;
        holds--;
        evaluate();
      };
    },
  };
  channels.set(queryClient, channel);

  const setLive = (live: boolean) => {
    if (channel.live === live) return;
    channel.live = live;
    listeners.get(queryClient)?.forEach((listener) => listener());
  };

  function onTask(task: AudioTask) {
    const refs = [task.taskId, ...(task.externalTaskId ? [{ externalTaskId: task.externalTaskId }] : [])];
    for (const ref of refs) {
      const key = audioTaskKeys.task(ref);
      // Only entries someone has asked for: a shared space's stream must not fill the cache with strangers.
      if (cache.find({ queryKey: key, exact: true })) {
        queryClient.setQueryData<AudioTask>(key, (old) => newer(task, old));
      }
    }
    queryClient.setQueriesData<AudioTask[]>({ queryKey: audioTaskKeys.lists() }, (list) => {
      const index = list?.findIndex((item) => item.taskId === task.taskId) ?? -1;
      if (!list || index < 0) return list;
      const next = list.slice();
      next[index] = newer(task, list[index]);
      return next;
    });
  }

  /** Deleted on another tab or device: off every page, and the pages refill. */
  function onDelete(taskId: string) {
    removeCachedTask(queryClient, taskId);
    forgetCachedTask(queryClient, taskId);
    void queryClient.invalidateQueries({ queryKey: audioTaskKeys.lists() });
  }

  /** The stream could not replay what it may have missed: read what was read before it connected. */
  function onResync() {
    for (const query of cache.getAll()) {
      if (hasNews(query) && query.state.fetchStatus === 'idle' && query.state.dataUpdatedAt < connectedAt) {
        query.fetch().catch(() => {});
      }
    }
  }

  function open() {
    const current = (controller = new AbortController());
    connectedAt = Date.now();
    void client
      .streamTaskEvents(
        {
          onTask,
          onDelete,
          onResync,
          onState: (state) => {
            if (state === 'unsupported') unsupported = true;
            setLive(state === 'live');
            // A create waits for the first attempt only: a stream that cannot connect must not delay it.
            waiters.splice(0).forEach((done) => done());
          },
        },
        { signal: current.signal, persistent: mode === 'push' },
      )
      .catch(() => {})
      .finally(() => {
        if (controller === current) controller = undefined;
        setLive(false);
      });
  }

  function close() {
    linger = undefined;
    controller?.abort();
    controller = undefined;
    setLive(false);
  }

  let queued = false;
  function evaluate() {
    if (unsupported) return;
    const wanted = holds > 0 || cache.getAll().some(hasNews);
    if (wanted) {
      clearTimeout(linger);
      linger = undefined;
      if (!controller) open();
    } else if (controller && !linger) {
      linger = setTimeout(close, LINGER_MS);
    }
  }
  // Cache events come in bursts (one per observer and fetch): look once per burst.
  const unsubscribe = cache.subscribe(() => {
    if (queued) return;
    queued = true;
    queueMicrotask(() => {
      queued = false;
      evaluate();
    });
  });
  evaluate();

  return () => {
    unsubscribe();
    clearTimeout(linger);
    close();
    waiters.splice(0).forEach((done) => done());
    waiters = [];
    channels.delete(queryClient);
  };
}
