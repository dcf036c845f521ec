import {
  useMutation,
  useQueryClient,
  type UseMutationOptions,
  type UseMutationResult,
} from '@tanstack/react-query';
import { useCallback, useRef, useState } from 'react';
import {
  audioTaskKeys,
  createAudioTaskInputSchema,
  isAmbiguousFailure,
  isNotFound,
  isQuotaError,
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
  /**
   * The longest wait before a try again, in ms. A server that asks for more (`Retry-After: 600`) gets the
   * error at once instead of a form stuck in "Sending…". Defaults to `60_000` (1 minute).
   */
  maxRetryWaitMs?: number;
  /** Passed through to react-query's `useMutation`. */
  mutation?: Partial<UseMutationOptions<AudioTask, KlingApiError, CreateAudioTaskInput>>;
}

export type UseCreateAudioTaskResult = UseMutationResult<AudioTask, KlingApiError, CreateAudioTaskInput> & {
  /** While waiting to try again: when the next try starts, in ms since the epoch. `undefined` otherwise. */
  retryAt: number | undefined;
  /**
   * Stops the create in progress: the mutation fails with kind `aborted`. If the request may already have
   * reached the server, the next submission of the same input looks that task up before creating one.
   */
  cancel(): void;
};

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
  });

export function randomId(): string {
  // randomUUID needs a secure context; plain-http LAN hosts in development do not have one.
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** One submission: the same input keeps its external id until it succeeds or fails for certain. */
export interface Submission {
  key: string;
  externalTaskId: string;
  /** The last try may have reached the vendor: look the task up before creating. */
  mustLookUp: boolean;
}

export interface CreateOnceOptions {
  retries?: number;
  polling: PollingOptions;
  signal?: AbortSignal;
  maxRetryWaitMs?: number;
  /** Called with when the next try starts (ms since the epoch), and with `undefined` when it starts. */
  onWait?: (retryAt: number | undefined) => void;
}

/**
 * Creates a task so that exactly one exists, whatever the network does: every create carries an
 * external id, and after an ambiguous failure (a dropped connection, a timeout, a 5xx) the task is looked
 * up by that id before anything is sent again. `submission` carries that knowledge from one call to the
 * next (a second press of Generate after a final "could not reach the server").
 */
export async function createAudioTaskOnce(
  client: KlingAudioClient,
  input: CreateAudioTaskInput,
  submission: Submission,
  { retries = 2, polling, signal, maxRetryWaitMs = 60_000, onWait }: CreateOnceOptions,
): Promise<AudioTask> {
  const withId = { ...input, externalTaskId: submission.externalTaskId };
  let lastError: unknown;
  for (let attempt = 0; attempt <= retries; attempt++) {
    if (attempt > 0) {
      const retryAfterMs = KlingApiError.is(lastError) ? lastError.retryAfterMs : undefined;
      const delay = nextPollDelay(attempt - 1, polling, retryAfterMs);
      if (delay > maxRetryWaitMs) break;
      onWait?.(Date.now() + delay);
      await sleep(delay, signal);
      onWait?.(undefined);
    }
    let sent = false;
    try {
      if (submission.mustLookUp) {
        try {
          return await client.getTask({ externalTaskId: withId.externalTaskId }, { signal });
        } catch (error) {
          // Not found in either lookup form: the first try never reached the vendor, so creating is
          // safe. Anything else: unknown.
          if (!isNotFound(error)) throw error;
          submission.mustLookUp = false;
        }
      }
      sent = !signal?.aborted;
      return await client.createTask(withId, { signal });
    } catch (error) {
      lastError = error;
      // Cancelled while the create was on its way: it may have arrived.
      if (isAmbiguousFailure(error) || (sent && KlingApiError.is(error) && error.kind === 'aborted')) {
        submission.mustLookUp = true;
      }
      if (!KlingApiError.is(error) || !error.retryable) break;
    }
  }
  throw lastError;
}

/**
 * A mutation that creates a task. On success it seeds the task's cache entry, refreshes task lists and
 * remembers the prompt (`task.request`) and the pending task (`usePendingAudioTasks`). Submitting the
 * same input again after an ambiguous failure (or `mutation.retry`) reuses its external id, so the task
 * that may exist is found instead of billed twice.
 *
 * @example
 * const create = useCreateAudioTask({ mutation: { onSuccess: (task) => setTaskId(task.taskId) } });
 * create.mutate({ prompt: 'Rain on a tin roof', duration: 5 });
 * if (create.retryAt) return <button onClick={create.cancel}>Cancel</button>;
 */
export function useCreateAudioTask(options: UseCreateAudioTaskOptions = {}): UseCreateAudioTaskResult {
  const { client, polling, memory } = useKlingAudioContext();
  const queryClient = useQueryClient();
  const { retries, maxRetryWaitMs, mutation } = options;
  const submission = useRef<Submission>(undefined);
  const controller = useRef<AbortController>(undefined);
  const [retryAt, setRetryAt] = useState<number>();
  const result = useMutation<AudioTask, KlingApiError, CreateAudioTaskInput>({
    ...mutation,
    mutationKey: [...audioTaskKeys.all, 'create'],
    mutationFn: async (input) => {
      const valid = createAudioTaskInputSchema.safeParse(input);
      const { prompt, duration, callbackUrl } = valid.success ? valid.data : input;
      const key = JSON.stringify([prompt, duration, callbackUrl, input.externalTaskId]);
      let current = submission.current;
      if (current?.key !== key) {
        current = { key, externalTaskId: input.externalTaskId ?? randomId(), mustLookUp: false };
        submission.current = current;
      }
      const abort = (controller.current = new AbortController());
      // With push, the stream is up before the task exists, so none of its changes can slip by.
      const release = await holdTaskEvents(queryClient);
      try {
        const task = await createAudioTaskOnce(client, input, current, {
          retries,
          polling,
          maxRetryWaitMs,
          signal: abort.signal,
          onWait: setRetryAt,
        });
        submission.current = undefined;
        return { ...task, request: { prompt, duration } };
      } catch (error) {
        // Failed for certain (nothing can exist): the next press is a new submission.
        if (!current.mustLookUp) submission.current = undefined;
        throw error;
      } finally {
        release();
        setRetryAt(undefined);
        if (controller.current === abort) controller.current = undefined;
      }
    },
    onSuccess: (task, ...rest) => {
      if (task.request) memory.remember(task.taskId, task.request);
      memory.addPending(task.taskId);
      queryClient.setQueryData(audioTaskKeys.task(task.taskId), task);
      void queryClient.invalidateQueries({ queryKey: audioTaskKeys.lists() });
      void queryClient.invalidateQueries({ queryKey: audioTaskKeys.usage() });
      return mutation?.onSuccess?.(task, ...rest);
    },
    onError: (error, ...rest) => {
      // A quota answer (2001–2003) means the figures on screen are out of date.
      if (isQuotaError(error)) {
        void queryClient.invalidateQueries({ queryKey: audioTaskKeys.usage() });
      }
      return mutation?.onError?.(error, ...rest);
    },
  });
  const cancel = useCallback(() => controller.current?.abort(), []);
  return { ...result, retryAt, cancel };
}
