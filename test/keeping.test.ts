// @vitest-environment node
/**
 * Kept copies end to end below the proxy: the mock backend as the vendor, its files on an https "CDN" that
 * the keeper reaches through injected lookup and transport (so every real check runs), and each store:
 * memory, PGlite, and the real PostgreSQL of `scripts/with-postgres.sh`.
 */
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WireTask } from '../src/api/schemas';
import { createMockKlingBackend } from '../src/mocks';
import { createAudioKeeping, type KeepAudioOptions } from '../src/server/keep/keeping';
import { wavPeaks } from '../src/server/keep/peaks';
import { createMemoryTaskStore, createPostgresTaskStore, type KeptFileStore } from '../src/server';
import { postgresUrl } from './postgres';

const DAY = 86_400_000;
const ORIGIN = 'https://app.example.com';
const BASE_PATH = '/api/kling';
const CDN = 'https://cdn.test/audio';
// PGlite's first start and the first MP3 encode take seconds on a busy machine.
const SLOW = 30_000;

interface Store {
  name: string;
  open: () => Promise<{ store: () => KeptFileStore; close: () => Promise<void> }>;
}

const stores: Store[] = [
  {
    name: 'memory',
    open: async () => {
      const store = createMemoryTaskStore().files!;
      return { store: () => store, close: async () => {} };
    },
  },
  {
    name: 'PGlite',
    open: async () => {
      const db = new PGlite();
      await db.waitReady;
      // A new store object on each call, on the same database: what a restarted proxy sees.
      return { store: () => createPostgresTaskStore(db).files!, close: () => db.close() };
    },
  },
];
if (postgresUrl) {
  stores.push({
    name: 'PostgreSQL',
    open: async () => {
      const pool = new pg.Pool({ connectionString: postgresUrl, max: 4 });
      // Other suites share the server: a table of this run's own.
      const table = `kept_test_${process.pid}_${Date.now()}`;
      return {
        store: () => createPostgresTaskStore(pool, { table }).files!,
        close: async () => {
          for (const name of [table, `${table}_files`, `${table}_migrations`])
            await pool.query(`DROP TABLE IF EXISTS ${name}`);
          await pool.end();
        },
      };
    },
  });
}

describe.each(stores)('kept copies on $name', ({ open }) => {
  let clock = Date.UTC(2026, 0, 1);
  const backend = createMockKlingBackend({
    baseUrl: 'https://vendor.test',
    audioBaseUrl: CDN,
    timing: { submittedMs: 10, processingMs: 10 },
    now: () => clock,
  });
  const cdnHits: string[] = [];
  const options: KeepAudioOptions = {
    // The CDN's name resolves to a public address; the transport reaches the mock in-process.
    lookup: async (host) => (host === 'cdn.test' ? [{ address: '93.184.215.14', family: 4 }] : []),
    fetch: (url, { signal, headers }) => {
      cdnHits.push(new URL(url).pathname);
      return backend.fetch(new Request(url, { signal, headers }));
    },
    backoffMs: 1,
  };
  let db: Awaited<ReturnType<Store['open']>>;
  beforeAll(async () => {
    db = await open();
  }, 60_000);
  afterAll(() => db.close());

  const vendor = async (path: string, init?: RequestInit) =>
    (await (await backend.fetch(new Request(`https://vendor.test${path}`, init))).json()).data;
  /** A task made at the vendor and run to `succeed`, as the vendor answers it. */
  async function succeededTask(prompt = 'Rain on a tin roof'): Promise<WireTask> {
    const { task_id } = await vendor('/v1/audio/text-to-audio', {
      method: 'POST',
      body: JSON.stringify({ prompt, duration: 3 }),
    });
    clock += 1_000;
    return vendor(`/v1/audio/text-to-audio/${task_id}`);
  }
  const cdnBytes = async (url: string) =>
    new Uint8Array(await (await backend.fetch(new Request(url))).arrayBuffer());

  it(
    'fetches each file once however often the task is read, and keeps the bytes the CDN sent',
    async () => {
      const keeping = createAudioKeeping({ store: db.store(), basePath: BASE_PATH, options });
      const task = await succeededTask();
      const [audio] = task.task_result!.audios!;
      cdnHits.length = 0;

      // The first answer goes out at once, with the vendor's URLs and `kept: false` (a copy is on its way,
      // so the browser reads the task again): nothing waits for the copy.
      const [first] = await keeping.present('alice', [task], ORIGIN);
      expect(first!.task_result!.audios![0]).toEqual({ ...audio, kept: false });
      // Read again and again (and told by a callback) while the copy is being made.
      for (let i = 0; i < 4; i++) {
        await keeping.present('alice', [task], ORIGIN);
        keeping.reachedSucceed('alice', task);
      }
      await keeping.idle();
      const [kept] = await keeping.present('alice', [task], ORIGIN);
      const files = `${ORIGIN}${BASE_PATH}/files/${task.task_id}/${audio!.id}`;
      expect(kept!.task_result!.audios).toEqual([
        {
          ...audio,
          url_mp3: `${files}.mp3`,
          url_wav: `${files}.wav`,
          kept: true,
          // The waveform, from the kept WAV's samples.
          peaks: wavPeaks(await cdnBytes(audio!.url_wav as string)),
        },
      ]);
      for (let i = 0; i < 3; i++) await keeping.present('alice', [task], ORIGIN);
      await keeping.idle();
      expect(cdnHits.sort()).toEqual([`/audio/${task.task_id}.mp3`, `/audio/${task.task_id}.wav`]);

      for (const format of ['mp3', 'wav'] as const) {
        const served = await keeping.serve(new Request(`${files}.${format}`), 'alice', {
          taskId: task.task_id,
          audioId: audio!.id!,
          format,
        });
        expect(served.status).toBe(200);
        expect(served.headers.get('content-type')).toBe(format === 'mp3' ? 'audio/mpeg' : 'audio/wav');
        const bytes = new Uint8Array(await served.arrayBuffer());
        expect(served.headers.get('content-length')).toBe(String(bytes.length));
        expect(bytes).toEqual(await cdnBytes((format === 'mp3' ? audio!.url_mp3 : audio!.url_wav) as string));
      }

      // A restarted proxy (a new store object on the same database) knows the copies: no fetch at all.
      const restarted = createAudioKeeping({ store: db.store(), basePath: BASE_PATH, options });
      cdnHits.length = 0;
      const [again] = await restarted.present('alice', [task], ORIGIN);
      await restarted.idle();
      expect(again!.task_result!.audios![0]!.kept).toBe(true);
      expect(cdnHits).toEqual([]);
    },
    SLOW,
  );

  it(
    'serves ranges, ETag revalidation and HEAD; another user gets 404; it outlives the vendor',
    async () => {
      const keeping = createAudioKeeping({ store: db.store(), basePath: BASE_PATH, options });
      const task = await succeededTask('Door creak');
      const [audio] = task.task_result!.audios!;
      keeping.reachedSucceed('alice', task);
      await keeping.idle();
      const ref = { taskId: task.task_id, audioId: audio!.id!, format: 'wav' as const };
      const url = `${ORIGIN}${BASE_PATH}/files/${task.task_id}/${audio!.id}.wav`;
      const whole = await cdnBytes(audio!.url_wav as string);
      const get = (headers: Record<string, string> = {}, method = 'GET', user = 'alice') =>
        keeping.serve(new Request(url, { method, headers }), user, ref);

      const full = await get();
      expect(full.headers.get('cache-control')).toBe('private, no-cache');
      expect(full.headers.get('accept-ranges')).toBe('bytes');
      const etag = full.headers.get('etag')!;
      expect(etag).toMatch(/^"[\w-]+"$/);

      const part = await get({ range: 'bytes=100-199' });
      expect(part.status).toBe(206);
      expect(part.headers.get('content-range')).toBe(`bytes 100-199/${whole.length}`);
      expect(part.headers.get('content-length')).toBe('100');
      expect(new Uint8Array(await part.arrayBuffer())).toEqual(whole.slice(100, 200));

      const tail = await get({ range: 'bytes=-10' });
      expect(tail.headers.get('content-range')).toBe(
        `bytes ${whole.length - 10}-${whole.length - 1}/${whole.length}`,
      );
      expect(new Uint8Array(await tail.arrayBuffer())).toEqual(whole.slice(-10));
      const open = await get({ range: `bytes=${whole.length - 4}-` });
      expect([open.status, (await open.arrayBuffer()).byteLength]).toEqual([206, 4]);

      const past = await get({ range: `bytes=${whole.length}-` });
      expect([past.status, past.headers.get('content-range')]).toEqual([416, `bytes */${whole.length}`]);

      const fresh = await get({ 'if-none-match': etag });
      expect([fresh.status, await fresh.text(), fresh.headers.get('etag')]).toEqual([304, '', etag]);
      expect((await get({ 'if-none-match': '"other"' })).status).toBe(200);
      // A range of another version of the file is answered with the whole of this one.
      expect((await get({ range: 'bytes=0-9', 'if-range': '"other"' })).status).toBe(200);

      const head = await get({}, 'HEAD');
      expect([head.status, head.headers.get('content-length'), await head.text()]).toEqual([
        200,
        String(whole.length),
        '',
      ]);

      for (const user of ['bob', '']) {
        const other = await get({}, 'GET', user);
        expect(other.status).toBe(404);
        expect(other.headers.get('content-type')).toBe('application/json');
      }

      clock += 31 * DAY;
      expect((await backend.fetch(new Request(audio!.url_wav as string))).status).toBe(403);
      const later = await get({ range: 'bytes=0-99' });
      expect(later.status).toBe(206);
      expect(new Uint8Array(await later.arrayBuffer())).toEqual(whole.slice(0, 100));
    },
    SLOW,
  );

  it(
    'never keeps, and never fetches, non-https, private, redirecting or non-audio results',
    async () => {
      const keeping = createAudioKeeping({ store: db.store(), basePath: BASE_PATH, options });
      const real = await succeededTask('Thunder');
      const [audio] = real.task_result!.audios!;
      const withUrls = (taskId: string, url: string): WireTask => ({
        ...real,
        task_id: taskId,
        task_result: { audios: [{ ...audio!, url_mp3: url, url_wav: url }] },
      });
      cdnHits.length = 0;
      // A link the keeper refuses is never promised, even before its keep was tried (no `kept: false`).
      const plain = withUrls('t_plain_http', `http://cdn.test/audio/${real.task_id}.mp3`);
      expect(await keeping.present('alice', [plain], ORIGIN)).toEqual([plain]);
      const bad = [
        withUrls('t_http', `http://cdn.test/audio/${real.task_id}.mp3`),
        withUrls('t_loopback', `https://127.0.0.1/audio/${real.task_id}.mp3`),
        withUrls('t_metadata', 'https://169.254.169.254/latest/meta-data/'),
        withUrls('t_mapped', `https://[::ffff:10.0.0.1]/audio/${real.task_id}.mp3`),
        withUrls('t_unresolved', `https://inside.test/audio/${real.task_id}.mp3`),
      ];
      for (const task of bad) keeping.reachedSucceed('alice', task);
      await keeping.idle();
      expect(cdnHits).toEqual([]);

      // These reach the CDN, whose answers are refused: a redirect (not followed), and an HTML page.
      const odd = createAudioKeeping({
        store: db.store(),
        basePath: BASE_PATH,
        options: {
          ...options,
          fetch: async (url) => {
            cdnHits.push(new URL(url).pathname);
            return url.endsWith('.mp3')
              ? new Response(null, { status: 302, headers: { location: 'https://cdn.test/elsewhere.mp3' } })
              : new Response('<html></html>', { headers: { 'content-type': 'text/html' } });
          },
        },
      });
      const tricky = withUrls('t_tricky', 'https://cdn.test/audio/x.mp3');
      tricky.task_result!.audios![0]!.url_wav = 'https://cdn.test/audio/x.wav';
      odd.reachedSucceed('alice', tricky);
      await odd.idle();
      // Asked once each, never retried, and the redirect's target never asked for.
      expect(cdnHits.sort()).toEqual(['/audio/x.mp3', '/audio/x.wav']);

      // Given up on: the answers keep the vendor's URLs and promise no copy (no `kept: false`).
      const shown = [
        ...(await keeping.present('alice', bad, ORIGIN)),
        ...(await odd.present('alice', [tricky], ORIGIN)),
      ];
      expect(shown).toEqual([...bad, tricky]);
      for (const task of [...bad, tricky]) {
        const response = await keeping.serve(new Request(`${ORIGIN}/x`), 'alice', {
          taskId: task.task_id,
          audioId: audio!.id!,
          format: 'mp3',
        });
        expect(response.status).toBe(404);
      }
    },
    SLOW,
  );

  it(
    "retries a CDN fault and leaves the vendor's URLs in place until it works",
    async () => {
      // Two attempts of two files each.
      let down = 4;
      const flaky = createAudioKeeping({
        store: db.store(),
        basePath: BASE_PATH,
        options: {
          ...options,
          retries: 1,
          retryLaterMs: 0,
          fetch: (url, init) =>
            down-- > 0 ? Promise.resolve(new Response(null, { status: 503 })) : options.fetch!(url, init),
        },
      });
      const task = await succeededTask('Wind');
      flaky.reachedSucceed('alice', task);
      await flaky.idle();
      // Both attempts failed: the answer still carries the vendor's URLs, and (with `retryLaterMs: 0` a
      // read queues it again at once) still promises the copy.
      const [before] = await flaky.present('alice', [task], ORIGIN);
      expect(before!.task_result!.audios![0]!.url_mp3).toBe(task.task_result!.audios![0]!.url_mp3);
      expect(before!.task_result!.audios![0]!.kept).toBe(false);
      // That read queued it again; now the CDN answers.
      await flaky.idle();
      const [after] = await flaky.present('alice', [task], ORIGIN);
      expect(after!.task_result!.audios![0]!.kept).toBe(true);
    },
    SLOW,
  );

  it(
    "keeps in the app's own storage through put, and answers its URLs",
    async () => {
      const puts: { size: number; contentType: string; format: string }[] = [];
      const keeping = createAudioKeeping({
        store: db.store(),
        basePath: BASE_PATH,
        options: {
          ...options,
          put: async ({ bytes, contentType }, meta) => {
            puts.push({ size: bytes.length, contentType, format: meta.format });
            return `https://bucket.example.com/${meta.userId}/${meta.taskId}/${meta.audioId}.${meta.format}`;
          },
        },
      });
      const task = await succeededTask('Birdsong');
      keeping.reachedSucceed('carol', task);
      await keeping.idle();
      const [shown] = await keeping.present('carol', [task], ORIGIN);
      const [audio] = shown!.task_result!.audios!;
      expect(audio).toMatchObject({
        url_mp3: `https://bucket.example.com/carol/${task.task_id}/${audio!.id}.mp3`,
        url_wav: `https://bucket.example.com/carol/${task.task_id}/${audio!.id}.wav`,
        kept: true,
      });
      expect(puts.map((p) => [p.format, p.contentType])).toEqual([
        ['mp3', 'audio/mpeg'],
        ['wav', 'audio/wav'],
      ]);
      expect(puts.every((p) => p.size > 1000)).toBe(true);
    },
    SLOW,
  );
});
