/**
 * Waveforms without downloads, through the real proxy: kept clips answer their peaks, so a history page of
 * 30 finished sounds draws every waveform and fetches no audio file until one is played.
 */
import { act, fireEvent, screen, waitFor, within } from '@testing-library/react';
import { http } from 'msw';
import { describe, expect, it, vi } from 'vitest';
import { AudioTaskList, createKlingAudioClient } from '../src';
import { createMockKlingBackend } from '../src/mocks';
import { createKlingAudioProxy, createMemoryTaskStore } from '../src/server';
import { APP } from './records.harness';
import { renderWithProvider } from './render';
import { server } from './server';

const VENDOR = 'http://vendor.test';
const CDN = 'https://cdn.test/audio';

describe('a history page of kept sounds', () => {
  it('draws 30 waveforms from the answered peaks and downloads no audio until one is played', async () => {
    let now = Date.now();
    const backend = createMockKlingBackend({
      baseUrl: VENDOR,
      audioBaseUrl: CDN,
      timing: { submittedMs: 100, processingMs: 100 },
      now: () => now,
    });
    const handler = createKlingAudioProxy({
      apiKey: 'test-key',
      upstream: VENDOR,
      authorize: () => 'alice',
      store: createMemoryTaskStore(),
      fetch: (input, init) => backend.fetch(new Request(input, init)),
      keepAudio: {
        lookup: async (host) => (host === 'cdn.test' ? [{ address: '93.184.215.14', family: 4 }] : []),
        fetch: (url, { signal, headers }) => backend.fetch(new Request(url, { signal, headers })),
      },
    });
    const client = createKlingAudioClient({
      baseUrl: `${APP}/api/kling`,
      fetch: (input, init) => handler(new Request(input, init)),
    });
    for (let i = 0; i < 30; i++) await client.createTask({ prompt: `Sound ${i + 1}`, duration: 3 });
    now += 1_000;
    // Reading the list starts keeping every finished task; wait until all 30 are kept.
    await vi.waitFor(
      async () => {
        const tasks = await client.listTasks({ pageSize: 30 });
        expect(tasks.filter((task) => task.audios[0]?.peaks)).toHaveLength(30);
      },
      { timeout: 60_000, interval: 100 },
    );

    // What the browser fetches of the kept files (through the proxy's files route).
    const fileRequests: string[] = [];
    server.use(
      http.all(`${APP}/api/kling/files/*`, ({ request }) => {
        fileRequests.push(new URL(request.url).pathname);
        return handler(request);
      }),
    );
    vi.spyOn(HTMLMediaElement.prototype, 'load').mockImplementation(() => {});
    vi.spyOn(HTMLMediaElement.prototype, 'play').mockImplementation(function (this: HTMLMediaElement) {
      this.dispatchEvent(new Event('playing'));
      return Promise.resolve();
    });
    const { container } = renderWithProvider(<AudioTaskList defaultPageSize={30} />, { client });
    const list = await screen.findByRole('list', {}, { timeout: 10_000 });
    await waitFor(() => expect(within(list).getAllByRole('listitem')).toHaveLength(30));
    const players = [...container.querySelectorAll<HTMLElement>('.rka-AudioResultPlayer')];
    // jsdom has no IntersectionObserver: every mounted player counts as seen, and would fetch its file.
    expect(players.length).toBeGreaterThan(0);
    for (const player of players) {
      expect(player.querySelector('canvas[data-part="waveform"]')).toBeInTheDocument();
      expect(player).toHaveAttribute('data-state', 'idle');
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(fileRequests).toEqual([]);

    // Played: the element streams that one file from the proxy (nothing fetched by script before it).
    act(() => void fireEvent.click(within(players[0]!).getByRole('button', { name: 'Play' })));
    expect(players[0]).toHaveAttribute('data-state', 'playing');
    expect(fileRequests).toEqual([]);
    vi.restoreAllMocks();
  }, 120_000);
});
