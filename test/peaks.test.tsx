/**
 * Waveforms without downloads: `task_result.audios[].peaks` (the proxy's, computed when it keeps a clip) is
 * read leniently into `GeneratedAudio.peaks`, and players and history rows draw it at once, fetching the
 * file only on play or download; and `wavPeaks`, how the proxy computes them from a kept WAV.
 */
import { act, cleanup, fireEvent, screen, waitFor, within } from '@testing-library/react';
import { http, HttpResponse } from 'msw';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AudioResultPlayer, AudioTaskList, createKlingAudioClient, type GeneratedAudio } from '../src';
import { manyMockTaskSeeds } from '../src/mocks';
import { PEAK_COUNT, wavPeaks } from '../src/server/keep/peaks';
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

describe('wavPeaks (the proxy computes them when it keeps a clip)', () => {
  /** A WAV of `samples` (−1…1) in the given encoding, with a LIST chunk before `data` to be skipped. */
  function wav(samples: number[], { code = 1, bits = 16, channels = 1 } = {}) {
    const bytes = bits / 8;
    const data = new DataView(new ArrayBuffer(samples.length * bytes * channels));
    samples.forEach((value, index) => {
      for (let channel = 0; channel < channels; channel++) {
        const at = (index * channels + channel) * bytes;
        if (code === 3) data.setFloat32(at, value, true);
        else if (bits === 8) data.setUint8(at, Math.round(value * 127 + 128));
        else if (bits === 16) data.setInt16(at, Math.round(value * 32767), true);
        else if (bits === 24) {
          const int = Math.round(value * 8388607);
          data.setUint8(at, int & 0xff);
          data.setUint8(at + 1, (int >> 8) & 0xff);
          data.setInt8(at + 2, int >> 16);
        } else data.setInt32(at, Math.round(value * 2147483647), true);
      }
    });
    const head = new DataView(new ArrayBuffer(12 + 24 + 12 + 8));
    const text = (at: number, value: string) =>
      [...value].forEach((c, i) => head.setUint8(at + i, c.charCodeAt(0)));
    text(0, 'RIFF');
    head.setUint32(4, 4 + 24 + 12 + 8 + data.byteLength, true);
    text(8, 'WAVE');
    text(12, 'fmt ');
    head.setUint32(16, 16, true);
    head.setUint16(20, code, true);
    head.setUint16(22, channels, true);
    head.setUint32(24, 8000, true);
    head.setUint32(28, 8000 * bytes * channels, true);
    head.setUint16(32, bytes * channels, true);
    head.setUint16(34, bits, true);
    text(36, 'LIST');
    head.setUint32(40, 3, true); // odd: padded to 4
    text(48, 'data');
    head.setUint32(52, data.byteLength, true);
    const file = new Uint8Array(head.byteLength + data.byteLength);
    file.set(new Uint8Array(head.buffer));
    file.set(new Uint8Array(data.buffer), head.byteLength);
    return file;
  }
  // A quiet half, then a loud half: the peaks say so in every encoding.
  const samples = [...Array(300).fill(0.1), ...Array(300).fill(-0.5)];

  it.each([
    ['16-bit', { bits: 16 }],
    ['8-bit', { bits: 8 }],
    ['24-bit', { bits: 24 }],
    ['32-bit', { bits: 32 }],
    ['float', { code: 3, bits: 32 }],
    ['stereo 16-bit', { bits: 16, channels: 2 }],
  ])('reads %s PCM: the loudest stretch is 1, the others in proportion', (_, encoding) => {
    const peaks = wavPeaks(wav(samples, encoding), 4)!;
    expect(peaks).toHaveLength(4);
    expect(peaks[0]).toBeCloseTo(0.2, 1);
    expect(peaks[1]).toBeCloseTo(0.2, 1);
    expect(peaks.slice(2)).toEqual([1, 1]);
  });

  it('answers 300 values by default, rounded to three decimals', () => {
    const peaks = wavPeaks(wav(samples))!;
    expect(peaks).toHaveLength(PEAK_COUNT);
    expect(peaks.every((peak) => Math.round(peak * 1000) === peak * 1000)).toBe(true);
  });

  it('gives up (undefined) on anything but a PCM WAV with samples', () => {
    expect(wavPeaks(new Uint8Array([0xff, 0xfb, 0x90, 0x64]))).toBeUndefined();
    expect(wavPeaks(wav(samples, { code: 2, bits: 16 }))).toBeUndefined(); // ADPCM
    expect(wavPeaks(wav([]))).toBeUndefined();
    expect(wavPeaks(wav(samples).slice(0, 40))).toBeUndefined();
  });

  it('reads a file cut short as far as it goes (its data chunk claims more than there is)', () => {
    const file = wav(samples);
    expect(wavPeaks(file.slice(0, file.length - 300))).toEqual(wavPeaks(wav(samples.slice(0, 450))));
  });
});
