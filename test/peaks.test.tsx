/**
 * Waveforms without downloads: `task_result.audios[].peaks` (the proxy's, computed when it keeps a clip) is
 * read leniently into `GeneratedAudio.peaks`, and players and history rows draw it at once, fetching the
 * file only on play or download.
 */
import { act, cleanup, fireEvent, screen, waitFor, within } from '@testing-library/react';
import { http, HttpResponse } from 'msw';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AudioResultPlayer, AudioTaskList, createKlingAudioClient, type GeneratedAudio } from '../src';
import { manyMockTaskSeeds } from '../src/mocks';
import { renderWithProvider, useMockBackend } from './render';
import { server } from './server';

let audioRequests: string[] = [];
beforeEach(() => {
  audioRequests = [];
  server.events.on('request:start', ({ request }) => {
    if (/\.(mp3|wav)$/.test(new URL(request.url).pathname)) audioRequests.push(request.url);
  });
  vi.spyOn(HTMLMediaElement.prototype, 'play').mockImplementation(function (this: HTMLMediaElement) {
    this.dispatchEvent(new Event('playing'));
    return Promise.resolve();
  });
  vi.spyOn(HTMLMediaElement.prototype, 'pause').mockImplementation(() => {});
  vi.spyOn(HTMLMediaElement.prototype, 'load').mockImplementation(() => {});
});
afterEach(() => {
  cleanup();
  vi.restoreAllMocks();
  server.events.removeAllListeners();
});

const PEAKS = Array.from({ length: 300 }, (_, index) => Math.abs(Math.sin(index / 20)));

/** The vendor's task answer with `peaks` on its audio, as the proxy answers a kept clip. */
function taskAnswer(peaks: unknown) {
  return {
    code: 0,
    data: {
      task_id: 't1',
      task_status: 'succeed',
      created_at: 1,
      updated_at: 2,
      task_result: {
        audios: [
          {
            id: 'a1',
            url_mp3: 'https://cdn.example.com/a1.mp3',
            url_wav: 'https://cdn.example.com/a1.wav',
            duration_mp3: '3.056',
            duration_wav: '3',
            peaks,
          },
        ],
      },
    },
  };
}

describe('peaks on the wire', () => {
  const read = async (peaks: unknown) => {
    const client = createKlingAudioClient({
      baseUrl: 'https://app.example.com/api/kling',
      fetch: async () => Response.json(taskAnswer(peaks)),
    });
    return (await client.getTask({ taskId: 't1' })).audios[0]!.peaks;
  };

  it('hands out the peaks as numbers from 0 to 1', async () => {
    expect(await read([0, 0.25, 1])).toEqual([0, 0.25, 1]);
  });

  it('reads them leniently: out-of-range values clamped, anything else 0, never the task lost', async () => {
    expect(await read([-1, 2, 0.5, '0.7', null, Number.MAX_VALUE])).toEqual([0, 1, 0.5, 0, 0, 1]);
    expect(await read('loud')).toBeUndefined();
    expect(await read([])).toBeUndefined();
    expect(await read({ 0: 1 })).toBeUndefined();
    expect((await read(Array(5000).fill(0.5)))!).toHaveLength(1000);
  });
});

describe('a player with peaks', () => {
  const audio: GeneratedAudio = {
    id: 'a1',
    mp3Url: 'https://cdn.example.com/a1.mp3',
    wavUrl: 'https://cdn.example.com/a1.wav',
    mp3Duration: 3.056,
    wavDuration: 3,
    kept: true,
    peaks: PEAKS,
  };

  it('draws them at once and fetches nothing while it is only seen', async () => {
    server.use(http.get(/cdn\.example\.com/, () => HttpResponse.arrayBuffer(new ArrayBuffer(8))));
    const { container } = renderWithProvider(<AudioResultPlayer audio={audio} prompt="Bell" />);
    // jsdom has no IntersectionObserver: the player counts as seen at once.
    expect(container.querySelector('canvas[data-part="waveform"]')).toBeInTheDocument();
    expect(container.querySelector('[data-part="progress"]')).not.toBeInTheDocument();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(audioRequests).toEqual([]);
    expect(container.querySelector('[data-part="root"]')).toHaveAttribute('data-state', 'idle');
  });

  it('fetches the file on download only', async () => {
    server.use(http.get(/cdn\.example\.com/, () => HttpResponse.arrayBuffer(new ArrayBuffer(8))));
    const clicks: string[] = [];
    vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(function (this: HTMLAnchorElement) {
      clicks.push(this.href);
    });
    URL.createObjectURL = () => 'blob:http://localhost/1';
    URL.revokeObjectURL = () => {};
    renderWithProvider(<AudioResultPlayer audio={audio} prompt="Bell" />);
    fireEvent.click(screen.getByRole('link', { name: 'Download MP3' }));
    await waitFor(() => expect(clicks).toEqual(['blob:http://localhost/1']));
    expect(audioRequests).toEqual([audio.mp3Url]);
  });
});

describe('a history page with peaks', () => {
  it('shows 30 finished sounds with their waveforms and costs no audio download until one is played', async () => {
    const backend = useMockBackend({ seed: manyMockTaskSeeds(30) });
    // The proxy's answer for kept clips: the vendor's, plus peaks on each audio.
    server.use(
      http.get(/\/v1\/audio\/text-to-audio/, async ({ request }) => {
        const body = await (await backend.fetch(request)).json();
        const tasks = Array.isArray(body.data) ? body.data : [body.data];
        for (const task of tasks)
          for (const clip of task?.task_result?.audios ?? []) Object.assign(clip, { peaks: PEAKS });
        return HttpResponse.json(body);
      }),
    );
    const { container } = renderWithProvider(<AudioTaskList defaultPageSize={30} />);
    const list = await screen.findByRole('list', {}, { timeout: 5000 });
    await waitFor(() => expect(within(list).getAllByRole('listitem')).toHaveLength(30));
    const players = () => [...container.querySelectorAll<HTMLElement>('.rka-AudioResultPlayer')];
    await waitFor(() => expect(players().length).toBeGreaterThan(0));
    for (const player of players())
      expect(player.querySelector('canvas[data-part="waveform"]')).toBeInTheDocument();
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(audioRequests).toEqual([]);

    // Played: the element streams the file itself (nothing fetched by script ahead of it).
    const first = players()[0]!;
    act(() => void fireEvent.click(within(first).getByRole('button', { name: 'Play' })));
    expect(first).toHaveAttribute('data-state', 'playing');
  });
});
