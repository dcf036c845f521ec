/**
 * The proxy's task records: the contract every store implements, the record it keeps, and the in-memory
 * store. A record is written before the vendor is called and is the proxy's memory of one task: whose it
 * is, the browser's external id, the prompt and the last known vendor task.
 */
import { isTerminalStatus, matchesSearch, type AudioTaskStatus, type WireTask } from '../../api/schemas';
import { STATUS_RANK, toKnownStatus } from '../../api/status';
import type { KlingTaskEventLog } from './eventLog';
import type { KeptFileStore } from './fileStore';

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
  /** The queue (`limits`): the id the proxy gave the task when it was recorded as `queued` (`rka_…`). */
  queueId?: string;
  /** The queue: when the task joined it (ms since the epoch). */
  queuedAt?: number;
  /** The queue: when the vendor accepted the task (ms since the epoch). */
  sentAt?: number;
  /** The vendor's task id when it differs from `taskId` (a task that waited keeps its `rka_` id). */
  vendorTaskId?: string;
  /** The queue: the user's own parallel limit when the task joined it. */
  maxParallel?: number;
  /** The user's own name for the task (`PATCH`), if any. */
  title?: string;
  /** Starred by the user (`PATCH`). */
  starred?: boolean;
  /** Takes made together share it (`group_id` of the create); never sent to the vendor. */
  groupId?: string;
  /** When the user last renamed or starred it (ms since the epoch): answers never say older than that. */
  editedAt?: number;
}

/** What `claimTask` writes: a record before the vendor has heard of it. */
export type NewKlingTaskRecord = Pick<
  KlingTaskRecord,
  'userId' | 'externalTaskId' | 'vendorExternalTaskId' | 'prompt' | 'duration' | 'claimedUntil' | 'createdAt'
> &
  Partial<Pick<KlingTaskRecord, 'groupId'>>;

/** A change to a record. `claimedUntil: null` clears the claim. */
export interface KlingTaskRecordPatch {
  taskId?: string;
  /** The vendor's latest task object. Ignored when it would move the record backwards (see `mayReplace`). */
  task?: WireTask;
  claimedUntil?: number | null;
  /** The queue: the vendor's id of a task that was sent after it waited. */
  vendorTaskId?: string;
  /** The queue: when the vendor accepted the task. */
  sentAt?: number;
  /** The user's name for the task; `null` removes it. Sets `editedAt`. */
  title?: string | null;
  /** Sets `editedAt`. */
  starred?: boolean;
}

/**
 * Which of a user's records a list answers. `words`: each must occur, case-insensitively, in the prompt
 * or the title (lower-cased by `searchWords`; `%`, `_`, quotes and `\` are plain text to every store).
 */
export interface KlingTaskListFilter {
  words?: readonly string[];
  starred?: boolean;
  status?: AudioTaskStatus;
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
  /**
   * The record (of any user; a real user's before the shared space's) whose vendor external id is this
   * one: what a callback token names, so the token stays the same size whatever the ids. Optional: without it, tokens seal the (user, external id)
   * pair instead.
   */
  findTaskByVendorExternalId?(vendorExternalTaskId: string): Promise<KlingTaskRecord | undefined>;
  /** The user's records of these vendor task ids (any order). */
  findTasks(userId: string, taskIds: readonly string[]): Promise<KlingTaskRecord[]>;
  /** One page of the user's records that have a vendor task (and match `filter`), newest first. */
  listTasks(
    userId: string,
    page: { pageNum: number; pageSize: number },
    filter?: KlingTaskListFilter,
  ): Promise<KlingTaskRecord[]>;
  /**
   * Removes the user's record (by its browser external id) and answers it as it was; `undefined` when there
   * was none. A store without it cannot delete (the proxy then answers 405).
   */
  deleteTask?(userId: string, externalTaskId: string): Promise<KlingTaskRecord | undefined>;
  /**
   * The kept copies of the tasks' files (`keepAudio`), beside the records. A store without it keeps no
   * copies.
   */
  files?: KeptFileStore;
  /**
   * The task event log on the store's own database (the same one each call), which push uses unless the
   * proxy is given `events`: instances sharing a database store then share their streams' events. A store
   * without it (memory) leaves push on an in-process log.
   */
  eventLog?(): KlingTaskEventLog;
}

/** How far along a record's status is (`-1`: no task yet): a record never goes to a lower rank. */
export const statusRank = (status: AudioTaskStatus | undefined): number =>
  status === undefined ? -1 : STATUS_RANK[status];

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
    const status = toKnownStatus(patch.task.task_status);
    if (mayReplace(record.status, status)) {
      next.task = patch.task;
      next.status = status;
    }
  }
  if (patch.vendorTaskId !== undefined) next.vendorTaskId = patch.vendorTaskId;
  if (patch.sentAt !== undefined) next.sentAt = patch.sentAt;
  if (patch.claimedUntil === null) delete next.claimedUntil;
  else if (patch.claimedUntil !== undefined) next.claimedUntil = patch.claimedUntil;
  if (patch.title !== undefined) {
    if (patch.title) next.title = patch.title;
    else delete next.title;
  }
  if (patch.starred !== undefined) next.starred = patch.starred;
  if (patch.title !== undefined || patch.starred !== undefined) next.editedAt = now;
  return next;
}

/** Whether a record passes a list's `filter` (the memory store's test; SQL stores say the same in SQL). */
export function matchesFilter(record: KlingTaskRecord, filter: KlingTaskListFilter = {}): boolean {
  if (filter.starred && !record.starred) return false;
  if (filter.status && record.status !== filter.status) return false;
  return !filter.words?.length || matchesSearch(filter.words, record.prompt, record.title);
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
