import {
  useMutation,
  useQueryClient,
  type UseMutationOptions,
  type UseMutationResult,
} from '@tanstack/react-query';
import { useRef } from 'react';
import {
  audioTaskKeys,
  createAudioTaskInputSchema,
  KlingApiError,
  TAKES_MAX,
  TAKES_MIN,
  type AudioTask,
} from '../api';
import { useKlingAudioContext } from './KlingAudioProvider';
import { createAudioTaskOnce, randomId, type Submission } from './useCreateAudioTask';
import { holdTaskEvents } from './taskEvents';

/** What `useCreateAudioTakes` takes: one prompt and duration, and how many takes of it (2–4). */
export interface CreateAudioTakesInput {
  prompt: string;
  duration: number;
  /** 2–4. */
  count: number;
}

export interface UseCreateAudioTakesOptions {
  /**
   * How many times each take is tried again after a failure that may succeed later (see
   * `useCreateAudioTask`). Defaults to `2`.
   */
  retries?: number;
  /** Passed through to react-query's `useMutation`. */
  mutation?: Partial<UseMutationOptions<AudioTask[], KlingApiError, CreateAudioTakesInput>>;
}

export type UseCreateAudioTakesResult = UseMutationResult<AudioTask[], KlingApiError, CreateAudioTakesInput>;

/** The takes of one submission: kept until all exist, so a second press finishes them, never repeats them. */
interface TakesSubmission {
  key: string;
  groupId: string;
  takes: { submission: Submission; task?: AudioTask }[];
}

/**
 * A mutation that makes 2–4 takes of one prompt: that many creates, each with its own external id (so each
 * exists exactly once, whatever the network does) and one `groupId` they share, which the history uses to
 * show them together. Resolves with the takes in order. When some fail, submitting the same input again
 * (or `mutation.retry`) makes only the missing ones.
 *
 * @example
 * const takes = useCreateAudioTakes();
 * takes.mutate({ prompt: 'Door creak', duration: 3, count: 3 });
 */
export function useCreateAudioTakes(options: UseCreateAudioTakesOptions = {}): UseCreateAudioTakesResult {
  const { client, polling, memory } = useKlingAudioContext();
  const queryClient = useQueryClient();
  const { retries, mutation } = options;
  const current = useRef<TakesSubmission>(undefined);
  return useMutation<AudioTask[], KlingApiError, CreateAudioTakesInput>({
    ...mutation,
    mutationKey: [...audioTaskKeys.all, 'takes'],
    mutationFn: async ({ prompt, duration, count }) => {
      if (!Number.isInteger(count) || count < TAKES_MIN || count > TAKES_MAX) {
        throw new KlingApiError({
          kind: 'validation',
          message: `count must be a whole number from ${TAKES_MIN} to ${TAKES_MAX}.`,
        });
      }
      const valid = createAudioTaskInputSchema.safeParse({ prompt, duration });
      if (!valid.success) {
        throw new KlingApiError({ kind: 'validation', message: valid.error.issues[0]!.message });
      }
      const request = { prompt: valid.data.prompt, duration: valid.data.duration };
      const key = JSON.stringify([request.prompt, request.duration, count]);
      let group = current.current;
      if (group?.key !== key) {
        group = {
          key,
          groupId: randomId(),
          takes: Array.from({ length: count }, () => ({
            submission: { key, externalTaskId: randomId(), mustLookUp: false },
          })),
        };
        current.current = group;
      }
      const release = await holdTaskEvents(queryClient);
      try {
        const outcomes = await Promise.allSettled(
          group.takes.map(async (take) => {
            take.task ??= await createAudioTaskOnce(
              client,
              { ...request, groupId: group.groupId },
              take.submission,
              { retries, polling },
            );
            return take.task;
          }),
        );
        const failure = outcomes.find((outcome) => outcome.status === 'rejected');
        if (failure) throw failure.reason;
        current.current = undefined;
        return group.takes.map((take) => ({ ...take.task!, request }));
      } finally {
        release();
        // The takes that exist show in the history, even when another one failed.
        for (const take of group.takes) {
          if (!take.task) continue;
          memory.remember(take.task.taskId, request);
          memory.addPending(take.task.taskId);
          queryClient.setQueryData(audioTaskKeys.task(take.task.taskId), { ...take.task, request });
        }
        void queryClient.invalidateQueries({ queryKey: audioTaskKeys.lists() });
      }
    },
  });
}
