import type { KeptFile, KeptFileStore } from '../../core/fileStore';
import { recordKey as key } from '../../core/keys';

/** Kept files in this process's memory (lost at restart): the default beside the memory task store. */
export function createMemoryFileStore(): KeptFileStore {
  const files = new Map<string, KeptFile>();
  const byTask = new Map<string, Set<string>>();
  return {
    async putFile(file) {
      const id = key(file.userId, file.taskId, file.audioId, file.format);
      if (files.has(id)) return;
      // A copy: what the caller does with its array afterwards does not change the kept file.
      files.set(id, { ...file, bytes: file.bytes?.slice() });
      const task = key(file.userId, file.taskId);
      if (!byTask.has(task)) byTask.set(task, new Set());
      byTask.get(task)!.add(id);
    },
    async getFile(userId, taskId, audioId, format) {
      return files.get(key(userId, taskId, audioId, format));
    },
    async readFileRange(userId, taskId, audioId, format, start, end) {
      return files.get(key(userId, taskId, audioId, format))?.bytes?.slice(start, end + 1);
    },
    async findFiles(userId, taskIds) {
      return taskIds.flatMap((taskId) =>
        [...(byTask.get(key(userId, taskId)) ?? [])].map((id) => {
          const { bytes: _bytes, ...info } = files.get(id)!;
          return info;
        }),
      );
    },
    async deleteFiles(userId, taskId) {
      const task = key(userId, taskId);
      for (const id of byTask.get(task) ?? []) files.delete(id);
      byTask.delete(task);
    },
  };
}
