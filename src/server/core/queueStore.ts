/**
 * The queue's storage contract: the store is the queue. A waiting task is a record (status `queued`), so
 * what waits survives a restart and every instance on one database sees one line. Each step that must
 * hold across instances (admitting a create against a user's limits, taking the next task for a free slot
 * of the account) is one atomic operation of the store.
 */
import { isTerminalStatus, type WireTask } from '../../api/schemas';
import type { KlingTaskRecord, KlingTaskStore, NewKlingTaskRecord } from './taskStore';

/** The three limits a create can run into, as the 429 answer names them. */
export type QueueLimitName = 'tasks' | 'units' | 'queued';

/** A user's limits for one create, resolved from the plan (windows already turned into times). */
export interface Admission {
  /** Creates allowed since `tasksSince` (ms), or none. */
  tasks?: { max: number; since: number };
  /** Vendor units allowed since `unitsSince` (ms), or none; pending tasks count at `estimate`. */
  units?: { max: number; since: number; estimate: number };
  /** The user's tasks that may wait at once. */
  queued: number;
  /** The user's tasks at the vendor at once (kept on the record for the dispatch), or none. */
  parallel?: number;
}

/** A create refused by a limit: nothing was recorded. */
export interface QueueRefusal {
  limit: QueueLimitName;
  max: number;
  used: number;
}

/** What a record waits with: its proxy id (`rka_…`, also its `taskId`) and the task it answers meanwhile. */
export type NewQueuedRecord = NewKlingTaskRecord & { queueId: string; task: WireTask };

/** A user's figures (`GET {basePath}/usage`). */
export interface QueueUsage {
  /** Creates since `tasksSince`. */
  tasks: number;
  /** Units since `unitsSince`: reported by the vendor, pending tasks at the estimate. */
  units: number;
  /** The user's tasks at the vendor now (being sent included). */
  running: number;
  /** The user's tasks waiting. */
  queued: number;
}

/** The account as every instance shares it. */
export interface QueueAccount {
  /** Tasks at the vendor now, across all users (being sent included). */
  running: number;
  /** Tasks waiting, across all users. */
  waiting: number;
  /** Units reported by the vendor for tasks created since `since` (plus pending ones at the estimate). */
  units: number;
  /** The average units of recent finished tasks (the estimate for a pending one), or none yet. */
  averageUnits?: number;
}

export interface KlingQueueStore {
  /**
   * Admits a create: atomically (per user, across instances) checks `admission` against what the user has
   * and, when it fits, writes `record` as `queued`. A record that exists for (user, external id) is
   * answered as is (the exactly-once gate), whatever the limits say.
   */
  enqueue(
    record: NewQueuedRecord,
    admission: Admission,
  ): Promise<{ record: KlingTaskRecord; created: boolean } | { refused: QueueRefusal }>;
  /**
   * Takes the next waiting record for a free slot of the account, fairly: the oldest waiting task of the
   * user with the fewest tasks at the vendor (within the user's own `parallel`), among equals the user
   * served longest ago. Atomic across instances: never more than `limit` tasks at the vendor or being
   * sent. The record taken is claimed (`claimedUntil`) for its send; a claim that runs out puts it back.
   */
  claimNext(options: {
    limit: number | undefined;
    now: number;
    claimUntil: number;
  }): Promise<KlingTaskRecord | undefined>;
  /** Every waiting record with its place in line (1 = next), in that order. */
  waiting(now: number): Promise<{ record: KlingTaskRecord; position: number }[]>;
  /** Up to `limit` records at the vendor (not finished) last updated before `before`, oldest first. */
  stale(before: number, limit: number): Promise<KlingTaskRecord[]>;
  /** The parallel limit learned from 1303, shared by every instance, or none yet. */
  learnedLimit(): Promise<{ limit: number; cleanSends: number } | undefined>;
  /** The user's figures. */
  usage(
    userId: string,
    since: { tasks: number; units: number },
    estimate: number,
    now: number,
  ): Promise<QueueUsage>;
  /** The account's figures, units counted since `since`. */
  account(since: number, now: number): Promise<QueueAccount>;
  /** Writes the learned parallel limit (`undefined`: none), shared by every instance. */
  setLearnedLimit(learned: { limit: number; cleanSends: number } | undefined): Promise<void>;
  /** Calls `listener` when another instance changed the line (a task joined it or a slot freed). */
  subscribe?(listener: () => void): () => void;
  /** Tells the other instances that the line changed. */
  notify?(): Promise<void>;
}

/**
 * What a record costs in vendor units: the vendor's `final_unit_deduction` once reported; nothing for a
 * task that ended without one (or never reached the vendor); `estimate` while it is pending.
 */
export function recordUnits(record: KlingTaskRecord, estimate: number): number {
  const reported = record.task?.final_unit_deduction;
  const units = typeof reported === 'number' ? reported : Number.parseFloat(reported ?? '');
  if (Number.isFinite(units) && units >= 0) return units;
  return isTerminalStatus(record.status) ? 0 : estimate;
}

/** A task store that can also queue (`createMemoryTaskStore`, `createPostgresTaskStore`). */
export type KlingQueueingTaskStore = KlingTaskStore & { queue: KlingQueueStore };

/** True when `store` offers the queue's operations beside its records. */
export const canQueue = (store: KlingTaskStore): store is KlingQueueingTaskStore =>
  typeof (store as Partial<KlingQueueingTaskStore>).queue?.claimNext === 'function';
