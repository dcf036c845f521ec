// @vitest-environment node
/**
 * Push, server side, on real parts: the proxy in front of the mock vendor, callbacks as the vendor sends
 * them, and the event stream read with the client's own SSE reader.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PGlite } from '@electric-sql/pglite';
import { http, passthrough } from 'msw';
import pg from 'pg';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { readServerSentEvents, type ServerSentEvent } from '../src/api/events';
import { createMockKlingBackend, type MockKlingBackend } from '../src/mocks';
import {
  createCallbackTokens,
  createKlingAudioProxy,
  createMemoryTaskStore,
  createMemoryTaskEventLog,
  createPostgresTaskEventLog,
  createTaskEventHub,
  encodeServerSentEvent,
  toNodeHandler,
  type KlingAudioProxyOptions,
  type KlingTaskEventLog,
} from '../src/server';
import type { WireTask } from '../src/api';
import { postgresUrl } from './postgres';
import { server as msw } from './server';

const APP = 'http://app.test';
const BASE = `${APP}/api/kling`;
const TASKS = `${BASE}/v1/audio/text-to-audio`;
const EVENTS = `${TASKS}/events`;
const VENDOR = 'http://vendor.test';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** The proxy with push on, the mock vendor upstream (frozen statuses: the test moves them), its callbacks captured. */
function setup(options: Partial<KlingAudioProxyOptions> = {}) {
  const backend = createMockKlingBackend({
    baseUrl: VENDOR,
    timing: { submittedMs: 60_000, processingMs: 60_000 },
  });
  const work: Promise<unknown>[] = [];
  const proxy = createKlingAudioProxy({
    apiKey: 'key',
    upstream: VENDOR,
    authorize: () => true,
    callbackUrl: BASE,
    fetch: (input, init) => backend.fetch(new Request(input, init)),
    waitUntil: (promise) => work.push(promise),
    ...options,
  });
  const settled = async () => {
    while (work.length) await Promise.all(work.splice(0));
  };
  // Its push sweep and streams end with the test.
  cleanups.push(() => proxy.close());
  return { backend, proxy, settled };
}

async function create(proxy: (request: Request) => Promise<Response>, externalTaskId = 'order-1') {
  const response = await proxy(
    new Request(TASKS, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ prompt: 'Rain on a tin roof', duration: 5, external_task_id: externalTaskId }),
    }),
  );
  expect(response.status).toBe(200);
  return ((await response.json()) as { data: WireTask }).data;
}

const vendorCreates = (backend: MockKlingBackend) => backend.requests.filter((r) => r.method === 'POST');
const vendorGets = (backend: MockKlingBackend) => backend.requests.filter((r) => r.method === 'GET');
const callbackUrlOf = (backend: MockKlingBackend) =>
  (vendorCreates(backend).at(-1)!.body as { callback_url: string }).callback_url;

/** Posts a callback body (by default the vendor's own current task) to a callback URL, as the vendor does. */
const postCallback = (proxy: (request: Request) => Promise<Response>, url: string, body: unknown) =>
  proxy(
    new Request(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    }),
  );

/** An open stream: its events as they come, readable a few at a time. */
async function openStream(
  proxy: (request: Request) => Promise<Response>,
  headers: Record<string, string> = {},
) {
  const abort = new AbortController();
  const response = await proxy(new Request(EVENTS, { headers, signal: abort.signal }));
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
  const events = readServerSentEvents(response.body!, abort.signal);
  cleanups.push(() => abort.abort());
  const next = async () => (await events.next()).value as ServerSentEvent;
  return {
    /** The next `task` event (skipping `resync`). */
    async task() {
      for (;;) {
        const event = await next();
        if (event.event === 'task') return { id: event.id!, task: JSON.parse(event.data) as WireTask };
      }
    },
    next,
    close: () => abort.abort(),
  };
}

describe('callbacks', () => {
  it('gives each create a callback_url under callbackUrl, its token sealed per task and never stored', async () => {
    const store = createMemoryTaskStore();
    const { backend, proxy } = setup({ store });
    await create(proxy, 'order-1');
    await create(proxy, 'order-2');
    const urls = vendorCreates(backend).map((r) => (r.body as { callback_url: string }).callback_url);
    for (const url of urls) expect(url).toMatch(/^http:\/\/app\.test\/api\/kling\/callbacks\/[\w-]{40,}$/);
    expect(new Set(urls).size).toBe(2);
    // The tokens are derived, not kept: no record holds one.
    const records = JSON.stringify([
      await store.findTask('', 'order-1'),
      await store.findTask('', 'order-2'),
    ]);
    for (const url of urls) expect(records).not.toContain(url.split('/').at(-1));
  });

  it('re-reads the task from the vendor before announcing it: a forged body changes nothing', async () => {
    const { backend, proxy, settled } = setup();
    const stream = await openStream(proxy);
    const created = await create(proxy);
    expect((await stream.task()).task).toMatchObject({ task_id: created.task_id, task_status: 'submitted' });
    const gets = vendorGets(backend).length;
    // The body claims the task succeeded; the vendor says it is still submitted.
    const forged = { ...created, task_status: 'succeed', updated_at: created.updated_at + 1 };
    const answer = await postCallback(proxy, callbackUrlOf(backend), forged);
    expect(answer.status).toBe(200);
    expect(await answer.json()).toMatchObject({ code: 0 });
    await settled();
    expect(vendorGets(backend).length).toBe(gets + 1);
    // Nothing announced for it: the next event on the stream is another task's.
    const other = await create(proxy, 'order-2');
    expect((await stream.task()).task.task_id).toBe(other.task_id);
    expect(backend.tasks.find((task) => task.taskId === created.task_id)?.status).toBe('submitted');
  });

  it('refuses an unknown or altered token with 404 and a body about another task with 400; nothing upstream', async () => {
    const { backend, proxy, settled } = setup();
    const a = await create(proxy, 'order-a');
    const urlA = callbackUrlOf(backend);
    const b = await create(proxy, 'order-b');
    const before = backend.requests.length;

    // One character changed; sealed under another secret; sealed right but for a task that does not exist.
    const flipped = urlA.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A'));
    const forged = `${BASE}/callbacks/${await createCallbackTokens('another secret').sign('', 'order-a')}`;
    const unknown = `${BASE}/callbacks/${await createCallbackTokens('callbacks:key').sign('', 'order-zzz')}`;
    for (const url of [`${BASE}/callbacks/nonsense`, flipped, forged, unknown, `${BASE}/callbacks/`]) {
      const response = await postCallback(proxy, url, a);
      expect(response.status).toBe(404);
      expect(await response.json()).toMatchObject({ code: 1203 });
    }
    // A valid token for A with B's task in the body: cross-task, refused.
    const cross = await postCallback(proxy, urlA, b);
    expect(cross.status).toBe(400);
    const wrapped = await postCallback(proxy, urlA, { code: 0, data: b });
    expect(wrapped.status).toBe(400);
    const notJson = await proxy(new Request(urlA, { method: 'POST', body: '<html>' }));
    expect(notJson.status).toBe(400);
    await settled();
    expect(backend.requests.length).toBe(before);
  });

  it('takes bare and wrapped bodies; a duplicate is announced once; a late one never moves a task back', async () => {
    let clock = Date.now();
    const backend = createMockKlingBackend({
      baseUrl: VENDOR,
      now: () => clock,
      timing: { submittedMs: 1000, processingMs: 1000 },
    });
    const work: Promise<unknown>[] = [];
    const proxy = createKlingAudioProxy({
      apiKey: 'key',
      upstream: VENDOR,
      authorize: () => true,
      callbackUrl: BASE,
      fetch: (input, init) => backend.fetch(new Request(input, init)),
      waitUntil: (promise) => work.push(promise),
    });
    const settled = async () => {
      while (work.length) await Promise.all(work.splice(0));
    };
    const stream = await openStream(proxy);
    const created = await create(proxy);
    const url = callbackUrlOf(backend);
    // The create itself is the first event: submitted.
    expect((await stream.task()).task.task_status).toBe('submitted');

    clock += 1500; // processing at the vendor
    const processing = { ...created, task_status: 'processing' };
    expect((await postCallback(proxy, url, processing)).status).toBe(200);
    expect((await postCallback(proxy, url, { code: 0, message: 'SUCCEED', data: processing })).status).toBe(
      200,
    );
    await settled();
    const second = await stream.task();
    expect(second.task.task_status).toBe('processing');

    clock += 1000; // succeeded at the vendor
    expect((await postCallback(proxy, url, { ...created, task_status: 'succeed' })).status).toBe(200);
    await settled();
    const third = await stream.task();
    expect(third.task.task_status).toBe('succeed');
    expect(third.task.task_result?.audios).toHaveLength(1);
    expect(Number(third.id.split('-')[1])).toBeGreaterThan(Number(second.id.split('-')[1]));

    // Late copies of old callbacks, and the same final one again: the vendor still says succeed, so no
    // event: after them, the next thing on the stream is a fresh task's first event.
    for (const body of [processing, { ...created, task_status: 'succeed' }])
      await postCallback(proxy, url, body);
    await settled();
    const other = await create(proxy, 'order-2');
    const next = await stream.task();
    expect(next.task.task_id).toBe(other.task_id);
  });
});

describe('the event stream', () => {
  it('answers 404 without callbackUrl, and 401 when authorize refuses; nothing upstream', async () => {
    const backend = createMockKlingBackend({ baseUrl: VENDOR });
    const plain = createKlingAudioProxy({
      apiKey: 'key',
      upstream: VENDOR,
      authorize: () => true,
      fetch: (input, init) => backend.fetch(new Request(input, init)),
    });
    const response = await plain(new Request(EVENTS));
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ code: 1203 });
    const { proxy } = setup({ authorize: () => false });
    const refused = await proxy(new Request(EVENTS));
    expect(refused.status).toBe(401);
    expect(backend.requests).toHaveLength(0);
  });

  it('sends each change with an id, and replays what a dropped stream missed after Last-Event-ID', async () => {
    const { proxy } = setup();
    const stream = await openStream(proxy);
    // A first connection cannot be resumed: it says so (resync), so the client reads what it watches once.
    expect((await stream.next()).event).toBe('resync');
    const first = await create(proxy, 'order-1');
    const seen = await stream.task();
    expect(seen.task.task_id).toBe(first.task_id);
    stream.close();

    const missed = [await create(proxy, 'order-2'), await create(proxy, 'order-3')];
    const resumed = await openStream(proxy, { 'last-event-id': seen.id });
    const replayed = [await resumed.task(), await resumed.task()];
    expect(replayed.map((event) => event.task.task_id)).toEqual(missed.map((task) => task.task_id));
    // Resumed, so no resync: the next event is live.
    const live = await create(proxy, 'order-4');
    expect((await resumed.task()).task.task_id).toBe(live.task_id);

    // An id it never gave (another process, before a restart): resync instead of a silent gap.
    const stranger = await openStream(proxy, { 'last-event-id': 'ffffffff-12' });
    expect((await stranger.next()).event).toBe('resync');
  });

  it('bounds the streams one user holds, and frees a place when one closes', async () => {
    const { proxy } = setup({ eventStream: { maxConnectionsPerUser: 2 } });
    const first = await openStream(proxy);
    await openStream(proxy);
    const third = await proxy(new Request(EVENTS));
    expect(third.status).toBe(429);
    expect(await third.json()).toMatchObject({ code: 1302 });
    first.close();
    await expect
      .poll(async () => (await proxy(new Request(EVENTS, { signal: AbortSignal.timeout(1000) }))).status)
      .toBe(200);
  });

  it("streams a user's own tasks only: user B hears nothing of A's", async () => {
    const { backend, proxy } = setup({ authorize: (request) => request.headers.get('x-user') ?? false });
    const as = (user: string) => (request: Request) => {
      const headers = new Headers(request.headers);
      headers.set('x-user', user);
      return proxy(new Request(request, { headers }));
    };
    const streamA = await openStream(as('alice'));
    const streamB = await openStream(as('bob'));
    const a = await create(as('alice'), 'same-id');
    expect((await streamA.task()).task.task_id).toBe(a.task_id);
    // Alice's callback, too, reaches Alice only.
    await postCallback(proxy, callbackUrlOf(backend), a);
    const b = await create(as('bob'), 'same-id');
    const first = await streamB.task();
    expect(first.task.task_id).toBe(b.task_id);
    expect(first.task.task_id).not.toBe(a.task_id);
  });

  it('heartbeats as comments; streams through toNodeHandler over real HTTP, and a client leaving frees its place', async () => {
    const { proxy } = setup({ eventStream: { heartbeatMs: 20, maxConnectionsPerUser: 1 } });
    msw.use(http.all(/^http:\/\/127\.0\.0\.1:\d+\//, () => passthrough()));
    const httpServer: Server = createServer(toNodeHandler(proxy));
    await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
    cleanups.push(
      () =>
        new Promise((resolve) => {
          httpServer.close(resolve);
          httpServer.closeAllConnections();
        }),
    );
    const origin = `http://127.0.0.1:${(httpServer.address() as AddressInfo).port}`;

    const abort = new AbortController();
    const response = await fetch(`${origin}/api/kling/v1/audio/text-to-audio/events`, {
      signal: abort.signal,
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const reader = response.body!.getReader();
    let text = '';
    while (!text.includes(': heartbeat')) {
      const chunk = await reader.read();
      text += new TextDecoder().decode(chunk.value);
    }
    expect(text).toMatch(/^retry: \d+\n/);

    // While it is open, a second one for the same user is refused; once it has gone, one is let in.
    expect((await fetch(`${origin}/api/kling/v1/audio/text-to-audio/events`)).status).toBe(429);
    abort.abort();
    await expect
      .poll(async () => {
        const leave = new AbortController();
        const again = await fetch(`${origin}/api/kling/v1/audio/text-to-audio/events`, {
          signal: leave.signal,
        });
        leave.abort();
        return again.status;
      })
      .toBe(200);
  });
});

describe('the hub', () => {
  const task = (id: string, status = 'submitted', updatedAt = 1): WireTask => ({
    task_id: id,
    task_status: status,
    created_at: 1,
    updated_at: updatedAt,
  });

  it("streams each user's own tasks only; the shared space hears everything", async () => {
    const hub = createTaskEventHub(createMemoryTaskEventLog());
    cleanups.push(() => hub.close());
    const read = async (owner: string | null) => {
      const response = (await hub.open(owner, null))!;
      return readServerSentEvents(response.body!);
    };
    const a = await read('user-a');
    const b = await read('user-b');
    const all = await read(null);
    await hub.publish('user-a', task('a1'));
    await hub.publish('user-b', task('b1'));
    const tasksOf = async (events: AsyncGenerator<ServerSentEvent>, n: number) => {
      const ids: string[] = [];
      while (ids.length < n) {
        const event = (await events.next()).value as ServerSentEvent;
        if (event.event === 'task') ids.push((JSON.parse(event.data) as WireTask).task_id);
      }
      return ids;
    };
    expect(await tasksOf(a, 1)).toEqual(['a1']);
    expect(await tasksOf(b, 1)).toEqual(['b1']);
    expect(await tasksOf(all, 2)).toEqual(['a1', 'b1']);
    // Replay keeps to the owner too.
    const log = createMemoryTaskEventLog();
    const first = (await log.append('user-a', task('a1')))!;
    await log.append('user-b', task('b1'));
    await log.append('user-a', task('a2'));
    expect((await log.since('user-a', first.id))!.map((event) => event.task.task_id)).toEqual(['a2']);
    expect((await log.since('user-b', first.id))!.map((event) => event.task.task_id)).toEqual(['b1']);
  });

  it('encodes events as the format says: event, id, one data line per line', () => {
    expect(encodeServerSentEvent({ event: 'task', id: '7', data: '{"a":1}\n{"b":2}' })).toBe(
      'event: task\nid: 7\ndata: {"a":1}\ndata: {"b":2}\n\n',
    );
    expect(encodeServerSentEvent({ id: 'x\ny', data: '' })).toBe('id: xy\ndata: \n\n');
  });
});

// A database's first open (PGlite's initdb) takes seconds on a busy machine.
const SLOW = 60_000;

/** The same checks on a log in a database, then two proxy instances sharing it. */
function sharedLogSuite(
  name: string,
  open: () => Promise<{ log: () => KlingTaskEventLog; close: () => Promise<void> }>,
) {
  describe(name, () => {
    it(
      'appends a state once (a duplicate, or an older one, is dropped) and resumes from an id',
      async () => {
        const { log, close } = await open();
        cleanups.push(close);
        const events = log();
        const id = `t-${crypto.randomUUID()}`;
        const first = await events.append('u', {
          task_id: id,
          task_status: 'submitted',
          created_at: 1,
          updated_at: 1,
        });
        expect(first).toBeDefined();
        expect(
          await events.append('u', { task_id: id, task_status: 'submitted', created_at: 1, updated_at: 1 }),
        ).toBeUndefined();
        const done = await events.append('u', {
          task_id: id,
          task_status: 'succeed',
          created_at: 1,
          updated_at: 3,
        });
        expect(done).toBeDefined();
        expect(
          await events.append('u', { task_id: id, task_status: 'processing', created_at: 1, updated_at: 2 }),
        ).toBeUndefined();
        const since = await events.since('u', first!.id);
        expect(since!.map((event) => event.task.task_status)).toEqual(['succeed']);
        expect(await events.since('u', '999999999999')).toBeUndefined();
      },
      SLOW,
    );

    it(
      'two proxy instances on one database: a callback received by one reaches a stream held by the other',
      async () => {
        const { log, close } = await open();
        cleanups.push(close);
        let clock = Date.now();
        const backend = createMockKlingBackend({
          baseUrl: VENDOR,
          now: () => clock,
          timing: { submittedMs: 1000, processingMs: 1000 },
        });
        const work: Promise<unknown>[] = [];
        const instance = () => {
          const proxy = createKlingAudioProxy({
            apiKey: 'key',
            upstream: VENDOR,
            authorize: () => true,
            callbackUrl: BASE,
            fetch: (input, init) => backend.fetch(new Request(input, init)),
            waitUntil: (promise) => work.push(promise),
            events: log(),
          });
          return proxy;
        };
        const one = instance();
        const two = instance();
        const stream = await openStream(two);
        const created = await create(one, `order-${crypto.randomUUID()}`);
        expect((await stream.task()).task).toMatchObject({
          task_id: created.task_id,
          task_status: 'submitted',
        });
        clock += 2500;
        await postCallback(one, callbackUrlOf(backend), { ...created, task_status: 'succeed' });
        while (work.length) await Promise.all(work.splice(0));
        const done = await stream.task();
        expect(done.task).toMatchObject({ task_id: created.task_id, task_status: 'succeed' });
        stream.close();
        // Resumed on the other instance: what it missed comes back from the shared log.
        const later = await create(two, `order-${crypto.randomUUID()}`);
        const resumed = await openStream(one, { 'last-event-id': done.id });
        expect((await resumed.task()).task.task_id).toBe(later.task_id);
      },
      SLOW,
    );
  });
}

sharedLogSuite('PGlite (in process)', async () => {
  const db = new PGlite();
  return { log: () => createPostgresTaskEventLog(db), close: () => db.close() };
});

describe.skipIf(!postgresUrl)('PostgreSQL server', () => {
  const pools: pg.Pool[] = [];
  afterAll(async () => {
    await Promise.all(pools.map((pool) => pool.end()));
  });
  sharedLogSuite('LISTEN/NOTIFY between pools', async () => {
    const table = `events_${crypto.randomUUID().replace(/-/g, '').slice(0, 12)}`;
    return {
      // One pool per instance, as two processes would have.
      log: () => {
        const pool = new pg.Pool({ connectionString: postgresUrl, max: 3 });
        pools.push(pool);
        const log = createPostgresTaskEventLog(pool, { table });
        // The LISTEN client stays out of the pool until the listener stops; the pool ends after that.
        return {
          ...log,
          listen: async (listener) => {
            const stop = await log.listen(listener);
            cleanups.push(stop);
            return stop;
          },
        };
      },
      close: async () => {},
    };
  });
});
