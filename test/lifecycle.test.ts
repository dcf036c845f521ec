// @vitest-environment node
/**
 * Shutting a proxy down: `close()` (and `Symbol.asyncDispose`) waits for requests in flight, then stops the
 * push sweep, the streams and the keep queue; afterwards nothing reaches the vendor and no timer is left.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createMockKlingBackend } from '../src/mocks';
import { createKlingAudioProxy, createMemoryTaskStore } from '../src/server';
import { createKeepQueue } from '../src/server/keep/keeper';

const APP = 'http://app.test';
const BASE = `${APP}/api/kling`;
const TASKS = `${BASE}/v1/audio/text-to-audio`;
const VENDOR = 'http://vendor.test';

afterEach(() => {
  vi.useRealTimers();
});

const create = () =>
  new Request(TASKS, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ prompt: 'Rain on a tin roof', duration: 5 }),
  });

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((done) => (resolve = done));
  return { promise, resolve };
}

describe('proxy.close()', () => {
  it('waits for the request in flight, then answers 503 and sends the vendor nothing more', async () => {
    const backend = createMockKlingBackend({ baseUrl: VENDOR, timing: { submittedMs: 60_000 } });
    const reached = deferred();
    const gate = deferred();
    const proxy = createKlingAudioProxy({
      apiKey: 'key',
      upstream: VENDOR,
      authorize: () => true,
      store: createMemoryTaskStore(),
      fetch: async (input, init) => {
        const request = new Request(input, init);
        reached.resolve();
        await gate.promise;
        return backend.fetch(request);
      },
    });
    const pending = proxy(create());
    await reached.promise;

    let closed = false;
    const closing = proxy.close().then(() => (closed = true));
    // Let everything that can run run: the close must still wait for the vendor's answer.
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(closed).toBe(false);
    gate.resolve();
    expect((await pending).status).toBe(200);
    await closing;
    expect(closed).toBe(true);

    const sent = backend.requests.length;
    const after = await proxy(create());
    expect(after.status).toBe(503);
    expect(await after.json()).toMatchObject({ code: 5001, data: null });
    expect(backend.requests.length).toBe(sent);
    // Once: later calls and `Symbol.asyncDispose` get the same shutdown.
    expect(proxy.close()).toBe(proxy.close());
    expect(proxy[Symbol.asyncDispose]()).toBe(proxy.close());
  });

  it('stops the push sweep and ends the open streams: no timer is left', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'] });
    const backend = createMockKlingBackend({ baseUrl: VENDOR, timing: { submittedMs: 60_000 } });
    const proxy = createKlingAudioProxy({
      apiKey: 'key',
      upstream: VENDOR,
      authorize: () => true,
      callbackUrl: BASE,
      fetch: (input, init) => backend.fetch(new Request(input, init)),
    });
    const stream = await proxy(new Request(`${TASKS}/events`));
    expect(stream.headers.get('content-type')).toContain('text/event-stream');
    // The sweep and the stream's heartbeat.
    expect(vi.getTimerCount()).toBeGreaterThanOrEqual(2);

    await proxy.close();
    expect(vi.getTimerCount()).toBe(0);
    // The stream has ended: reading it to the end finishes.
    const reader = stream.body!.getReader();
    while (!(await reader.read()).done);
  });
});

describe('the keep queue', () => {
  it('close() waits for the running job, drops the queued one and its retries, and takes no new ones', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const queue = createKeepQueue({ concurrency: 1, retries: 3, backoffMs: 1000 });
    const ran: string[] = [];
    const gate = deferred();
    queue.add('failing', async () => {
      ran.push('failing');
      throw new Error('network');
    });
    await vi.waitFor(() => expect(vi.getTimerCount()).toBe(1)); // its retry, waiting
    queue.add('running', async () => {
      ran.push('running');
      await gate.promise;
    });
    queue.add('queued', async () => {
      ran.push('queued');
    });
    let closed = false;
    const closing = queue.close().then(() => (closed = true));
    expect(vi.getTimerCount()).toBe(0);
    await Promise.resolve();
    expect(closed).toBe(false);
    gate.resolve();
    await closing;
    queue.add('late', async () => {
      ran.push('late');
    });
    await queue.idle();
    expect(ran).toEqual(['failing', 'running']);
  });
});
