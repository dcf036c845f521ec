// @vitest-environment node
/**
 * Kept copies through the whole proxy: the mock vendor upstream (its files on an https "CDN" reached
 * through the keeper's injected lookup and transport, so every check runs), per-user records on each
 * store, the real client for each user, and the files route answering as a browser asks.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createKlingAudioClient, type WireTask } from '../src/api';
import { readServerSentEvents } from '../src/api/events';
import { createMockKlingBackend } from '../src/mocks';
import {
  createKlingAudioProxy,
  type KeepAudioOptions,
  type KlingAudioProxyOptions,
  type KlingTaskStore,
} from '../src/server';
import { wavPeaks } from '../src/server/keep/peaks';
import { APP } from './records.harness';
import { storeKinds } from './stores';

const DAY = 86_400_000;
const VENDOR = 'http://vendor.test';
const CDN = 'https://cdn.test/audio';

// Each test's proxies close after it: with push on a database store, a proxy holds a LISTEN client of the
// pool until it closes.
const proxies: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(proxies.splice(0).map((proxy) => proxy.close()));
});

function world(
  store: KlingTaskStore,
  keepAudio?: boolean | KeepAudioOptions,
  more: Partial<KlingAudioProxyOptions> = {},
) {
  let now = Date.now();
  const backend = createMockKlingBackend({
    baseUrl: VENDOR,
    audioBaseUrl: CDN,
    timing: { submittedMs: 1000, processingMs: 1000 },
    now: () => now,
  });
  const cdnHits: string[] = [];
  const handler = createKlingAudioProxy({
    apiKey: 'test-key',
    upstream: VENDOR,
    authorize: (request) => request.headers.get('x-user'),
    store,
    fetch: (input, init) => backend.fetch(new Request(input, init)),
    keepAudio: keepAudio ?? {
      lookup: async (host) => (host === 'cdn.test' ? [{ address: '93.184.215.14', family: 4 }] : []),
      fetch: (url, { signal, headers }) => {
        cdnHits.push(new URL(url).pathname);
        return backend.fetch(new Request(url, { signal, headers }));
      },
    },
    ...more,
  });
  proxies.push(handler);
  const as = (user: string) =>
    createKlingAudioClient({
      baseUrl: `${APP}/api/kling`,
      fetch: (input, init) => handler(new Request(input, init)),
      headers: { 'x-user': user },
    });
  const file = (user: string, url: string, headers: Record<string, string> = {}, method = 'GET') =>
    handler(new Request(url, { method, headers: { 'x-user': user, ...headers } }));
  const cdnBytes = async (url: string) =>
    new Uint8Array(await (await backend.fetch(new Request(url))).arrayBuffer());
  return { backend, handler, as, file, cdnHits, cdnBytes, advance: (ms: number) => void (now += ms) };
}

describe.each(storeKinds)('kept copies through the proxy on the $name store', ({ make, skip }) => {
  it.skipIf(skip)(
    'answers a kept clip with its peaks: the WAV’s waveform, 300 values from 0 to 1, kept across a restart',
    async () => {
      const store = await make();
      const w = world(store);
      const alice = w.as('alice');
      const created = await alice.createTask({ prompt: 'A small brass bell rung twice', duration: 3 });
      w.advance(2_500);
      expect((await alice.getTask({ taskId: created.taskId })).status).toBe('succeed');
      const kept = await vi.waitFor(
        async () => {
          const [listed] = await alice.listTasks({});
          expect(listed!.audios[0]!.kept).toBe(true);
          return listed!.audios[0]!;
        },
        { timeout: 30_000, interval: 50 },
      );
      // The vendor's own file (the CDN's): peaks come with the copy, computed from it.
      const wav = await w.cdnBytes(`${CDN}/${created.taskId}.wav`);
      expect(kept.peaks).toEqual(wavPeaks(wav));
      expect(kept.peaks).toHaveLength(300);
      expect(Math.max(...kept.peaks!)).toBe(1);
      expect(kept.peaks!.every((peak) => peak >= 0 && peak <= 1)).toBe(true);
      // The synthesized bell is loud at its strikes and quiet between: a shape, not a flat line.
      expect(Math.min(...kept.peaks!)).toBeLessThan(0.5);
      // A new proxy on the same store (a restart) answers the same peaks, from the store.
      const again = world(store).as('alice');
      expect((await again.getTask({ taskId: created.taskId })).audios[0]!.peaks).toEqual(kept.peaks);
    },
    60_000,
  );

  it.skipIf(skip)(
    'keeps a succeeded task once, answers the copies with kept: true, and serves them to their owner only',
    async () => {
      const w = world(await make());
      const alice = w.as('alice');
      const created = await alice.createTask({ prompt: 'Rain on a tin roof', duration: 3 });
      w.advance(2_500);
      const done = await alice.getTask({ taskId: created.taskId });
      expect(done.status).toBe('succeed');
      const vendorAudio = done.audios[0]!;
      // That answer did not wait for the copy: the vendor's own URLs.
      expect(vendorAudio.mp3Url.startsWith(CDN)).toBe(true);

      const files = `${APP}/api/kling/files/${created.taskId}/${vendorAudio.id}`;
      // In the background: the first MP3 encode of the mock takes a while on a busy machine.
      await vi.waitFor(
        async () => {
          const [listed] = await alice.listTasks({});
          expect(listed!.audios[0]).toEqual({
            ...vendorAudio,
            mp3Url: `${files}.mp3`,
            wavUrl: `${files}.wav`,
            kept: true,
            // The waveform, computed from the WAV when it was kept (see the peaks test below).
            peaks: expect.any(Array),
          });
        },
        { timeout: 30_000, interval: 50 },
      );
      for (let i = 0; i < 5; i++) await alice.getTask({ taskId: created.taskId });
      expect((await alice.getTask({ taskId: created.taskId })).audios[0]!.kept).toBe(true);
      // However often it was read, each file was fetched once.
      expect(w.cdnHits.sort()).toEqual([`/audio/${created.taskId}.mp3`, `/audio/${created.taskId}.wav`]);

      const mp3 = await w.file('alice', `${files}.mp3`);
      expect(mp3.status).toBe(200);
      expect(mp3.headers.get('content-type')).toBe('audio/mpeg');
      expect(mp3.headers.get('cache-control')).toBe('private, no-cache');
      expect(new Uint8Array(await mp3.arrayBuffer())).toEqual(await w.cdnBytes(vendorAudio.mp3Url));

      // Seeking: a range, then a revalidation.
      const wav = await w.cdnBytes(vendorAudio.wavUrl);
      const part = await w.file('alice', `${files}.wav`, { range: 'bytes=44-1043' });
      expect([part.status, part.headers.get('content-range')]).toEqual([206, `bytes 44-1043/${wav.length}`]);
      expect(new Uint8Array(await part.arrayBuffer())).toEqual(wav.slice(44, 1044));
      const etag = part.headers.get('etag')!;
      expect((await w.file('alice', `${files}.wav`, { 'if-none-match': etag })).status).toBe(304);
      expect((await w.file('alice', `${files}.wav`, { range: `bytes=${wav.length}-` })).status).toBe(416);

      // Anyone else: 404 (not 403: whether the file exists is nobody else's business), nothing sent.
      for (const [user, url] of [
        ['bob', `${files}.mp3`],
        ['alice', `${APP}/api/kling/files/${created.taskId}/nope.mp3`],
        ['alice', `${APP}/api/kling/files/${created.taskId}/${vendorAudio.id}.ogg`],
        ['alice', `${APP}/api/kling/files/..%2F${created.taskId}/${vendorAudio.id}.mp3`],
      ] as const) {
        const response = await w.file(user, url);
        expect([url, response.status]).toEqual([url, 404]);
      }
      // Its 404 is an answer like every other of the proxy's: the envelope, its request id, nosniff.
      const missing = await w.file('bob', `${files}.mp3`);
      const body = (await missing.json()) as { code: number; request_id: string; data: null };
      expect(body).toMatchObject({ code: 1203, data: null });
      expect(body.request_id).toMatch(/^[0-9a-f-]{36}$/);
      expect(missing.headers.get('x-request-id')).toBe(body.request_id);
      expect(missing.headers.get('x-content-type-options')).toBe('nosniff');
      expect((await w.file('', `${files}.mp3`)).status).toBe(401);
      expect((await w.file('alice', `${files}.mp3`, {}, 'DELETE')).status).toBe(405);
      // Bob's own list and lookups know nothing of it.
      expect(await w.as('bob').listTasks({})).toEqual([]);

      // 31 days later the vendor's links are dead; the task still plays from the copy.
      w.advance(31 * DAY);
      expect((await w.backend.fetch(new Request(vendorAudio.mp3Url))).status).toBe(403);
      const later = await alice.getTask({ taskId: created.taskId });
      expect(later.audios[0]).toMatchObject({ mp3Url: `${files}.mp3`, kept: true });
      const head = await w.file('alice', later.audios[0]!.mp3Url, {}, 'HEAD');
      expect([head.status, head.headers.get('content-length'), await head.text()]).toEqual([
        200,
        mp3.headers.get('content-length'),
        '',
      ]);
    },
    60_000,
  );

  it.skipIf(skip)(
    'streams each task as a get answers it: replayed after keeping, the event carries the copies',
    async () => {
      const w = world(await make(), undefined, { callbackUrl: `${APP}/api/kling` });
      const abort = new AbortController();
      const open = async (headers: Record<string, string> = {}) => {
        const response = await w.handler(
          new Request(`${APP}/api/kling/v1/audio/text-to-audio/events`, {
            headers: { 'x-user': 'alice', ...headers },
            signal: abort.signal,
          }),
        );
        expect(response.status).toBe(200);
        const events = readServerSentEvents(response.body!, abort.signal);
        return async () => {
          for (;;) {
            const event = (await events.next()).value!;
            if (event.event === 'task') return { id: event.id!, task: JSON.parse(event.data) as WireTask };
          }
        };
      };
      try {
        const live = await open();
        const alice = w.as('alice');
        const created = await alice.createTask({ prompt: 'Wind chimes', duration: 3 });
        const first = await live();
        expect(first.task.task_status).toBe('submitted');
        w.advance(2_500);
        const done = await alice.getTask({ taskId: created.taskId });
        expect(done.status).toBe('succeed');
        const files = `${APP}/api/kling/files/${created.taskId}/${done.audios[0]!.id}`;
        await vi.waitFor(async () => expect((await alice.listTasks({}))[0]!.audios[0]!.kept).toBe(true), {
          timeout: 30_000,
          interval: 50,
        });
        // A stream resuming after the first event gets the succeed event as a get answers it now.
        const resumed = await open({ 'last-event-id': first.id });
        let event = await resumed();
        while (event.task.task_status !== 'succeed') event = await resumed();
        expect(event.task.task_result?.audios?.[0]).toMatchObject({
          url_mp3: `${files}.mp3`,
          url_wav: `${files}.wav`,
          kept: true,
        });
      } finally {
        abort.abort();
      }
    },
    60_000,
  );

  it.skipIf(skip)(
    'links kept files on the public origin of callbackUrl, not the origin the request reached',
    async () => {
      // Behind a load balancer that ends TLS, requests arrive as http://app.test (APP).
      const w = world(await make(), undefined, { callbackUrl: 'https://sounds.example.com/api/kling' });
      const alice = w.as('alice');
      const created = await alice.createTask({ prompt: 'Ship horn', duration: 3 });
      w.advance(2_500);
      const done = await alice.getTask({ taskId: created.taskId });
      const path = `/api/kling/files/${created.taskId}/${done.audios[0]!.id}.mp3`;
      await vi.waitFor(
        async () =>
          expect((await alice.getTask({ taskId: created.taskId })).audios[0]).toMatchObject({
            mp3Url: `https://sounds.example.com${path}`,
            kept: true,
          }),
        { timeout: 30_000, interval: 50 },
      );
      // Served wherever the request arrives: the route is matched on its path.
      expect((await w.file('alice', `${APP}${path}`)).status).toBe(200);
    },
    60_000,
  );

  it.skipIf(skip)('keeps nothing with keepAudio: false, and has no files route then', async () => {
    const w = world(await make(), false);
    const alice = w.as('alice');
    const created = await alice.createTask({ prompt: 'Door creak', duration: 3 });
    w.advance(2_500);
    const done = await alice.getTask({ taskId: created.taskId });
    const [listed] = await alice.listTasks({});
    expect(listed!.audios).toEqual(done.audios);
    expect(listed!.audios[0]!.kept).toBeUndefined();
    const response = await w.file(
      'alice',
      `${APP}/api/kling/files/${created.taskId}/${done.audios[0]!.id}.mp3`,
    );
    expect(response.status).toBe(404);
  });
});

describe.each(storeKinds)('a deleted task on the $name store', ({ make, skip }) => {
  it.skipIf(skip)(
    'takes its kept files with it: the files route answers 404 and the store holds none',
    async () => {
      const store = await make();
      const w = world(store);
      const alice = w.as('alice');
      const created = await alice.createTask({ prompt: 'Glass clink', duration: 3 });
      w.advance(2_500);
      const done = await alice.getTask({ taskId: created.taskId });
      const audio = done.audios[0]!;
      const files = `${APP}/api/kling/files/${created.taskId}/${audio.id}`;
      await vi.waitFor(async () => expect((await alice.listTasks({}))[0]!.audios[0]!.kept).toBe(true), {
        timeout: 30_000,
        interval: 50,
      });
      expect((await w.file('alice', `${files}.mp3`)).status).toBe(200);

      await alice.deleteTask(created.taskId);
      expect((await w.file('alice', `${files}.mp3`)).status).toBe(404);
      expect((await w.file('alice', `${files}.wav`)).status).toBe(404);
      expect(await store.files!.findFiles('alice', [created.taskId])).toEqual([]);
    },
    60_000,
  );
});
