import {
  useQuery,
  useQueryClient,
  type QueryClient,
  type QueryKey,
  type UseQueryOptions,
  type UseQueryResult,
} from '@tanstack/react-query';
import { useEffect } from 'react';
import {
  audioTaskKeys,
  audioUsageQueryOptions,
  isTerminalStatus,
  type AudioTask,
  type AudioTaskStatus,
  type AudioUsage,
  type KlingApiError,
} from '../api';
import { useKlingAudioContext } from './KlingAudioProvider';
import { withFields } from './result';

export type AudioUsageQueryKey = ReturnType<typeof audioTaskKeys.usage>;

export interface UseAudioUsageOptions {
  /** Passed through to react-query's `useQuery`. */
  query?: Partial<UseQueryOptions<AudioUsage | null, KlingApiError, AudioUsage | null, AudioUsageQueryKey>>;
}

interface UseAudioUsageFields {
  /** The signed-in user's figures; `undefined` while loading and where the proxy has no usage route. */
  usage: AudioUsage | undefined;
}

/** The react-query result (its own `status` untouched) plus `usage`. */
export type UseAudioUsageResult = UseQueryResult<AudioUsage | null, KlingApiError> & UseAudioUsageFields;

/**
 * The signed-in user's usage against the proxy's limits (`GET {baseUrl}/usage`): creates and units in the
 * window, tasks running and waiting. Refreshed after each create and whenever a task this app watches
 * ends or leaves the queue, however that news arrived (a poll, a list page, a push).
 *
 * @example
 * const { usage } = useAudioUsage();
 * if (usage?.tasks.max !== undefined) return <p>{usage.tasks.max - usage.tasks.used} sounds left</p>;
 */
export function useAudioUsage(options: UseAudioUsageOptions = {}): UseAudioUsageResult {
  const { client } = useKlingAudioContext();
  const queryClient = useQueryClient();
  const result = useQuery<AudioUsage | null, KlingApiError, AudioUsage | null, AudioUsageQueryKey>({
    ...audioUsageQueryOptions(client),
    ...options.query,
  });
  useEffect(() => refreshUsageOnTaskEnds(queryClient), [queryClient]);
  return withFields<UseQueryResult<AudioUsage | null, KlingApiError>, UseAudioUsageFields>(result, {
    usage: () => result.data ?? undefined,
  });
}

// One watcher per QueryClient, however many components show the usage: one refresh per change.
const watchers = new WeakMap<QueryClient, { count: number; stop: () => void }>();

function refreshUsageOnTaskEnds(queryClient: QueryClient): () => void {
  let watcher = watchers.get(queryClient);
  if (!watcher) {
    watcher = { count: 0, stop: watchTaskChanges(queryClient) };
    watchers.set(queryClient, watcher);
  }
  watcher.count++;
  const joined = watcher;
  return () => {
    if (--joined.count > 0) return;
    joined.stop();
    if (watchers.get(queryClient) === joined) watchers.delete(queryClient);
  };
}

const tasksOf = (queryKey: QueryKey, data: unknown): AudioTask[] => {
  const [root, kind] = queryKey as [unknown, unknown];
  if (root !== audioTaskKeys.all[0] || data == null) return [];
  if (kind === 'task') return [data as AudioTask];
  return kind === 'list' && Array.isArray(data) ? (data as AudioTask[]) : [];
};

function watchTaskChanges(queryClient: QueryClient): () => void {
  // The last status seen of each task: only a change from a pending status counts (a finished task read
  // from a history page for the first time is old news).
  const seen = new Map<string, AudioTaskStatus>();
  return queryClient.getQueryCache().subscribe((event) => {
    if (event.type !== 'updated' || event.action.type !== 'success') return;
    let changed = false;
    for (const task of tasksOf(event.query.queryKey, event.query.state.data)) {
      const last = seen.get(task.taskId);
      if (last !== undefined && last !== task.status && !isTerminalStatus(last)) {
        // A task ended (units settle, a parallel slot frees) or left the queue (a place frees).
        changed ||= isTerminalStatus(task.status) || last === 'queued';
      }
      seen.set(task.taskId, task.status);
    }
    if (changed) void queryClient.invalidateQueries({ queryKey: audioTaskKeys.usage() });
  });
}
