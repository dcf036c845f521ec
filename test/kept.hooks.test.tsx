/**
 * A fresh sound moves to its kept copy: while the proxy answers a succeeded task with `kept: false` (the
 * copy is being made), watchers read it again, and once the answer carries the kept URLs (`kept: true`)
 * the task they hold, and the list page that shows it, point at the copy. Then the reads stop.
 */
import { screen, waitFor } from '@testing-library/react';
import { http, HttpResponse } from 'msw';
import { describe, expect, it } from 'vitest';
import { useAudioTask, useAudioTaskList } from '../src';
import { BASE_URL, renderWithProvider } from './render';
import { server } from './server';

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
