// @vitest-environment node
/**
 * What a lookup costs the database, counted on the store's own connection (PGlite, and a real PostgreSQL
 * server): an unchanged pending task writes nothing and, while the proxy's memory of it is fresh, reads
 * nothing; that memory is per user, bounded, never goes backwards, and two instances on one database
 * still see each other's changes.
 */
import pg from 'pg';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createMockKlingBackend } from '../src/mocks';
import { createPostgresTaskStore } from '../src/server';
import type { SqlDatabase } from '../src/server/core/sql';
import { createTaskRecordCache } from '../src/server/records/recordCache';
import type { KlingTaskRecord } from '../src/server/core/taskStore';
import { postgresUrl } from './postgres';
import { createWorld, failure, raw } from './records.harness';
import { freshTable, postgresPool, sharedPglite } from './stores';

vi.setConfig({ testTimeout: 60_000 });

/** The database, with every statement sent through it written down. */
function counted(db: SqlDatabase) {
  const statements: string[] = [];
  const wrapped: SqlDatabase = {
    query: (text, params) => {
      statements.push(text.trim().split(/\s+/)[0]!.toUpperCase());
      return db.query(text, params);
    },
  };
  return {
    db: wrapped,
    statements,
    writes: () => statements.filter((verb) => verb === 'INSERT' || verb === 'UPDATE' || verb === 'DELETE'),
    forget: () => void statements.splice(0),
  };
}

const pools: pg.Pool[] = [];
afterAll(() => Promise.all(pools.map((pool) => pool.end())));

const kinds: { name: string; skip?: string; db: () => SqlDatabase; other: () => SqlDatabase }[] = [
  { name: 'PGlite', db: () => sharedPglite(), other: () => sharedPglite() },
  {
    name: 'PostgreSQL',
    skip: postgresUrl ? undefined : 'RKA_TEST_POSTGRES_URL is not set',
    db: () => postgresPool(),
    other: () => {
      const pool = new pg.Pool({ connectionString: postgresUrl, max: 4 });
      pools.push(pool);
      return pool;
    },
  },
];

// The proxy's memory trusts a pending record for 1 s: the test holds the clock (Date only; timers run).
beforeEach(() => void vi.useFakeTimers({ toFake: ['Date'] }));
afterEach(() => void vi.useRealTimers());
const later = (ms: number) => vi.setSystemTime(Date.now() + ms);

describe.each(kinds)('lookups on the $name store', ({ skip, db, other }) => {
  // The vendor's clock, moved by the tests: 1 s submitted, 1 s processing, then succeed.
  let vendorNow = 0;
  const setup = (database: SqlDatabase, table = freshTable(), backend = vendor()) => {
    const sql = counted(database);
    // Kept copies off: a succeeded task's answer would look its files up, which is not what is counted.
    const world = createWorld(createPostgresTaskStore(sql.db, { table }), {
      backendInstance: backend,
      proxy: { keepAudio: false },
    });
    return { ...sql, world, table, backend };
  };
  const vendor = () =>
    createMockKlingBackend({
      baseUrl: 'http://vendor.test',
      timing: { submittedMs: 1000, processingMs: 1000 },
      now: () => vendorNow,
    });
  beforeEach(() => void (vendorNow = Date.now()));

  it.skipIf(skip)('an unchanged pending task writes nothing, and reads nothing while fresh', async () => {
    const { world, statements, writes, forget } = setup(db());
    const alice = world.as('alice');
    const { taskId } = await alice.createTask({ prompt: 'Pending', duration: 3, externalTaskId: 'p-1' });
    vendorNow += 1500;
    forget();
    // A real change (submitted → processing): written once.
    expect((await alice.getTask({ taskId })).status).toBe('processing');
    expect(writes()).toEqual(['UPDATE']);
    forget();
    world.mark();
    for (let i = 0; i < 20; i++) expect((await alice.getTask({ taskId })).status).toBe('processing');
    // Each lookup still asks the vendor (the task is pending); none reaches the database.
    expect(world.vendorRequests()).toHaveLength(20);
    expect(statements).toEqual([]);
    // Past the freshness, the record is read again (once), and still nothing is written.
    later(1000);
    for (let i = 0; i < 5; i++) expect((await alice.getTask({ taskId })).status).toBe('processing');
    expect(statements).toEqual(['SELECT']);
  });

  it.skipIf(skip)(
    'a finished task is written once, then answered with neither the vendor nor the database',
    async () => {
      const { world, statements, writes, forget } = setup(db());
      const alice = world.as('alice');
      const { taskId } = await alice.createTask({ prompt: 'Done', duration: 3, externalTaskId: 'd-1' });
      await alice.getTask({ taskId });
      vendorNow += 2500;
      forget();
      expect((await alice.getTask({ taskId })).status).toBe('succeed');
      expect(writes()).toEqual(['UPDATE']);
      forget();
      world.mark();
      // Long after any freshness: a finished record never changes.
      later(60_000);
      for (let i = 0; i < 5; i++) expect((await alice.getTask({ taskId })).status).toBe('succeed');
      expect(world.vendorRequests()).toEqual([]);
      expect(statements).toEqual([]);
      // The list still reads the store, and has it.
      expect((await alice.listTasks()).map((task) => task.status)).toEqual(['succeed']);
      expect(statements).toEqual(['SELECT']);
    },
  );

  it.skipIf(skip)('a task in the proxy’s memory is still refused to another user, every way', async () => {
    const { world } = setup(db());
    const task = await world
      .as('alice')
      .createTask({ prompt: 'Alice only', duration: 3, externalTaskId: 'mine' });
    await world.as('alice').getTask({ taskId: task.taskId });
    world.mark();
    for (const ref of [{ taskId: task.taskId }, { externalTaskId: 'mine' }]) {
      const error = await failure(world.as('bob').getTask(ref));
      expect([error.httpStatus, error.code]).toEqual([404, 1203]);
    }
    const path = '/api/kling/v1/audio/text-to-audio';
    for (const target of [`${path}/${task.taskId}`, `${path}?external_task_id=mine`]) {
      const answer = await raw(world, 'bob', target);
      expect([answer.status, answer.json.code]).toEqual([404, 1203]);
    }
    expect(await world.as('bob').listTasks()).toEqual([]);
    expect(world.vendorRequests()).toEqual([]);
    expect(await world.as('alice').getTask({ taskId: task.taskId })).toMatchObject({
      taskId: task.taskId,
      request: { prompt: 'Alice only' },
    });
  });

  it.skipIf(skip)('a second instance sees the first one’s changes', async () => {
    const first = setup(db());
    const second = setup(other(), first.table, first.backend);
    const task = await first.world
      .as('carol')
      .createTask({ prompt: 'Shared', duration: 3, externalTaskId: 's-1' });
    const ref = { taskId: task.taskId };
    // The second instance has never seen the task: it reads the record the first one wrote.
    expect(await second.world.as('carol').getTask(ref)).toMatchObject({
      status: 'submitted',
      request: { prompt: 'Shared' },
    });
    // The first instance records the end; the second, which remembers the task pending, asks the
    // vendor as for any pending task and answers what the store holds.
    vendorNow += 2500;
    expect((await first.world.as('carol').getTask(ref)).status).toBe('succeed');
    expect((await second.world.as('carol').getTask(ref)).status).toBe('succeed');

    // Another task, ended through the first instance while the vendor fails every lookup: the second
    // instance, which remembers it pending, gets the vendor's error and answers the finished record.
    const carol = { first: first.world.as('carol'), second: second.world.as('carol') };
    const endedElsewhere = async (externalTaskId: string) => {
      first.backend.setScenario({ pollError: undefined });
      const { taskId } = await carol.first.createTask({ prompt: 'Later', duration: 3, externalTaskId });
      expect((await carol.second.getTask({ taskId })).status).toBe('submitted');
      vendorNow += 2500;
      expect((await carol.first.getTask({ taskId })).status).toBe('succeed');
      first.backend.setScenario({ pollError: { code: 5000 } });
      second.world.mark();
      return taskId;
    };
    const failedVendor = await endedElsewhere('s-2');
    expect((await carol.second.getTask({ taskId: failedVendor })).status).toBe('succeed');
    expect(second.world.vendorRequests()).toHaveLength(1);
    // And once its memory is no longer fresh, it reads the store first: no vendor call at all.
    const stale = await endedElsewhere('s-3');
    later(1000);
    expect((await carol.second.getTask({ taskId: stale })).status).toBe('succeed');
    expect(second.world.vendorRequests()).toEqual([]);
  });
});

describe('the proxy’s memory of records', () => {
  const record = (userId: string, taskId: string, status?: KlingTaskRecord['status']): KlingTaskRecord => ({
    userId,
    externalTaskId: `ext-${taskId}`,
    vendorExternalTaskId: `v-${taskId}`,
    taskId,
    prompt: 'p',
    duration: 3,
    status,
    task: status && { task_id: taskId, task_status: status, created_at: 1, updated_at: 1 },
    createdAt: 1,
    updatedAt: 1,
  });

  it('answers a record to its own user only', () => {
    const cache = createTaskRecordCache({ now: () => 0 });
    cache.remember(record('alice', '1', 'processing'));
    expect(cache.get('alice', '1')?.userId).toBe('alice');
    expect(cache.get('bob', '1')).toBeUndefined();
    expect(cache.get('alice', 'ext-1')).toBeUndefined();
  });

  it('trusts a pending record for freshMs, a finished one for good', () => {
    let now = 0;
    const cache = createTaskRecordCache({ freshMs: 1000, now: () => now });
    cache.remember(record('alice', '1', 'processing'));
    cache.remember(record('alice', '2', 'failed'));
    now = 999;
    expect(cache.get('alice', '1')?.status).toBe('processing');
    now = 1000;
    expect(cache.get('alice', '1')).toBeUndefined();
    now = 10_000_000;
    expect(cache.get('alice', '2')?.status).toBe('failed');
  });

  it('never goes backwards, and keeps no record without a vendor task id', () => {
    const cache = createTaskRecordCache({ now: () => 0 });
    cache.remember(record('alice', '1', 'processing'));
    cache.remember(record('alice', '1', 'submitted'));
    expect(cache.get('alice', '1')?.status).toBe('processing');
    cache.remember(record('alice', '1', 'succeed'));
    cache.remember(record('alice', '1', 'processing'));
    expect(cache.get('alice', '1')?.status).toBe('succeed');
    cache.remember({ ...record('alice', 'x'), taskId: undefined });
    expect(cache.size).toBe(1);
  });

  it('holds at most max records, letting the least recently used go first', () => {
    const cache = createTaskRecordCache({ max: 3, now: () => 0 });
    for (const id of ['1', '2', '3']) cache.remember(record('alice', id, 'succeed'));
    expect(cache.get('alice', '1')).toBeDefined();
    cache.remember(record('alice', '4', 'succeed'));
    expect(cache.size).toBe(3);
    expect(cache.get('alice', '2')).toBeUndefined();
    expect(['1', '3', '4'].map((id) => cache.get('alice', id)?.taskId)).toEqual(['1', '3', '4']);
    for (let i = 0; i < 1000; i++) cache.remember(record(`user-${i}`, String(i), 'succeed'));
    expect(cache.size).toBe(3);
  });
});
