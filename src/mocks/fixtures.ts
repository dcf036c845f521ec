/**
 * Ready-made seeds for stories, tests and the demo: tasks with fixed ids, so a story can point a player at
 * `MOCK_TASK_IDS.fireworks` and the backend serves its audio.
 */
import type { MockTaskSeed } from './backend';

/** The fixed task ids of `mockTaskSeeds`. */
export const MOCK_TASK_IDS = {
  fireworks: '760000000000000001',
  rain: '760000000000000002',
  bell: '760000000000000003',
  footsteps: '760000000000000004',
  laser: '760000000000000005',
  meadow: '760000000000000006',
  pending: '760000000000000007',
  failed: '760000000000000008',
} as const;

/**
 * A small history, newest first: six finished tasks (one per sound family), one frozen in `processing`
 * and one `failed` with a content-safety reason. `createdAt` defaults to minutes before the backend's
 * clock; pass your own for fixed dates.
 */
export const mockTaskSeeds: readonly MockTaskSeed[] = [
  {
    taskId: MOCK_TASK_IDS.pending,
    prompt: 'Thunder rolling over distant hills',
    duration: 8,
    status: 'processing',
  },
  { taskId: MOCK_TASK_IDS.fireworks, prompt: 'Fireworks over a harbour at midnight', duration: 5 },
  { taskId: MOCK_TASK_IDS.rain, prompt: 'Heavy rain on a tin roof', duration: 10 },
  { taskId: MOCK_TASK_IDS.bell, prompt: 'A small brass bell rung twice', duration: 3 },
  {
    taskId: MOCK_TASK_IDS.failed,
    prompt: 'A forbidden sound',
    duration: 4,
    status: 'failed',
  },
  { taskId: MOCK_TASK_IDS.footsteps, prompt: 'Footsteps on a wooden floor', duration: 6.5 },
  { taskId: MOCK_TASK_IDS.laser, prompt: 'A sci-fi laser zap', duration: 3.5, externalTaskId: 'demo-laser' },
  { taskId: MOCK_TASK_IDS.meadow, prompt: 'A calm morning in a meadow', duration: 7 },
];

const PROMPTS = [
  'Fireworks over a harbour',
  'Rain on a window',
  'Wind chimes in a breeze',
  'Footsteps in the snow',
  'A whoosh of a passing car',
  'A soft synth pad',
  'Waves on a pebble beach',
  'Knocking on an old door',
];

/**
 * `count` finished tasks a minute apart (newest first), for long lists and pagination. Task ids are
 * `"77" + 16 digits` of the index, so they are stable across runs.
 */
export function manyMockTaskSeeds(count: number): MockTaskSeed[] {
  return Array.from({ length: count }, (_, index) => ({
    taskId: `77${String(index + 1).padStart(16, '0')}`,
    prompt: `${PROMPTS[index % PROMPTS.length]!} #${index + 1}`,
    duration: 3 + ((index * 7) % 71) / 10,
  }));
}
