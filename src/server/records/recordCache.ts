/**
 * The proxy's memory of the records it has lately read or written, in front of the store, so a lookup of
 * a pending task (the poll every open tab makes) does not cost a database round trip each time. It holds
 * only what it may answer safely when several instances share one database:
 * - whose task a vendor task id is, and its prompt: fixed once the vendor has answered the create;
 * - a finished task: a record never changes once terminal (see `mayReplace`), so it is kept as long as
 *   there is room;
 * - a pending task's last known state, trusted for `freshMs` after the store last said so. Within that
 *   time a lookup goes to the vendor as it would anyway, and a vendor answer equal to it writes nothing;
 *   after it, the store is read again, so another instance's change is seen within `freshMs`.
 * Keyed by (user, vendor task id): a user never gets another's record from it, and a miss always asks
 * the store. Bounded: the least recently used entries go first.
 */
import { isTerminalStatus } from '../../api/schemas';
import { recordKey as key } from '../core/keys';
import { statusRank, type KlingTaskRecord } from '../core/taskStore';

export interface TaskRecordCacheOptions {
  /** Most records kept. Defaults to `10_000`. */
  max?: number;
  /** How long a pending record read from (or written to) the store is trusted. Defaults to `1000` ms. */
  freshMs?: number;
  /** The clock. Defaults to `Date.now`. */
  now?: () => number;
}

export interface TaskRecordCache {
  /**
   * The user's record with this vendor task id, if known here: a finished one, or a pending one the store
   * answered less than `freshMs` ago. `undefined` means "ask the store".
   */
  get(userId: string, taskId: string): KlingTaskRecord | undefined;
  /** A record as the store answered or wrote it just now. Records without a vendor task id are not kept. */
  remember(record: KlingTaskRecord): void;
  /** The user's task was deleted: no lookup may find it here any more. */
  forget(userId: string, taskId: string): void;
  readonly size: number;
}

export function createTaskRecordCache(options: TaskRecordCacheOptions = {}): TaskRecordCache {
  const { max = 10_000, freshMs = 1000, now = () => Date.now() } = options;
  // A Map runs in insertion order: an entry used is moved to the end, so the first one is the least used.
  const entries = new Map<string, { record: KlingTaskRecord; checkedAt: number }>();

  return {
    get(userId, taskId) {
      const id = key(userId, taskId);
      const entry = entries.get(id);
      if (!entry) return undefined;
      if (!isTerminalStatus(entry.record.status) && now() - entry.checkedAt >= freshMs) return undefined;
      entries.delete(id);
      entries.set(id, entry);
      return entry.record;
    },
    remember(record) {
      if (record.taskId === undefined || max <= 0) return;
      const id = key(record.userId, record.taskId);
      const known = entries.get(id)?.record;
      // Answers of requests that ran side by side may arrive in any order: an older one never replaces
      // a state further along (the store itself never goes backwards either).
      // A rename or a star (`editedAt`) is the one change a finished record still takes.
      const edited = (record.editedAt ?? 0) > (known?.editedAt ?? 0);
      if (
        known &&
        !edited &&
        (isTerminalStatus(known.status) || statusRank(known.status) > statusRank(record.status))
      ) {
        return;
      }
      entries.delete(id);
      entries.set(id, { record, checkedAt: now() });
      while (entries.size > max) entries.delete(entries.keys().next().value!);
    },
    forget(userId, taskId) {
      entries.delete(key(userId, taskId));
    },
    get size() {
      return entries.size;
    },
  };
}
