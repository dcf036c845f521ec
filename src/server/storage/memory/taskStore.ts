import type { KlingQueueingTaskStore } from '../../core/queueStore';
import { applyPatch, matchesFilter, type KlingTaskRecord } from '../../core/taskStore';
import { createMemoryFileStore } from './fileStore';
import { createMemoryQueueStore } from './queueStore';

/**
 * Records in this process's memory: for tests and throwaway setups. Everything is lost when the process
 * ends, and two proxy instances do not share it. The default store of `createKlingAudioProxy`.
 */
export function createMemoryTaskStore(): KlingQueueingTaskStore {
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
    // The queue over these very records: a waiting task is a record (see `limits`).
    queue: createMemoryQueueStore(users),
    async claimTask(record) {
      const records = space(record.userId);
      const existing = records.get(record.externalTaskId);
      if (existing) return { record: copy(existing), created: false };
      const stored: KlingTaskRecord = { ...record, updatedAt: record.createdAt };
      if (stored.claimedUntil === undefined) delete stored.claimedUntil;
      if (!stored.groupId) delete stored.groupId;
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
      // A task that waited in the queue answers to its `rka_` id and to the vendor's alike.
      if (!found) {
        for (const record of records.values()) {
          if (record.queueId === id || record.vendorTaskId === id) {
            found = record;
            break;
          }
        }
      }
      return found && copy(found);
    },
    async findTaskByVendorExternalId(vendorExternalTaskId) {
      // A user's record first: the shared space's ids are the browser's own, so one could match by chance.
      let shared: KlingTaskRecord | undefined;
      for (const records of users.values())
        for (const record of records.values())
          if (record.vendorExternalTaskId === vendorExternalTaskId) {
            if (record.userId !== '') return copy(record);
            shared = record;
          }
      return shared && copy(shared);
    },
    async findTasks(userId, taskIds) {
      const wanted = new Set(taskIds);
      return [...space(userId).values()]
        .filter((record) => record.taskId !== undefined && wanted.has(record.taskId))
        .map(copy);
    },
    async listTasks(userId, { pageNum, pageSize }, filter) {
      const records = [...space(userId).values()].filter(
        (record) => record.taskId !== undefined && matchesFilter(record, filter),
      );
      // Newest first; insertion order breaks ties between records of the same millisecond.
      const ordered = records.map((record, index) => ({ record, index }));
      ordered.sort((a, b) => b.record.createdAt - a.record.createdAt || b.index - a.index);
      const start = (pageNum - 1) * pageSize;
      return ordered.slice(start, start + pageSize).map(({ record }) => copy(record));
    },
    async deleteTask(userId, externalTaskId) {
      const records = users.get(userId);
      const record = records?.get(externalTaskId);
      if (!record) return undefined;
      records!.delete(externalTaskId);
      return copy(record);
    },
  };
}
