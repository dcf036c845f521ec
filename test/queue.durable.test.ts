/**
 * The queue survives what a process does not: a restart on the same PGlite folder with tasks waiting, and
 * an instance that dies between sending a task and writing down that it did. Each task reaches the vendor
 * exactly once.
 */
import { PGlite } from '@electric-sql/pglite';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { AudioTask } from '../src/api';
import { createPostgresTaskStore, type KlingAudioProxy } from '../src/server';
import { VENDOR } from './records.harness';
import { queueWorld, until, vendorFor } from './queue.harness';
import { freshTable, sharedPglite } from './stores';

const folders: string[] = [];
afterAll(() => {
  for (const folder of folders) rmSync(folder, { recursive: true, force: true });
});

describe('the queue across a restart and a crash', () => {
  it(
    'a restart on one PGlite folder with waiting tasks sends each exactly once afterwards',
    { timeout: 60_000 },
    async () => {
      const folder = mkdtempSync(join(tmpdir(), 'rka-queue-'));
      folders.push(folder);
      const vendor = vendorFor(1);
      const limits = { account: { parallel: 1 } };

      let db = await PGlite.create(folder);
      let { world } = queueWorld(createPostgresTaskStore(db), limits, 1, vendor);
      const tasks: { user: string; task: AudioTask }[] = [];
      for (const user of ['ann', 'bob', 'cat']) {
        tasks.push({ user, task: await world.as(user).createTask({ prompt: `${user} waits`, duration: 3 }) });
      }
      expect(tasks.map(({ task }) => task.status)).toEqual(['submitted', 'queued', 'queued']);
      await (world.handler as KlingAudioProxy).close();
      await db.close();

      db = await PGlite.create(folder);
      ({ world } = queueWorld(createPostgresTaskStore(db), limits, 1, vendor));
      // After the restart, the ids answered before it still work, at every stage, until each is done.
      await until(async () => {
        vendor.advance(700);
        const states = await Promise.all(
          tasks.map(({ user, task }) => world.as(user).getTask({ taskId: task.taskId })),
        );
        return states.every((state) => state.status === 'succeed');
      }, 'every task to finish after the restart');
      expect(vendor.seen.creates).toHaveLength(3);
      expect(new Set(vendor.seen.creates).size).toBe(3);
      expect(vendor.backend.tasks).toHaveLength(3);
      expect(vendor.seen.maxInFlight).toBe(1);
      await (world.handler as KlingAudioProxy).close();
      await db.close();
    },
  );

  it(
    'an instance that dies mid-send leaves no duplicate: the task is found, not sent again',
    { timeout: 60_000 },
    async () => {
      const store = createPostgresTaskStore(sharedPglite(), { table: freshTable() });
      const vendor = vendorFor(5);
      const { world } = queueWorld(store, { account: { parallel: 1 } }, 5, vendor);
      const first = await world.as('ann').createTask({ prompt: 'first', duration: 3 });
      const second = await world.as('bob').createTask({ prompt: 'second', duration: 3 });
      expect(second.status).toBe('queued');

      // Another instance takes the waiting task for a slot, sends it, and dies before it writes anything.
      const claimed = await store.queue.claimNext({
        limit: undefined,
        now: Date.now(),
        claimUntil: Date.now() + 300,
      });
      expect(claimed?.externalTaskId).toBe(second.externalTaskId);
      await vendor.fetch(
        new Request(`${VENDOR}/v1/audio/text-to-audio`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            prompt: 'second',
            duration: 3,
            external_task_id: claimed!.vendorExternalTaskId,
          }),
        }),
      );
      expect(vendor.backend.tasks).toHaveLength(2);

      // Its claim runs out; the queue sends the task again, the vendor says it has it, and it is found.
      await until(async () => {
        vendor.advance(700);
        await world.as('ann').getTask({ taskId: first.taskId });
        return (await world.as('bob').getTask({ taskId: second.taskId })).status === 'succeed';
      }, 'the dead instance’s task to be found and finish');
      expect(vendor.backend.tasks).toHaveLength(2);
      const found = await world.as('bob').getTask({ externalTaskId: second.externalTaskId! });
      expect(found.taskId).toBe(second.taskId);
      expect(vendor.backend.tasks.map((task) => task.taskId)).toContain(found.vendorTaskId);
    },
  );
});
