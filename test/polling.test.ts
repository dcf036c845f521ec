import { describe, expect, it } from 'vitest';
import {
  createTaskMemory,
  defaultPollingOptions,
  nextPollDelay,
  REMEMBERED_REQUESTS_MAX,
} from '../src/hooks';
import { createMemoryStorage } from './render';

describe('nextPollDelay', () => {
  const noJitter = () => 0.5;

  it('starts at 1 s and backs off to a 5 s cap', () => {
    const delays = Array.from({ length: 8 }, (_, attempt) =>
      nextPollDelay(attempt, defaultPollingOptions, undefined, noJitter),
    );
    expect(delays).toEqual([1000, 1500, 2250, 3375, 5000, 5000, 5000, 5000]);
  });

  it('spreads each delay by at most ±20 %', () => {
    expect(nextPollDelay(0, defaultPollingOptions, undefined, () => 0)).toBe(800);
    expect(nextPollDelay(0, defaultPollingOptions, undefined, () => 0.999999)).toBe(1200);
    expect(nextPollDelay(9, defaultPollingOptions, undefined, () => 0.999999)).toBe(6000);
  });

  it('never polls sooner than Retry-After', () => {
    expect(nextPollDelay(0, defaultPollingOptions, 7000, noJitter)).toBe(7000);
    expect(nextPollDelay(5, defaultPollingOptions, 100, noJitter)).toBe(5000);
  });
});

describe('createTaskMemory', () => {
  it('keeps pending ids newest first, across instances on one storage, namespaced', () => {
    const storage = createMemoryStorage();
    const a = createTaskMemory(storage, 'app1');
    a.addPending('t1');
    a.addPending('t2');
    expect(createTaskMemory(storage, 'app1').getPending()).toEqual(['t2', 't1']);
    expect(createTaskMemory(storage, 'app2').getPending()).toEqual([]);
    a.settle('t2');
    expect(createTaskMemory(storage, 'app1').getPending()).toEqual(['t1']);
  });

  it('remembers a bounded number of prompts, dropping the oldest', () => {
    const storage = createMemoryStorage();
    const memory = createTaskMemory(storage);
    for (let i = 0; i <= REMEMBERED_REQUESTS_MAX; i++)
      memory.remember(`t${i}`, { prompt: `p${i}`, duration: 3 });
    const reloaded = createTaskMemory(storage);
    expect(reloaded.recall(`t${REMEMBERED_REQUESTS_MAX}`)).toEqual({
      prompt: `p${REMEMBERED_REQUESTS_MAX}`,
      duration: 3,
    });
    expect(reloaded.recall('t0')).toBeUndefined();
    expect(reloaded.recall('t1')).toEqual({ prompt: 'p1', duration: 3 });
    expect(Object.keys(JSON.parse(storage.getItem('rka:requests')!))).toHaveLength(REMEMBERED_REQUESTS_MAX);
  });

  it('survives corrupt and throwing storage', () => {
    const storage = createMemoryStorage();
    storage.setItem('rka:pending', '{not json');
    expect(createTaskMemory(storage).getPending()).toEqual([]);
    const throwing = {
      ...storage,
      getItem: () => {
        throw new Error('denied');
      },
      setItem: () => {
        throw new Error('full');
      },
    } as Storage;
    const memory = createTaskMemory(throwing);
    memory.addPending('x');
    expect(memory.getPending()).toEqual(['x']);
  });
});
