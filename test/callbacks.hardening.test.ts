// @vitest-environment node
/**
 * Callbacks under attack and under a signing vendor (issue 21, items 3, 4, 8 and 10), on real parts: the
 * proxy in front of the mock vendor, on the memory store, PGlite and the real PostgreSQL server.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { WireTask } from '../src/api';
import { createMockKlingBackend, type MockKlingBackend } from '../src/mocks';
import {
  createKlingAudioProxy,
  type KlingAudioProxyOptions,
  type KlingProxyRequestInfo,
  type KlingTaskStore,
} from '../src/server';
import { storeKinds } from './stores';

const APP = 'http://app.test';
const BASE = `${APP}/api/kling`;
const TASKS = `${BASE}/v1/audio/text-to-audio`;
const VENDOR = 'http://vendor.test';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/**
 * The proxy with push on, scoped users by `x-user`, the mock vendor upstream on a clock of its own (tasks
 * move only when the test calls `finish`).
 */
function setup(options: Partial<KlingAudioProxyOptions> = {}) {
  let clock = Date.now();
  const backend = createMockKlingBackend({
    baseUrl: VENDOR,
    now: () => clock,
    timing: { submittedMs: 60_000, processingMs: 60_000 },
  });
  /** Every task at the vendor succeeds. */
  const finish = () => (clock += 200_000);
  const work: Promise<unknown>[] = [];
  const proxy = createKlingAudioProxy({
    apiKey: 'key',
    upstream: VENDOR,
    authorize: (request) => request.headers.get('x-user'),
    callbackUrl: BASE,
    fetch: (input, init) => backend.fetch(new Request(input, init)),
    waitUntil: (promise) => work.push(promise),
    ...options,
  });
  const settled = async () => {
    while (work.length) await Promise.all(work.splice(0));
  };
  cleanups.push(() => proxy.close());
  return { backend, proxy, settled, finish };
}

type Handler = (request: Request) => Promise<Response>;

async function create(proxy: Handler, user: string, externalTaskId: string) {
  const response = await proxy(
    new Request(TASKS, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-user': user },
      body: JSON.stringify({ prompt: 'Rain on a tin roof', duration: 5, external_task_id: externalTaskId }),
    }),
  );
  expect(response.status).toBe(200);
  const task = ((await response.json()) as { data: WireTask }).data;
  // As a callback body: the vendor names its own external id, not the browser's (left out here).
  return { ...task, task_info: { ...task.task_info, external_task_id: undefined } };
}

const vendorGets = (backend: MockKlingBackend) => backend.requests.filter((r) => r.method === 'GET');
const callbackUrlOf = (backend: MockKlingBackend) =>
  (backend.requests.filter((r) => r.method === 'POST').at(-1)!.body as { callback_url: string }).callback_url;
/** The external id the vendor got in the last create. */
const vendorExternalOf = (backend: MockKlingBackend) =>
  (backend.requests.filter((r) => r.method === 'POST').at(-1)!.body as { external_task_id: string })
    .external_task_id;

const post = (proxy: Handler, url: string, body: string, headers: Record<string, string> = {}) =>
  proxy(
    new Request(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body }),
  );

describe('the callback body: capped, timed, coalesced, limited (item 3)', () => {
  it('refuses a body over the cap with 413 and a body that trickles past the budget with 408; nothing upstream', async () => {
    const { backend, proxy, settled } = setup({ timeoutMs: 1000 });
    const created = await create(proxy, 'alice', 'order-1');
    const url = callbackUrlOf(backend);
    const gets = vendorGets(backend).length;

    const huge = JSON.stringify({ ...created, padding: 'x'.repeat(200_000) });
    const large = await post(proxy, url, huge);
    expect(large.status).toBe(413);
    expect(await large.json()).toMatchObject({ code: 1200 });

    // One byte, then nothing: the body never ends.
    const trickle = new ReadableStream<Uint8Array>({
      start: (controller) => controller.enqueue(new TextEncoder().encode('{')),
    });
    const slow = await proxy(
      new Request(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: trickle,
        duplex: 'half',
      } as RequestInit),
    );
    expect(slow.status).toBe(408);
    await settled();
    expect(vendorGets(backend).length).toBe(gets);
  });

  it('reads the task from the vendor once while it is being read: 19 callbacks at once, 2 reads, not 19', async () => {
    // The vendor's GETs wait until the test opens the gate: every callback arrives during the first read.
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    let gated = false;
    const { backend, proxy, settled } = setup({
      fetch: async (input, init) => {
        const request = new Request(input, init);
        if (gated && request.method === 'GET') await gate;
        return backend.fetch(request);
      },
    });
    const created = await create(proxy, 'alice', 'order-1');
    const url = callbackUrlOf(backend);
    const gets = vendorGets(backend).length;
    gated = true;
    const answers = await Promise.all(
      Array.from({ length: 19 }, () => post(proxy, url, JSON.stringify(created))),
    );
    expect(answers.map((answer) => answer.status)).toEqual(answers.map(() => 200));
    open();
    await settled();
    // The read in flight, and one more for the callbacks that arrived while it ran.
    expect(vendorGets(backend).length - gets).toBe(2);
  });

  it('answers 429 with Retry-After once one token has called 20 times in a minute; other tokens go on', async () => {
    const { backend, proxy, settled } = setup();
    const a = await create(proxy, 'alice', 'order-a');
    const urlA = callbackUrlOf(backend);
    const b = await create(proxy, 'alice', 'order-b');
    const urlB = callbackUrlOf(backend);
    const statuses: number[] = [];
    for (let i = 0; i < 21; i++) {
      const answer = await post(proxy, urlA, JSON.stringify(a));
      statuses.push(answer.status);
      if (answer.status === 429) expect(Number(answer.headers.get('retry-after'))).toBeGreaterThan(0);
      await settled();
    }
    expect(statuses.slice(0, 20)).toEqual(Array(20).fill(200));
    expect(statuses[20]).toBe(429);
    expect((await post(proxy, urlB, JSON.stringify(b))).status).toBe(200);
  });
});

describe('the callback token in logs (item 4)', () => {
  it('gives onRequest and onResponse the callback route with {token}, never the token', async () => {
    const seen: KlingProxyRequestInfo[] = [];
    const { backend, proxy, settled } = setup({
      onRequest: (info) => seen.push(info),
      onResponse: (info) => seen.push(info),
    });
    const created = await create(proxy, 'alice', 'order-1');
    const url = callbackUrlOf(backend);
    const token = url.split('/').at(-1)!;
    expect((await post(proxy, url, JSON.stringify(created))).status).toBe(200);
    expect((await post(proxy, `${BASE}/callbacks/forged-token-123`, '{}')).status).toBe(404);
    await settled();
    const callbacks = seen.filter((info) => info.route === 'taskCallback');
    expect(callbacks).toHaveLength(4);
    for (const info of callbacks) expect(info.path).toBe('/api/kling/callbacks/{token}');
    expect(JSON.stringify(seen)).not.toContain(token);
    expect(JSON.stringify(seen)).not.toContain('forged-token-123');
  });
});

describe.each(storeKinds)('long ids get a working callback: $name (item 8)', ({ make, skip }) => {
  it.skipIf(skip)(
    'a 200-character user id and a 256-character external id: a short token, and the callback updates the record',
    async () => {
      const store: KlingTaskStore = await make();
      const { backend, proxy, settled, finish } = setup({ store, keepAudio: false });
      const user = 'u'.repeat(200);
      const external = 'e'.repeat(256);
      const created = await create(proxy, user, external);
      const url = callbackUrlOf(backend);
      // The same size as for short ids.
      const token = url.split('/').at(-1)!;
      await create(proxy, 'bob', 'b');
      expect(token.length).toBe(callbackUrlOf(backend).split('/').at(-1)!.length);
      expect(token.length).toBeLessThan(120);
      finish();
      const answer = await post(proxy, url, JSON.stringify({ ...created, task_status: 'succeed' }));
      expect(answer.status).toBe(200);
      await settled();
      expect((await store.findTask(user, external))?.status).toBe('succeed');
      // Bob's token names Bob's task only: posting Alice's task to it is refused.
      expect((await post(proxy, callbackUrlOf(backend), JSON.stringify(created))).status).toBe(400);
    },
  );
});

// ---------------------------------------------------------------------------------------------
// Signed callbacks (Standard Webhooks), signed here with node:crypto, not the proxy's own code.

const newSecret = () => `whsec_${randomBytes(24).toString('base64')}`;
function sign(
  secret: string,
  body: string,
  { id = `msg_${randomBytes(8).toString('hex')}`, at = Date.now() } = {},
) {
  const timestamp = String(Math.floor(at / 1000));
  const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
  const signature = createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64');
  return {
    'webhook-id': id,
    'webhook-timestamp': timestamp,
    'webhook-signature': `v1,${signature}`,
  };
}

describe.each(storeKinds)('signed callbacks: $name (item 10)', ({ make, skip }) => {
  it.skipIf(skip)(
    'refuses a missing, wrong or stale signature with 401; reads the task once per webhook-id',
    async () => {
      const secret = newSecret();
      const { backend, proxy, settled } = setup({
        store: await make(),
        keepAudio: false,
        webhookSecret: secret,
      });
      const created = await create(proxy, 'alice', 'order-1');
      const url = callbackUrlOf(backend);
      const body = JSON.stringify(created);
      const gets = vendorGets(backend).length;

      const refused = [
        {},
        sign(newSecret(), body),
        // Signed over another body.
        sign(secret, JSON.stringify({ ...created, task_status: 'succeed' })),
        sign(secret, body, { at: Date.now() - 6 * 60_000 }),
        sign(secret, body, { at: Date.now() + 6 * 60_000 }),
        { ...sign(secret, body), 'webhook-signature': 'v1,' },
      ];
      for (const headers of refused) {
        const answer = await post(proxy, url, body, headers);
        expect(answer.status).toBe(401);
        expect(await answer.json()).toMatchObject({ code: 1000 });
      }
      await settled();
      expect(vendorGets(backend).length).toBe(gets);

      const headers = sign(secret, body);
      expect((await post(proxy, url, body, headers)).status).toBe(200);
      await settled();
      expect(vendorGets(backend).length).toBe(gets + 1);
      // The same delivery again (the vendor's retry): acknowledged, not read again.
      expect((await post(proxy, url, body, headers)).status).toBe(200);
      await settled();
      expect(vendorGets(backend).length).toBe(gets + 1);
      // A signed body on a token this proxy never made: the token check stays.
      const forged = `${BASE}/callbacks/${'A'.repeat(60)}`;
      expect((await post(proxy, forged, body, sign(secret, body))).status).toBe(404);
    },
  );

  it.skipIf(skip)(
    'accepts either secret of a rotation list and either of several signatures; reads the newer body shape',
    async () => {
      const [old, next] = [newSecret(), newSecret()];
      const { backend, proxy, settled, finish } = setup({
        store: await make(),
        keepAudio: false,
        webhookSecret: [old, next],
      });
      const created = await create(proxy, 'alice', 'order-1');
      const url = callbackUrlOf(backend);
      const vendorExternal = vendorExternalOf(backend);
      finish();
      const newer = JSON.stringify({
        id: created.task_id,
        status: 'succeed',
        message: '',
        external_id: vendorExternal,
        outputs: [
          { type: 'audio', id: 'a1', mp3_url: 'https://x.test/a.mp3', wav_url: 'https://x.test/a.wav' },
        ],
        billing: [],
      });
      const gets = vendorGets(backend).length;
      // Signed by a key the vendor is rotating to, beside one this proxy does not know.
      const stranger = sign(newSecret(), newer, { id: 'msg_1' })['webhook-signature'];
      const signed = sign(next, newer, { id: 'msg_1' });
      const answer = await post(proxy, url, newer, {
        ...signed,
        'webhook-signature': `${stranger} ${signed['webhook-signature']}`,
      });
      expect(answer.status).toBe(200);
      await settled();
      expect(vendorGets(backend).length).toBe(gets + 1);
      const read = await proxy(new Request(`${TASKS}/order-1`, { headers: { 'x-user': 'alice' } }));
      expect(((await read.json()) as { data: WireTask }).data.task_status).toBe('succeed');
      // The newer shape about another task is refused like the legacy one.
      const other = JSON.stringify({ id: '999', status: 'succeed', external_id: 'rka-else', outputs: [] });
      expect((await post(proxy, url, other, sign(old, other))).status).toBe(400);
    },
  );
});

describe('webhookSecret is checked', () => {
  it('throws a TypeError for a secret that is not whsec_ base64, and without callbackUrl', () => {
    for (const webhookSecret of ['secret', 'whsec_', 'whsec_!!!', []]) {
      expect(() =>
        createKlingAudioProxy({ apiKey: 'k', authorize: () => true, callbackUrl: BASE, webhookSecret }),
      ).toThrow(TypeError);
    }
    expect(() =>
      createKlingAudioProxy({ apiKey: 'k', authorize: () => true, webhookSecret: newSecret() }),
    ).toThrow(/needs `callbackUrl`/);
  });
});
