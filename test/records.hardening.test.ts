// @vitest-environment node
/**
 * The records under retries and across instances (issue 21, items 15, 16 and 17's vendor ids), on the
 * memory store, PGlite and the real PostgreSQL server.
 */
import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { WireTask } from '../src/api';
import { createMockKlingBackend, type MockKlingBackend } from '../src/mocks';
import {
  createCallbackTokens,
  createKlingAudioProxy,
  type KlingAudioProxyOptions,
  type KlingTaskStore,
} from '../src/server';
import { storeKinds } from './stores';

const TASKS = 'http://app.test/api/kling/v1/audio/text-to-audio';
const VENDOR = 'http://vendor.test';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function proxyOn(
  store: KlingTaskStore,
  backend: MockKlingBackend,
  more: Partial<KlingAudioProxyOptions> = {},
) {
  const proxy = createKlingAudioProxy({
    apiKey: 'key-one',
    upstream: VENDOR,
    authorize: (request) => request.headers.get('x-user'),
    store,
    keepAudio: false,
    fetch: (input, init) => backend.fetch(new Request(input, init)),
    ...more,
  });
  cleanups.push(() => proxy.close());
  return proxy;
}
const frozenVendor = () =>
  createMockKlingBackend({ baseUrl: VENDOR, timing: { submittedMs: 60_000, processingMs: 60_000 } });
const posts = (backend: MockKlingBackend) => backend.requests.filter((r) => r.method === 'POST');

const create = (proxy: (r: Request) => Promise<Response>, user: string, body: Record<string, unknown>) =>
  proxy(
    new Request(TASKS, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-user': user },
      body: JSON.stringify(body),
    }),
  );

describe.each(storeKinds)('records on $name', ({ make, skip }) => {
  it.skipIf(skip)(
    'finds a user’s record by the vendor’s external id before a shared-space record that happens to match',
    async () => {
      const store = await make();
      const claim = (userId: string, externalTaskId: string) =>
        store.claimTask({
          userId,
          externalTaskId,
          vendorExternalTaskId: 'rka-same',
          prompt: 'p',
          duration: 3,
          createdAt: Date.now(),
        });
      // The shared space's vendor ids are the browser's own: one may equal a user's by chance (or on purpose).
      await claim('', 'rka-same');
      await claim('alice', 'o1');
      const found = await store.findTaskByVendorExternalId!('rka-same');
      expect([found?.userId, found?.externalTaskId]).toEqual(['alice', 'o1']);
      expect(await store.findTaskByVendorExternalId!('rka-other')).toBeUndefined();
    },
  );

  it.skipIf(skip)(
    'refuses a create that reuses an external id with another prompt or duration (409); a true retry is answered (item 15)',
    async () => {
      const store = await make();
      const backend = frozenVendor();
      const proxy = proxyOn(store, backend);
      const first = await create(proxy, 'alice', { prompt: 'Rain', duration: 5, external_task_id: 'o1' });
      expect(first.status).toBe(200);
      const task = ((await first.json()) as { data: WireTask }).data;
      for (const body of [
        { prompt: 'Thunder', duration: 5, external_task_id: 'o1' },
        { prompt: 'Rain', duration: 7, external_task_id: 'o1' },
      ]) {
        const other = await create(proxy, 'alice', body);
        expect(other.status).toBe(409);
        expect(await other.json()).toMatchObject({ code: 1201 });
      }
      const retry = await create(proxy, 'alice', { prompt: 'Rain', duration: 5, external_task_id: 'o1' });
      expect(retry.status).toBe(200);
      expect(((await retry.json()) as { data: WireTask }).data.task_id).toBe(task.task_id);
      // One sound made, and the record says what it was.
      expect(posts(backend)).toHaveLength(1);
      expect((await store.findTask('alice', 'o1'))?.prompt).toBe('Rain');
      // Another user's same external id is their own.
      expect(
        (await create(proxy, 'bob', { prompt: 'Wind', duration: 3, external_task_id: 'o1' })).status,
      ).toBe(200);
    },
  );

  it.skipIf(skip)(
    'stops waiting on another instance’s create at the deadline (504) and when the client leaves (499); one wait for all (item 16)',
    async () => {
      const store = await make();
      // Another instance claimed this create a moment ago and is still at the vendor.
      await store.claimTask({
        userId: 'alice',
        externalTaskId: 'busy',
        vendorExternalTaskId: 'rka-busy-elsewhere',
        prompt: 'Rain',
        duration: 5,
        claimedUntil: Date.now() + 120_000,
        createdAt: Date.now(),
      });
      let reads = 0;
      const counted: KlingTaskStore = Object.create(store);
      counted.findTask = (...args) => (reads++, store.findTask(...args));
      const backend = frozenVendor();
      const proxy = proxyOn(counted, backend, { timeoutMs: 1500 });
      const get = (signal?: AbortSignal) =>
        proxy(new Request(`${TASKS}/busy`, { headers: { 'x-user': 'alice' }, signal }));

      // 30 lookups wait together and give up at their deadline.
      const late = await Promise.all(Array.from({ length: 30 }, () => get()));
      expect(late.map((r) => r.status)).toEqual(late.map(() => 504));
      expect(await late[0]!.json()).toMatchObject({ code: 5002 });
      // Each lookup reads the record once, and the one shared wait a few times more (100 ms, then less
      // often), not 30 lookups × a read every 100 ms.
      expect(reads).toBeLessThan(30 + 10);

      // A retried create waits the same way and also stops at its deadline, creating nothing.
      const retried = await create(proxy, 'alice', { prompt: 'Rain', duration: 5, external_task_id: 'busy' });
      expect(retried.status).toBe(504);
      expect(posts(backend)).toHaveLength(0);

      // Clients that leave are answered at once (499), long before the deadline or the claim.
      const patient = createKlingAudioProxy({
        apiKey: 'key-one',
        upstream: VENDOR,
        authorize: (request) => request.headers.get('x-user'),
        store,
        keepAudio: false,
        fetch: (input, init) => backend.fetch(new Request(input, init)),
        timeoutMs: 600_000,
      });
      cleanups.push(() => patient.close());
      const controllers = Array.from({ length: 10 }, () => new AbortController());
      const leaving = controllers.map((controller) =>
        patient(new Request(`${TASKS}/busy`, { headers: { 'x-user': 'alice' }, signal: controller.signal })),
      );
      // Let them reach the wait, then leave.
      await new Promise((resolve) => setTimeout(resolve, 50));
      for (const controller of controllers) controller.abort();
      const statuses = (await Promise.all(leaving)).map((r) => r.status);
      expect(statuses).toEqual(statuses.map(() => 499));
      expect(posts(backend)).toHaveLength(0);
    },
  );

  it.skipIf(skip)(
    'keys the vendor external id with the proxy secret; records and tokens made before still work (item 17)',
    async () => {
      const backend = frozenVendor();
      const vendorIdOf = () => (posts(backend).at(-1)!.body as { external_task_id: string }).external_task_id;
      const unkeyed = `rka-${createHash('sha256')
        .update(JSON.stringify(['alice', 'o1']))
        .digest('base64url')}`;

      const store = await make();
      expect(
        (
          await create(proxyOn(store, backend), 'alice', {
            prompt: 'Rain',
            duration: 5,
            external_task_id: 'o1',
          })
        ).status,
      ).toBe(200);
      const keyed = vendorIdOf();
      expect(keyed).toMatch(/^rka-[\w-]{43}$/);
      expect(keyed).not.toBe(unkeyed);
      // Another secret, another id: without the secret, a vendor-side id confirms no guessed user id.
      const other = proxyOn(await make(), backend, { apiKey: 'key-two' });
      expect(
        (await create(other, 'alice', { prompt: 'Rain', duration: 5, external_task_id: 'o1' })).status,
      ).toBe(200);
      expect(vendorIdOf()).not.toBe(keyed);

      // A record made before ids were keyed (its vendor id unkeyed), whose create answer was lost.
      await store.claimTask({
        userId: 'carol',
        externalTaskId: 'old',
        vendorExternalTaskId: 'rka-made-before-keying',
        prompt: 'Old one',
        duration: 4,
        claimedUntil: Date.now() - 1,
        createdAt: Date.now(),
      });
      await backend.fetch(
        new Request(`${VENDOR}/v1/audio/text-to-audio`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            prompt: 'Old one',
            duration: 4,
            external_task_id: 'rka-made-before-keying',
          }),
        }),
      );
      const proxy = proxyOn(store, backend, { callbackUrl: 'http://app.test/api/kling' });
      const found = await proxy(new Request(`${TASKS}/old`, { headers: { 'x-user': 'carol' } }));
      expect(found.status).toBe(200);
      const task = ((await found.json()) as { data: WireTask }).data;
      expect(task.task_info?.external_task_id).toBe('old');
      // Its callback token, sealed the old way (the pair), still opens.
      const token = await createCallbackTokens('callbacks:key-one').sign('carol', 'old');
      const callback = await proxy(
        new Request(`http://app.test/api/kling/callbacks/${token}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            task_id: task.task_id,
            task_status: 'submitted',
            created_at: 1,
            updated_at: 1,
          }),
        }),
      );
      expect(callback.status).toBe(200);
    },
  );
});
