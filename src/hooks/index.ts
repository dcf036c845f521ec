export * from './KlingAudioProvider';
export * from './polling';
export * from './pendingTasks';
export * from './useAudioTask';
export * from './useAudioTaskList';
export * from './useCreateAudioTask';
export * from './usePendingAudioTasks';
