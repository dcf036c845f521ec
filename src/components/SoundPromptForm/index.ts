export { SoundPromptForm, type SoundPromptFormProps, type SoundPromptPreset } from './SoundPromptForm';
export {
  useSoundPromptForm,
  type SoundPromptField,
  type SoundPromptFormState,
  type UseSoundPromptFormOptions,
  type UseSoundPromptFormResult,
} from './useSoundPromptForm';
