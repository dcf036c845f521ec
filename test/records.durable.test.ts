// @vitest-environment node
/**
 * Records that outlive a process: a restart on the same PGlite folder, two proxy instances on one
 * database, migrations run by several instances at once, and the "never backwards" rule of every store.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { createMockKlingBackend } from '../src/mocks';
import { createPostgresTaskStore, type KlingTaskStore } from '../src/server';
import { TASK_STORE_MIGRATIONS } from '../src/server/storage/postgres/taskStore';
import { vendorExternalId } from '../src/server/records/records';
import { postgresUrl } from './postgres';
import { createWorld, failure, VENDOR } from './records.harness';
import { freshTable, postgresPool, sharedPglite, storeKinds } from './stores';

// Opening PGlite (initdb in WASM, then recovery from the folder) takes seconds on a busy machine.
vi.setConfig({ testTimeout: 90_000 });

const folders: string[] = [];
afterAll(() => folders.forEach((folder) => rmSync(folder, { recursive: true, force: true })));

const vendor = () =>
  createMockKlingBackend({ baseUrl: VENDOR, timing: { submittedMs: 60_000, processingMs: 60_000 } });
const posts = (backend: ReturnType<typeof vendor>) =>
  backend.requests.filter((request) => request.method === 'POST');

describe('restart on the same PGlite folder', () => {
  it('keeps every user’s history and prompts, and completes creates cut off before it, once', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'rka-records-'));
    folders.push(folder);
    const backend = vendor();

    let db = await PGlite.create(folder);
    let world = createWorld(createPostgresTaskStore(db), { backendInstance: backend });
    await world.as('alice').createTask({ prompt: 'Alice one', duration: 3 });
    await world.as('alice').createTask({ prompt: 'Alice two', duration: 4.5 });
    await world.as('bob').createTask({ prompt: 'Bob one', duration: 6 });
    backend.setScenario({ dropAfterStore: 1 });
    const dropped = await failure(
      world.as('bob').createTask({ prompt: 'Bob lost answer', duration: 3, externalTaskId: 'lost' }),
    );
    expect(dropped.retryable).toBe(true);
    // And what a crash in the middle of a create leaves: the record (claimed, no task id yet) and the
    // vendor's task under the derived id (derived unkeyed, as before ids were keyed: such records work).
    const vendorId = await vendorExternalId('carol', 'crash');
    await createPostgresTaskStore(db).claimTask({
      userId: 'carol',
      externalTaskId: 'crash',
      vendorExternalTaskId: vendorId,
      prompt: 'Crash test',
      duration: 5,
      claimedUntil: Date.now() + 300,
      createdAt: Date.now(),
    });
    await backend.fetch(
      new Request(`${VENDOR}/v1/audio/text-to-audio`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ prompt: 'Crash test', duration: 5, external_task_id: vendorId }),
      }),
    );
    await db.close();

    db = await PGlite.create(folder);
    world = createWorld(createPostgresTaskStore(db), { backendInstance: backend });
    const prompts = async (user: string) =>
      (await world.as(user).listTasks()).map(
        (task) => task.request && [task.request.prompt, task.request.duration],
      );
    expect(await prompts('alice')).toEqual([
      ['Alice two', 4.5],
      ['Alice one', 3],
    ]);
    // The retry after the restart (the hooks look the id up first, then create) finds the task made
    // before it, and the vendor is never asked to make a second one.
    const lookedUp = await world.as('bob').getTask({ externalTaskId: 'lost' });
    const retried = await world
      .as('bob')
      .createTask({ prompt: 'Bob lost answer', duration: 3, externalTaskId: 'lost' });
    expect(retried.taskId).toBe(lookedUp.taskId);
    expect(await prompts('bob')).toEqual([
      ['Bob lost answer', 3],
      ['Bob one', 6],
    ]);
    // The crashed create, retried: it waits for the claim to run out, then finds the vendor's task.
    const crashed = await world
      .as('carol')
      .createTask({ prompt: 'Crash test', duration: 5, externalTaskId: 'crash' });
    expect(crashed).toMatchObject({
      externalTaskId: 'crash',
      request: { prompt: 'Crash test', duration: 5 },
    });
    expect(await prompts('carol')).toEqual([['Crash test', 5]]);
    expect(posts(backend)).toHaveLength(5);
    expect(backend.tasks).toHaveLength(5);
    await db.close();
  });
});

// Two proxy instances sharing one database: PGlite shared in process, or two pg pools on one server.
const shared: { name: string; skip?: string; pair: () => Promise<[KlingTaskStore, KlingTaskStore]> }[] = [
  {
    name: 'PGlite',
    pair: async () => {
      const db = sharedPglite();
      const table = freshTable();
      return [createPostgresTaskStore(db, { table }), createPostgresTaskStore(db, { table })];
    },
  },
  {
    name: 'PostgreSQL',
    skip: postgresUrl ? undefined : 'RKA_TEST_POSTGRES_URL is not set',
    pair: async () => {
      const table = freshTable();
      const other = new pg.Pool({ connectionString: postgresUrl, max: 4 });
      pools.push(other);
      return [createPostgresTaskStore(postgresPool(), { table }), createPostgresTaskStore(other, { table })];
    },
  },
];
const pools: pg.Pool[] = [];
afterAll(() => Promise.all(pools.map((pool) => pool.end())));

describe.each(shared)('two proxy instances on one $name database', ({ skip, pair }) => {
  it.skipIf(skip)('migrate at once without a clash, and a create sent to both is made once', async () => {
    const backend = createMockKlingBackend({
      baseUrl: VENDOR,
      latencyMs: 50,
      timing: { submittedMs: 60_000, processingMs: 60_000 },
    });
    const [one, two] = await pair();
    const first = createWorld(one, { backendInstance: backend });
    const second = createWorld(two, { backendInstance: backend });
    const input = { prompt: 'Both instances', duration: 3, externalTaskId: 'lb-1' };
    // Both stores' first use: both migrate, each creates (one waits on the other's claim), both read.
    const tasks = await Promise.all([
      first.as('dave').createTask(input),
      second.as('dave').createTask(input),
      second.as('dave').createTask(input),
      first.as('dave').createTask(input),
    ]);
    expect(new Set(tasks.map((task) => task.taskId)).size).toBe(1);
    expect(posts(backend)).toHaveLength(1);
    for (const world of [first, second]) {
      expect((await world.as('dave').listTasks()).map((task) => task.request?.prompt)).toEqual([
        'Both instances',
      ]);
    }
  });
});

describe.skipIf(!postgresUrl)('migrations on PostgreSQL', () => {
  it('five instances starting at once apply each version once', async () => {
    const table = freshTable();
    const pool = postgresPool();
    const stores = Array.from({ length: 5 }, () => {
      const own = new pg.Pool({ connectionString: postgresUrl, max: 2 });
      pools.push(own);
      return createPostgresTaskStore(own, { table });
    });
    await Promise.all(stores.map((store) => store.listTasks('x', { pageNum: 1, pageSize: 1 })));
    const { rows } = await pool.query(`SELECT version FROM ${table}_migrations ORDER BY version`);
    expect(rows).toEqual(TASK_STORE_MIGRATIONS.map((_, index) => ({ version: index + 1 })));
    const { rows: indexes } = await pool.query(
      `SELECT indexname FROM pg_indexes WHERE tablename = $1 ORDER BY indexname`,
      [table],
    );
    // The trigram indexes of the search exist where pg_trgm could be created (the test server has it).
    expect(indexes.map((row) => row.indexname).sort()).toEqual(
      [
        `${table}_active`,
        `${table}_by_queue_id`,
        `${table}_by_task_id`,
        `${table}_by_vendor_id`,
        `${table}_by_vendor_task_id`,
        `${table}_list`,
        `${table}_pkey`,
        `${table}_search_prompt`,
        `${table}_search_title`,
        `${table}_starred`,
        `${table}_window`,
      ].sort(),
    );
  });
});

describe.each(storeKinds)('updates on the $name store', ({ make, skip }) => {
  it.skipIf(skip)(
    'never move a task backwards, and a claim changes only from the state it was read in',
    async () => {
      const store = await make();
      const { created } = await store.claimTask({
        userId: 'erin',
        externalTaskId: 'e1',
        vendorExternalTaskId: 'v-e1',
        prompt: 'p',
        duration: 3,
        claimedUntil: 1000,
        createdAt: 1,
      });
      expect(created).toBe(true);
      const wire = (status: string) => ({ task_id: '9', task_status: status, created_at: 1, updated_at: 2 });
      const status = async (next: string) =>
        (await store.updateTask('erin', 'e1', { taskId: '9', task: wire(next) }))?.status;
      expect(await status('processing')).toBe('processing');
      expect(await status('submitted')).toBe('processing');
      expect(await status('succeed')).toBe('succeed');
      expect(await status('processing')).toBe('succeed');
      expect(await status('failed')).toBe('succeed');
      // Someone else's claim: the condition fails and nothing changes.
      expect(
        await store.updateTask('erin', 'e1', { claimedUntil: 5 }, { ifClaimedUntil: 999 }),
      ).toBeUndefined();
      expect(
        (await store.updateTask('erin', 'e1', { claimedUntil: null }, { ifClaimedUntil: 1000 }))
          ?.claimedUntil,
      ).toBeUndefined();
      expect(await store.updateTask('frank', 'e1', { claimedUntil: null })).toBeUndefined();
      expect((await store.findTask('erin', '9'))?.task?.task_status).toBe('succeed');
      expect(await store.findTask('frank', '9')).toBeUndefined();
    },
  );
});
