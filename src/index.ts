// The main entry: what the README documents ("Everything the main entry exports"), named one by one.
// Server- and mock-only names (wire schemas, the vendor's HTTP-status table, token codes, the event
// stream reader) stay out: `react-kling-audio/server` and `react-kling-audio/mocks` import src/api
// directly. Adding a name here changes the API report (etc/react-kling-audio.api.md, `npm run api:report`)
// and needs a line in the README.

// -- Domain model, input schema and limits ----------------------------------------------------------
export {
  createAudioTaskInputSchema,
  isTerminalStatus,
  DURATION_MAX,
  DURATION_MIN,
  DURATION_STEP,
  PAGE_NUM_MAX,
  PAGE_NUM_MIN,
  PAGE_SIZE_DEFAULT,
  PAGE_SIZE_MAX,
  PAGE_SIZE_MIN,
  PROMPT_MAX_LENGTH,
  RESULT_RETENTION_DAYS,
  type AudioTask,
  type AudioTaskRef,
  type AudioTaskRequest,
  type AudioTaskStatus,
  type CreateAudioTaskInput,
  type GeneratedAudio,
  type InputIssueReason,
  type ListAudioTasksParams,
} from './api/schemas';

// -- Client (no React) ------------------------------------------------------------------------------
export {
  createKlingAudioClient,
  type GetTaskParams,
  type KlingAudioClient,
  type KlingAudioClientOptions,
  type RequestOptions,
} from './api/client';
export type { TaskEventHandlers, TaskEventStreamOptions, TaskEventStreamState } from './api/events';

// -- Errors -----------------------------------------------------------------------------------------
export {
  getUserMessage,
  KlingApiError,
  type KlingApiErrorKind,
  type KlingApiErrorOptions,
} from './api/errors';

// -- Query keys and options (useSuspenseQuery, prefetching, SSR) -------------------------------------
export {
  audioTaskKeys,
  audioTaskListQueryOptions,
  audioTaskQueryOptions,
  type AudioTaskListQueryKey,
  type AudioTaskQueryKey,
} from './api/queryOptions';

// -- Visible strings --------------------------------------------------------------------------------
export {
  defaultMessages,
  type AudioPlayerErrorKind,
  type KlingAudioMessages,
  type SoundPromptPreset,
} from './api/messages';

// -- Hooks ------------------------------------------------------------------------------------------
export { KlingAudioProvider, type KlingAudioProviderProps } from './hooks/KlingAudioProvider';
export { defaultPollingOptions, type PollingOptions } from './hooks/polling';
export type { TaskUpdatesMode } from './hooks/taskEvents';
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

// -- Components -------------------------------------------------------------------------------------
export { AudioResultPlayer, type AudioResultPlayerProps } from './components/AudioResultPlayer';
export {
  useAudioPlayer,
  type AudioFormat,
  type AudioPlayerState,
  type UseAudioPlayerOptions,
  type UseAudioPlayerResult,
} from './components/AudioResultPlayer';
export { Waveform, type WaveformProps } from './components/AudioResultPlayer';
export {
  SoundPromptForm,
  type SoundPromptFormProps,
  type SoundPromptFormState,
} from './components/SoundPromptForm';
export { AudioTaskList, type AudioTaskListProps, type AudioTaskListState } from './components/AudioTaskList';
export {
  TextToAudioStudio,
  type TextToAudioStudioProps,
  type TextToAudioStudioState,
} from './components/TextToAudioStudio';
