import {
  useMutation,
  useQueryClient,
  type UseMutationOptions,
  type UseMutationResult,
} from '@tanstack/react-query';
import {
  audioTaskKeys,
  createAudioTaskInputSchema,
  isAmbiguousFailure,
  KlingApiError,
  type AudioTask,
  type CreateAudioTaskInput,
  type KlingAudioClient,
} from '../api';
import { useKlingAudioContext } from './KlingAudioProvider';
import { nextPollDelay, type PollingOptions } from './polling';
import { holdTaskEvents } from './taskEvents';

export interface UseCreateAudioTaskOptions {
  /**
   * How many times to try again after a failure that may succeed later (a dropped connection, a timeout,
   * 5xx, 1302/1303). Parameter, policy, auth and account codes are never retried. Defaults to `2`.
   */
  retries?: number;
  /** Passed through to react-query's `useMutation`. */
  mutation?: Partial<UseMutationOptions<AudioTask, KlingApiError, CreateAudioTaskInput>>;
}

export type UseCreateAudioTaskResult = UseMutationResult<AudioTask, KlingApiError, CreateAudioTaskInput>;

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
  });

function randomId(): string {
  // randomUUID needs a secure context; plain-http LAN hosts in development do not have one.
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * Creates a task so that exactly one exists, whatever the network does: every create carries an
 * external id, and after an ambiguous failure (a dropped connection, a timeout, a 5xx) the task is looked
 * up by that id before anything is sent again.
 */
export async function createAudioTaskOnce(
  client: KlingAudioClient,
  input: CreateAudioTaskInput,
  { retries = 2, polling, signal }: { retries?: number; polling: PollingOptions; signal?: AbortSignal },
): Promise<AudioTask> {
  const withId = { ...input, externalTaskId: input.externalTaskId ?? randomId() };
  let lastError: unknown;
  let mustLookUp = false;
  for (let attempt = 0; attempt <= retries; attempt++) {
    if (attempt > 0) {
      const retryAfterMs = KlingApiError.is(lastError) ? lastError.retryAfterMs : undefined;
      await sleep(nextPollDelay(attempt - 1, polling, retryAfterMs), signal);
    }
    try {
      if (mustLookUp) {
        try {
          return await client.getTask({ externalTaskId: withId.externalTaskId }, { signal });
        } catch (error) {
          // 1203/404: the first try never reached the vendor, so creating is safe. Anything else: unknown.
          const notFound = KlingApiError.is(error) && (error.code === 1203 || error.httpStatus === 404);
          if (!notFound) throw error;
          mustLookUp = false;
        }
      }
      return await client.createTask(withId, { signal });
    } catch (error) {
      lastError = error;
      if (!KlingApiError.is(error) || !error.retryable) throw error;
      if (isAmbiguousFailure(error)) mustLookUp = true;
    }
  }
  throw lastError;
}

/**
 * A mutation that creates a task. On success it seeds the task's cache entry, refreshes task lists and
 * remembers the prompt (`task.request`) and the pending task (`usePendingAudioTasks`).
 *
 * @example
 * const create = useCreateAudioTask({ mutation: { onSuccess: (task) => setTaskId(task.taskId) } });
 * create.mutate({ prompt: 'Rain on a tin roof', duration: 5 });
 */
export function useCreateAudioTask(options: UseCreateAudioTaskOptions = {}): UseCreateAudioTaskResult {
  const { client, polling, memory } = useKlingAudioContext();
  const queryClient = useQueryClient();
  const { retries, mutation } = options;
  return useMutation<AudioTask, KlingApiError, CreateAudioTaskInput>({
    ...mutation,
    mutationKey: [...audioTaskKeys.all, 'create'],
    mutationFn: async (input) => {
      // With push, the stream is up before the task exists, so none of its changes can slip by.
      const release = await holdTaskEvents(queryClient);
      const task = await createAudioTaskOnce(client, input, { retries, polling }).finally(release);
      const { prompt, duration } = createAudioTaskInputSchema.parse(input);
      return { ...task, request: { prompt, duration } };
    },
    onSuccess: (task, ...rest) => {
      if (task.request) memory.remember(task.taskId, task.request);
      memory.addPending(task.taskId);
      queryClient.setQueryData(audioTaskKeys.task(task.taskId), task);
      void queryClient.invalidateQueries({ queryKey: audioTaskKeys.lists() });
      return mutation?.onSuccess?.(task, ...rest);
    },
  });
}
