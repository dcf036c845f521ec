/**
 * Edits of one task across every cached entry that holds it: its own entries (by task id or external id)
 * and every list page. What the optimistic delete and update share; each edit returns its undo.
 */
import type { QueryClient, QueryKey } from '@tanstack/react-query';
import { audioTaskKeys, type AudioTask, type ListAudioTasksParams } from '../api';

type Patch = { title?: string | null; starred?: boolean };

const kindOf = (key: QueryKey) => (key[0] === audioTaskKeys.all[0] ? key[1] : undefined);

/** A task with `patch` applied: `title: null` (or `''`) removes the title. */
export function applyTaskPatch(task: AudioTask, patch: Patch): AudioTask {
  const next = { ...task };
  if (patch.title !== undefined) {
    if (patch.title) next.title = patch.title;
    else delete next.title;
  }
  if (patch.starred !== undefined) next.starred = patch.starred;
  return next;
}

/** The task with the title and star `old` had (absent where `old` had none). */
function withFieldsOf(task: AudioTask, old: AudioTask): AudioTask {
  const { title: _title, starred: _starred, ...rest } = task;
  return {
    ...rest,
    ...(old.title !== undefined && { title: old.title }),
    ...(old.starred !== undefined && { starred: old.starred }),
  };
}

// Keeps the prompt this browser remembered when an answer has none (as the query functions do).
const merged = (task: AudioTask, known: AudioTask): AudioTask =>
  known.request && !task.request ? { ...task, request: known.request } : task;

/**
 * Applies `patch` to the task wherever it is cached. A starred-only page drops a task that loses its
 * star. Returns the undo: the task's previous title and star put back wherever it still is, and back on
 * a starred-only page it left (other changes made meanwhile stay).
 */
export function patchCachedTask(queryClient: QueryClient, taskId: string, patch: Patch): () => void {
  const undo: (() => void)[] = [];
  for (const [key, data] of queryClient.getQueriesData<AudioTask | AudioTask[]>({
    queryKey: audioTaskKeys.all,
  })) {
    const kind = kindOf(key);
    if (kind === 'task' && data && !Array.isArray(data) && data.taskId === taskId) {
      const before = { title: data.title ?? null, starred: data.starred ?? false };
      queryClient.setQueryData<AudioTask>(key, applyTaskPatch(data, patch));
      undo.push(() => queryClient.setQueryData<AudioTask>(key, (now) => now && applyTaskPatch(now, before)));
    } else if (kind === 'list' && Array.isArray(data)) {
      const index = data.findIndex((task) => task.taskId === taskId);
      if (index < 0) continue;
      const old = data[index]!;
      const starredOnly = (key[2] as ListAudioTasksParams | undefined)?.starred === true;
      const leaves = starredOnly && patch.starred === false;
      queryClient.setQueryData<AudioTask[]>(key, (list) =>
        list?.flatMap((task) =>
          task.taskId !== taskId ? [task] : leaves ? [] : [applyTaskPatch(task, patch)],
        ),
      );
      undo.push(() =>
        queryClient.setQueryData<AudioTask[]>(key, (list) => {
          if (!list) return list;
          const at = list.findIndex((task) => task.taskId === taskId);
          if (at >= 0) return list.map((task, i) => (i === at ? withFieldsOf(task, old) : task));
          const next = list.slice();
          next.splice(Math.min(index, next.length), 0, old);
          return next;
        }),
      );
    }
  }
  return () => undo.forEach((step) => step());
}

/**
 * Takes the task off every cached list page. Returns the undo: the task back at its place on each page it
 * left (where it is not back already).
 */
export function removeCachedTask(queryClient: QueryClient, taskId: string): () => void {
  const undo: (() => void)[] = [];
  for (const [key, data] of queryClient.getQueriesData<AudioTask[]>({ queryKey: audioTaskKeys.lists() })) {
    const index = Array.isArray(data) ? data.findIndex((task) => task.taskId === taskId) : -1;
    if (index < 0) continue;
    const old = data![index]!;
    queryClient.setQueryData<AudioTask[]>(key, (list) => list?.filter((task) => task.taskId !== taskId));
    undo.push(() =>
      queryClient.setQueryData<AudioTask[]>(key, (list) => {
        if (!list || list.some((task) => task.taskId === taskId)) return list;
        const next = list.slice();
        next.splice(Math.min(index, next.length), 0, old);
        return next;
      }),
    );
  }
  return () => undo.forEach((step) => step());
}

/** Writes the server's answer for a task into every cached entry that holds it. */
export function writeCachedTask(queryClient: QueryClient, task: AudioTask): void {
  for (const [key, data] of queryClient.getQueriesData<AudioTask | AudioTask[]>({
    queryKey: audioTaskKeys.all,
  })) {
    const kind = kindOf(key);
    if (kind === 'task' && data && !Array.isArray(data) && data.taskId === task.taskId) {
      queryClient.setQueryData<AudioTask>(key, merged(task, data));
    } else if (kind === 'list' && Array.isArray(data) && data.some((item) => item.taskId === task.taskId)) {
      queryClient.setQueryData<AudioTask[]>(key, (list) =>
        list?.map((item) => (item.taskId === task.taskId ? merged(task, item) : item)),
      );
    }
  }
}

/** Forgets the task's own entries that nothing watches any more (a watched one stays until unmounted). */
export function forgetCachedTask(queryClient: QueryClient, taskId: string): void {
  for (const query of queryClient.getQueryCache().findAll({ queryKey: audioTaskKeys.tasks() })) {
    const data = query.state.data as AudioTask | undefined;
    if (data?.taskId === taskId && query.getObserversCount() === 0) {
      queryClient.removeQueries({ queryKey: query.queryKey, exact: true });
    }
  }
}
