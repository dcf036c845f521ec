import {
  useMutation,
  useQueryClient,
  type UseMutationOptions,
  type UseMutationResult,
} from '@tanstack/react-query';
import { audioTaskKeys, type AudioTask, type KlingApiError } from '../api';
import { useKlingAudioContext } from './KlingAudioProvider';
import { patchCachedTask, writeCachedTask } from './taskCache';

/** What `useUpdateAudioTask` takes: the task and what changes (`title: null` or `''` removes the title). */
export interface UpdateAudioTaskVariables {
  taskId: string;
  /** At most 100 characters, trimmed. */
  title?: string | null;
  starred?: boolean;
}

export interface UseUpdateAudioTaskOptions {
  /** Passed through to react-query's `useMutation`. */
  mutation?: Partial<UseMutationOptions<AudioTask, KlingApiError, UpdateAudioTaskVariables>>;
}

export type UseUpdateAudioTaskResult = UseMutationResult<AudioTask, KlingApiError, UpdateAudioTaskVariables>;

/**
 * A mutation that renames or stars a task. Optimistic: every cached page and task entry shows the change at
 * once, and goes back to what it was if the server refuses; the server's answer then replaces it.
 *
 * @example
 * const update = useUpdateAudioTask();
 * <button aria-pressed={task.starred} onClick={() => update.mutate({ taskId: task.taskId, starred: !task.starred })}>
 *   Star
 * </button>
 */
export function useUpdateAudioTask(options: UseUpdateAudioTaskOptions = {}): UseUpdateAudioTaskResult {
  const { client } = useKlingAudioContext();
  const queryClient = useQueryClient();
  const { mutation } = options;
  return useMutation<AudioTask, KlingApiError, UpdateAudioTaskVariables>({
    ...mutation,
    mutationKey: [...audioTaskKeys.all, 'update'],
    mutationFn: async ({ taskId, ...changes }) => {
      const title = typeof changes.title === 'string' ? changes.title.trim() || null : changes.title;
      const patch = {
        ...(title !== undefined && { title }),
        ...(changes.starred !== undefined && { starred: changes.starred }),
      };
      // A page's poll in flight would paint the old value back over the optimistic one.
      await queryClient.cancelQueries({ queryKey: audioTaskKeys.lists() });
      const undo = patchCachedTask(queryClient, taskId, patch);
      try {
        const task = await client.updateTask(taskId, patch);
        writeCachedTask(queryClient, task);
        return task;
      } catch (error) {
        undo();
        throw error;
      } finally {
        // A search or a starred-only page may now hold another set of tasks.
        void queryClient.invalidateQueries({ queryKey: audioTaskKeys.lists() });
      }
    },
  });
}
