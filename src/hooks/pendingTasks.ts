/**
 * What this browser remembers about tasks: which are still pending (so a reload resumes them) and the
 * prompt and duration of each task it created (the vendor's task object has no prompt). Namespaced,
 * bounded, and SSR-safe: nothing touches `window` at import or during a server render.
 */
import type { AudioTask, AudioTaskRequest } from '../api';

/** At most this many prompts are remembered; the oldest go first. */
export const REMEMBERED_REQUESTS_MAX = 200;
/** At most this many pending task ids are kept. */
const PENDING_MAX = 50;

export interface TaskMemory {
  subscribe(listener: () => void): () => void;
  /** Pending task ids, newest first. The same array until it changes. */
  getPending(): readonly string[];
  addPending(taskId: string): void;
  /** Forget a task as pending once it is seen `succeed` or `failed`. */
  settle(taskId: string): void;
  remember(taskId: string, request: AudioTaskRequest): void;
  recall(taskId: string): AudioTaskRequest | undefined;
  /** The task with `request` filled in from memory where the task itself lacks it. */
  attach<T extends AudioTask | undefined>(task: T): T;
  /**
   * A small piece of UI state kept across reloads under the same namespace (the studio's prompt draft and
   * current sound). The same value (by identity) until `save` changes it; `undefined` when there is none.
   */
  load<T>(name: string): T | undefined;
  /** Keeps `value` under `name` (`undefined` forgets it) and tells the subscribers. */
  save(name: string, value: unknown): void;
}

type Requests = Record<string, AudioTaskRequest & { at: number }>;

function read<T>(storage: Storage | undefined, key: string, fallback: T): T {
  try {
    const raw = storage?.getItem(key);
    return raw ? (JSON.parse(raw) as T) : fallback;
  } catch {
    return fallback;
  }
}

function write(storage: Storage | undefined, key: string, value: unknown) {
  try {
    storage?.setItem(key, JSON.stringify(value));
  } catch {
    // Full or disabled storage (private mode): memory still works for this page.
  }
}

/** The browser's localStorage, when there is one and it can be used. */
export function defaultStorage(): Storage | undefined {
  try {
    return typeof window === 'undefined' ? undefined : window.localStorage;
  } catch {
    return undefined;
  }
}

export function createTaskMemory(storage: Storage | undefined, namespace = 'rka'): TaskMemory {
  const pendingKey = `${namespace}:pending`;
  const requestsKey = `${namespace}:requests`;
  const listeners = new Set<() => void>();
  let pending: readonly string[] = read<string[]>(storage, pendingKey, []).filter(
    (id) => typeof id === 'string',
  );
  let requests: Requests = read<Requests>(storage, requestsKey, {});
  // Parsed once per name, so `load` answers the same object until `save` replaces it.
  const kept = new Map<string, unknown>();

  const emit = () => listeners.forEach((listener) => listener());
  const setPending = (next: readonly string[]) => {
    pending = next;
    write(storage, pendingKey, next);
    emit();
  };

  // Another tab created or finished a task.
  const onStorage = (event: StorageEvent) => {
    if (event.key === pendingKey) {
      pending = read<string[]>(storage, pendingKey, []);
      emit();
    } else if (event.key === requestsKey) {
      requests = read<Requests>(storage, requestsKey, {});
      emit();
    }
  };

  const recall = (taskId: string): AudioTaskRequest | undefined => {
    const entry = requests[taskId];
    return entry && { prompt: entry.prompt, duration: entry.duration };
  };

  return {
    subscribe(listener) {
      if (listeners.size === 0 && typeof window !== 'undefined')
        window.addEventListener('storage', onStorage);
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
        if (listeners.size === 0 && typeof window !== 'undefined')
          window.removeEventListener('storage', onStorage);
      };
    },
    getPending: () => pending,
    addPending(taskId) {
      if (pending[0] === taskId) return;
      setPending([taskId, ...pending.filter((id) => id !== taskId)].slice(0, PENDING_MAX));
    },
    settle(taskId) {
      if (pending.includes(taskId)) setPending(pending.filter((id) => id !== taskId));
    },
    remember(taskId, { prompt, duration }) {
      // Newest first by construction, so the oldest fall off the end.
      const older = Object.entries(requests).filter(([id]) => id !== taskId);
      const entries = [[taskId, { prompt, duration, at: Date.now() }] as const, ...older];
      requests = Object.fromEntries(entries.slice(0, REMEMBERED_REQUESTS_MAX));
      write(storage, requestsKey, requests);
      emit();
    },
    recall,
    load<T>(name: string) {
      if (!kept.has(name)) kept.set(name, read<unknown>(storage, `${namespace}:${name}`, undefined));
      return kept.get(name) as T | undefined;
    },
    save(name, value) {
      kept.set(name, value);
      if (value === undefined) {
        try {
          storage?.removeItem(`${namespace}:${name}`);
        } catch {
          // Disabled storage: nothing was kept there either.
        }
      } else write(storage, `${namespace}:${name}`, value);
      emit();
    },
    attach(task) {
      if (!task || task.request) return task;
      const request = recall(task.taskId);
      return request ? { ...task, request } : task;
    },
  };
}
