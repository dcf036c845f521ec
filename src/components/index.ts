export * from './AudioResultPlayer';
export * from './SoundPromptForm';
export * from './AudioTaskList';
export * from './TextToAudioStudio';
