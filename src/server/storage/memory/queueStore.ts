/**
 * The queue in this process's memory, over the memory task store's records: every operation runs without
 * an `await` between its check and its write, so each is atomic in the one process that can see them.
 */
import { isTerminalStatus } from '../../../api/schemas';
import type { Admission, KlingQueueStore, QueueRefusal } from '../../core/queueStore';
import type { KlingTaskRecord } from '../../core/taskStore';
import { recordUnits } from '../../core/queueStore';

/** The records of every user, by user and then external id (the memory task store's own maps). */
export type MemoryRecords = Map<string, Map<string, KlingTaskRecord>>;

/** At the vendor, or being sent to it: what holds a parallel slot. */
export const isActive = (record: KlingTaskRecord, now: number): boolean =>
  record.status === 'submitted' ||
  record.status === 'processing' ||
  (record.status === 'queued' && (record.claimedUntil ?? 0) > now);

export function createMemoryQueueStore(users: MemoryRecords): KlingQueueStore {
  const copy = (record: KlingTaskRecord): KlingTaskRecord => structuredClone(record);
  let learned: { limit: number; cleanSends: number } | undefined;
  const all = function* () {
    for (const records of users.values()) yield* records.values();
  };
  /** Per user: tasks holding a slot, and when the user was last served. */
  const stats = (now: number) => {
    const byUser = new Map<string, { running: number; lastSent: number }>();
    for (const record of all()) {
      const entry = byUser.get(record.userId) ?? { running: 0, lastSent: -1 };
      if (isActive(record, now)) entry.running++;
      if (record.sentAt !== undefined) entry.lastSent = Math.max(entry.lastSent, record.sentAt);
      byUser.set(record.userId, entry);
    }
    return byUser;
  };
  const waitingRecords = () =>
    [...all()]
      .map((record, order) => ({ record, order }))
      .filter(({ record }) => record.status === 'queued')
      .sort((a, b) => (a.record.queuedAt ?? 0) - (b.record.queuedAt ?? 0) || a.order - b.order);

  return {
    async enqueue(record, admission: Admission) {
      const records = users.get(record.userId) ?? new Map<string, KlingTaskRecord>();
      users.set(record.userId, records);
      const existing = records.get(record.externalTaskId);
      if (existing) return { record: copy(existing), created: false };
      const mine = [...records.values()];
      const refuse = (refused: QueueRefusal) => ({ refused });
      const queued = mine.filter((r) => r.status === 'queued').length;
      if (queued >= admission.queued) return refuse({ limit: 'queued', max: admission.queued, used: queued });
      if (admission.tasks) {
        const used = mine.filter((r) => r.createdAt >= admission.tasks!.since).length;
        if (used >= admission.tasks.max) return refuse({ limit: 'tasks', max: admission.tasks.max, used });
      }
      if (admission.units) {
        const { since, estimate, max } = admission.units;
        const used = mine
          .filter((r) => r.createdAt >= since)
          .reduce((sum, r) => sum + recordUnits(r, estimate), 0);
        if (used + estimate > max) return refuse({ limit: 'units', max, used });
      }
      const stored: KlingTaskRecord = {
        userId: record.userId,
        externalTaskId: record.externalTaskId,
        vendorExternalTaskId: record.vendorExternalTaskId,
        taskId: record.queueId,
        queueId: record.queueId,
        prompt: record.prompt,
        duration: record.duration,
        task: record.task,
        status: 'queued',
        queuedAt: record.createdAt,
        createdAt: record.createdAt,
        updatedAt: record.createdAt,
      };
      if (admission.parallel !== undefined) stored.maxParallel = admission.parallel;
      records.set(record.externalTaskId, stored);
      return { record: copy(stored), created: true };
    },

    async claimNext({ limit, now, claimUntil }) {
      const byUser = stats(now);
      if (limit !== undefined) {
        let running = 0;
        for (const { running: count } of byUser.values()) running += count;
        if (running >= limit) return undefined;
      }
      let best: { record: KlingTaskRecord; running: number; lastSent: number } | undefined;
      for (const { record } of waitingRecords()) {
        if ((record.claimedUntil ?? 0) > now) continue;
        const { running, lastSent } = byUser.get(record.userId)!;
        if (record.maxParallel !== undefined && running >= record.maxParallel) continue;
        // Waiting records come oldest first: a later one wins only with fewer running or an older serve.
        if (!best || running < best.running || (running === best.running && lastSent < best.lastSent)) {
          best = { record, running, lastSent };
        }
      }
      if (!best) return undefined;
      best.record.claimedUntil = claimUntil;
      best.record.updatedAt = now;
      return copy(best.record);
    },

    async waiting(now) {
      const byUser = stats(now);
      const rank = new Map<string, number>();
      const entries = waitingRecords().map(({ record }, order) => {
        const k = (rank.get(record.userId) ?? 0) + 1;
        rank.set(record.userId, k);
        return { record, k, order, lastSent: byUser.get(record.userId)?.lastSent ?? -1 };
      });
      // Each user's k-th waiting task after every user's (k-1)-th: the order the dispatch will send them in.
      entries.sort((a, b) => a.k - b.k || a.lastSent - b.lastSent || a.order - b.order);
      return entries.map(({ record }, index) => ({ record: copy(record), position: index + 1 }));
    },

    async stale(before, limit) {
      return [...all()]
        .filter((r) => (r.status === 'submitted' || r.status === 'processing') && r.updatedAt < before)
        .sort((a, b) => a.updatedAt - b.updatedAt)
        .slice(0, limit)
        .map(copy);
    },

    async usage(userId, since, estimate, now) {
      const mine = [...(users.get(userId)?.values() ?? [])];
      return {
        tasks: mine.filter((r) => r.createdAt >= since.tasks).length,
        units: mine
          .filter((r) => r.createdAt >= since.units)
          .reduce((sum, r) => sum + recordUnits(r, estimate), 0),
        running: mine.filter((r) => isActive(r, now)).length,
        queued: mine.filter((r) => r.status === 'queued').length,
      };
    },

    async account(since, now) {
      const records = [...all()];
      const reported = records
        .filter((r) => isTerminalStatus(r.status) && r.sentAt !== undefined)
        .sort((a, b) => b.updatedAt - a.updatedAt)
        .slice(0, 50)
        .map((r) => recordUnits(r, Number.NaN))
        .filter((units) => Number.isFinite(units) && units > 0);
      const averageUnits = reported.length
        ? reported.reduce((a, b) => a + b, 0) / reported.length
        : undefined;
      return {
        running: records.filter((r) => isActive(r, now)).length,
        waiting: records.filter((r) => r.status === 'queued').length,
        units: records
          .filter((r) => r.createdAt >= since)
          .reduce((sum, r) => sum + recordUnits(r, averageUnits ?? 1), 0),
        averageUnits,
      };
    },

    async learnedLimit() {
      return learned && { ...learned };
    },
    async setLearnedLimit(next) {
      learned = next && { ...next };
    },
  };
}
