// @vitest-environment node
/**
 * Per-user records: the isolation matrix, exactly-once creates and concurrency, run on every store
 * (memory, PGlite and a real PostgreSQL server) through the real proxy, client and mock vendor.
 */
import { afterAll, describe, expect, it, vi } from 'vitest';
import { manyMockTaskSeeds } from '../src/mocks';
import { createMemoryTaskStore, type KlingTaskStore } from '../src/server';
import { createWorld, failure, raw } from './records.harness';
import { storeKinds } from './stores';

const prompt = (user: string, n: number) => `${user}'s sound number ${n}`;

describe.each(storeKinds)('records on the $name store', ({ make, skip }) => {
  const newStore = (): Promise<KlingTaskStore> => make();

  describe.skipIf(skip)('isolation', () => {
    it('user B gets 404 / 1203 for user A’s task by task id, by external id (path and query)', async () => {
      const world = createWorld(await newStore());
      const task = await world
        .as('alice')
        .createTask({ prompt: 'Alice’s rain', duration: 4, externalTaskId: 'ext-1' });
      world.mark();
      for (const ref of [{ taskId: task.taskId }, { externalTaskId: 'ext-1' }]) {
        const error = await failure(world.as('bob').getTask(ref));
        expect([error.httpStatus, error.code]).toEqual([404, 1203]);
      }
      const byQuery = await raw(world, 'bob', `/api/kling/v1/audio/text-to-audio?external_task_id=ext-1`);
      expect([byQuery.status, byQuery.json.code]).toEqual([404, 1203]);
      // Refused from the records alone: nothing was asked of the vendor on Bob's behalf.
      expect(world.vendorRequests()).toEqual([]);
      // Alice still gets it, both ways, with her prompt.
      const mine = await world.as('alice').getTask({ externalTaskId: 'ext-1' });
      expect(mine).toMatchObject({
        taskId: task.taskId,
        externalTaskId: 'ext-1',
        request: { prompt: 'Alice’s rain', duration: 4 },
      });
    });

    it('no list page of user B holds any of user A’s tasks', async () => {
      const world = createWorld(await newStore());
      for (let i = 0; i < 7; i++)
        await world.as('alice').createTask({ prompt: prompt('alice', i), duration: 3 });
      for (let i = 0; i < 3; i++) await world.as('bob').createTask({ prompt: prompt('bob', i), duration: 3 });
      const bobSees: string[] = [];
      for (const pageSize of [1, 2, 3, 500]) {
        for (let pageNum = 1; pageNum <= 5; pageNum++) {
          const page = await world.as('bob').listTasks({ pageNum, pageSize });
          bobSees.push(...page.map((task) => task.request!.prompt));
        }
      }
      expect(new Set(bobSees)).toEqual(new Set([0, 1, 2].map((i) => prompt('bob', i))));
      const all = await world.as('alice').listTasks({ pageSize: 500 });
      // Newest first.
      expect(all.map((task) => task.request?.prompt)).toEqual(
        [6, 5, 4, 3, 2, 1, 0].map((i) => prompt('alice', i)),
      );
    });

    it('the same browser external id used by two users makes two tasks, each answered with that id', async () => {
      const world = createWorld(await newStore());
      const a = await world
        .as('alice')
        .createTask({ prompt: 'Alice’s bell', duration: 3, externalTaskId: 'same' });
      const b = await world
        .as('bob')
        .createTask({ prompt: 'Bob’s drum', duration: 5, externalTaskId: 'same' });
      expect(a.taskId).not.toBe(b.taskId);
      expect([a.externalTaskId, b.externalTaskId]).toEqual(['same', 'same']);
      const sentIds = world
        .vendorRequests()
        .filter((request) => request.method === 'POST')
        .map((request) => (request.body as { external_task_id: string }).external_task_id);
      // The vendor got two different ids, neither of them the browser's.
      expect(new Set(sentIds).size).toBe(2);
      expect(sentIds).not.toContain('same');
      expect(await world.as('alice').getTask({ externalTaskId: 'same' })).toMatchObject({
        taskId: a.taskId,
        request: { prompt: 'Alice’s bell' },
      });
      expect(await world.as('bob').getTask({ externalTaskId: 'same' })).toMatchObject({
        taskId: b.taskId,
        request: { prompt: 'Bob’s drum', duration: 5 },
      });
    });

    it('40 tasks made elsewhere on the account never reach a scoped user (the shared space sees them)', async () => {
      const seed = manyMockTaskSeeds(40);
      const world = createWorld(await newStore(), { backend: { seed } });
      const elsewhere = world.backend.tasks;
      expect(elsewhere).toHaveLength(40);
      await world.as('alice').createTask({ prompt: 'mine', duration: 3 });
      expect((await world.as('alice').listTasks({ pageSize: 500 })).map((t) => t.request?.prompt)).toEqual([
        'mine',
      ]);
      expect(await world.as('alice').listTasks({ pageNum: 2, pageSize: 30 })).toEqual([]);
      world.mark();
      for (const task of elsewhere.slice(0, 5)) {
        const error = await failure(world.as('alice').getTask({ taskId: task.taskId }));
        expect(error.code).toBe(1203);
      }
      // The account-wide list was never asked for on a scoped user's behalf.
      expect(world.vendorRequests()).toEqual([]);
      // The shared space owns the whole account: the vendor's list, with prompts where it has records.
      await world.as(true).createTask({ prompt: 'shared one', duration: 3, externalTaskId: 'own' });
      const shared = await world.as(true).listTasks({ pageSize: 500 });
      expect(shared).toHaveLength(42);
      expect(shared[0]).toMatchObject({ externalTaskId: 'own', request: { prompt: 'shared one' } });
      expect(shared.filter((task) => task.request?.prompt === 'mine')).toEqual([]);
      // Its tasks keep their own external id at the vendor, as before records existed.
      expect(world.backend.tasks[0]!.externalTaskId).toBe('own');
    });

    it('many users creating at once each list exactly their own', async () => {
      const world = createWorld(await newStore());
      const users = Array.from({ length: 8 }, (_, i) => `user-${i}`);
      await Promise.all(
        users.flatMap((user) =>
          [0, 1, 2, 3].map((n) => world.as(user).createTask({ prompt: prompt(user, n), duration: 3 })),
        ),
      );
      for (const user of users) {
        const listed = await world.as(user).listTasks({ pageSize: 500 });
        expect(new Set(listed.map((task) => task.request?.prompt))).toEqual(
          new Set([0, 1, 2, 3].map((n) => prompt(user, n))),
        );
      }
      expect(world.backend.tasks).toHaveLength(32);
    });

    it('a browser callback_url is refused with 400 / 1201 before anything is spent', async () => {
      const world = createWorld(await newStore());
      const res = await raw(world, 'alice', '/api/kling/v1/audio/text-to-audio', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ prompt: 'Rain', duration: 3, callback_url: 'https://evil.example/hook' }),
      });
      expect([res.status, res.json.code]).toEqual([400, 1201]);
      expect(world.vendorRequests()).toEqual([]);
      expect(await world.as('alice').listTasks()).toEqual([]);
    });
  });

  describe.skipIf(skip)('answers', () => {
    it('every task answered carries the prompt and duration, mapped to task.request', async () => {
      const world = createWorld(await newStore());
      const alice = world.as('alice');
      const created = await alice.createTask({ prompt: '  Thunder far away ', duration: 7.5 });
      const request = { prompt: 'Thunder far away', duration: 7.5 };
      expect(created.request).toEqual(request);
      expect((await alice.getTask({ taskId: created.taskId })).request).toEqual(request);
      expect((await alice.listTasks())[0]!.request).toEqual(request);
      const wire = await raw(world, 'alice', `/api/kling/v1/audio/text-to-audio/${created.taskId}`);
      expect(wire.json.data).toMatchObject({ task_info: { prompt: 'Thunder far away', duration: '7.5' } });
    });

    it('pending tasks are refreshed from the vendor; a finished one is answered from its record', async () => {
      const world = createWorld(await newStore());
      const alice = world.as('alice');
      const created = await alice.createTask({ prompt: 'Birds', duration: 3 });
      expect(created.status).toBe('submitted');
      world.advance(1500);
      expect((await alice.listTasks())[0]!.status).toBe('processing');
      world.advance(5000);
      const done = await alice.getTask({ taskId: created.taskId });
      expect(done.status).toBe('succeed');
      expect(done.audios).toHaveLength(1);
      world.mark();
      expect(await alice.getTask({ taskId: created.taskId })).toEqual(done);
      expect((await alice.listTasks())[0]).toEqual(done);
      expect(world.vendorRequests()).toEqual([]);
    });

    it('the list takes the vendor’s bounds and refuses others before any lookup', async () => {
      const world = createWorld(await newStore());
      for (const query of ['pageNum=0', 'pageNum=1001', 'pageSize=0', 'pageSize=501', 'pageSize=x']) {
        const res = await raw(world, 'alice', `/api/kling/v1/audio/text-to-audio?${query}`);
        expect([query, res.status, res.json.code]).toEqual([query, 400, 1201]);
      }
      const ok = await raw(world, 'alice', `/api/kling/v1/audio/text-to-audio?pageNum=1000&pageSize=500`);
      expect([ok.status, ok.json.data]).toEqual([200, []]);
    });
  });

  describe.skipIf(skip)('exactly once', () => {
    it('a create repeated with the same external id answers the task that exists', async () => {
      const world = createWorld(await newStore());
      const alice = world.as('alice');
      const first = await alice.createTask({ prompt: 'Waves', duration: 4, externalTaskId: 'once' });
      const again = await alice.createTask({ prompt: 'Waves', duration: 4, externalTaskId: 'once' });
      expect(again.taskId).toBe(first.taskId);
      expect(world.vendorRequests().filter((r) => r.method === 'POST')).toHaveLength(1);
      expect(world.backend.tasks).toHaveLength(1);
    });

    it('after a dropped create answer, the lookup by external id and the retried create find the task', async () => {
      const world = createWorld(await newStore(), { backend: { scenario: { dropAfterStore: 1 } } });
      const alice = world.as('alice');
      const lost = await failure(alice.createTask({ prompt: 'Gong', duration: 3, externalTaskId: 'drop-1' }));
      expect(lost.retryable).toBe(true);
      // What the hooks do before a retry: look the task up by the browser's own id.
      const found = await alice.getTask({ externalTaskId: 'drop-1' });
      expect(found).toMatchObject({ externalTaskId: 'drop-1', request: { prompt: 'Gong', duration: 3 } });
      const retried = await alice.createTask({ prompt: 'Gong', duration: 3, externalTaskId: 'drop-1' });
      expect(retried.taskId).toBe(found.taskId);
      expect(world.backend.tasks).toHaveLength(1);
      expect(world.vendorRequests().filter((r) => r.method === 'POST')).toHaveLength(1);
    });

    it('a create refused by the vendor leaves no task behind, and the same id may be tried again', async () => {
      const world = createWorld(await newStore(), {
        backend: { scenario: { createError: { code: 1102, times: 1 } } },
      });
      const alice = world.as('alice');
      const refused = await failure(alice.createTask({ prompt: 'Horn', duration: 3, externalTaskId: 'x' }));
      expect(refused.code).toBe(1102);
      expect(await alice.listTasks()).toEqual([]);
      expect((await failure(alice.getTask({ externalTaskId: 'x' }))).code).toBe(1203);
      const task = await alice.createTask({ prompt: 'Horn', duration: 3, externalTaskId: 'x' });
      expect(task.request?.prompt).toBe('Horn');
      expect(world.backend.tasks).toHaveLength(1);
    });
  });

  describe.skipIf(skip)('concurrency', () => {
    it('parallel creates and reads of one record (two tabs) leave one task and one consistent record', async () => {
      const world = createWorld(await newStore(), { backend: { latencyMs: 20 } });
      const tab = () => world.as('alice');
      const input = { prompt: 'Two tabs', duration: 3, externalTaskId: 'tabs' };
      const results = await Promise.allSettled([
        tab().createTask(input),
        tab().createTask(input),
        tab().getTask({ externalTaskId: 'tabs' }),
        tab().createTask(input),
        tab().getTask({ externalTaskId: 'tabs' }),
      ]);
      const tasks = results.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
      // A read that came before the vendor's answer may say "not found"; every answer that has a task has the same one.
      expect(
        results
          .slice(0, 2)
          .concat(results[3]!)
          .every((r) => r.status === 'fulfilled'),
      ).toBe(true);
      expect(new Set(tasks.map((task) => task.taskId)).size).toBe(1);
      expect(world.backend.tasks).toHaveLength(1);
      expect(world.vendorRequests().filter((r) => r.method === 'POST')).toHaveLength(1);
      const listed = await tab().listTasks();
      expect(listed).toHaveLength(1);
      expect(listed[0]).toMatchObject({ externalTaskId: 'tabs', request: { prompt: 'Two tabs' } });
    });
  });
});

describe('the default store', () => {
  const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
  afterAll(() => warn.mockRestore());

  it('is memory, and the proxy says once, at its first request, that records will not survive a restart', async () => {
    warn.mockClear();
    const world = createWorld(undefined as never, { proxy: {} });
    expect(warn).not.toHaveBeenCalled();
    await world.as('alice').createTask({ prompt: 'Rain', duration: 3 });
    await world.as('alice').listTasks();
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0]![0])).toMatch(
      /restart forgets every user’s history.*several instances or on serverless/,
    );
    expect((await world.as('alice').listTasks())[0]?.request?.prompt).toBe('Rain');
  });

  it('an explicit store says nothing', async () => {
    warn.mockClear();
    const world = createWorld(createMemoryTaskStore());
    await world.as('alice').createTask({ prompt: 'Rain', duration: 3 });
    expect(warn).not.toHaveBeenCalled();
  });
});

describe('store: false', () => {
  it('refuses scoped users (500) and passes the shared space through', async () => {
    const world = createWorld(false as never);
    const res = await raw(world, 'alice', '/api/kling/v1/audio/text-to-audio');
    expect(res.status).toBe(500);
    expect(world.vendorRequests()).toEqual([]);
    expect(await world.as(true).listTasks()).toEqual([]);
  });
});
