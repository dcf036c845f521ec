export * from './KlingAudioProvider';
export * from './polling';
export { isLiveOnPush, type TaskUpdatesMode } from './taskEvents';
export * from './pendingTasks';
export * from './useAudioTask';
export * from './useAudioTaskList';
export * from './useAudioUsage';
export * from './useCreateAudioTask';
export * from './usePendingAudioTasks';
