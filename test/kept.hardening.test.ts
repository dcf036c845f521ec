// @vitest-environment node
/**
 * Kept files under load and on shared browsers (issue 21, items 12, 14 and 17): HEAD, 304 and ranges read
 * only what they answer (counted as the bytes crossing the database driver), the files route is under
 * `rateLimit`, the caching asks the server on every use, and `keepAudio.onFailure` hears of refusals.
 */
import { describe, expect, it } from 'vitest';
import type { WireTask } from '../src/api';
import {
  createKlingAudioProxy,
  createMemoryTaskStore,
  createPostgresTaskStore,
  type KeptFile,
  type KlingAudioProxyOptions,
  type KlingTaskStore,
  type SqlDatabase,
} from '../src/server';
import { createAudioKeeping } from '../src/server/keep/keeping';
import { postgresUrl } from './postgres';
import { freshTable, postgresPool, sharedPglite } from './stores';

const APP = 'http://app.test';
const FILE = `${APP}/api/kling/files/786412301234/a1.wav`;

/** A database whose answers are measured: the characters of the rows each query brings back. */
function counted(db: SqlDatabase) {
  const sizes: number[] = [];
  const wrapped: SqlDatabase = {
    query: async (text: string, params?: unknown[]) => {
      const result = await db.query(text, params);
      sizes.push(JSON.stringify(result.rows).length);
      return result;
    },
  } as SqlDatabase;
  return { db: wrapped, read: () => sizes.splice(0).reduce((a, b) => a + b, 0) };
}

const kinds: {
  name: string;
  skip?: string;
  make: () => { store: KlingTaskStore; read: () => number };
}[] = [
  { name: 'memory', make: () => ({ store: createMemoryTaskStore(), read: () => 0 }) },
  {
    name: 'PGlite',
    make: () => {
      const { db, read } = counted(sharedPglite() as unknown as SqlDatabase);
      return { store: createPostgresTaskStore(db, { table: freshTable() }), read };
    },
  },
  {
    name: 'PostgreSQL',
    skip: postgresUrl ? undefined : 'RKA_TEST_POSTGRES_URL is not set',
    make: () => {
      const { db, read } = counted(postgresPool() as unknown as SqlDatabase);
      return { store: createPostgresTaskStore(db, { table: freshTable() }), read };
    },
  },
];

const MIB = 1 << 20;
const bytesOf = (size: number) => Uint8Array.from({ length: size }, (_, i) => (i * 7 + 3) & 0xff);

async function keptWorld(store: KlingTaskStore, more: Partial<KlingAudioProxyOptions> = {}) {
  const bytes = bytesOf(MIB);
  const file: KeptFile = {
    userId: 'alice',
    taskId: '786412301234',
    audioId: 'a1',
    format: 'wav',
    contentType: 'audio/wav',
    size: bytes.length,
    etag: '"kept-etag-1"',
    bytes,
    createdAt: Date.now(),
  };
  await store.files!.putFile(file);
  const proxy = createKlingAudioProxy({
    apiKey: 'test-key',
    upstream: 'http://vendor.test',
    authorize: (request) => request.headers.get('x-user'),
    store,
    fetch: async () => new Response(null, { status: 500 }),
    ...more,
  });
  const get = (headers: Record<string, string> = {}, method = 'GET', user = 'alice') =>
    proxy(new Request(FILE, { method, headers: { 'x-user': user, ...headers } }));
  return { bytes, get, close: () => proxy.close() };
}

describe.each(kinds)('kept files on $name', ({ make, skip }) => {
  it.skipIf(skip)(
    'answers HEAD and 304 from the description and a range with its bytes only (item 12)',
    async () => {
      const { store, read } = make();
      const { bytes, get, close } = await keptWorld(store);
      try {
        const full = await get();
        expect(full.status).toBe(200);
        expect(new Uint8Array(await full.arrayBuffer())).toEqual(bytes);
        const etag = full.headers.get('etag')!;
        // What a whole-file GET brings across the driver (base64: a third more than the file).
        const wholeRead = read();

        const head = await get({}, 'HEAD');
        expect([head.status, head.headers.get('content-length'), await head.text()]).toEqual([
          200,
          String(MIB),
          '',
        ]);
        const fresh = await get({ 'if-none-match': etag });
        expect([fresh.status, await fresh.text()]).toEqual([304, '']);
        const probe = await get({ range: 'bytes=0-0' });
        expect([probe.status, probe.headers.get('content-range')]).toEqual([206, `bytes 0-0/${MIB}`]);
        expect(new Uint8Array(await probe.arrayBuffer())).toEqual(bytes.slice(0, 1));
        const seek = await get({ range: 'bytes=500000-500099' });
        expect(new Uint8Array(await seek.arrayBuffer())).toEqual(bytes.slice(500_000, 500_100));
        const tail = await get({ range: 'bytes=-3' });
        expect(new Uint8Array(await tail.arrayBuffer())).toEqual(bytes.slice(-3));
        expect((await get({ range: `bytes=${MIB}-` })).status).toBe(416);
        // Five requests together read less than a hundredth of one whole-file read.
        if (wholeRead > 0) {
          expect(wholeRead).toBeGreaterThan(MIB);
          expect(read()).toBeLessThan(wholeRead / 100);
        }
        // Another user: 404, nothing of the file.
        expect((await get({}, 'GET', 'bob')).status).toBe(404);
        expect((await get({}, 'HEAD', 'bob')).status).toBe(404);
      } finally {
        await close();
      }
    },
    60_000,
  );

  it.skipIf(skip)(
    'is asked on every use by a shared browser: private, no-cache, Vary: Cookie, Authorization (item 17)',
    async () => {
      const { get, close } = await keptWorld(make().store);
      try {
        for (const response of [await get(), await get({ range: 'bytes=0-9' }), await get({}, 'HEAD')]) {
          expect(response.headers.get('cache-control')).toBe('private, no-cache');
          expect(response.headers.get('vary')).toBe('Cookie, Authorization');
          expect(response.headers.get('cache-control')).not.toMatch(/immutable|max-age=[1-9]/);
        }
        const etag = (await get()).headers.get('etag')!;
        const revalidated = await get({ 'if-none-match': etag });
        expect([revalidated.status, revalidated.headers.get('vary')]).toEqual([304, 'Cookie, Authorization']);
        // A later user's revalidation of the earlier user's cached copy is refused, not confirmed.
        expect((await get({ 'if-none-match': etag }, 'GET', 'bob')).status).toBe(404);
      } finally {
        await close();
      }
    },
    60_000,
  );
});

describe('the files route is under rateLimit (item 12)', () => {
  it('answers 429 with Retry-After past the limit, per key', async () => {
    const { get, close } = await keptWorld(createMemoryTaskStore(), {
      rateLimit: { windowMs: 60_000, max: 3, key: (request) => request.headers.get('x-user') ?? '' },
    });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 4; i++) statuses.push((await get({ range: 'bytes=0-0' })).status);
      expect(statuses).toEqual([206, 206, 206, 429]);
      const limited = await get({}, 'HEAD');
      expect(limited.status).toBe(429);
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(((await limited.json()) as { code: number }).code).toBe(1302);
      // Another key is not held back.
      expect((await get({}, 'HEAD', 'bob')).status).toBe(404);
    } finally {
      await close();
    }
  });
});

describe('keepAudio.onFailure (item 14)', () => {
  it('hears of each task given up on, SSRF refusals included, with its user and task id', async () => {
    const failures: { userId: string; taskId: string; error: unknown }[] = [];
    const keeping = createAudioKeeping({
      store: createMemoryTaskStore().files!,
      basePath: '/api/kling',
      options: {
        retries: 0,
        backoffMs: 1,
        lookup: async () => [{ address: '10.0.0.7', family: 4 }],
        onFailure: (info) => failures.push(info),
      },
    });
    const task = (taskId: string, url: string): WireTask =>
      ({
        task_id: taskId,
        task_status: 'succeed',
        created_at: 1,
        updated_at: 2,
        task_result: {
          audios: [{ id: 'a1', url_mp3: url, url_wav: url, duration_mp3: '3', duration_wav: '3' }],
        },
      }) as WireTask;
    keeping.reachedSucceed('alice', task('111', 'https://127.0.0.1/a.mp3'));
    keeping.reachedSucceed('user:with:colons', task('222', 'https://169.254.169.254/latest/meta-data/'));
    keeping.reachedSucceed('carol', task('333', 'https://internal.example/a.mp3'));
    keeping.reachedSucceed('', task('444', 'http://cdn.example/a.mp3'));
    await keeping.idle();
    expect(failures.map(({ userId, taskId }) => [userId, taskId]).sort()).toEqual([
      ['', '444'],
      ['alice', '111'],
      ['carol', '333'],
      ['user:with:colons', '222'],
    ]);
    const reasons = failures.map(({ error }) => (error as { reason?: string }).reason).sort();
    expect(reasons).toEqual(['not-https', 'private-address', 'private-address', 'private-address']);
    // A throwing hook changes nothing for the others.
    const quiet = createAudioKeeping({
      store: createMemoryTaskStore().files!,
      basePath: '/api/kling',
      options: {
        retries: 0,
        onFailure: () => {
          throw new Error('hook');
        },
      },
    });
    quiet.reachedSucceed('alice', task('555', 'http://x.example/a.mp3'));
    await quiet.idle();
  });
});
