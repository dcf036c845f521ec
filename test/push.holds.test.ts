// @vitest-environment node
/**
 * Push under the review's attacks and at scale: stream places that come back whatever the client does, an
 * event log that survives its database, replay limits, large tasks, a bounded sweep, the database store's
 * own log shared by instances, pruning, and a client that stops reading.
 */
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { PGlite } from '@electric-sql/pglite';
import { http, passthrough } from 'msw';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { WireTask } from '../src/api';
import { readServerSentEvents, type ServerSentEvent } from '../src/api/events';
import { createMockKlingBackend, type MockKlingBackend } from '../src/mocks';
import {
  createKlingAudioProxy,
  createMemoryTaskEventLog,
  createMemoryTaskStore,
  createPostgresTaskEventLog,
  createPostgresTaskStore,
  createTaskEventHub,
  toNodeHandler,
  type KlingAudioProxyOptions,
  type KlingTaskEventLog,
  type SqlDatabase,
} from '../src/server';
import { postgresUrl } from './postgres';
import { server as msw } from './server';

const APP = 'http://app.test';
const BASE = `${APP}/api/kling`;
const TASKS = `${BASE}/v1/audio/text-to-audio`;
const EVENTS = `${TASKS}/events`;
const VENDOR = 'http://vendor.test';
// A database's first open (PGlite's initdb) takes seconds on a busy machine.
const SLOW = 120_000;

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

let pool: pg.Pool | undefined;
const tables: string[] = [];
const freshTable = () => `ev_${crypto.randomUUID().replace(/-/g, '').slice(0, 16)}`;
afterAll(async () => {
  if (!pool) return;
  for (const table of tables) {
    await pool.query(
      `DROP TABLE IF EXISTS ${table}, ${table}_migrations, ${table}_events, ${table}_events_migrations, ${table}_files`,
    );
  }
  await pool.end();
});
const postgresPool = () => (pool ??= new pg.Pool({ connectionString: postgresUrl, max: 10 }));

let pglite: PGlite;
beforeAll(async () => {
  pglite = await PGlite.create();
}, SLOW);
afterAll(() => pglite?.close());

/** The event logs the checks run on: one process, PGlite, and the real PostgreSQL server. */
const logKinds: { name: string; skip?: boolean; make: () => KlingTaskEventLog }[] = [
  { name: 'memory', make: () => createMemoryTaskEventLog() },
  { name: 'PGlite', make: () => createPostgresTaskEventLog(pglite, { table: freshTable() }) },
  {
    name: 'PostgreSQL',
    skip: !postgresUrl,
    make: () => {
      const table = freshTable();
      tables.push(table);
      return createPostgresTaskEventLog(postgresPool(), { table });
    },
  },
];

const task = (id: string, updatedAt = 1, extra: Partial<WireTask> = {}): WireTask => ({
  task_id: id,
  task_status: 'submitted',
  created_at: 1,
  updated_at: updatedAt,
  ...extra,
});

/** The proxy with push on before the mock vendor (statuses frozen: tests move them), users by header. */
function setup(options: Partial<KlingAudioProxyOptions> = {}, backend?: MockKlingBackend) {
  const vendor =
    backend ??
    createMockKlingBackend({ baseUrl: VENDOR, timing: { submittedMs: 600_000, processingMs: 600_000 } });
  const proxy = createKlingAudioProxy({
    apiKey: 'key',
    upstream: VENDOR,
    authorize: (request) => request.headers.get('x-user') ?? 'alice',
    callbackUrl: BASE,
    store: createMemoryTaskStore(),
    keepAudio: false,
    fetch: (input, init) => vendor.fetch(new Request(input, init)),
    ...options,
  });
  cleanups.push(() => proxy.close());
  return { backend: vendor, proxy };
}

async function create(proxy: (request: Request) => Promise<Response>, user: string, externalTaskId: string) {
  const response = await proxy(
    new Request(TASKS, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-user': user },
      body: JSON.stringify({ prompt: 'Rain on a tin roof', duration: 5, external_task_id: externalTaskId }),
    }),
  );
  expect(response.status).toBe(200);
  return ((await response.json()) as { data: WireTask }).data;
}

/** An open stream of `user`: its events as they come. */
async function openStream(
  proxy: (request: Request) => Promise<Response>,
  user: string,
  headers: Record<string, string> = {},
) {
  const abort = new AbortController();
  const response = await proxy(
    new Request(EVENTS, { headers: { 'x-user': user, ...headers }, signal: abort.signal }),
  );
  expect(response.status).toBe(200);
  const events = readServerSentEvents(response.body!, abort.signal);
  cleanups.push(() => abort.abort());
  const next = async () => (await events.next()).value as ServerSentEvent;
  return {
    next,
    async task() {
      for (;;) {
        const event = await next();
        if (event.event === 'task') return { id: event.id!, task: JSON.parse(event.data) as WireTask };
      }
    },
    close: () => abort.abort(),
  };
}

/** A node:http server in front of `handler` on a loopback port. */
async function listen(handler: Parameters<typeof createServer>[1]): Promise<string> {
  msw.use(http.all(/^http:\/\/127\.0\.0\.1:\d+\//, () => passthrough()));
  const httpServer: Server = createServer(handler);
  await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
  cleanups.push(
    () =>
      new Promise((resolve) => {
        httpServer.close(resolve);
        httpServer.closeAllConnections();
      }),
  );
  return `http://127.0.0.1:${(httpServer.address() as AddressInfo).port}`;
}

describe('stream places', () => {
  it('a client that leaves while authorize runs gives its place back: five such leave the user able to stream', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const waiting: Request[] = [];
    const { proxy } = setup({
      authorize: async (request) => {
        waiting.push(request);
        await gate;
        return 'alice';
      },
    });
    const origin = await listen(toNodeHandler(proxy));
    const url = `${origin}/api/kling/v1/audio/text-to-audio/events`;
    const leaving = Array.from({ length: 5 }, () => new AbortController());
    const attempts = leaving.map((abort) => fetch(url, { signal: abort.signal }).catch(() => undefined));
    await expect.poll(() => waiting.length).toBe(5);
    for (const abort of leaving) abort.abort();
    await Promise.all(attempts);
    // The proxy has seen each client go before authorize answers.
    await expect.poll(() => waiting.every((request) => request.signal.aborted)).toBe(true);
    release();

    // All five places are free again: five streams open (the sixth is refused, as the bound says).
    const staying = Array.from({ length: 5 }, () => new AbortController());
    cleanups.push(() => staying.forEach((abort) => abort.abort()));
    await expect
      .poll(async () => {
        const probe = new AbortController();
        const response = await fetch(url, { signal: probe.signal });
        probe.abort();
        return response.status;
      })
      .toBe(200);
    const statuses = [];
    for (const abort of staying) statuses.push((await fetch(url, { signal: abort.signal })).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200]);
    expect((await fetch(url)).status).toBe(429);
  });

  it('a stream asked for by a client that has already gone takes no place (Fetch handler)', async () => {
    const { proxy } = setup({ eventStream: { maxConnectionsPerUser: 1 } });
    for (let i = 0; i < 3; i++) {
      const abort = new AbortController();
      abort.abort();
      await proxy(new Request(EVENTS, { signal: abort.signal })).catch(() => undefined);
    }
    const stream = await openStream(proxy, 'alice');
    expect((await stream.next()).event).toBe('resync');
  });
});

/** A log whose LISTEN fails while `down` is set, as one on a database that is not there. */
function flaky(log: KlingTaskEventLog) {
  const state = { down: true, appended: 0 };
  const wrapped: KlingTaskEventLog = {
    append: async (owner, t) => {
      const event = await log.append(owner, t);
      if (event) state.appended++;
      return event;
    },
    since: (owner, id) => log.since(owner, id),
    listen: async (listener) => {
      if (state.down) throw new Error('connect ECONNREFUSED');
      return log.listen(listener);
    },
  };
  return { log: wrapped, state };
}

describe.each(logKinds)('the event log on $name', ({ name, skip, make }) => {
  it.skipIf(skip)(
    'a LISTEN that failed is tried again, the place is freed, and changes are logged meanwhile',
    async () => {
      const { log, state } = flaky(make());
      const { proxy } = setup({ events: log, eventStream: { maxConnectionsPerUser: 1 } });
      // Twice a failure, never a 429: the failed stream gave its place back.
      expect((await proxy(new Request(EVENTS))).status).toBe(500);
      expect((await proxy(new Request(EVENTS))).status).toBe(500);
      // A create while this instance cannot listen is still logged, for other instances and for replay.
      const first = await create(proxy, 'alice', 'while-down');
      await expect.poll(() => state.appended).toBe(1);
      state.down = false;
      const stream = await openStream(proxy, 'alice');
      expect((await stream.next()).event).toBe('resync');
      const second = await create(proxy, 'alice', 'once-up');
      expect((await stream.task()).task.task_id).toBe(second.task_id);
      expect(second.task_id).not.toBe(first.task_id);
    },
    SLOW,
  );

  if (name === 'memory') return;

  it.skipIf(skip)(
    'replay further behind than 1,000 events sends resync, never a silent gap',
    async () => {
      const log = make();
      const first = (await log.append('u', task(`first-${name}`)))!;
      for (let i = 0; i < 1200; i += 100) {
        await Promise.all(Array.from({ length: 100 }, (_, j) => log.append('u', task(`t${i + j}`))));
      }
      expect(await log.since('u', first.id)).toBeUndefined();
      const hub = createTaskEventHub(log);
      cleanups.push(() => hub.close());
      const events = readServerSentEvents((await hub.open('u', first.id))!.body!);
      expect(((await events.next()).value as ServerSentEvent).event).toBe('resync');
      // 1,000 behind is still a replay.
      const near = (await log.append('u', task('near')))!;
      for (let i = 0; i < 1000; i += 100) {
        await Promise.all(Array.from({ length: 100 }, (_, j) => log.append('u', task(`n${i + j}`))));
      }
      expect(await log.since('u', near.id)).toHaveLength(1000);
    },
    SLOW,
  );

  it.skipIf(skip)(
    'a task over 8 KB of JSON is logged and reaches listeners (NOTIFY carries its id, the row the rest)',
    async () => {
      const log = make();
      const heard: WireTask[] = [];
      const stop = await log.listen((event) => heard.push(event.task));
      cleanups.push(stop);
      const big = task(`big-${name}`, 1, { task_info: { external_task_id: 'x'.repeat(12_000) } });
      const event = await log.append('u', big);
      expect(event?.task.task_info?.external_task_id).toHaveLength(12_000);
      await expect.poll(() => heard.length).toBe(1);
      expect(heard[0]!.task_info?.external_task_id).toHaveLength(12_000);
      await log.append('u', task('small'));
      await expect.poll(() => heard.map((t) => t.task_id)).toEqual([big.task_id, 'small']);
    },
    SLOW,
  );
});

describe('the sweep', () => {
  it('reads only pending tasks whose owner has a stream here, at most four at once', async () => {
    const backend = createMockKlingBackend({
      baseUrl: VENDOR,
      timing: { submittedMs: 600_000, processingMs: 600_000 },
    });
    const gets: string[] = [];
    const { proxy } = setup(
      {
        eventStream: { sweepMs: 30 },
        fetch: async (input, init) => {
          const request = new Request(input, init);
          if (request.method !== 'GET') return backend.fetch(request);
          gets.push(new URL(request.url).pathname);
          return backend.fetch(request);
        },
      },
      backend,
    );
    const users = Array.from({ length: 12 }, (_, i) => `user-${i}`);
    const tasks: WireTask[] = [];
    for (const user of users) tasks.push(await create(proxy, user, `order-${user}`));
    // An unrelated user streams: nobody else's pending task is read for them.
    await openStream(proxy, 'carol');
    // user-0 streams: their task is read again, and only theirs.
    await openStream(proxy, 'user-0');
    await expect.poll(() => gets.length).toBeGreaterThan(1);
    expect(new Set(gets)).toEqual(new Set(gets.filter((path) => path.endsWith(tasks[0]!.task_id))));

    // The shared space's stream watches every task: held reads show how many run at once.
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let running = 0;
    let most = 0;
    const shared = setup(
      {
        authorize: () => true,
        eventStream: { sweepMs: 30 },
        fetch: async (input, init) => {
          const request = new Request(input, init);
          if (request.method !== 'GET') return backend.fetch(request);
          running++;
          most = Math.max(most, running);
          await held;
          running--;
          return backend.fetch(request);
        },
      },
      backend,
    );
    for (let i = 0; i < 12; i++) await create(shared.proxy, '', `shared-${i}`);
    const all = await openStream(shared.proxy, '');
    await expect.poll(() => running).toBe(4);
    // A few more sweep periods pass with the reads held: no fifth read starts.
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(most).toBe(4);
    release();
    all.close();
  });
});

describe('the store on a database is the event log too', () => {
  const kinds = [
    { name: 'PGlite', skip: false, db: () => pglite as unknown as pg.Pool },
    { name: 'PostgreSQL', skip: !postgresUrl, db: () => postgresPool() },
  ];
  for (const { name, skip, db } of kinds)
    it.skipIf(skip)(
      `${name}: two instances, no \`events\` option: a change on one reaches the stream held by the other`,
      async () => {
        const table = freshTable();
        tables.push(table);
        let clock = Date.now();
        const backend = createMockKlingBackend({
          baseUrl: VENDOR,
          now: () => clock,
          timing: { submittedMs: 1000, processingMs: 1000 },
        });
        const instance = () =>
          setup(
            { store: createPostgresTaskStore(db(), { table }), keepAudio: false, waitUntil: () => {} },
            backend,
          ).proxy;
        const one = instance();
        const two = instance();
        const stream = await openStream(two, 'alice');
        expect((await stream.next()).event).toBe('resync');
        const created = await create(one, 'alice', `order-${crypto.randomUUID()}`);
        expect((await stream.task()).task).toMatchObject({
          task_id: created.task_id,
          task_status: 'submitted',
        });
        clock += 2500;
        // A poll on the first instance finds it finished: the second's stream hears it.
        const polled = await one(
          new Request(`${TASKS}/${created.task_id}`, { headers: { 'x-user': 'alice' } }),
        );
        expect(polled.status).toBe(200);
        expect((await stream.task()).task).toMatchObject({
          task_id: created.task_id,
          task_status: 'succeed',
        });
      },
      SLOW,
    );
});

describe('pruning', () => {
  for (const { name, skip } of logKinds.filter((kind) => kind.name !== 'memory'))
    it.skipIf(skip)(
      `${name}: events older than the replay window are deleted, and resuming from one gives resync`,
      async () => {
        const table = freshTable();
        const db: SqlDatabase = name === 'PGlite' ? pglite : postgresPool();
        if (name !== 'PGlite') tables.push(table);
        const old = createPostgresTaskEventLog(db, { table, retentionMs: 1 });
        // No check that it replays at first: with a 1 ms window it may already be gone (CI saw it).
        const first = (await old.append('u', task(`old-${name}`)))!;
        await expect
          .poll(async () => {
            // Another instance (its first append prunes) appends later.
            await createPostgresTaskEventLog(db, { table, retentionMs: 1 }).append(
              'u',
              task(`later-${crypto.randomUUID()}`),
            );
            return (await db.query(`select count(*)::int as n from ${table} where id = $1`, [first.id]))
              .rows[0].n;
          })
          .toBe(0);
        expect(await old.since('u', first.id)).toBeUndefined();
      },
      SLOW,
    );
});

/** The heap in use after a full collection. */
function heapAfterGc(): number {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

/** Where the sleepy client's stream comes from: the proxy itself, or a Fetch handler's `Response`. */
const servings = [
  {
    name: 'the proxy under toNodeHandler (written straight to the socket)',
    async serve() {
      const log = createMemoryTaskEventLog();
      const { proxy } = setup({
        events: log,
        eventStream: { maxBacklogBytes: 32_768, heartbeatMs: 60_000, maxConnectionsPerUser: 1 },
      });
      const origin = await listen(toNodeHandler(proxy));
      return {
        url: `${origin}/api/kling/v1/audio/text-to-audio/events`,
        publish: (t: WireTask) => log.append('alice', t),
      };
    },
  },
  {
    name: "a Fetch handler's Response under toNodeHandler",
    async serve() {
      const hub = createTaskEventHub(createMemoryTaskEventLog(), {
        maxBacklogBytes: 32_768,
        heartbeatMs: 60_000,
        maxConnectionsPerUser: 1,
      });
      cleanups.push(() => hub.close());
      const origin = await listen(
        toNodeHandler(async (request) => {
          const response = await hub.open('alice', request.headers.get('last-event-id'), request.signal);
          return response ?? new Response(null, { status: 429 });
        }),
      );
      return { url: `${origin}/events`, publish: (t: WireTask) => hub.publish('alice', t) };
    },
  },
];

describe.each(servings)('a client that stops reading: $name', ({ serve }) => {
  it(
    'costs a bounded backlog while 10,000 events pass, then converges by reconnecting (resync, then live)',
    async () => {
      const { url, publish } = await serve();
      const { port, pathname } = new URL(url);
      // A phone asleep: the socket stays open and nothing is read from it.
      const socket: Socket = connect(Number(port), '127.0.0.1');
      cleanups.push(() => socket.destroy());
      await new Promise((resolve) => socket.once('connect', resolve));
      let text = '';
      socket.setEncoding('utf8');
      const reading = (chunk: string) => (text += chunk);
      socket.on('data', reading);
      socket.write(`GET ${pathname} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
      await expect.poll(() => text).toMatch(/: connected/);
      socket.pause();

      // A few tasks, each changing again and again, with a body of a realistic size.
      const pass = async (from: number, to: number) => {
        for (let i = from; i < to; i++) {
          await publish(task(`t${i % 10}`, i + 1, { task_info: { external_task_id: 'p'.repeat(900) } }));
          if (i % 500 === 0) await new Promise((resolve) => setImmediate(resolve));
        }
      };
      await pass(0, 1000);
      const before = heapAfterGc();
      await pass(1000, 10_000);
      const after = heapAfterGc();
      // Unbounded, 9,000 events of ~1 KB would stay: ~9 MB. The backlog is 32 KiB plus Node's buffers.
      expect(after - before).toBeLessThan(2_000_000);
      // The stream ended when the backlog was full: its place (the only one) is free again.
      const probe = new AbortController();
      expect((await fetch(url, { signal: probe.signal })).status).toBe(200);
      probe.abort();

      // Awake again: what arrived is read to the end, then the client reconnects from its last id.
      socket.resume();
      await new Promise((resolve) => socket.once('close', resolve));
      const lastId = [...text.matchAll(/^id: (.+)$/gm)].at(-1)?.[1];
      expect(lastId).toBeDefined();
      const abort = new AbortController();
      cleanups.push(() => abort.abort());
      const response = await fetch(url, { headers: { 'last-event-id': lastId! }, signal: abort.signal });
      expect(response.status).toBe(200);
      const events = readServerSentEvents(response.body!, abort.signal);
      // Too far behind to replay: the client reads its tasks once (`resync`), then hears changes live.
      expect(((await events.next()).value as ServerSentEvent).event).toBe('resync');
      await publish(task('t0', 20_000, { task_status: 'succeed' }));
      const live = (await events.next()).value as ServerSentEvent;
      expect(JSON.parse(live.data)).toMatchObject({ task_id: 't0', task_status: 'succeed' });
    },
    SLOW,
  );
});

describe('without records (`store: false`)', () => {
  it(
    'remembers the newest 10,000 creates for their callbacks: the oldest one is forgotten (404)',
    async () => {
      const { backend, proxy } = setup({ store: false, authorize: () => true });
      const callbacks: string[] = [];
      for (let i = 0; i <= 10_000; i++) {
        await create(proxy, '', `order-${i}`);
        if (i === 0 || i === 10_000) {
          const posts = backend.requests.filter((request) => request.method === 'POST');
          callbacks.push((posts.at(-1)!.body as { callback_url: string }).callback_url);
        }
      }
      const post = (url: string) =>
        proxy(
          new Request(url, {
            method: 'POST',
            body: JSON.stringify({ task_id: 'x', task_status: 'succeed' }),
          }),
        );
      // The newest is still known (its body names another task: 400, not 404); the first has been forgotten.
      expect((await post(callbacks[1]!)).status).toBe(400);
      expect((await post(callbacks[0]!)).status).toBe(404);
    },
    SLOW,
  );
});
