/**
 * The proxy's task records: the contract every store implements, the record it keeps, and the in-memory
 * store. A record is written before the vendor is called and is the proxy's memory of one task: whose it
 * is, the browser's external id, the prompt and the last known vendor task.
 */
import { isTerminalStatus, type AudioTaskStatus, type WireTask } from '../api/schemas';
import { createMemoryFileStore, type KeptFileStore } from './keptFiles';

/** The user id of the shared space (`authorize` returned `true`). A real user id is never empty. */
export const SHARED_SPACE = '';

/** One task the proxy created, as a store keeps it. */
export interface KlingTaskRecord {
  /** Whose task it is: the id `authorize` returned, or `SHARED_SPACE` (`''`). */
  userId: string;
  /** The browser's own external id (or one the proxy chose); unique per user. */
  externalTaskId: string;
  /** The external id the vendor got: derived per (user, browser external id), so it never collides. */
  vendorExternalTaskId: string;
  /** The vendor's task id, once the vendor has answered the create. */
  taskId?: string;
  prompt: string;
  /** Seconds. */
  duration: number;
  /** The last task object the vendor sent (status, result), as it sent it. */
  task?: WireTask;
  /** `task.task_status`, kept on its own so pending records can be found without reading the task. */
  status?: AudioTaskStatus;
  /** Until when (ms since the epoch) a create at the vendor is in flight for this record, if one is. */
  claimedUntil?: number;
  /** Milliseconds since the epoch. */
  createdAt: number;
  updatedAt: number;
}

/** What `claimTask` writes: a record before the vendor has heard of it. */
export type NewKlingTaskRecord = Pick<
  KlingTaskRecord,
  'userId' | 'externalTaskId' | 'vendorExternalTaskId' | 'prompt' | 'duration' | 'claimedUntil' | 'createdAt'
>;

/** A change to a record. `claimedUntil: null` clears the claim. */
export interface KlingTaskRecordPatch {
  taskId?: string;
  /** The vendor's latest task object. Ignored when it would move the record backwards (see `mayReplace`). */
  task?: WireTask;
  claimedUntil?: number | null;
}

export interface KlingTaskRecordCondition {
  /** Apply the patch only if the record's claim is still this one (`null`: no claim). */
  ifClaimedUntil?: number | null;
}

/**
 * Where the proxy keeps its records. Every change to a record goes through `updateTask`, so a store (or
 * a wrapper around one) can observe every change in one place.
 */
export interface KlingTaskStore {
  /**
   * Writes `record` unless one exists for its (user, external id): then answers that one, unchanged.
   * This is the exactly-once gate: only the caller that gets `created: true` may call the vendor.
   */
  claimTask(record: NewKlingTaskRecord): Promise<{ record: KlingTaskRecord; created: boolean }>;
  /**
   * Changes one record, atomically; answers it as it is afterwards, or `undefined` when there is no such
   * record or `condition` does not hold.
   */
  updateTask(
    userId: string,
    externalTaskId: string,
    patch: KlingTaskRecordPatch,
    condition?: KlingTaskRecordCondition,
  ): Promise<KlingTaskRecord | undefined>;
  /** The user's record with this vendor task id or, failing that, this (browser) external id. */
  findTask(userId: string, id: string): Promise<KlingTaskRecord | undefined>;
  /** The user's records of these vendor task ids (any order). */
  findTasks(userId: string, taskIds: readonly string[]): Promise<KlingTaskRecord[]>;
  /** One page of the user's records that have a vendor task, newest first. */
  listTasks(userId: string, page: { pageNum: number; pageSize: number }): Promise<KlingTaskRecord[]>;
  /**
   * The kept copies of the tasks' files (`keepAudio`), beside the records. A store without it keeps no
   * copies.
   */
  files?: KeptFileStore;
}

// `queued` (the proxy's own) comes before anything the vendor says.
const RANK: Record<AudioTaskStatus, number> = {
  queued: -1,
  submitted: 0,
  processing: 1,
  succeed: 2,
  failed: 2,
};

/** A vendor status as the proxy ranks it: an unknown future status counts as processing. */
export const toRecordStatus = (status: string): AudioTaskStatus =>
  status === 'submitted' || status === 'succeed' || status === 'failed' ? status : 'processing';

/** How far along a status is: a record never goes to a lower rank, and a finished task never changes. */
export const statusRank = (status: AudioTaskStatus | undefined): number =>
  status === undefined ? -1 : RANK[status];

/** True when `next` may replace what the record holds (it is at least as far along, and not after the end). */
export function mayReplace(current: AudioTaskStatus | undefined, next: AudioTaskStatus): boolean {
  if (isTerminalStatus(current)) return false;
  return statusRank(next) >= statusRank(current);
}

/** The record with `patch` applied (the in-memory store's update; SQL stores do the same in one statement). */
export function applyPatch(
  record: KlingTaskRecord,
  patch: KlingTaskRecordPatch,
  now: number,
): KlingTaskRecord {
  const next = { ...record, updatedAt: now };
  if (patch.taskId !== undefined) next.taskId = patch.taskId;
  if (patch.task) {
    const status = toRecordStatus(patch.task.task_status);
    if (mayReplace(record.status, status)) {
      next.task = patch.task;
      next.status = status;
    }
  }
  if (patch.claimedUntil === null) delete next.claimedUntil;
  else if (patch.claimedUntil !== undefined) next.claimedUntil = patch.claimedUntil;
  return next;
}

/**
 * Records in this process's memory: for tests and throwaway setups. Everything is lost when the process
 * ends, and two proxy instances do not share it. The default store of `createKlingAudioProxy`.
 */
export function createMemoryTaskStore(): KlingTaskStore {
  // One map per user, keyed by external id; insertion order is creation order.
  const users = new Map<string, Map<string, KlingTaskRecord>>();
  const space = (userId: string) => {
    let records = users.get(userId);
    if (!records) users.set(userId, (records = new Map()));
    return records;
  };
  // Copies in and out, as a database would: a caller can never change a stored record by accident.
  const copy = (record: KlingTaskRecord): KlingTaskRecord => structuredClone(record);

  return {
    files: createMemoryFileStore(),
    async claimTask(record) {
      const records = space(record.userId);
      const existing = records.get(record.externalTaskId);
      if (existing) return { record: copy(existing), created: false };
      const stored: KlingTaskRecord = { ...record, updatedAt: record.createdAt };
      if (stored.claimedUntil === undefined) delete stored.claimedUntil;
      records.set(record.externalTaskId, copy(stored));
      return { record: stored, created: true };
    },
    async updateTask(userId, externalTaskId, patch, condition) {
      const records = space(userId);
      const record = records.get(externalTaskId);
      if (!record) return undefined;
      if (condition && 'ifClaimedUntil' in condition) {
        if ((record.claimedUntil ?? null) !== (condition.ifClaimedUntil ?? null)) return undefined;
      }
      const next = applyPatch(record, patch, Date.now());
      records.set(externalTaskId, next);
      return copy(next);
    },
    async findTask(userId, id) {
      const records = users.get(userId);
      if (!records) return undefined;
      let found: KlingTaskRecord | undefined;
      for (const record of records.values()) {
        if (record.taskId === id) {
          found = record;
          break;
        }
      }
      found ??= records.get(id);
      return found && copy(found);
    },
    async findTasks(userId, taskIds) {
      const wanted = new Set(taskIds);
      return [...space(userId).values()]
        .filter((record) => record.taskId !== undefined && wanted.has(record.taskId))
        .map(copy);
    },
    async listTasks(userId, { pageNum, pageSize }) {
      const records = [...space(userId).values()].filter((record) => record.taskId !== undefined);
      // Newest first; insertion order breaks ties between records of the same millisecond.
      const ordered = records.map((record, index) => ({ record, index }));
      ordered.sort((a, b) => b.record.createdAt - a.record.createdAt || b.index - a.index);
      const start = (pageNum - 1) * pageSize;
      return ordered.slice(start, start + pageSize).map(({ record }) => copy(record));
    },
  };
}

/**
 * The store with `listener` told of every record a change leaves (push announces it, keeping starts on a
 * success). The original's other methods stay as they are, own or inherited.
 */
export function observeTaskUpdates(
  store: KlingTaskStore,
  listener: (record: KlingTaskRecord) => void,
): KlingTaskStore {
  const observed: KlingTaskStore = Object.create(store);
  observed.updateTask = async (...args) => {
    const record = await store.updateTask(...args);
    if (record) listener(record);
    return record;
  };
  return observed;
}
