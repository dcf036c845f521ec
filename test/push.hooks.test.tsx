/**
 * Push through the hooks, on real parts: the browser's fetch (msw) reaches the real proxy, whose upstream
 * is the mock vendor, whose callbacks go back to the proxy. What is counted is what the browser sent.
 */
import { screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { http, HttpResponse } from 'msw';
import { useState } from 'react';
import { describe, expect, it } from 'vitest';
import { useAudioTask, useCreateAudioTask } from '../src';
import { isLiveOnPush } from '../src/hooks/taskEvents';
import { createMockKlingBackend, type MockKlingBackendOptions } from '../src/mocks';
import { createKlingAudioProxy } from '../src/server';
import { renderWithProvider, useMockBackend } from './render';
import { server } from './server';

const VENDOR = 'http://vendor.test';
const EVENTS = '/api/kling/v1/audio/text-to-audio/events';

/** The proxy with push on, behind msw; `down` makes its events route refuse (503) and drops open streams. */
function usePushStack(timing: MockKlingBackendOptions['timing']) {
  let proxy: (request: Request) => Promise<Response> = async () => new Response(null, { status: 500 });
  const backend = createMockKlingBackend({
    baseUrl: VENDOR,
    timing,
    // Every callback arrives, once, a little late: these tests are about the browser's side.
    callbacks: {
      delayMs: [5, 20],
      duplicateRate: 0,
      lossRate: 0,
      seed: 1,
      fetch: (request) => proxy(request),
    },
  });
  proxy = createKlingAudioProxy({
    apiKey: 'key',
    upstream: VENDOR,
    authorize: () => true,
    callbackUrl: 'http://localhost/api/kling',
    fetch: (input, init) => backend.fetch(new Request(input, init)),
    eventStream: { retryMs: 50 },
  });
  const sent: { method: string; path: string }[] = [];
  const streams = new Set<AbortController>();
  const state = { down: false };
  server.use(
    http.all(/\/api\/kling\//, ({ request }) => {
      const path = new URL(request.url).pathname;
      sent.push({ method: request.method, path });
      if (path !== EVENTS) return proxy(request);
      if (state.down) return HttpResponse.json({ code: 5001, message: 'down' }, { status: 503 });
      const abort = new AbortController();
      streams.add(abort);
      return proxy(new Request(request, { signal: abort.signal }));
    }),
  );
  return {
    backend,
    /** Task lookups the browser sent (polls), creates, and stream connections. */
    polls: () =>
      sent.filter((r) => r.method === 'GET' && /\/text-to-audio\/(?!events$)[^/]+$/.test(r.path)).length,
    creates: () => sent.filter((r) => r.method === 'POST').length,
    connections: () => sent.filter((r) => r.path === EVENTS).length,
    setDown(down: boolean) {
      state.down = down;
      if (down) for (const abort of streams) abort.abort();
      streams.clear();
    },
  };
}

function CreateAndWatch() {
  const create = useCreateAudioTask();
  const [taskId, setTaskId] = useState<string | null>(null);
  const { taskStatus } = useAudioTask(taskId);
  return (
    <>
      <button
        type="button"
        onClick={() =>
          create.mutate({ prompt: 'Rain', duration: 3 }, { onSuccess: (task) => setTaskId(task.taskId) })
        }
      >
        Create
      </button>
      <p data-testid="status">{taskStatus ?? 'none'}</p>
    </>
  );
}

const status = () => screen.getByTestId('status').textContent;

describe('push through the hooks', () => {
  it("costs one create and no poll for a task's whole lifecycle", async () => {
    const stack = usePushStack({ submittedMs: 100, processingMs: 200 });
    renderWithProvider(<CreateAndWatch />);
    await userEvent.setup().click(screen.getByRole('button', { name: 'Create' }));
    await waitFor(() => expect(status()).toBe('succeed'), { timeout: 10_000 });
    expect(stack.creates()).toBe(1);
    expect(stack.polls()).toBe(0);
    expect(stack.connections()).toBe(1);
  });

  it('polls while the stream is down, within one interval, and stops once it is back', async () => {
    const stack = usePushStack({ submittedMs: 200, processingMs: 4000 });
    const { queryClient } = renderWithProvider(<CreateAndWatch />);
    await userEvent.setup().click(screen.getByRole('button', { name: 'Create' }));
    await waitFor(() => expect(status()).not.toBe('none'));
    await waitFor(() => expect(isLiveOnPush(queryClient)).toBe(true));
    expect(stack.polls()).toBe(0);

    stack.setDown(true);
    await waitFor(() => expect(isLiveOnPush(queryClient)).toBe(false));
    // FAST_POLLING's first interval is 20 ms: polls start again at once.
    await waitFor(() => expect(stack.polls()).toBeGreaterThan(1));

    stack.setDown(false);
    await waitFor(() => expect(isLiveOnPush(queryClient)).toBe(true), { timeout: 5000 });
    await waitFor(() => expect(queryClient.isFetching()).toBe(0));
    const pollsWhileDown = stack.polls();
    await waitFor(() => expect(status()).toBe('succeed'), { timeout: 10_000 });
    // Never both: not one poll since the stream came back.
    expect(stack.polls()).toBe(pollsWhileDown);
  });

  it('polls quietly where the proxy has no events route: a create sent before any answer asks once (404), then never again', async () => {
    const backend = useMockBackend({ timing: { submittedMs: 40, processingMs: 80 } });
    renderWithProvider(<CreateAndWatch />);
    await userEvent.setup().click(screen.getByRole('button', { name: 'Create' }));
    await waitFor(() => expect(status()).toBe('succeed'));
    const asked = backend.requests.map((r) => new URL(r.url).pathname);
    expect(asked.filter((path) => path === EVENTS)).toHaveLength(1);
    expect(asked.filter((path) => /\/text-to-audio\/\d+$/.test(path)).length).toBeGreaterThan(0);
  });

  it("with updates: 'poll', never opens a stream", async () => {
    const stack = usePushStack({ submittedMs: 40, processingMs: 80 });
    renderWithProvider(<CreateAndWatch />, { updates: 'poll' });
    await userEvent.setup().click(screen.getByRole('button', { name: 'Create' }));
    await waitFor(() => expect(status()).toBe('succeed'));
    expect(stack.connections()).toBe(0);
    expect(stack.polls()).toBeGreaterThan(0);
  });
});
