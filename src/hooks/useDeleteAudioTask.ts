import {
  useMutation,
  useQueryClient,
  type UseMutationOptions,
  type UseMutationResult,
} from '@tanstack/react-query';
import { audioTaskKeys, isNotFound, type KlingApiError } from '../api';
import { useKlingAudioContext } from './KlingAudioProvider';
import { forgetCachedTask, removeCachedTask } from './taskCache';

export interface UseDeleteAudioTaskOptions {
  /** Passed through to react-query's `useMutation`. */
  mutation?: Partial<UseMutationOptions<void, KlingApiError, string>>;
}

export type UseDeleteAudioTaskResult = UseMutationResult<void, KlingApiError, string>;

/**
 * A mutation that deletes a task (`mutate(taskId)`) from the user's history, and its kept files with it. A
 * queued task is never sent: this is also a queued task's Cancel. The task leaves every cached page at
 * once and comes back where it was if the server refuses; a task already gone (404) counts as deleted.
 *
 * @example
 * const remove = useDeleteAudioTask();
 * <button onClick={() => remove.mutate(task.taskId)}>Delete</button>
 */
export function useDeleteAudioTask(options: UseDeleteAudioTaskOptions = {}): UseDeleteAudioTaskResult {
  const { client, memory } = useKlingAudioContext();
  const queryClient = useQueryClient();
  const { mutation } = options;
  return useMutation<void, KlingApiError, string>({
    ...mutation,
    mutationKey: [...audioTaskKeys.all, 'delete'],
    mutationFn: async (taskId) => {
      // A poll in flight must not put the task back on a page it has just left.
      await queryClient.cancelQueries({ queryKey: audioTaskKeys.lists() });
      const undo = removeCachedTask(queryClient, taskId);
      try {
        await client.deleteTask(taskId);
      } catch (error) {
        if (!isNotFound(error)) {
          undo();
          throw error;
        }
      } finally {
        // Pages refill from the server (the next task moves up) whatever happened.
        void queryClient.invalidateQueries({ queryKey: audioTaskKeys.lists() });
        // A deleted queued task frees a place in the user's queue.
        void queryClient.invalidateQueries({ queryKey: audioTaskKeys.usage() });
      }
      memory.settle(taskId);
      forgetCachedTask(queryClient, taskId);
    },
  });
}
