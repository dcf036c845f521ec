/**
 * A fresh sound moves to its kept copy: while the proxy answers a succeeded task with `kept: false` (the
 * copy is being made), watchers read it again, and once the answer carries the kept URLs (`kept: true`)
 * the task they hold, and the list page that shows it, point at the copy. Then the reads stop.
 */
import { screen, waitFor } from '@testing-library/react';
import { http, HttpResponse } from 'msw';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AudioResultPlayer, useAudioTask, useAudioTaskList } from '../src';
import { BASE_URL, keepPlayersOffscreen, renderWithProvider } from './render';
import { server } from './server';

afterEach(() => vi.unstubAllGlobals());

const VENDOR_MP3 = 'https://cdn.vendor.test/a.mp3';
const KEPT_MP3 = 'http://localhost/api/kling/files/t1/a1.mp3';

/** The proxy as seen from the browser: the task succeeds, its copy is ready after `copyAfter` reads. */
function useKeepingProxy(copyAfter: number) {
  let reads = 0;
  const task = () => {
    const kept = reads > copyAfter;
    return {
      task_id: 't1',
      task_status: 'succeed',
      created_at: 1_700_000_000_000,
      updated_at: 1_700_000_005_000,
      task_result: {
        audios: [
          {
            id: 'a1',
            url_mp3: kept ? KEPT_MP3 : VENDOR_MP3,
            url_wav: kept ? KEPT_MP3.replace('mp3', 'wav') : VENDOR_MP3.replace('mp3', 'wav'),
            duration_mp3: '3',
            duration_wav: '3',
            kept,
          },
        ],
      },
    };
  };
  server.use(
    http.get(`${BASE_URL}/v1/audio/text-to-audio/t1`, () => {
      reads++;
      return HttpResponse.json({ code: 0, message: 'SUCCEED', request_id: 'r', data: task() });
    }),
    http.get(`${BASE_URL}/v1/audio/text-to-audio`, () => {
      reads++;
      return HttpResponse.json({ code: 0, message: 'SUCCEED', request_id: 'r', data: [task()] });
    }),
  );
  return { reads: () => reads };
}

function Watch() {
  const { audios } = useAudioTask('t1');
  return (
    <p data-testid="watch">
      {audios[0]?.mp3Url ?? 'none'}|{String(audios[0]?.kept)}
    </p>
  );
}

function Page() {
  const { tasks } = useAudioTaskList({ pageNum: 1, pageSize: 10 });
  return <p data-testid="page">{tasks[0]?.audios[0]?.mp3Url ?? 'none'}</p>;
}

describe('the kept copy reaches the watcher', () => {
  it('a watched task moves from the vendor URL to the kept one, then stops reading', async () => {
    const proxy = useKeepingProxy(2);
    renderWithProvider(<Watch />);
    await waitFor(() => expect(screen.getByTestId('watch')).toHaveTextContent(`${VENDOR_MP3}|false`));
    await waitFor(() => expect(screen.getByTestId('watch')).toHaveTextContent(`${KEPT_MP3}|true`));
    const reads = proxy.reads();
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(proxy.reads()).toBe(reads);
  });

  it('a list page with such a task refreshes until it is kept', async () => {
    const proxy = useKeepingProxy(2);
    renderWithProvider(<Page />);
    await waitFor(() => expect(screen.getByTestId('page')).toHaveTextContent(VENDOR_MP3));
    await waitFor(() => expect(screen.getByTestId('page')).toHaveTextContent(KEPT_MP3));
    const reads = proxy.reads();
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(proxy.reads()).toBe(reads);
  });
});

describe('through the real proxy, polling and push', () => {
  async function stack(callbackUrl?: string) {
    const { createKlingAudioProxy, createMemoryTaskStore } = await import('../src/server');
    const { createMockKlingBackend } = await import('../src/mocks');
    const VENDOR = 'http://vendor.test';
    let proxy: (request: Request) => Promise<Response> = async () => new Response(null, { status: 500 });
    const vendor = createMockKlingBackend({
      baseUrl: VENDOR,
      audioBaseUrl: `${VENDOR}/mock-audio`,
      timing: { submittedMs: 20, processingMs: 40 },
      ...(callbackUrl && {
        callbacks: {
          delayMs: [5, 10],
          duplicateRate: 0,
          lossRate: 0,
          seed: 1,
          fetch: (r: Request) => proxy(r),
        },
      }),
    });
    // The copy is held back until the test lets it through.
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    proxy = createKlingAudioProxy({
      apiKey: 'key',
      upstream: VENDOR,
      authorize: () => 'ada',
      store: createMemoryTaskStore(),
      ...(callbackUrl && { callbackUrl }),
      keepAudio: {
        trustedOrigins: [VENDOR],
        fetch: async (url, init) => {
          await gate;
          return vendor.fetch(new Request(url, init));
        },
      },
      fetch: (input, init) => vendor.fetch(new Request(input, init)),
    });
    const sent: string[] = [];
    server.use(
      http.all(/\/api\/kling\//, ({ request }) => {
        sent.push(`${request.method} ${new URL(request.url).pathname}`);
        return proxy(request);
      }),
    );
    const created = await proxy(
      new Request(`http://localhost${BASE_URL}/v1/audio/text-to-audio`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ prompt: 'Rain', duration: 3 }),
      }),
    );
    const taskId = ((await created.json()) as { data: { task_id: string } }).data.task_id;
    return { taskId, release, sent };
  }

  function WatchTask({ id }: { id: string }) {
    const { audios, taskStatus } = useAudioTask(id);
    return (
      <p data-testid="watch">
        {taskStatus}|{audios[0]?.mp3Url ?? 'none'}|{String(audios[0]?.kept)}
      </p>
    );
  }

  it.each([
    ['polling', undefined],
    ['push', 'http://localhost/api/kling'],
  ])(
    '%s: the watcher moves to the kept URLs once the copy is made',
    { timeout: 15_000 },
    async (_, callbackUrl) => {
      const { taskId, release } = await stack(callbackUrl);
      renderWithProvider(<WatchTask id={taskId} />);
      await waitFor(
        () =>
          expect(screen.getByTestId('watch')).toHaveTextContent(
            /^succeed\|http:\/\/vendor\.test\/.*\|false$/,
          ),
        {
          timeout: 5000,
        },
      );
      release();
      await waitFor(
        () =>
          expect(screen.getByTestId('watch')).toHaveTextContent(
            new RegExp(`^succeed\\|http://localhost(:\\d+)?/api/kling/files/${taskId}/.*\\.mp3\\|true$`),
          ),
        { timeout: 5000 },
      );
    },
  );

  it(
    'the player of a fresh sound drops the 30-day notice once it plays the kept copy',
    { timeout: 15_000 },
    async () => {
      keepPlayersOffscreen();
      const { taskId, release } = await stack();
      renderWithProvider(<AudioResultPlayer taskId={taskId} />);
      await screen.findByText(/Link expires in 30 days/, undefined, { timeout: 5000 });
      release();
      await waitFor(() => expect(screen.queryByText(/Link expires/)).not.toBeInTheDocument(), {
        timeout: 5000,
      });
    },
  );
});
