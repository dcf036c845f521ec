/**
 * The queue through the hooks, on real parts: the browser's fetch (msw) reaches the real proxy with
 * `limits` (account parallel 1), whose upstream is the mock vendor (its own limit 1), whose callbacks go
 * back to the proxy. A waiting task's player goes queued → its place moves → sent → finished, by push
 * (no polls) and by polling.
 */
import { screen, waitFor } from '@testing-library/react';
import { http } from 'msw';
import { afterAll, describe, expect, it } from 'vitest';
import { createKlingAudioClient, TextToAudioStudio, type KlingAudioClient } from '../src';
import { createMockKlingBackend } from '../src/mocks';
import { createKlingAudioProxy, type KlingAudioProxy } from '../src/server';
import { BASE_URL, renderWithProvider } from './render';
import { server } from './server';

const VENDOR = 'http://vendor.test';
const APP = 'http://localhost';
const proxies: KlingAudioProxy[] = [];
afterAll(async () => {
  await Promise.all(proxies.map((proxy) => proxy.close()));
});

/** The stack, and a client per user (the browser under test is `ann`, by the `x-user` header). */
function useQueueStack(push: boolean) {
  // The vendor's callbacks reach the proxy made just below.
  const callbackTarget: { proxy?: KlingAudioProxy } = {};
  const backend = createMockKlingBackend({
    baseUrl: VENDOR,
    timing: { submittedMs: 150, processingMs: 250 },
    parallel: 1,
    callbacks: push
      ? {
          delayMs: [5, 20],
          duplicateRate: 0,
          lossRate: 0,
          seed: 1,
          fetch: (request) => callbackTarget.proxy!(request),
        }
      : undefined,
  });
  const proxy = createKlingAudioProxy({
    apiKey: 'key',
    upstream: VENDOR,
    authorize: (request) => request.headers.get('x-user') ?? 'ann',
    callbackUrl: push ? `${APP}${BASE_URL}` : undefined,
    fetch: (input, init) => backend.fetch(new Request(input, init)),
    limits: { account: { parallel: 1 } },
    eventStream: { retryMs: 50 },
  });
  callbackTarget.proxy = proxy;
  proxies.push(proxy);
  const sent: { method: string; path: string }[] = [];
  server.use(
    http.all(/\/api\/kling\//, ({ request }) => {
      sent.push({ method: request.method, path: new URL(request.url).pathname });
      return proxy(request);
    }),
  );
  const as = (user: string): KlingAudioClient =>
    createKlingAudioClient({
      baseUrl: `${APP}${BASE_URL}`,
      fetch: (input, init) => proxy(new Request(input, init)),
      headers: { 'x-user': user },
    });
  const polls = () =>
    sent.filter((r) => r.method === 'GET' && /\/text-to-audio\/(?!events$)[^/]+$/.test(r.path)).length;
  return { backend, as, polls };
}

describe.each([
  { name: 'push', push: true },
  { name: 'polling', push: false },
])('a waiting task on screen, by $name', ({ push }) => {
  it(
    'shows its place in line moving up, then the vendor’s progress, then the player',
    { timeout: 40_000 },
    async () => {
      const stack = useQueueStack(push);
      // bob's and cat's tasks are ahead of ann's: one runs, one waits.
      const bob = await stack.as('bob').createTask({ prompt: 'bob', duration: 3 });
      const cat = await stack.as('cat').createTask({ prompt: 'cat', duration: 3 });
      const mine = await stack.as('ann').createTask({ prompt: 'Owl hooting', duration: 3 });
      expect(mine.status).toBe('queued');
      expect(mine.queue).toEqual({ position: 2 });

      renderWithProvider(<TextToAudioStudio defaultTaskId={mine.taskId} />, {
        updates: push ? 'auto' : 'poll',
      });
      expect(await screen.findByText('Waiting for a free slot — 2nd in line')).toBeInTheDocument();
      // bob and cat look at their own tasks (without push, that is how the proxy hears a task ended).
      let watching = true;
      const others = (async () => {
        while (watching && !push) {
          for (const [user, task] of [
            ['bob', bob],
            ['cat', cat],
          ] as const) {
            await stack.as(user).getTask({ taskId: task.taskId });
          }
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      })();
      expect(
        await screen.findByText('Waiting for a free slot — 1st in line', {}, { timeout: 10_000 }),
      ).toBeInTheDocument();
      await waitFor(
        () =>
          expect(document.querySelector('.rka-AudioResultPlayer')).toHaveAttribute('data-status', 'succeed'),
        { timeout: 15_000 },
      );
      watching = false;
      await others;
      // With push: the one read when the studio mounted, and not one poll after it.
      if (push) expect(stack.polls()).toBeLessThanOrEqual(1);
      // Sent exactly once each, never two at the vendor at once.
      expect(stack.backend.tasks).toHaveLength(3);
    },
  );
});
