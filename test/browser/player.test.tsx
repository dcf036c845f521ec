/**
 * Real playback in Chromium: the mock backend's synthesized WAV and MP3 files, served through msw's
 * service worker (range requests answered with 206), decoded and played by the browser.
 */
import { render, screen, waitFor, within } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { userEvent } from 'vitest/browser';
import { AudioResultPlayer, AudioTaskList } from '../../src';
import { CROSS_ORIGIN_AUDIO, MOCK_TASK_IDS, storyBackend } from '../../stories/support/mockBackend';
import { KlingStoryProviders } from '../../stories/support/KlingStoryProviders';
import { worker } from './worker';

const audioRequests: string[] = [];
worker.events.on('request:start', ({ request }) => {
  if (/\.(mp3|wav)$/.test(new URL(request.url).pathname)) audioRequests.push(request.url);
});
afterEach(() => {
  audioRequests.length = 0;
  vi.restoreAllMocks();
});

/** The players' <audio> elements (never in the document), as they are created. */
function recordAudioElements() {
  const elements: HTMLAudioElement[] = [];
  const create = document.createElement.bind(document);
  vi.spyOn(document, 'createElement').mockImplementation((tag: string, options?: ElementCreationOptions) => {
    const element = create(tag, options);
    if (tag === 'audio') elements.push(element as HTMLAudioElement);
    return element;
  });
  return elements;
}

function renderPlayers(ids: string[], options: Parameters<typeof storyBackend>[0] = {}) {
  const backend = storyBackend(options);
  worker.use(...backend.handlers);
  const tasks = ids.map((id) => backend.tasks.find((task) => task.taskId === id)!);
  const result = render(
    <KlingStoryProviders>
      {tasks.map((task) => (
        <AudioResultPlayer key={task.taskId} task={task} style={{ width: 480 }} />
      ))}
    </KlingStoryProviders>,
  );
  const roots = () => [...result.container.querySelectorAll<HTMLElement>('[data-part="root"]')];
  return { ...result, backend, roots };
}

/** The slider's value: the real element's time (synced every frame while playing). */
const position = (index = 0) => Number(screen.getAllByRole('slider')[index]!.getAttribute('aria-valuenow'));

const settle = (element: HTMLElement, state: string) =>
  waitFor(() => expect(element).toHaveAttribute('data-state', state), { timeout: 8000 });

describe('AudioResultPlayer in Chromium', () => {
  it('plays the real file: time advances, seeking moves it, and it ends', async () => {
    const { roots } = renderPlayers([MOCK_TASK_IDS.bell]); // 3 s
    const [root] = roots();
    await settle(root!, 'ready');
    await userEvent.click(screen.getByRole('button', { name: 'Play' }));
    await settle(root!, 'playing');
    await waitFor(() => expect(position()).toBeGreaterThanOrEqual(0.5), { timeout: 4000 });

    // Jump back to the start with the keyboard: the element's own time follows.
    const slider = screen.getByRole('slider');
    slider.focus();
    await userEvent.keyboard('{Home}');
    await waitFor(() => expect(position()).toBeLessThan(0.5));
    await waitFor(() => expect(position()).toBeGreaterThanOrEqual(0.3), { timeout: 4000 });

    // Click at 80 % of the slider: about 2.4 s of 3.
    const box = slider.getBoundingClientRect();
    await userEvent.click(slider, { position: { x: box.width * 0.8, y: box.height / 2 } });
    await waitFor(() => expect(position()).toBeGreaterThanOrEqual(2.3));
    await settle(root!, 'ended');
    expect(position()).toBeGreaterThanOrEqual(2.9);
  });

  it('draws the waveform of the decoded audio on a canvas at the device pixel ratio', async () => {
    const { container } = renderPlayers([MOCK_TASK_IDS.fireworks]);
    const canvas = await waitFor(
      () => {
        const element = container.querySelector<HTMLCanvasElement>('canvas[data-part="waveform"]');
        if (!element) throw new Error('no waveform yet');
        return element;
      },
      { timeout: 8000 },
    );
    expect(canvas).toHaveAttribute('aria-hidden', 'true');
    await waitFor(() => expect(canvas.width).toBe(Math.round(canvas.clientWidth * devicePixelRatio)));
    expect(canvas.height).toBe(Math.round(canvas.clientHeight * devicePixelRatio));
    const pixels = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
    let painted = 0;
    for (let i = 3; i < pixels.length; i += 4) if (pixels[i]! > 0) painted++;
    // Bars, not an empty or a full box.
    expect(painted).toBeGreaterThan(canvas.width);
    expect(painted).toBeLessThan((canvas.width * canvas.height) / 1.2);
  });

  it('switches MP3 to WAV keeping the position and playing on', async () => {
    const { roots } = renderPlayers([MOCK_TASK_IDS.rain]); // 10 s
    const [root] = roots();
    await settle(root!, 'ready');
    await userEvent.click(screen.getByRole('button', { name: 'Play' }));
    await settle(root!, 'playing');
    screen.getByRole('slider').focus();
    await userEvent.keyboard('{PageUp}{PageUp}'); // 4 s
    await waitFor(() => expect(position()).toBeGreaterThanOrEqual(4));

    await userEvent.click(screen.getByRole('radio', { name: 'WAV' }));
    await waitFor(() => expect(audioRequests.some((url) => url.endsWith('.wav'))).toBe(true));
    await settle(root!, 'playing');
    expect(screen.getByRole('link', { name: 'Download WAV' })).toBeInTheDocument();
    // Carried on from about 4 s, not from the start.
    expect(position()).toBeGreaterThanOrEqual(3.9);
    await waitFor(() => expect(position()).toBeGreaterThanOrEqual(4.4), { timeout: 4000 });
  });

  it('loops without a gap from the decoded audio: never ends, wraps round, and hands back on toggle', async () => {
    const elements = recordAudioElements();
    const { roots } = renderPlayers([MOCK_TASK_IDS.bell]); // 3 s
    const [root] = roots();
    await settle(root!, 'ready');
    const ended: string[] = [];
    for (const element of elements) element.addEventListener('ended', () => ended.push(element.src));
    const states = new Set<string>();
    const observer = new MutationObserver(() => states.add(root!.getAttribute('data-state')!));
    observer.observe(root!, { attributes: true, attributeFilter: ['data-state'] });

    await userEvent.click(screen.getByRole('button', { name: 'Loop' }));
    await userEvent.click(screen.getByRole('button', { name: 'Play' }));
    await settle(root!, 'playing');
    // Near the end, then round to the start again: twice.
    for (let round = 0; round < 2; round++) {
      await waitFor(() => expect(position()).toBeGreaterThanOrEqual(2.5), { timeout: 5000 });
      await waitFor(() => expect(position()).toBeLessThan(1), { timeout: 3000 });
    }
    observer.disconnect();
    expect(ended).toEqual([]);
    expect([...states]).toEqual(['playing']);
    // The decoded buffer plays: every element is paused.
    expect(elements.every((element) => element.paused)).toBe(true);

    // Off: the element plays on from where the loop was.
    await userEvent.click(screen.getByRole('button', { name: 'Loop' }));
    await waitFor(() => expect(elements.some((element) => !element.paused)).toBe(true));
    const at = position();
    await waitFor(() => expect(position()).toBeGreaterThan(at + 0.2), { timeout: 3000 });
    expect(root).toHaveAttribute('data-state', 'playing');
  });

  it('exports the selection as a WAV cut from the decoded audio: its length is the selection', async () => {
    const files: Blob[] = [];
    const createObjectURL = URL.createObjectURL.bind(URL);
    vi.spyOn(URL, 'createObjectURL').mockImplementation((blob) => {
      files.push(blob as Blob);
      return createObjectURL(blob);
    });
    const saved: string[] = [];
    vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(function (this: HTMLAnchorElement) {
      saved.push(this.download);
    });
    const { roots } = renderPlayers([MOCK_TASK_IDS.bell]); // 3 s: steps of 0.2 s
    await settle(roots()[0]!, 'ready');
    screen.getByRole('slider', { name: 'Seek' }).focus();
    await userEvent.keyboard(
      '{ArrowRight}{ArrowRight}{Shift>}{ArrowRight}{ArrowRight}{ArrowRight}{ArrowRight}{ArrowRight}{/Shift}',
    );
    expect(screen.getByRole('slider', { name: 'Selection start' })).toHaveAttribute('aria-valuenow', '0.4');
    expect(screen.getByRole('slider', { name: 'Selection end' })).toHaveAttribute('aria-valuenow', '1.4');
    await userEvent.click(screen.getByRole('button', { name: 'Download selection (WAV)' }));
    await waitFor(() => expect(saved).toEqual([expect.stringMatching(/-0\.4-1\.4s\.wav$/)]), {
      timeout: 8000,
    });
    const view = new DataView(await files.at(-1)!.arrayBuffer());
    const rate = view.getUint32(24, true);
    const channels = view.getUint16(22, true);
    const frames = view.getUint32(40, true) / (channels * 2);
    // One second, to the frame, at the rate the browser decoded it at.
    expect(Math.abs(frames - rate * 1)).toBeLessThanOrEqual(1);
    // And it is a real sound: the browser decodes it back to the same length.
    const decoded = await new OfflineAudioContext(1, 1, rate).decodeAudioData(
      await files.at(-1)!.arrayBuffer(),
    );
    expect(decoded.duration).toBeCloseTo(1, 2);
  });

  it('draws peaks that came with the audio at once, and fetches the file only on play', async () => {
    const backend = storyBackend();
    worker.use(...backend.handlers);
    const bell = backend.tasks.find((task) => task.taskId === MOCK_TASK_IDS.bell)!;
    const peaks = Array.from({ length: 200 }, (_, index) => (index % 20) / 20);
    const { container } = render(
      <KlingStoryProviders>
        <AudioResultPlayer
          task={{ ...bell, audios: [{ ...bell.audios[0]!, kept: true, peaks }] }}
          style={{ width: 480 }}
        />
      </KlingStoryProviders>,
    );
    const canvas = container.querySelector<HTMLCanvasElement>('canvas[data-part="waveform"]')!;
    await waitFor(() => expect(canvas.width).toBe(Math.round(canvas.clientWidth * devicePixelRatio)));
    const pixels = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
    let painted = 0;
    for (let i = 3; i < pixels.length; i += 4) if (pixels[i]! > 0) painted++;
    expect(painted).toBeGreaterThan(canvas.width);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(audioRequests).toEqual([]);
    await userEvent.click(screen.getByRole('button', { name: 'Play' }));
    const root = container.querySelector<HTMLElement>('[data-part="root"]')!;
    await settle(root, 'playing');
    expect(audioRequests.length).toBeGreaterThan(0);
  });

  it('pauses the first player when a second one starts', async () => {
    const { roots } = renderPlayers([MOCK_TASK_IDS.rain, MOCK_TASK_IDS.meadow]);
    const [first, second] = roots();
    await settle(second!, 'ready');
    const [play1, play2] = screen.getAllByRole('button', { name: 'Play' });
    await userEvent.click(play1!);
    await settle(first!, 'playing');
    await waitFor(() => expect(position(0)).toBeGreaterThan(0.3), { timeout: 4000 });
    await userEvent.click(play2!);
    await settle(second!, 'playing');
    await settle(first!, 'paused');
    const stoppedAt = position(0);
    await waitFor(() => expect(position(1)).toBeGreaterThan(0.5), { timeout: 4000 });
    expect(position(0)).toBe(stoppedAt);
  });

  it('downloads a history row’s MP3 once: its waveform and its playback come from the same bytes', async () => {
    const elements = recordAudioElements();
    const backend = storyBackend();
    worker.use(...backend.handlers);
    const bell = backend.tasks.find((task) => task.taskId === MOCK_TASK_IDS.bell)!;
    render(
      <KlingStoryProviders>
        <AudioTaskList defaultPageSize={10} style={{ width: 640 }} />
      </KlingStoryProviders>,
    );
    // Made elsewhere (no remembered prompts): the row says the task id.
    const [title] = await screen.findAllByText(`Task ${MOCK_TASK_IDS.bell}`, {}, { timeout: 8000 });
    const row = title!.closest<HTMLElement>('[data-part="item"]')!;
    const root = row.querySelector<HTMLElement>('[data-part="root"]')!;
    await waitFor(() => expect(row.querySelector('canvas[data-part="waveform"]')).toBeInTheDocument(), {
      timeout: 8000,
    });
    await settle(root, 'ready');
    await userEvent.click(within(row).getByRole('button', { name: 'Play' }));
    await settle(root, 'playing');
    await waitFor(
      () =>
        expect(Number(within(row).getByRole('slider').getAttribute('aria-valuenow'))).toBeGreaterThan(0.5),
      {
        timeout: 4000,
      },
    );
    const mp3 = new URL(bell.audios[0]!.mp3Url, location.href).href;
    expect(audioRequests.filter((url) => url === mp3)).toHaveLength(1);
    const playing = elements.filter((element) => !element.paused);
    expect(playing).toHaveLength(1);
    expect(playing[0]!.src).toMatch(/^blob:/);
  });

  it('shares the bytes between players of one sound: the current player and its history row fetch it once', async () => {
    const elements = recordAudioElements();
    const backend = storyBackend();
    worker.use(...backend.handlers);
    const bell = backend.tasks.find((task) => task.taskId === MOCK_TASK_IDS.bell)!;
    const { container } = render(
      <KlingStoryProviders>
        <AudioResultPlayer task={bell} style={{ width: 480 }} />
        <AudioResultPlayer task={bell} announce={false} style={{ width: 480 }} />
      </KlingStoryProviders>,
    );
    const roots = [...container.querySelectorAll<HTMLElement>('[data-part="root"]')];
    await settle(roots[0]!, 'ready');
    await settle(roots[1]!, 'ready');
    await userEvent.click(screen.getAllByRole('button', { name: 'Play' })[1]!);
    await settle(roots[1]!, 'playing');
    const mp3 = new URL(bell.audios[0]!.mp3Url, location.href).href;
    expect(audioRequests.filter((url) => url === mp3)).toHaveLength(1);
    const sources = elements.map((element) => element.src).filter(Boolean);
    expect(new Set(sources).size).toBe(1);
    expect(sources[0]).toMatch(/^blob:/);
  });

  it('plays from a host without CORS, with a plain progress bar instead of the waveform', async () => {
    const elements = recordAudioElements();
    const { roots, container } = renderPlayers([MOCK_TASK_IDS.bell], {
      audioBaseUrl: CROSS_ORIGIN_AUDIO,
      scenario: { audio: 'no-cors' },
    });
    const [root] = roots();
    await settle(root!, 'ready');
    await userEvent.click(screen.getByRole('button', { name: 'Play' }));
    await settle(root!, 'playing');
    await waitFor(() => expect(position()).toBeGreaterThan(0.3), { timeout: 4000 });
    expect(container.querySelector('[data-part="progress"]')).toBeInTheDocument();
    expect(container.querySelector('canvas')).not.toBeInTheDocument();
    // The element plays the remote URL itself (<audio> needs no CORS).
    expect(elements.find((element) => !element.paused)!.src).toMatch(
      new RegExp(`^${CROSS_ORIGIN_AUDIO}/${MOCK_TASK_IDS.bell}\\.mp3$`),
    );
  });

  it('shows the dead-link state for an expired file without retrying', async () => {
    const { roots } = renderPlayers([MOCK_TASK_IDS.bell], { scenario: { audio: 'expired' } });
    const [root] = roots();
    await settle(root!, 'error');
    expect(screen.getByRole('status')).toHaveTextContent('This link has expired');
    const seen = audioRequests.length;
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(audioRequests.length).toBe(seen);
  });
});
