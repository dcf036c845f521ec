/**
 * One app, real parts: the mock vendor behind the real proxy (with a given store), and the real client
 * for each user, who is told apart by the `x-user` header the app's `authorize` reads.
 */
import { createKlingAudioClient, KlingApiError, type KlingAudioClient } from '../src/api';
import { createMockKlingBackend, type MockKlingBackendOptions } from '../src/mocks';
import { createKlingAudioProxy, type KlingAudioProxyOptions, type KlingTaskStore } from '../src/server';

export const VENDOR = 'http://vendor.test';
export const APP = 'http://app.test';
export const TASKS = `${APP}/api/kling/v1/audio/text-to-audio`;

export interface World {
  backend: ReturnType<typeof createMockKlingBackend>;
  handler: (request: Request) => Promise<Response>;
  /** The real client as this user (`true`: the shared space). */
  as: (user: string | true) => KlingAudioClient;
  /** Moves the vendor's clock on. */
  advance: (ms: number) => void;
  /** The vendor requests made since the world began (or since `mark()`). */
  vendorRequests: () => { method: string; url: string; body?: unknown }[];
  mark: () => void;
}

export function createWorld(
  store: KlingTaskStore,
  options: {
    backend?: Partial<MockKlingBackendOptions>;
    proxy?: Partial<KlingAudioProxyOptions>;
    backendInstance?: ReturnType<typeof createMockKlingBackend>;
  } = {},
): World {
  let now = Date.now();
  const backend =
    options.backendInstance ??
    createMockKlingBackend({
      baseUrl: VENDOR,
      timing: { submittedMs: 1000, processingMs: 1000 },
      now: () => now,
      ...options.backend,
    });
  const handler = createKlingAudioProxy({
    apiKey: 'test-key',
    upstream: VENDOR,
    authorize: (request) => {
      const user = request.headers.get('x-user');
      return user === 'shared' ? true : user;
    },
    store,
    fetch: (input, init) => backend.fetch(new Request(input, init)),
    ...options.proxy,
  });
  let since = 0;
  return {
    backend,
    handler,
    as: (user) =>
      createKlingAudioClient({
        baseUrl: `${APP}/api/kling`,
        fetch: (input, init) => handler(new Request(input, init)),
        headers: { 'x-user': user === true ? 'shared' : user },
      }),
    advance: (ms) => void (now += ms),
    vendorRequests: () => backend.requests.slice(since),
    mark: () => void (since = backend.requests.length),
  };
}

/** The error a call failed with (fails the test if it did not). */
export async function failure(promise: Promise<unknown>): Promise<KlingApiError> {
  try {
    await promise;
  } catch (error) {
    if (KlingApiError.is(error)) return error;
    throw error;
  }
  throw new Error('expected the call to fail');
}

/** A raw request through the proxy, as a browser (or an attacker) could send it. */
export async function raw(world: World, user: string, path: string, init: RequestInit = {}) {
  const response = await world.handler(
    new Request(`${APP}${path}`, { ...init, headers: { 'x-user': user, ...init.headers } }),
  );
  return { status: response.status, json: (await response.json()) as { code: number; data: unknown } };
}
