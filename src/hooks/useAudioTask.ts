import { useQuery, useQueryClient, type UseQueryOptions, type UseQueryResult } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import {
  audioTaskQueryOptions,
  awaitsKeptCopy,
  isNotFound,
  isTerminalStatus,
  type KlingApiError,
  type AudioTask,
  type AudioTaskQueryKey,
  type AudioTaskRef,
  type AudioTaskStatus,
  type GeneratedAudio,
} from '../api';
import { useKlingAudioContext } from './KlingAudioProvider';
import { useHydrated } from './useHydrated';
import { watchQuery, type PollingOptions } from './polling';
import { usePollingOptions } from './usePollingOptions';
import { followQuery } from './followQuery';
import type { TaskMemory } from './pendingTasks';
import { memoizeLast, withFields } from './result';

export interface UseAudioTaskOptions {
  /** How long to keep polling before giving up with a `timeout` error. Defaults to the provider's (10 minutes). */
  maxWaitMs?: number;
  /** Cadence overrides for this task. Defaults to the provider's `polling`. */
  polling?: Partial<PollingOptions>;
  /** Passed through to react-query's `useQuery`. */
  query?: Partial<UseQueryOptions<AudioTask, KlingApiError, AudioTask, AudioTaskQueryKey>>;
}

interface UseAudioTaskFields {
  /** The task, with `request` (prompt and duration) when this browser created it. */
  task: AudioTask | undefined;
  taskStatus: AudioTaskStatus | undefined;
  /** `[]` until the task has succeeded. */
  audios: GeneratedAudio[];
  /** True once the task is `succeed` or `failed`: no request is made after that. */
  isTerminal: boolean;
  /** True while the hook is waiting for the task to finish. */
  isPolling: boolean;
}

/**
 * The react-query result (its own `status` untouched) plus the task's fields. Properties are read
 * lazily: a component re-renders only when what it read changed.
 */
export type UseAudioTaskResult = UseQueryResult<AudioTask, KlingApiError> & UseAudioTaskFields;

const NO_AUDIOS: GeneratedAudio[] = [];
const IDLE_REF = { taskId: '' };

/**
 * Watches one task and polls it until it is `succeed` or `failed`: 1 s backing off to 5 s with jitter,
 * honouring `Retry-After`, with one request per interval however many components watch the same task.
 * A failed task is data (`taskStatus: 'failed'`, `task.statusMessage`), not an error.
 *
 * @example
 * const { task, taskStatus, audios, error } = useAudioTask(taskId);
 * if (taskStatus === 'succeed') return <audio src={audios[0].mp3Url} controls />;
 */
export function useAudioTask(
  ref: AudioTaskRef | null | undefined,
  options: UseAudioTaskOptions = {},
): UseAudioTaskResult {
  const { client, polling, memory } = useKlingAudioContext();
  const queryClient = useQueryClient();
  const enabled = ref != null && (typeof ref === 'string' ? ref : Object.values(ref)[0]) !== '';
  const base = audioTaskQueryOptions(client, enabled ? ref : IDLE_REF);
  const result = useQuery<AudioTask, KlingApiError, AudioTask, AudioTaskQueryKey>({
    ...base,
    enabled,
    // The poller below refreshes pending tasks; observers must not refetch on mount or focus on their own.
    staleTime: Infinity,
    ...options.query,
  });

  const hydrated = useHydrated();
  // Derived lazily: the hook reads nothing of `result` during render, so react-query tracks only what the
  // caller reads (an `error` read only in a click handler still re-renders it when it arrives).
  const [attach] = useState(() =>
    memoizeLast((data: AudioTask | undefined, hydrated: boolean, memory: TaskMemory) =>
      hydrated ? memory.attach(data) : data,
    ),
  );
  const task = () => attach(result.data, hydrated, memory);
  const isTerminal = () => isTerminalStatus(task()?.status);
  const keyHash = JSON.stringify(base.queryKey);
  const pollingOptions = usePollingOptions(polling, options.polling, { maxWaitMs: options.maxWaitMs });

  useEffect(() => {
    if (!enabled) return;
    return watchQuery<AudioTask>(queryClient, JSON.parse(keyHash), {
      // A finished task is read again only while its kept copy is being made (then its URLs change).
      shouldPoll: (current) => !isTerminalStatus(current.status) || awaitsKeptCopy(current),
      pollOnPush: awaitsKeptCopy,
      options: pollingOptions,
      yieldToNews: true,
    });
  }, [enabled, queryClient, keyHash, pollingOptions]);

  // A finished task leaves the pending list; so does one that no longer exists (1203): a reload must not
  // resume it again.
  const taskId = typeof ref === 'string' ? ref : ref && 'taskId' in ref ? ref.taskId : undefined;
  useEffect(() => {
    if (!enabled) return;
    return followQuery<AudioTask, KlingApiError>(queryClient, JSON.parse(keyHash), ({ data, error }) => {
      if (data && isTerminalStatus(data.status)) memory.settle(data.taskId);
      if (taskId && isNotFound(error)) memory.settle(taskId);
    });
  }, [enabled, queryClient, keyHash, memory, taskId]);

  return withFields<UseQueryResult<AudioTask, KlingApiError>, UseAudioTaskFields>(result, {
    task,
    taskStatus: () => task()?.status,
    audios: () => task()?.audios ?? NO_AUDIOS,
    isTerminal,
    // Read lazily: a component that does not ask is not re-rendered when the error changes.
    isPolling: () => enabled && !isTerminal() && !(result.error && !result.error.retryable),
  });
}
