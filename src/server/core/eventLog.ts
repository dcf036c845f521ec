/**
 * The event log's contract: an append-only log of task changes (one event per real change, never
 * backwards). The log decides what several proxy instances share: in memory for one process
 * (`storage/memory/eventLog.ts`), or PostgreSQL LISTEN/NOTIFY (`storage/postgres/eventLog.ts`). The hub
 * that fans events out to streams is `push/hub.ts`.
 */
import type { WireTask } from '../../api/schemas';

/** One change of one task, as streams send it. */
export interface TaskEvent {
  /** Increasing within one log; what a stream sends as `id` and gets back as `Last-Event-ID`. */
  id: string;
  /** Whose task it is: the user id `authorize` returned, or `''` for the shared space. */
  owner: string;
  /** The task as a get answers it (the envelope's `data`). */
  task: WireTask;
}

/** Where task changes are kept and shared. */
export interface KlingTaskEventLog {
  /**
   * Appends a task's new state; `undefined` when it is not newer than what the log has for that task (a
   * duplicate, late or out-of-order update), which then reaches no stream.
   */
  append(owner: string, task: WireTask): Promise<TaskEvent | undefined>;
  /**
   * Events after `id`, oldest first, of `owner` (`null`: every owner); `undefined` when the log cannot
   * resume from `id` (unknown, or older than what it keeps).
   */
  since(owner: string | null, id: string): Promise<TaskEvent[] | undefined>;
  /** Calls `listener` with every event appended here or by another instance sharing the log. */
  listen(listener: (event: TaskEvent) => void): Promise<() => Promise<void> | void>;
}
