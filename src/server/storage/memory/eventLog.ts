/** The event log of one process: replay from memory, lost at restart. */
import { compareTaskStates, type WireTask } from '../../../api/schemas';
import type { KlingTaskEventLog, TaskEvent } from '../../core/eventLog';

const state = (task: WireTask) => ({ status: task.task_status, updatedAt: task.updated_at });

export interface MemoryTaskEventLogOptions {
  /** How many events are kept for replay. Defaults to `1000`. */
  limit?: number;
}

/** A log for one process: replay from memory, lost at restart (a resuming stream then gets `resync`). */
export function createMemoryTaskEventLog({
  limit = 1000,
}: MemoryTaskEventLogOptions = {}): KlingTaskEventLog {
  // Ids carry this log's own prefix, so an id from before a restart (or another process) is not mistaken
  // for one of ours.
  const epoch = crypto.randomUUID().slice(0, 8);
  const events: (TaskEvent & { seq: number })[] = [];
  const latest = new Map<string, WireTask>();
  const listeners = new Set<(event: TaskEvent) => void>();
  let seq = 0;
  return {
    async append(owner, task) {
      const last = latest.get(task.task_id);
      if (last && compareTaskStates(state(task), state(last)) <= 0) return undefined;
      latest.set(task.task_id, task);
      // Bounded: the oldest task states go with the events (a very late update of one may then pass).
      if (latest.size > limit * 4) latest.delete(latest.keys().next().value!);
      const event = { id: `${epoch}-${++seq}`, owner, task, seq };
      events.push(event);
      if (events.length > limit) events.shift();
      for (const listener of listeners) listener(event);
      return event;
    },
    async since(owner, id) {
      const match = /^([\da-f]{8})-(\d+)$/.exec(id);
      if (!match || match[1] !== epoch) return undefined;
      const after = Number(match[2]);
      // Nothing lost in between: the event right after `after` must still be here (or none came since).
      if (after > seq || (events.length > 0 && events[0]!.seq > after + 1)) return undefined;
      return events.filter((event) => event.seq > after && (owner === null || event.owner === owner));
    },
    async listen(listener) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
  };
}
