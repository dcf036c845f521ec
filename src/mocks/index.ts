export { createMockKlingBackend } from './handlers';
export {
  CONTENT_SAFETY_REASON,
  type MockAudioMode,
  type MockCallbackOptions,
  type MockErrorSpec,
  type MockKlingBackend,
  type MockKlingBackendOptions,
  type MockRequestRecord,
  type MockScenario,
  type MockTaskSeed,
} from './backend';
export {
  encodeWav,
  MOCK_SAMPLE_RATE,
  sampleCount,
  soundKindForPrompt,
  synthesizeSamples,
  synthesizeWav,
  type MockSoundKind,
  type SynthesizeOptions,
} from './audio';
export { encodeMp3, mp3Duration, type EncodeMp3Options } from './mp3';
export { mockTaskSeeds, manyMockTaskSeeds, MOCK_TASK_IDS } from './fixtures';
export { createMemoryStorage } from './storage';
