/**
 * The proxy's queue and limits on real parts: the mock vendor (with its own parallel limit, 1303 past it)
 * behind the real proxy, on every store (memory, PGlite, the real PostgreSQL), and on two proxy instances
 * sharing one database where that is the point.
 */
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import type { AudioTask } from '../src/api';
import { createPostgresTaskStore, readKlingAccount, type KlingProxyLimits } from '../src/server';
import { afterProxies, queueWorld, until, vendorFor } from './queue.harness';
import { APP, failure } from './records.harness';
import { postgresUrl } from './postgres';
import { freshTable, sharedPglite, storeKinds } from './stores';

describe.each(storeKinds)('the queue on the $name store', ({ make, skip }) => {
  describe.skipIf(skip)('fair and within the account limit', () => {
    it(
      'account parallel 2, 4 users × 3 creates at once: never over 2, exactly 12 sent, round by round',
      { timeout: 60_000 },
      async () => {
        const store = await make();
        const { world, backend, seen } = queueWorld(store, { account: { parallel: 2 } }, 2);
        const users = ['ann', 'bob', 'cat', 'dan'];
        // The account is busy when the creates arrive (eve's two tasks hold both slots), so every one of them
        // waits and the order is the queue's. (On an idle account the first two go at once, whoever's.)
        const eve = [
          await world.as('eve').createTask({ prompt: 'eve 1', duration: 3 }),
          await world.as('eve').createTask({ prompt: 'eve 2', duration: 3 }),
        ];
        const created = await Promise.all(
          users.flatMap((user) =>
            [1, 2, 3].map(async (k) => ({
              user,
              k,
              task: await world
                .as(user)
                .createTask({ prompt: `${user} ${k}`, duration: 3, externalTaskId: `${user}-${k}` }),
            })),
          ),
        );
        // All wait, with a place in line; every answer has a task id.
        expect(created.filter((c) => c.task.status === 'queued')).toHaveLength(12);
        for (const { task } of created) expect(task.taskId).toMatch(/.+/);
        const check = async (user: string, task: AudioTask) => {
          const byId = await world.as(user).getTask({ taskId: task.taskId });
          const byExternal = await world.as(user).getTask({ externalTaskId: task.externalTaskId! });
          expect(byExternal.taskId).toBe(byId.taskId);
          return byId;
        };
        // Every id answers while waiting.
        for (const { user, task } of created) expect((await check(user, task)).taskId).toBe(task.taskId);

        // Time passes; lookups see tasks end, which frees slots for the next ones.
        await until(async () => {
          world.advance(700);
          // eve looks at hers too: a task seen ending frees its slot.
          for (const task of eve) await world.as('eve').getTask({ taskId: task.taskId });
          const states = await Promise.all(created.map(({ user, task }) => check(user, task)));
          return states.every((state) => state.status === 'succeed');
        }, 'every task to finish');

        expect(seen.refused1303).toBe(0);
        expect(seen.maxInFlight).toBeLessThanOrEqual(2);
        expect(backend.tasks).toHaveLength(14);
        expect(seen.creates).toHaveLength(14);
        // Each user's k-th task went before any user's (k+1)-th: in the vendor's order, the round of each
        // task (how many of its user's went before it, plus one) never goes down.
        const sent = backend.tasks
          .slice()
          .reverse()
          .map((task) => task.request!.prompt.split(' ')[0]!)
          .filter((user) => user !== 'eve');
        const count = new Map<string, number>();
        const rounds = sent.map((user) => {
          count.set(user, (count.get(user) ?? 0) + 1);
          return count.get(user)!;
        });
        expect(rounds).toEqual([1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3]);
        // A task that waited keeps its rka_ id, and carries the vendor's own.
        const waited = await world.as('dan').getTask({ externalTaskId: 'dan-3' });
        expect(waited.taskId).toMatch(/^rka_/);
        expect(waited.vendorTaskId).toBeDefined();
        expect(backend.tasks.some((task) => task.taskId === waited.vendorTaskId)).toBe(true);
      },
    );

    it("a 1303 queues the task (never fails it) and 'auto' learns the limit", async () => {
      const store = await make();
      const limits: KlingProxyLimits = { account: { parallel: 'auto' } };
      const { world, seen } = queueWorld(store, limits, 2);
      const first = await world.as('ann').createTask({ prompt: 'one', duration: 3 });
      const second = await world.as('bob').createTask({ prompt: 'two', duration: 3 });
      const third = await world.as('cat').createTask({ prompt: 'three', duration: 3 });
      expect([first.status, second.status]).toEqual(['submitted', 'submitted']);
      expect(third.status).toBe('queued');
      expect(third.queue).toEqual({ position: 1 });
      expect(seen.refused1303).toBe(1);
      expect(await readKlingAccount({ store, limits })).toMatchObject({
        running: 2,
        waiting: 1,
        limit: { max: 2, learned: true },
      });
      // Known now: the next create waits without asking the vendor.
      const fourth = await world.as('dan').createTask({ prompt: 'four', duration: 3 });
      expect(fourth.status).toBe('queued');
      expect(seen.refused1303).toBe(1);
    });
  });

  describe.skipIf(skip)('cancel', () => {
    it('a deleted queued task is never sent and costs nothing; the one behind it moves up', async () => {
      const store = await make();
      const { world, backend } = queueWorld(store, { account: { parallel: 1 } }, 5);
      const running = await world.as('ann').createTask({ prompt: 'runs', duration: 3 });
      const cancelled = await world.as('bob').createTask({ prompt: 'cancelled', duration: 3 });
      const next = await world.as('cat').createTask({ prompt: 'next', duration: 3 });
      expect([cancelled.queue, next.queue]).toEqual([{ position: 1 }, { position: 2 }]);
      await world.as('bob').deleteTask(cancelled.taskId);
      await until(
        async () => (await world.as('cat').getTask({ taskId: next.taskId })).queue?.position === 1,
        'the next task to move up',
      );
      await until(async () => {
        world.advance(700);
        await world.as('ann').getTask({ taskId: running.taskId });
        return (await world.as('cat').getTask({ taskId: next.taskId })).status === 'succeed';
      }, 'the next task to run and finish');
      expect(backend.tasks.map((task) => task.request!.prompt).sort()).toEqual(['next', 'runs']);
      const usage = await world.as('bob').getUsage();
      expect(usage.units.used).toBe(0);
      expect(usage.queued.count).toBe(0);
    });
  });

  describe.skipIf(skip)('user limits', () => {
    it('20 concurrent creates against a task quota of 3 admit exactly 3; the rest get 2001', async () => {
      const store = await make();
      const { world, backend } = queueWorld(store, { user: { tasks: { max: 3, window: 'day' } } }, 100);
      const results = await Promise.allSettled(
        Array.from({ length: 20 }, (_, i) => world.as('ann').createTask({ prompt: `p${i}`, duration: 3 })),
      );
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(3);
      const refusals = results.flatMap((r) => (r.status === 'rejected' ? [r.reason] : []));
      expect(refusals).toHaveLength(17);
      for (const error of refusals) {
        expect(error).toMatchObject({ code: 2001, httpStatus: 429, retryable: false });
        expect(error.retryAfterMs).toBeGreaterThan(0);
        expect(error.retryAfterMs).toBeLessThanOrEqual(86_400_000);
      }
      expect(backend.tasks).toHaveLength(3);
      // Another user has a quota of their own.
      await expect(world.as('bob').createTask({ prompt: 'mine', duration: 3 })).resolves.toBeDefined();
    });

    it('the 429 carries the limit, the window reset and what was used, before anything is recorded', async () => {
      const store = await make();
      const { world, backend } = queueWorld(store, { user: { tasks: { max: 1, window: 'hour' } } }, 100);
      await world.as('ann').createTask({ prompt: 'one', duration: 3 });
      const response = await world.handler(
        new Request(`${APP}/api/kling/v1/audio/text-to-audio`, {
          method: 'POST',
          headers: { 'x-user': 'ann', 'content-type': 'application/json' },
          body: JSON.stringify({ prompt: 'two', duration: 3, external_task_id: 'two' }),
        }),
      );
      expect(response.status).toBe(429);
      const body = (await response.json()) as { code: number; data: Record<string, unknown> };
      const nextHour = Math.ceil((Date.now() + 1) / 3_600_000) * 3_600_000;
      expect(body).toMatchObject({
        code: 2001,
        data: { limit: 'tasks', max: 1, used: 1, resets_at: nextHour },
      });
      // Seconds until the window resets (the clock moved on a little since the answer).
      expect(Number(response.headers.get('retry-after'))).toBeGreaterThanOrEqual(
        Math.floor((nextHour - Date.now()) / 1000),
      );
      expect(Number(response.headers.get('retry-after'))).toBeLessThanOrEqual(
        Math.ceil((nextHour - Date.now()) / 1000) + 1,
      );
      expect(backend.tasks).toHaveLength(1);
      expect(await store.findTask('ann', 'two')).toBeUndefined();
    });

    it('a full queue refuses with 2003; the units quota with 2002', async () => {
      const store = await make();
      const { world } = queueWorld(
        store,
        {
          account: { parallel: 1 },
          user: (id) => (id === 'ann' ? { queued: 1 } : { units: { max: 0.5, window: 'month' } }),
        },
        100,
      );
      await world.as('ann').createTask({ prompt: 'runs', duration: 3 });
      await world.as('ann').createTask({ prompt: 'waits', duration: 3 });
      expect(await failure(world.as('ann').createTask({ prompt: 'no room', duration: 3 }))).toMatchObject({
        code: 2003,
        retryable: false,
      });
      // bob: nothing reported yet, so each pending task counts as 1 unit: over 0.5 at once.
      expect(await failure(world.as('bob').createTask({ prompt: 'too dear', duration: 3 }))).toMatchObject({
        code: 2002,
      });
    });

    it('GET /usage answers the user’s figures', async () => {
      const store = await make();
      const { world } = queueWorld(
        store,
        { account: { parallel: 1 }, user: { tasks: { max: 5, window: 'day' }, parallel: 1, queued: 3 } },
        100,
      );
      await world.as('ann').createTask({ prompt: 'runs', duration: 3 });
      await world.as('ann').createTask({ prompt: 'waits', duration: 3 });
      const usage = await world.as('ann').getUsage();
      const tomorrow = Math.floor(Date.now() / 86_400_000) * 86_400_000 + 86_400_000;
      expect(usage).toEqual({
        tasks: { used: 2, max: 5, resetsAt: tomorrow, window: 'day' },
        units: { used: 2 },
        parallel: { running: 1, max: 1 },
        queued: { count: 1, max: 3 },
      });
      expect((await world.as('bob').getUsage()).tasks.used).toBe(0);
    });
  });
});

/** Two proxy instances on one database: PGlite shared in process, or two pools on the real PostgreSQL. */
const twoInstanceKinds = [
  {
    name: 'PGlite',
    skip: undefined as string | undefined,
    make: () => {
      const table = freshTable();
      return [sharedPglite(), sharedPglite()].map((db) => createPostgresTaskStore(db, { table }));
    },
  },
  {
    name: 'PostgreSQL',
    skip: postgresUrl ? undefined : 'RKA_TEST_POSTGRES_URL is not set',
    make: () => {
      const table = freshTable();
      return [0, 1].map(() => {
        const pool = new pg.Pool({ connectionString: postgresUrl, max: 5 });
        afterProxies(() => pool.end());
        return createPostgresTaskStore(pool, { table });
      });
    },
  },
];

describe.each(twoInstanceKinds)('two proxy instances on one $name database', ({ make, skip }) => {
  it.skipIf(skip)('20 concurrent creates across both against a quota of 3 admit exactly 3', async () => {
    const [a, b] = make();
    const vendor = vendorFor(100);
    const limits: KlingProxyLimits = { user: { tasks: { max: 3, window: 'day' } } };
    const one = queueWorld(a!, limits, 100, vendor).world;
    const two = queueWorld(b!, limits, 100, vendor).world;
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) =>
        (i % 2 ? one : two).as('ann').createTask({ prompt: `p${i}`, duration: 3 }),
      ),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(3);
    expect(
      results.every((r) => r.status === 'fulfilled' || (r.reason as { code: number }).code === 2001),
    ).toBe(true);
    expect(vendor.backend.tasks).toHaveLength(3);
  });

  it.skipIf(skip)(
    'account parallel 2 across both: the vendor never holds more than 2, and all 12 finish',
    { timeout: 60_000 },
    async () => {
      const [a, b] = make();
      const vendor = vendorFor(2);
      const limits: KlingProxyLimits = { account: { parallel: 2 } };
      const instances = [queueWorld(a!, limits, 2, vendor).world, queueWorld(b!, limits, 2, vendor).world];
      const users = ['ann', 'bob', 'cat', 'dan'];
      const created = await Promise.all(
        users.flatMap((user, u) =>
          [1, 2, 3].map(async (k) => ({
            user,
            at: instances[(u + k) % 2]!,
            task: await instances[(u + k) % 2]!.as(user).createTask({ prompt: `${user} ${k}`, duration: 3 }),
          })),
        ),
      );
      await until(async () => {
        vendor.advance(700);
        // Each user polls the other instance than the one that took the create: any instance answers.
        const states = await Promise.all(
          created.map(({ user, at, task }) =>
            instances[instances[0] === at ? 1 : 0]!.as(user).getTask({ taskId: task.taskId }),
          ),
        );
        return states.every((state) => state.status === 'succeed');
      }, 'every task to finish');
      expect(vendor.seen.refused1303).toBe(0);
      expect(vendor.seen.maxInFlight).toBeLessThanOrEqual(2);
      expect(vendor.backend.tasks).toHaveLength(12);
      // Exactly once: each vendor external id was created once.
      expect(new Set(vendor.seen.creates).size).toBe(12);
    },
  );
});
