export {
  TextToAudioStudio,
  type TextToAudioStudioProps,
  type TextToAudioStudioState,
} from './TextToAudioStudio';
