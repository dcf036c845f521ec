export {
  SoundPromptForm,
  type SoundPromptFormProps,
  type SoundPromptFormState,
  type SoundPromptPreset,
} from './SoundPromptForm';
