import {
  keepPreviousData,
  useQuery,
  useQueryClient,
  type UseQueryOptions,
  type UseQueryResult,
} from '@tanstack/react-query';
import { useEffect, useMemo } from 'react';
import {
  audioTaskListQueryOptions,
  isTerminalStatus,
  PAGE_NUM_MAX,
  PAGE_NUM_MIN,
  PAGE_SIZE_DEFAULT,
  type AudioTask,
  type AudioTaskListQueryKey,
  type AudioTaskStatus,
  type KlingApiError,
} from '../api';
import { useKlingAudioContext } from './KlingAudioProvider';
import { useHydrated } from './useHydrated';
import { watchQuery } from './polling';
import { withFields } from './result';

export interface UseAudioTaskListParams {
  /** 1–1000. Defaults to `1`. */
  pageNum?: number;
  /** 1–500. Defaults to `30`. */
  pageSize?: number;
  /** Words of the prompt or title (case-insensitive, at most 200 characters), sent as `q`. Defaults to none. */
  query?: string;
  /** `true`: starred tasks only (sent as `starred=true`). Defaults to every task. */
  starred?: boolean;
  /** Tasks in this status only (sent as `status`). Defaults to every status. */
  status?: AudioTaskStatus;
}

export interface UseAudioTaskListOptions {
  /** Passed through to react-query's `useQuery`. */
  query?: Partial<UseQueryOptions<AudioTask[], KlingApiError, AudioTask[], AudioTaskListQueryKey>>;
}

interface UseAudioTaskListFields {
  /** The page's tasks, newest first, with `request` where this browser created them. */
  tasks: AudioTask[];
  /** The list answer has no total: a full page is the only hint that another page exists. */
  hasNextPage: boolean;
  hasPreviousPage: boolean;
}

/** The react-query result plus the page's fields, read lazily (a component re-renders for what it read). */
export type UseAudioTaskListResult = UseQueryResult<AudioTask[], KlingApiError> & UseAudioTaskListFields;

const NO_TASKS: AudioTask[] = [];
const hasPending = (tasks: AudioTask[]) => tasks.some((task) => !isTerminalStatus(task.status));

/**
 * One page of task history, optionally filtered (`query`, `starred`, `status`). Bounds are checked before
 * any request; the previous page stays on screen while the next loads (and while a new search answers);
 * the next page is prefetched; the page refreshes itself while a task on it is pending.
 *
 * @example
 * const [pageNum, setPageNum] = useState(1);
 * const { tasks, hasNextPage, isPlaceholderData } = useAudioTaskList({ pageNum, pageSize: 20 });
 */
export function useAudioTaskList(
  {
    pageNum = PAGE_NUM_MIN,
    pageSize = PAGE_SIZE_DEFAULT,
    query,
    starred,
    status,
  }: UseAudioTaskListParams = {},
  options: UseAudioTaskListOptions = {},
): UseAudioTaskListResult {
  const { client, polling, memory } = useKlingAudioContext();
  const queryClient = useQueryClient();
  const filters = { query: query?.trim() || undefined, starred: starred || undefined, status };
  const base = audioTaskListQueryOptions(client, { pageNum, pageSize, ...filters });
  const result = useQuery<AudioTask[], KlingApiError, AudioTask[], AudioTaskListQueryKey>({
    ...base,
    placeholderData: keepPreviousData,
    ...options.query,
  });

  const data = result.data;
  const hydrated = useHydrated();
  const tasks = useMemo(
    () => (data ? (hydrated ? data.map((task) => memory.attach(task)) : data) : NO_TASKS),
    [data, hydrated, memory],
  );
  const hasNextPage = !result.isPlaceholderData && tasks.length === pageSize && pageNum < PAGE_NUM_MAX;
  const hasPreviousPage = pageNum > PAGE_NUM_MIN;
  const listKey = JSON.stringify(base.queryKey);
  const enabled = options.query?.enabled !== false;

  useEffect(() => {
    if (!enabled) return;
    return watchQuery<AudioTask[]>(queryClient, JSON.parse(listKey), {
      shouldPoll: hasPending,
      options: polling,
    });
  }, [enabled, queryClient, listKey, polling]);

  // A task seen finished on a page leaves the pending list.
  useEffect(() => {
    data?.forEach((task) => isTerminalStatus(task.status) && memory.settle(task.taskId));
  }, [data, memory]);

  useEffect(() => {
    if (!enabled || !hasNextPage) return;
    const next = { ...(JSON.parse(listKey) as AudioTaskListQueryKey)[2], pageNum: pageNum + 1 };
    void queryClient.prefetchQuery(audioTaskListQueryOptions(client, next));
  }, [enabled, hasNextPage, queryClient, client, pageNum, listKey]);

  return withFields<UseQueryResult<AudioTask[], KlingApiError>, UseAudioTaskListFields>(result, {
    tasks: () => tasks,
    hasNextPage: () => hasNextPage,
    hasPreviousPage: () => hasPreviousPage,
  });
}
