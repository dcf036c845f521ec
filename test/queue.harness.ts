/**
 * The queue's test world: the mock vendor with its own parallel limit (1303 past it), what it saw of the
 * creates, and the real proxy with `limits` in front of it on a given store. Proxies are closed after the
 * file (a proxy with limits holds a tick and, on PostgreSQL, a LISTEN connection until then).
 */
import { afterAll } from 'vitest';
// First, so its own cleanup (ending the shared pool) runs after this file's proxies are closed.
import './stores';
import { isTerminalStatus } from '../src/api';
import { createMockKlingBackend } from '../src/mocks';
import type { KlingAudioProxy, KlingProxyLimits, KlingTaskStore } from '../src/server';
import { createWorld, VENDOR, type World } from './records.harness';

const proxies: KlingAudioProxy[] = [];
const closers: (() => Promise<unknown>)[] = [];
/** Runs after the file's proxies are closed (e.g. ending a pg Pool). */
export const afterProxies = (close: () => Promise<unknown>) => void closers.push(close);
afterAll(async () => {
  await Promise.all(proxies.map((proxy) => proxy.close()));
  await Promise.all(closers.map((close) => close()));
});

/** Waits until `check` holds (polling every 10 ms), or fails saying `what`. */
export const until = async (check: () => Promise<boolean> | boolean, what: string, ms = 15_000) => {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
};

/** The mock vendor, refusing past `vendorParallel` tasks at once, and what it saw of the creates. */
export function vendorFor(vendorParallel: number) {
  let now = Date.now();
  const backend = createMockKlingBackend({
    baseUrl: VENDOR,
    timing: { submittedMs: 1000, processingMs: 1000 },
    now: () => now,
    parallel: vendorParallel,
  });
  const seen = { maxInFlight: 0, refused1303: 0, creates: [] as string[] };
  const fetch = async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = new Request(input, init);
    const isCreate = request.method === 'POST';
    const body = isCreate ? ((await request.clone().json()) as { external_task_id: string }) : undefined;
    const response = await backend.fetch(request);
    if (isCreate) {
      const answer = (await response.clone().json()) as { code: number };
      if (answer.code === 1303) seen.refused1303++;
      if (answer.code === 0) seen.creates.push(body!.external_task_id);
      const inFlight = backend.tasks.filter((task) => !isTerminalStatus(task.status)).length;
      seen.maxInFlight = Math.max(seen.maxInFlight, inFlight);
    }
    return response;
  };
  return { backend, seen, fetch, advance: (ms: number) => void (now += ms) };
}

/** A proxy on `store` in front of `vendor` (a fresh one refusing past `vendorParallel` by default). */
export function queueWorld(
  store: KlingTaskStore,
  limits: KlingProxyLimits,
  vendorParallel = 2,
  vendor = vendorFor(vendorParallel),
) {
  const world = createWorld(store, {
    backendInstance: vendor.backend,
    proxy: { limits, fetch: vendor.fetch },
  });
  proxies.push(world.handler as KlingAudioProxy);
  return {
    world: { ...world, advance: vendor.advance } as World,
    backend: vendor.backend,
    seen: vendor.seen,
  };
}
