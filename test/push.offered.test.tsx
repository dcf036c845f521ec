/**
 * Push costs nothing where the proxy has none: the provider learns from the proxy's answers (the
 * `X-Kling-Audio-Events: on` header) whether to open the event stream, instead of asking and getting a 404
 * that the browser logs as a red console error on every page load.
 */
import { screen, waitFor } from '@testing-library/react';
import { http } from 'msw';
import { describe, expect, it } from 'vitest';
import { useAudioTask } from '../src';
import { TASK_EVENTS_HEADER } from '../src/api/client';
import { createMockKlingBackend } from '../src/mocks';
import { BASE_URL, renderWithProvider } from './render';
import { server } from './server';

const EVENTS = `${BASE_URL}/v1/audio/text-to-audio/events`;

/** The mock vendor behind msw, with every answer optionally marked as offering push; every request counted. */
function useBackend(offersPush: boolean) {
  const backend = createMockKlingBackend({
    baseUrl: BASE_URL,
    timing: { submittedMs: 60_000, processingMs: 60_000 },
    seed: [{ taskId: 'pending-1', prompt: 'rain', duration: 3, status: 'submitted' }],
  });
  const paths: string[] = [];
  server.use(
    http.all(/\/api\/kling\//, async ({ request }) => {
      const path = new URL(request.url).pathname;
      paths.push(path);
      if (path === EVENTS) {
        // A stream that stays open and says nothing (the proxy's would send heartbeats).
        return new Response(new ReadableStream({ start() {} }), {
          headers: { 'content-type': 'text/event-stream' },
        });
      }
      const response = await backend.fetch(request);
      if (!offersPush) return response;
      const headers = new Headers(response.headers);
      headers.set(TASK_EVENTS_HEADER, 'on');
      return new Response(response.body, { status: response.status, headers });
    }),
  );
  return { streams: () => paths.filter((path) => path === EVENTS).length, paths };
}

function Watch() {
  const { taskStatus } = useAudioTask('pending-1');
  return <p data-testid="status">{taskStatus ?? 'none'}</p>;
}

describe("updates: 'auto' asks for the stream only where the proxy offers it", () => {
  it('a proxy that does not offer push gets no stream request at all, and the task is polled', async () => {
    const { streams, paths } = useBackend(false);
    renderWithProvider(<Watch />);
    await waitFor(() => expect(screen.getByTestId('status')).toHaveTextContent('submitted'));
    // Polls keep coming; the stream is never asked for.
    await waitFor(() =>
      expect(paths.filter((path) => path.endsWith('/pending-1')).length).toBeGreaterThan(3),
    );
    expect(streams()).toBe(0);
  });

  it('a proxy whose answers say the stream is offered gets one stream', async () => {
    const { streams } = useBackend(true);
    renderWithProvider(<Watch />);
    await waitFor(() => expect(screen.getByTestId('status')).toHaveTextContent('submitted'));
    await waitFor(() => expect(streams()).toBe(1));
  });

  it("updates: 'push' still asks without the header", async () => {
    const { streams } = useBackend(false);
    renderWithProvider(<Watch />, { updates: 'push' });
    await waitFor(() => expect(streams()).toBeGreaterThanOrEqual(1));
  });
});

describe('the proxy says whether it offers push', () => {
  it('with callbackUrl every answer carries X-Kling-Audio-Events: on; without, none does', async () => {
    const { createKlingAudioProxy } = await import('../src/server');
    const vendor = createMockKlingBackend({ baseUrl: 'http://vendor.test' });
    const make = (callbackUrl?: string) =>
      createKlingAudioProxy({
        apiKey: 'key',
        upstream: 'http://vendor.test',
        authorize: () => true,
        ...(callbackUrl && { callbackUrl }),
        fetch: (input, init) => vendor.fetch(new Request(input, init)),
      });
    const list = 'http://localhost/api/kling/v1/audio/text-to-audio?pageNum=1&pageSize=5';
    const withPush = make('http://localhost/api/kling');
    const answer = await withPush(new Request(list));
    expect(answer.status).toBe(200);
    expect(answer.headers.get(TASK_EVENTS_HEADER)).toBe('on');
    // Its own refusals say it too (any answer of the proxy teaches the browser).
    const refused = await withPush(new Request('http://localhost/api/kling/v1/other'));
    expect(refused.headers.get(TASK_EVENTS_HEADER)).toBe('on');
    const withoutPush = make();
    expect((await withoutPush(new Request(list))).headers.get(TASK_EVENTS_HEADER)).toBeNull();
    await Promise.all([withPush.close(), withoutPush.close()]);
  });
});
