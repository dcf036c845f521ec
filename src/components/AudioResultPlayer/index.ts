export { AudioResultPlayer, type AudioResultPlayerProps } from './AudioResultPlayer';
export {
  audioFileName,
  useAudioPlayer,
  type AudioFormat,
  type AudioPlayerErrorKind,
  type AudioPlayerState,
  type UseAudioPlayerOptions,
  type UseAudioPlayerResult,
} from './useAudioPlayer';
export { Waveform, type WaveformProps } from './Waveform';
