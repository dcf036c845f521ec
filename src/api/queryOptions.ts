/**
 * Query keys and query options: the fetcher and its cache identity in one place, for the hooks, for
 * `useSuspenseQuery`, and for prefetching in loaders and on the server. No React at run time.
 */
import type { QueryClient, QueryFunctionContext } from '@tanstack/react-query';
import type { GetTaskParams, KlingAudioClient } from './client';
import { KlingApiError } from './errors';
import {
  isTerminalStatus,
  PAGE_NUM_MIN,
  PAGE_SIZE_DEFAULT,
  type AudioTask,
  type AudioTaskRef,
  type AudioUsage,
  type ListAudioTasksParams,
} from './schemas';

/** A task reference in its one canonical form (a bare string is a task id). */
export function toTaskParams(ref: AudioTaskRef): GetTaskParams {
  if (typeof ref === 'string') return { taskId: ref };
  return 'taskId' in ref ? { taskId: ref.taskId } : { externalTaskId: ref.externalTaskId };
}

const all = ['kling-audio'] as const;

/**
 * Hierarchical query keys. `audioTaskKeys.all` prefixes every key, so
 * `queryClient.invalidateQueries({ queryKey: audioTaskKeys.all })` reaches everything of this library.
 */
export const audioTaskKeys = {
  all,
  tasks: () => [...all, 'task'] as const,
  task: (ref: AudioTaskRef) => [...all, 'task', toTaskParams(ref)] as const,
  lists: () => [...all, 'list'] as const,
  list: ({
    pageNum = PAGE_NUM_MIN,
    pageSize = PAGE_SIZE_DEFAULT,
    query,
    starred,
    status,
  }: ListAudioTasksParams = {}) =>
    [
      ...all,
      'list',
      // Filters only when set: an unfiltered page keeps the key it always had.
      {
        pageNum,
        pageSize,
        ...(query?.trim() && { query: query.trim() }),
        ...(starred && { starred }),
        ...(status && { status }),
      } as ListAudioTasksParams & { pageNum: number; pageSize: number },
    ] as const,
  /** The signed-in user's usage (`GET {baseUrl}/usage`). */
  usage: () => [...all, 'usage'] as const,
};

export type AudioTaskQueryKey = ReturnType<typeof audioTaskKeys.task>;
export type AudioTaskListQueryKey = ReturnType<typeof audioTaskKeys.list>;

/** Retries a failed request twice when the error says a retry may succeed; never on a vendor refusal. */
export function shouldRetryRequest(failureCount: number, error: unknown): boolean {
  return failureCount < 2 && KlingApiError.is(error) && error.retryable;
}

/**
 * Options for one task. A finished task never changes, so it stays fresh forever; a pending one is
 * refreshed by the hooks' poller, not by react-query's retry.
 *
 * @example
 * const { data } = useSuspenseQuery(audioTaskQueryOptions(client, 'task_123'));
 * await queryClient.prefetchQuery(audioTaskQueryOptions(client, { externalTaskId: 'order-42' }));
 */
export function audioTaskQueryOptions(client: KlingAudioClient, ref: AudioTaskRef) {
  return {
    queryKey: audioTaskKeys.task(ref),
    queryFn: async ({ signal, client: queryClient, queryKey }: QueryFunctionContext<AudioTaskQueryKey>) => {
      const task = withRequest(await client.getTask(toTaskParams(ref), { signal }), queryClient, queryKey);
      // The lists that hold this task show the news too (and need not poll for it).
      for (const [listKey, tasks] of queryClient.getQueriesData<AudioTask[]>({
        queryKey: audioTaskKeys.lists(),
      })) {
        const index = tasks?.findIndex((item) => item.taskId === task.taskId) ?? -1;
        if (index < 0 || isSameTask(tasks![index]!, task)) continue;
        const known = tasks![index]!;
        queryClient.setQueryData<AudioTask[]>(
          listKey,
          tasks!.map((item) => (item === known ? { ...task, request: known.request ?? task.request } : item)),
        );
      }
      return task;
    },
    staleTime: (query: { state: { data?: AudioTask } }) =>
      isTerminalStatus(query.state.data?.status) ? Infinity : 0,
    retry: false as const,
  };
}

/**
 * Options for one page of history, newest first. Each task of the page also refreshes its own entry
 * (`audioTaskKeys.task(taskId)`), so a task watched on its own and shown on a page is fetched once.
 *
 * @example
 * await queryClient.prefetchQuery(audioTaskListQueryOptions(client, { pageNum: 1, pageSize: 30 }));
 */
export function audioTaskListQueryOptions(client: KlingAudioClient, params: ListAudioTasksParams = {}) {
  return {
    queryKey: audioTaskKeys.list(params),
    queryFn: async ({ signal, client: queryClient }: QueryFunctionContext<AudioTaskListQueryKey>) => {
      const tasks = await client.listTasks(params, { signal });
      // Written even when unchanged: that is news for the task's own poller, which then waits.
      for (const task of tasks) {
        const key = audioTaskKeys.task(task.taskId);
        const known = queryClient.getQueryData<AudioTask>(key);
        if (known && known.updatedAt > task.updatedAt) continue;
        queryClient.setQueryData(key, withRequest(task, queryClient, key));
      }
      return tasks;
    },
    // Long enough that a prefetched next page is used as is when the user pages to it.
    staleTime: 10_000,
    retry: shouldRetryRequest,
  };
}

/**
 * Options for the signed-in user's usage against the proxy's limits. A proxy without the route (404)
 * answers `null`: there are no limits to show, and no reason to ask again.
 *
 * @example
 * const { data: usage } = useQuery(audioUsageQueryOptions(client));
 */
export function audioUsageQueryOptions(client: KlingAudioClient) {
  return {
    queryKey: audioTaskKeys.usage(),
    queryFn: async ({ signal }: QueryFunctionContext): Promise<AudioUsage | null> => {
      try {
        return await client.getUsage({ signal });
      } catch (error) {
        // Also the mock vendor's "no such API" (1203 with 404): the same meaning.
        if (KlingApiError.is(error) && error.httpStatus === 404) return null;
        throw error;
      }
    },
    // Refreshed on purpose (after a create, when a task ends), not on every mount or focus.
    staleTime: 30_000,
    retry: shouldRetryRequest,
  };
}

// The vendor's task has no prompt: keep the one this browser attached when it created the task.
function withRequest(task: AudioTask, queryClient: QueryClient, key: AudioTaskQueryKey): AudioTask {
  const request = queryClient.getQueryData<AudioTask>(key)?.request;
  return request && !task.request ? { ...task, request } : task;
}

// The URLs count too: a kept copy replaces the vendor's links without another status or time.
const isSameTask = (a: AudioTask, b: AudioTask) =>
  a.status === b.status &&
  a.updatedAt === b.updatedAt &&
  a.audios.length === b.audios.length &&
  a.audios.every(
    (audio, index) => audio.mp3Url === b.audios[index]!.mp3Url && audio.kept === b.audios[index]!.kept,
  );
