/**
 * Storage for stories of the history and the studio: as if this browser had created the seeded tasks,
 * so the list shows their prompts (`task.request`) rather than "Task 7600…". Written through the
 * library's own `createTaskMemory`, so it always matches the format the hooks read.
 */
import { createTaskMemory } from '../../src/hooks';
import { createMemoryStorage, mockTaskSeeds, type MockTaskSeed } from '../../src/mocks';

/** A Storage in memory: one per story, so no story sees another's pending tasks. */
export const memoryStorage = createMemoryStorage;

/**
 * Storage that remembers the prompt of each seed (newest first, as created), and holds `pending` as
 * this browser's pending tasks (as after a reload).
 */
export function rememberedStorage(
  seeds: readonly MockTaskSeed[] = mockTaskSeeds,
  pending: readonly string[] = [],
): Storage {
  const storage = memoryStorage();
  const memory = createTaskMemory(storage);
  for (const seed of [...seeds].reverse()) {
    if (seed.taskId) memory.remember(seed.taskId, { prompt: seed.prompt, duration: seed.duration });
  }
  for (const taskId of [...pending].reverse()) memory.addPending(taskId);
  return storage;
}
