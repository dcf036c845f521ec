export * from './api';
// The hooks' public surface, named (what the README documents): the poller, the task memory and the
// hydration helper are internals no app should depend on.
export { KlingAudioProvider, type KlingAudioProviderProps } from './hooks/KlingAudioProvider';
export { defaultPollingOptions, type PollingOptions } from './hooks/polling';
export { useAudioTask, type UseAudioTaskOptions, type UseAudioTaskResult } from './hooks/useAudioTask';
export {
  useAudioTaskList,
  type UseAudioTaskListOptions,
  type UseAudioTaskListParams,
  type UseAudioTaskListResult,
} from './hooks/useAudioTaskList';
export {
  useCreateAudioTask,
  type UseCreateAudioTaskOptions,
  type UseCreateAudioTaskResult,
} from './hooks/useCreateAudioTask';
export { usePendingAudioTasks } from './hooks/usePendingAudioTasks';
export {
  useAudioUsage,
  type AudioUsageQueryKey,
  type UseAudioUsageOptions,
  type UseAudioUsageResult,
} from './hooks/useAudioUsage';
export {
  useCreateAudioTakes,
  type CreateAudioTakesInput,
  type UseCreateAudioTakesOptions,
  type UseCreateAudioTakesResult,
} from './hooks/useCreateAudioTakes';
export {
  useDeleteAudioTask,
  type UseDeleteAudioTaskOptions,
  type UseDeleteAudioTaskResult,
} from './hooks/useDeleteAudioTask';
export {
  useUpdateAudioTask,
  type UpdateAudioTaskVariables,
  type UseUpdateAudioTaskOptions,
  type UseUpdateAudioTaskResult,
} from './hooks/useUpdateAudioTask';
export * from './components';
