/**
 * <AudioResultPlayer> and useAudioPlayer in jsdom: state, markup, requests. jsdom has no media playback, so
 * play/pause/load are stubbed to fire the events a browser fires; real playback is in test/browser.
 */
import { act, cleanup, fireEvent, screen, waitFor, within } from '@testing-library/react';
import { http, HttpResponse } from 'msw';
import { StrictMode } from 'react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AudioResultPlayer, RESULT_RETENTION_DAYS, type AudioTask, type GeneratedAudio } from '../src';
import { audioFileName } from '../src/components/AudioResultPlayer/useAudioPlayer';
import {
  createMockKlingBackend,
  MOCK_TASK_IDS,
  mockTaskSeeds,
  type MockKlingBackendOptions,
} from '../src/mocks';
import { BASE_URL, renderWithProvider } from './render';
import { server } from './server';

const DAY = 86_400_000;
let audios: HTMLAudioElement[] = [];
let requested: string[] = [];
// jsdom has no object URLs: recording ones, in place for every test.
let created: { url: string; blob: Blob }[] = [];
let revoked: string[] = [];
const { createObjectURL, revokeObjectURL } = URL;

beforeEach(() => {
  audios = [];
  requested = [];
  created = [];
  revoked = [];
  Object.assign(URL, {
    createObjectURL: (blob: Blob) => {
      const url = `blob:http://localhost/${created.length + 1}`;
      created.push({ url, blob });
      return url;
    },
    revokeObjectURL: (url: string) => void revoked.push(url),
  });
  const create = document.createElement.bind(document);
  vi.spyOn(document, 'createElement').mockImplementation((tag: string, options?: ElementCreationOptions) => {
    const element = create(tag, options);
    if (tag === 'audio') audios.push(element as HTMLAudioElement);
    return element;
  });
  vi.spyOn(HTMLMediaElement.prototype, 'play').mockImplementation(function (this: HTMLMediaElement) {
    Object.defineProperty(this, 'paused', { value: false, configurable: true });
    this.dispatchEvent(new Event('play'));
    this.dispatchEvent(new Event('playing'));
    return Promise.resolve();
  });
  vi.spyOn(HTMLMediaElement.prototype, 'pause').mockImplementation(function (this: HTMLMediaElement) {
    if (this.paused) return;
    Object.defineProperty(this, 'paused', { value: true, configurable: true });
    this.dispatchEvent(new Event('pause'));
  });
  vi.spyOn(HTMLMediaElement.prototype, 'load').mockImplementation(() => {});
  server.events.on('request:start', ({ request }) => {
    if (request.url.includes('/mock-audio/')) requested.push(new URL(request.url).pathname);
  });
});

afterEach(() => {
  // Unmount while play/pause/load are still stubbed (jsdom has none).
  cleanup();
  Object.assign(URL, { createObjectURL, revokeObjectURL });
  vi.restoreAllMocks();
  vi.unstubAllGlobals();
  server.events.removeAllListeners();
});

/** The seeded tasks as the domain model (with their prompts), from a fresh backend on the msw server. */
function seededBackend(options: Partial<MockKlingBackendOptions> = {}) {
  const backend = createMockKlingBackend({
    baseUrl: BASE_URL,
    timing: { submittedMs: 40, processingMs: 80 },
    seed: mockTaskSeeds,
    ...options,
  });
  server.use(...backend.handlers);
  const task = (id: string) => backend.tasks.find((t) => t.taskId === id)!;
  return { backend, task };
}

/** The live element of the n-th player (StrictMode makes a throwaway first one). */
const liveAudio = () => audios.filter((audio) => audio.getAttribute('src'));

/** The element once it has a source: after the file was fetched (or could not be), or on play. */
async function loadedAudio(count = 1) {
  await waitFor(() => expect(liveAudio()).toHaveLength(count));
  return liveAudio()[count - 1]!;
}

/** Fires what a browser fires once the file's metadata is in. */
function metadataLoaded(audio: HTMLAudioElement, duration: number) {
  Object.defineProperty(audio, 'duration', { value: duration, configurable: true });
  act(() => {
    audio.dispatchEvent(new Event('loadstart'));
    audio.dispatchEvent(new Event('loadedmetadata'));
  });
}

const root = (container: HTMLElement, index = 0) =>
  container.querySelectorAll<HTMLElement>('[data-part="root"]')[index]!;

describe('AudioResultPlayer markup', () => {
  it('renders a finished task: slider in seconds, time from the metadata, formats, download, expiry', async () => {
    const { task } = seededBackend();
    const { container } = renderWithProvider(<AudioResultPlayer task={task(MOCK_TASK_IDS.fireworks)} />);

    expect(root(container)).toHaveClass('rka-AudioResultPlayer');
    expect(root(container)).toHaveAttribute('data-status', 'succeed');
    expect(screen.getByText('Fireworks over a harbour at midnight')).toHaveAttribute('data-part', 'title');
    expect(screen.getByRole('button', { name: 'Play' })).toHaveClass('rka-AudioResultPlayer-playButton');

    const slider = screen.getByRole('slider', { name: 'Seek' });
    expect(slider).toHaveAttribute('data-part', 'seek-slider');
    expect(slider).toHaveClass('rka-AudioResultPlayer-seekSlider');
    expect(slider).toHaveAttribute('aria-valuemin', '0');
    // The sound's length as the task reports it (duration_wav), not the MP3's 5.064 s of whole frames.
    expect(slider).toHaveAttribute('aria-valuemax', '5');
    expect(slider).toHaveAttribute('aria-valuenow', '0');
    expect(slider).toHaveAttribute('aria-valuetext', '0 of 5 seconds');
    expect(slider).toHaveAttribute('tabindex', '0');
    // Known before any byte of audio: no NaN or Infinity; tenths for a short clip.
    expect(container.querySelector('[data-part="time"]')).toHaveTextContent('0:00.0 / 0:05.0');

    const formats = screen.getByRole('radiogroup', { name: 'Format' });
    expect(within(formats).getByRole('radio', { name: 'MP3' })).toBeChecked();
    expect(within(formats).getByRole('radio', { name: 'WAV' })).not.toBeChecked();

    const download = screen.getByRole('link', { name: 'Download MP3' });
    expect(download).toHaveAttribute('href', task(MOCK_TASK_IDS.fireworks).audios[0]!.mp3Url);
    expect(download).toHaveAttribute('download', 'fireworks-over-a-harbour-at-midnight.mp3');
    // It says when, too: the date the link dies.
    const dies = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' }).format(
      task(MOCK_TASK_IDS.fireworks).createdAt + RESULT_RETENTION_DAYS * DAY,
    );
    expect(
      screen.getByText(`Link expires in ${RESULT_RETENTION_DAYS} days (${dies}). Download to keep it.`),
    ).toHaveAttribute('data-part', 'expiry');

    // Every styled part carries both hooks.
    for (const part of container.querySelectorAll('[data-part]')) {
      const name = part.getAttribute('data-part')!;
      if (name === 'root') continue;
      const camel = name.replace(/-(\w)/g, (_, c: string) => c.toUpperCase());
      expect(part).toHaveClass(`rka-AudioResultPlayer-${camel}`);
    }
  });

  it('shows tenths for a short clip: a 4.5 s sound is 0:04.5, and its slider says 4.5', () => {
    const audio: GeneratedAudio = {
      id: 'short',
      mp3Url: 'https://cdn.example.com/short.mp3',
      wavUrl: 'https://cdn.example.com/short.wav',
      mp3Duration: 4.572,
      wavDuration: 4.5,
    };
    const { container } = renderWithProvider(<AudioResultPlayer audio={audio} prompt="Short" />);
    expect(container.querySelector('[data-part="time"]')).toHaveTextContent('0:00.0 / 0:04.5');
    expect(screen.getByRole('slider')).toHaveAttribute('aria-valuetext', '0 of 4.5 seconds');
  });

  it('passes className, native props and the ref through', async () => {
    const { task } = seededBackend();
    const ref = { current: null as HTMLDivElement | null };
    renderWithProvider(
      <AudioResultPlayer
        ref={ref}
        task={task(MOCK_TASK_IDS.bell)}
        className="mine"
        id="player-1"
        aria-describedby="help"
        title="Bell"
      />,
    );
    expect(ref.current).toHaveAttribute('id', 'player-1');
    expect(ref.current).toHaveClass('rka-AudioResultPlayer', 'mine');
    expect(ref.current).toHaveAttribute('aria-describedby', 'help');
    expect(ref.current).toHaveAttribute('title', 'Bell');
  });

  it('replaces strings through messages and localises numbers', () => {
    const { task } = seededBackend();
    renderWithProvider(
      <AudioResultPlayer
        task={task(MOCK_TASK_IDS.footsteps)}
        messages={{ playerPlay: 'Lecture', playerDownload: (f) => `Télécharger ${f}` }}
      />,
      { locale: 'ar-EG' },
    );
    expect(screen.getByRole('button', { name: 'Lecture' })).toBeInTheDocument();
    expect(screen.getByRole('link', { name: 'Télécharger mp3' })).toBeInTheDocument();
    // 6.5 s in Arabic-Indic digits.
    expect(screen.getByRole('slider')).toHaveAttribute('aria-valuetext', '٠ of ٦٫٥ seconds');
    expect(document.querySelector('[data-part="time"]')).toHaveTextContent('٠:٠٠٫٠ / ٠:٠٦٫٥');
  });

  it('names the download after the prompt, in any script, or after the audio id', () => {
    expect(audioFileName('Fireworks over a harbour!', 'x', 'mp3')).toBe('fireworks-over-a-harbour.mp3');
    expect(audioFileName('  Café — crème brûlée  ', 'x', 'wav')).toBe('cafe-creme-brulee.wav');
    expect(audioFileName('صوت المطر', 'x', 'mp3')).toBe('صوت-المطر.mp3');
    expect(audioFileName('../../etc/passwd', 'x', 'mp3')).toBe('etc-passwd.mp3');
    expect(audioFileName('!!!', 'kling-audio-42', 'mp3')).toBe('kling-audio-42.mp3');
    expect(audioFileName('a'.repeat(200), 'x', 'mp3')).toBe(`${'a'.repeat(60)}.mp3`);
  });

  it('never puts a non-http URL into src or href', () => {
    const audio: GeneratedAudio = {
      id: 'evil',
      mp3Url: 'javascript:alert(1)',
      wavUrl: 'data:audio/wav;base64,AAAA',
      mp3Duration: 3,
      wavDuration: 3,
    };
    const { container } = renderWithProvider(<AudioResultPlayer audio={audio} prompt="Evil" />);
    expect(screen.getByText('Download MP3').closest('a')).not.toHaveAttribute('href');
    expect(screen.getByRole('button', { name: 'Play' })).toBeDisabled();
    fireEvent.click(screen.getByRole('button', { name: 'Play' }));
    expect(audios.every((element) => !element.getAttribute('src'))).toBe(true);
    expect(root(container)).toHaveAttribute('data-state', 'idle');
  });
});

describe('pending tasks', () => {
  it('shows the status in a polite live region, with the elapsed time outside it', async () => {
    seededBackend();
    const { container } = renderWithProvider(<AudioResultPlayer taskId={MOCK_TASK_IDS.pending} />);
    const status = screen.getByRole('status');
    expect(status).toHaveAttribute('aria-live', 'polite');
    await waitFor(() => expect(status).toHaveTextContent(/^Generating$/));
    expect(root(container)).toHaveAttribute('data-status', 'processing');
    // Seeded a minute before the backend's clock.
    const elapsed = container.querySelector('[data-part="elapsed"]')!;
    expect(elapsed.textContent).toMatch(/^\d+ s elapsed$/);
    expect(Number.parseInt(elapsed.textContent!, 10)).toBeGreaterThanOrEqual(59);
    expect(status).not.toContainElement(elapsed as HTMLElement);
    expect(screen.queryByRole('button', { name: 'Play' })).not.toBeInTheDocument();
  }, 15_000);

  it('turns into the player when the task succeeds, and says nothing more', async () => {
    const { backend } = seededBackend({
      seed: [{ taskId: 't1', prompt: 'A door creaks', duration: 4, createdAt: Date.now() }],
    });
    renderWithProvider(<AudioResultPlayer taskId="t1" />);
    const status = screen.getByRole('status');
    await waitFor(() => expect(status).toHaveTextContent(/Queued|Generating/));
    // Two or three polls of the mock's clock: generous, since a loaded CI machine runs them late.
    expect(await screen.findByRole('button', { name: 'Play' }, { timeout: 10_000 })).toBeEnabled();
    expect(status).toHaveTextContent(/^$/);
    expect(backend.tasks[0]!.status).toBe('succeed');
  }, 20_000);

  it('shows a failed task with the vendor reason', async () => {
    seededBackend();
    renderWithProvider(<AudioResultPlayer taskId={MOCK_TASK_IDS.failed} />);
    await waitFor(() =>
      expect(screen.getByRole('status')).toHaveTextContent(
        /^Failed: Failure to pass the risk control system/,
      ),
    );
    expect(screen.queryByRole('slider')).not.toBeInTheDocument();
  });

  it('offers a retry when the task cannot be fetched', async () => {
    seededBackend({ scenario: { pollError: { code: 1203, times: 1 } } });
    renderWithProvider(<AudioResultPlayer taskId={MOCK_TASK_IDS.rain} prompt="Rain" />);
    const retry = await screen.findByRole('button', { name: 'Try again' });
    fireEvent.click(retry);
    expect(await screen.findByRole('button', { name: 'Play' })).toBeEnabled();
  });
});

describe('loading', () => {
  it('fetches nothing before the player is near the viewport', async () => {
    const observers: { callback: IntersectionObserverCallback; target?: Element }[] = [];
    vi.stubGlobal(
      'IntersectionObserver',
      class {
        entry: { callback: IntersectionObserverCallback; target?: Element };
        constructor(callback: IntersectionObserverCallback) {
          this.entry = { callback };
          observers.push(this.entry);
        }
        observe(target: Element) {
          this.entry.target = target;
        }
        disconnect() {}
      },
    );
    const { task } = seededBackend();
    const { container } = renderWithProvider(<AudioResultPlayer task={task(MOCK_TASK_IDS.rain)} />);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(requested).toEqual([]);
    expect(liveAudio()).toHaveLength(0);
    expect(root(container)).toHaveAttribute('data-state', 'idle');

    const observer = observers.find((o) => o.target === root(container))!;
    act(() =>
      observer.callback([{ isIntersecting: true } as IntersectionObserverEntry], {} as IntersectionObserver),
    );
    // One fetch of the file (for the waveform, the download, dead-link checks and playback: the element
    // plays those bytes), metadata only.
    const audio = await loadedAudio();
    expect(audio.preload).toBe('metadata');
    expect(audio.getAttribute('src')).toBe(created[0]!.url);
    expect(requested).toEqual([`/api/kling/mock-audio/${MOCK_TASK_IDS.rain}.mp3`]);
  });

  it('moves through loading and ready, keeping the duration the task reports whatever the file says', async () => {
    const { task } = seededBackend();
    const { container } = renderWithProvider(<AudioResultPlayer task={task(MOCK_TASK_IDS.bell)} />);
    const audio = await loadedAudio();
    act(() => void audio!.dispatchEvent(new Event('loadstart')));
    expect(root(container)).toHaveAttribute('data-state', 'loading');
    Object.defineProperty(audio, 'duration', { value: Infinity, configurable: true });
    act(() => void audio!.dispatchEvent(new Event('loadedmetadata')));
    expect(root(container)).toHaveAttribute('data-state', 'ready');
    // Safari reports Infinity for some files, the MP3 element its padded 3.056 s: the task says 3 s.
    expect(screen.getByRole('slider')).toHaveAttribute('aria-valuemax', '3');
    metadataLoaded(audio!, 3.056);
    expect(screen.getByRole('slider')).toHaveAttribute('aria-valuemax', '3');
    // At the end of the MP3's padding, the clock stops at the sound's end.
    audio!.currentTime = 3.056;
    act(() => void audio!.dispatchEvent(new Event('timeupdate')));
    expect(container.querySelector('[data-part="time"]')).toHaveTextContent('0:03.0 / 0:03.0');
    expect(screen.getByRole('slider')).toHaveAttribute('aria-valuetext', '3 of 3 seconds');
  });
});

describe('playing', () => {
  it('plays and pauses from the button, with data-state and the label following', async () => {
    const { task } = seededBackend();
    const { container } = renderWithProvider(<AudioResultPlayer task={task(MOCK_TASK_IDS.bell)} />);
    fireEvent.click(screen.getByRole('button', { name: 'Play' }));
    expect(root(container)).toHaveAttribute('data-state', 'playing');
    expect(screen.getByRole('button', { name: 'Pause' })).toHaveAttribute('data-state', 'playing');
    fireEvent.click(screen.getByRole('button', { name: 'Pause' }));
    expect(root(container)).toHaveAttribute('data-state', 'paused');
    const [audio] = liveAudio();
    Object.defineProperty(audio, 'ended', { value: true, configurable: true });
    act(() => void audio!.dispatchEvent(new Event('ended')));
    expect(root(container)).toHaveAttribute('data-state', 'ended');
  });

  it('plays one clip at a time, unless a player opts out', async () => {
    const { task } = seededBackend();
    const { container } = renderWithProvider(
      <>
        <AudioResultPlayer task={task(MOCK_TASK_IDS.bell)} />
        <AudioResultPlayer task={task(MOCK_TASK_IDS.rain)} />
        <AudioResultPlayer task={task(MOCK_TASK_IDS.laser)} exclusive={false} />
      </>,
    );
    const [first, second, third] = screen.getAllByRole('button', { name: 'Play' });
    fireEvent.click(first!);
    expect(root(container, 0)).toHaveAttribute('data-state', 'playing');
    fireEvent.click(second!);
    expect(root(container, 1)).toHaveAttribute('data-state', 'playing');
    expect(root(container, 0)).toHaveAttribute('data-state', 'paused');
    fireEvent.click(third!);
    expect(root(container, 2)).toHaveAttribute('data-state', 'playing');
    expect(root(container, 1)).toHaveAttribute('data-state', 'playing');
  });

  it('answers the keyboard inside the player only, and never inside text fields', async () => {
    const { task } = seededBackend();
    const { container } = renderWithProvider(
      <>
        <textarea aria-label="notes" />
        <AudioResultPlayer task={task(MOCK_TASK_IDS.rain)} />
      </>,
    );
    const slider = screen.getByRole('slider');
    const audio = await loadedAudio();
    fireEvent.keyDown(screen.getByLabelText('notes'), { key: 'k' });
    expect(root(container)).not.toHaveAttribute('data-state', 'playing');

    fireEvent.keyDown(slider, { key: ' ' });
    expect(root(container)).toHaveAttribute('data-state', 'playing');
    fireEvent.keyDown(slider, { key: 'K' });
    expect(root(container)).toHaveAttribute('data-state', 'paused');
    // A radio is an input: its keys stay its own.
    fireEvent.keyDown(screen.getByRole('radio', { name: 'WAV' }), { key: 'k' });
    expect(root(container)).toHaveAttribute('data-state', 'paused');

    fireEvent.keyDown(screen.getByRole('button', { name: 'Play' }), { key: 'm' });
    expect(audio!.muted).toBe(true);
    expect(screen.getByRole('button', { name: 'Mute' })).toHaveAttribute('aria-pressed', 'true');

    // 10 s clip (10.057 s of MP3, 10 s as the task says): arrows step half a second, Page keys two, Home/End the ends.
    fireEvent.keyDown(slider, { key: 'ArrowRight' });
    expect(slider).toHaveAttribute('aria-valuenow', '0.5');
    expect(audio!.currentTime).toBe(0.5);
    fireEvent.keyDown(slider, { key: 'PageUp' });
    expect(slider).toHaveAttribute('aria-valuenow', '2.5');
    fireEvent.keyDown(slider, { key: 'ArrowDown' });
    expect(slider).toHaveAttribute('aria-valuetext', '2 of 10 seconds');
    fireEvent.keyDown(slider, { key: 'End' });
    expect(slider).toHaveAttribute('aria-valuenow', '10');
    fireEvent.keyDown(slider, { key: 'PageUp' });
    expect(slider).toHaveAttribute('aria-valuenow', '10');
    fireEvent.keyDown(slider, { key: 'Home' });
    expect(slider).toHaveAttribute('aria-valuenow', '0');
    fireEvent.keyDown(slider, { key: 'ArrowLeft' });
    expect(slider).toHaveAttribute('aria-valuenow', '0');
    // ←/→ from anywhere in the player.
    fireEvent.keyDown(screen.getByRole('button', { name: 'Mute' }), { key: 'ArrowRight' });
    expect(slider).toHaveAttribute('aria-valuenow', '0.5');
  });

  it('switches format keeping position and play state', async () => {
    const { task } = seededBackend();
    renderWithProvider(<AudioResultPlayer task={task(MOCK_TASK_IDS.rain)} />);
    const audio = await loadedAudio();
    metadataLoaded(audio!, 10);
    fireEvent.click(screen.getByRole('button', { name: 'Play' }));
    audio!.currentTime = 4.2;
    const play = vi.mocked(HTMLMediaElement.prototype.play);
    play.mockClear();

    // The MP3 plays on until the WAV's bytes are in, then the element plays those (fetched once).
    fireEvent.click(screen.getByRole('radio', { name: 'WAV' }));
    await waitFor(() => expect(audio!.getAttribute('src')).toBe(created[1]?.url));
    expect(created[1]!.blob.type).toBe('audio/wav');
    expect(screen.getByRole('link', { name: 'Download WAV' })).toHaveAttribute(
      'download',
      'heavy-rain-on-a-tin-roof.wav',
    );
    audio!.currentTime = 0; // what a new source does
    metadataLoaded(audio!, 10);
    expect(audio!.currentTime).toBe(4.2);
    expect(play).toHaveBeenCalledTimes(1);
  });
  it('starts afresh when given another clip: no carried position, nothing resumed', async () => {
    const { task } = seededBackend();
    const { rerender, container } = renderWithProvider(<AudioResultPlayer task={task(MOCK_TASK_IDS.rain)} />);
    const audio = await loadedAudio();
    metadataLoaded(audio!, 10);
    fireEvent.click(screen.getByRole('button', { name: 'Play' }));
    audio!.currentTime = 6;
    fireEvent.keyDown(screen.getByRole('slider'), { key: 'End' });
    const play = vi.mocked(HTMLMediaElement.prototype.play);
    play.mockClear();

    rerender(<AudioResultPlayer task={task(MOCK_TASK_IDS.bell)} />);
    // The rain stops at once (no source), and the bell's own file comes in.
    expect(audio!.hasAttribute('src')).toBe(false);
    await waitFor(() => expect(audio!.getAttribute('src')).toBe(created[1]?.url));
    expect(requested.at(-1)).toBe(`/api/kling/mock-audio/${MOCK_TASK_IDS.bell}.mp3`);
    expect(screen.getByText('A small brass bell rung twice')).toBeInTheDocument();
    expect(screen.getByRole('slider')).toHaveAttribute('aria-valuemax', '3');
    expect(screen.getByRole('slider')).toHaveAttribute('aria-valuenow', '0');
    audio!.currentTime = 0;
    metadataLoaded(audio!, 3);
    expect(audio!.currentTime).toBe(0);
    expect(play).not.toHaveBeenCalled();
    expect(root(container)).toHaveAttribute('data-state', 'ready');
  });
});

describe('dead links', () => {
  /** The player once its element reported a media error (`code`); `playFirst`: played before the fetch. */
  async function mediaError(code: number, options: Partial<MockKlingBackendOptions>, playFirst = false) {
    const { task } = seededBackend(options);
    const { container } = renderWithProvider(<AudioResultPlayer task={task(MOCK_TASK_IDS.bell)} />);
    if (playFirst) fireEvent.click(screen.getByRole('button', { name: 'Play' }));
    const audio = await loadedAudio();
    Object.defineProperty(audio, 'error', { value: { code }, configurable: true });
    act(() => void audio!.dispatchEvent(new Event('error')));
    await waitFor(() => expect(root(container)).toHaveAttribute('data-state', 'error'));
    return container;
  }

  it('says expired for a 403 from the file host, without controls, found by the one fetch', async () => {
    const { task } = seededBackend({ scenario: { audio: 'expired' } });
    const { container } = renderWithProvider(<AudioResultPlayer task={task(MOCK_TASK_IDS.bell)} />);
    await waitFor(() => expect(root(container)).toHaveAttribute('data-state', 'error'));
    expect(screen.getByRole('status')).toHaveTextContent('This link has expired');
    expect(screen.queryByRole('slider')).not.toBeInTheDocument();
    // The element is never pointed at a dead file.
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(liveAudio()).toHaveLength(0);
    expect(requested).toHaveLength(1);
  });

  it('says expired when played before the fetch answered and the element fails first', async () => {
    await mediaError(4, { scenario: { audio: 'expired' } }, true);
    expect(screen.getByRole('status')).toHaveTextContent('This link has expired');
    expect(requested).toHaveLength(1);
  });

  it('says not found for a 404, and asks only once', async () => {
    const { task } = seededBackend({ scenario: { audio: 'missing' } });
    const { container } = renderWithProvider(<AudioResultPlayer task={task(MOCK_TASK_IDS.bell)} />);
    await waitFor(() => expect(root(container)).toHaveAttribute('data-state', 'error'));
    expect(screen.getByRole('status')).toHaveTextContent('This audio file no longer exists.');
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(requested).toHaveLength(1);
  });

  it('says unsupported when the file is there but cannot be played', async () => {
    await mediaError(4, {});
    expect(screen.getByRole('status')).toHaveTextContent('cannot play this audio format');
    expect(requested).toHaveLength(1);
  });

  it('knows a link older than 30 days is dead without asking', async () => {
    const { task } = seededBackend();
    const old: AudioTask = { ...task(MOCK_TASK_IDS.bell), createdAt: Date.now() - 31 * DAY };
    const { container } = renderWithProvider(<AudioResultPlayer task={old} />);
    expect(root(container)).toHaveAttribute('data-state', 'error');
    expect(screen.getByRole('status')).toHaveTextContent('This link has expired');
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(requested).toEqual([]);
    expect(liveAudio()).toHaveLength(0);
  });

  it('counts nothing down for a kept copy, however old the task: it plays and downloads', async () => {
    const { task } = seededBackend();
    const bell = task(MOCK_TASK_IDS.bell);
    const kept: AudioTask = {
      ...bell,
      createdAt: Date.now() - 400 * DAY,
      audios: bell.audios.map((audio) => ({ ...audio, kept: true })),
    };
    const { container } = renderWithProvider(<AudioResultPlayer task={kept} />);
    expect(root(container)).not.toHaveAttribute('data-state', 'error');
    expect(container.querySelector('[data-part="expiry"]')).toBeNull();
    expect(screen.queryByText(/expire/i)).toBeNull();
    expect(screen.getByRole('link', { name: 'Download MP3' })).toHaveAttribute(
      'href',
      bell.audios[0]!.mp3Url,
    );
    await waitFor(() => expect(requested).toHaveLength(1));
  });

  it('marks the notice urgent in the last days', () => {
    const { task } = seededBackend();
    renderWithProvider(
      <AudioResultPlayer task={{ ...task(MOCK_TASK_IDS.bell), createdAt: Date.now() - 29.5 * DAY }} />,
    );
    expect(screen.getByText(/^Link expires in 1 day \(/)).toHaveAttribute('data-urgent');
  });
});

describe('download', () => {
  function captureClicks() {
    const clicks: { href: string; download: string; target: string }[] = [];
    vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(function (this: HTMLAnchorElement) {
      clicks.push({ href: this.href, download: this.download, target: this.target });
    });
    return clicks;
  }

  it('fetches the file into a blob with a clean name, and revokes it on unmount', async () => {
    const clicks = captureClicks();
    const { task } = seededBackend();
    const { unmount } = renderWithProvider(<AudioResultPlayer task={task(MOCK_TASK_IDS.fireworks)} />);
    // The MP3 (seen, so fetched and played from its blob) is blob 1; the WAV, fetched to save, blob 2.
    await loadedAudio();
    fireEvent.click(screen.getByRole('radio', { name: 'WAV' }));
    fireEvent.click(screen.getByRole('link', { name: 'Download WAV' }));
    await waitFor(() => expect(clicks).toHaveLength(1));
    expect(clicks[0]).toEqual({
      href: 'blob:http://localhost/2',
      download: 'fireworks-over-a-harbour-at-midnight.wav',
      target: '',
    });
    const { blob } = created[1]!;
    expect(blob.type).toBe('audio/wav');
    expect(new TextDecoder().decode((await blob.arrayBuffer()).slice(0, 4))).toBe('RIFF');
    unmount();
    expect(revoked.sort()).toEqual(['blob:http://localhost/1', 'blob:http://localhost/2']);
  });

  it('saves the very bytes the element plays: no second request, no second blob', async () => {
    const clicks = captureClicks();
    const { task } = seededBackend();
    renderWithProvider(<AudioResultPlayer task={task(MOCK_TASK_IDS.bell)} />);
    const audio = await loadedAudio();
    fireEvent.click(screen.getByRole('link', { name: 'Download MP3' }));
    await waitFor(() => expect(clicks).toHaveLength(1));
    expect(clicks[0]!.href).toBe(audio.getAttribute('src'));
    expect(created).toHaveLength(1);
    expect(requested).toEqual([`/api/kling/mock-audio/${MOCK_TASK_IDS.bell}.mp3`]);
  });

  it('falls back to the plain link when the host forbids reading the file', async () => {
    const clicks = captureClicks();
    const { task } = seededBackend();
    const bell = task(MOCK_TASK_IDS.bell);
    server.use(http.get(bell.audios[0]!.mp3Url, () => HttpResponse.error()));
    renderWithProvider(<AudioResultPlayer task={bell} />);
    fireEvent.click(screen.getByRole('link', { name: 'Download MP3' }));
    await waitFor(() => expect(clicks).toHaveLength(1));
    expect(clicks[0]).toMatchObject({ href: bell.audios[0]!.mp3Url, target: '_blank' });
    expect(created).toHaveLength(0);
  });
});

describe('one download per file', () => {
  /** A list row's player (no announcements), seen at once (jsdom has no IntersectionObserver). */
  function row(audio?: Partial<GeneratedAudio>, file?: () => Response) {
    const { task } = seededBackend();
    const bell = task(MOCK_TASK_IDS.bell);
    const given = { ...bell, audios: [{ ...bell.audios[0]!, ...audio }] };
    if (file) server.use(http.get(given.audios[0]!.mp3Url, file));
    const result = renderWithProvider(<AudioResultPlayer task={given} announce={false} />);
    return { ...result, url: given.audios[0]!.mp3Url };
  }

  it('plays the fetched bytes from a blob: URL: one request for the file, seen then played', async () => {
    const { container, url } = row();
    const audio = await loadedAudio();
    expect(audio.getAttribute('src')).toMatch(/^blob:/);
    expect(audio.getAttribute('src')).toBe(created[0]!.url);
    expect(created[0]!.blob.type).toBe('audio/mpeg');
    metadataLoaded(audio, 3);
    fireEvent.click(screen.getByRole('button', { name: 'Play' }));
    expect(root(container)).toHaveAttribute('data-state', 'playing');
    expect(audio.getAttribute('src')).toBe(created[0]!.url);
    expect(requested).toEqual([new URL(url, 'http://localhost').pathname]);
    expect(created).toHaveLength(1);
  });

  it('plays the remote URL where CORS (or the network) refuses the fetch, and still plays', async () => {
    // What a script sees of a host without CORS headers: a network error.
    const { container, url } = row({}, () => HttpResponse.error());
    const audio = await loadedAudio();
    expect(audio.getAttribute('src')).toBe(url);
    metadataLoaded(audio, 3);
    expect(root(container)).toHaveAttribute('data-state', 'ready');
    fireEvent.click(screen.getByRole('button', { name: 'Play' }));
    expect(root(container)).toHaveAttribute('data-state', 'playing');
    expect(created).toHaveLength(0);
  });

  it('played before the fetch is done: streams the remote URL and never swaps it mid-clip', async () => {
    const { container, url } = row();
    fireEvent.click(screen.getByRole('button', { name: 'Play' }));
    const [audio] = liveAudio();
    expect(audio!.getAttribute('src')).toBe(url);
    expect(root(container)).toHaveAttribute('data-state', 'playing');
    // The fetch lands (its blob is kept for the download), the element keeps its source and state.
    await waitFor(() => expect(created).toHaveLength(1));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(audio!.getAttribute('src')).toBe(url);
    expect(root(container)).toHaveAttribute('data-state', 'playing');
  });

  it('types the blob by its format when the host sends a generic type', async () => {
    row({}, () =>
      HttpResponse.arrayBuffer(new Uint8Array([0xff, 0xfb, 0x90, 0x64]).buffer, {
        headers: { 'Content-Type': 'application/octet-stream' },
      }),
    );
    const audio = await loadedAudio();
    expect(audio.getAttribute('src')).toBe(created[0]!.url);
    expect(created[0]!.blob.type).toBe('audio/mpeg');
    expect(created[0]!.blob.size).toBe(4);
  });

  it('plays a kept copy (the proxy’s same-origin file) from its blob the same way', async () => {
    row({ kept: true });
    const audio = await loadedAudio();
    expect(audio.getAttribute('src')).toBe(created[0]!.url);
    expect(requested).toHaveLength(1);
  });

  it('revokes every blob URL it made: on another clip, and on unmount', async () => {
    const { task } = seededBackend();
    const { rerender, unmount } = renderWithProvider(<AudioResultPlayer task={task(MOCK_TASK_IDS.bell)} />);
    const audio = await loadedAudio();
    expect(created.map(({ url }) => url)).toEqual([audio.getAttribute('src')]);
    expect(revoked).toEqual([]);

    rerender(<AudioResultPlayer task={task(MOCK_TASK_IDS.fireworks)} />);
    expect(revoked).toEqual([created[0]!.url]);
    await waitFor(() => expect(audio.getAttribute('src')).toBe(created[1]?.url));

    rerender(<AudioResultPlayer task={task(MOCK_TASK_IDS.rain)} />);
    await waitFor(() => expect(audio.getAttribute('src')).toBe(created[2]?.url));
    unmount();
    expect(created).toHaveLength(3);
    expect(revoked).toEqual(created.map(({ url }) => url));
    expect(audio.hasAttribute('src')).toBe(false);
  });
});

describe('bytes shared per URL across players', () => {
  function captureClicks() {
    const clicks: string[] = [];
    vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(function (this: HTMLAnchorElement) {
      clicks.push(this.href);
    });
    return clicks;
  }

  it('the current player and the history row of one sound fetch its file once, and let it go with the last', async () => {
    const { task } = seededBackend();
    const bell = task(MOCK_TASK_IDS.bell);
    const { rerender } = renderWithProvider(
      <>
        <AudioResultPlayer task={bell} />
        <AudioResultPlayer task={bell} announce={false} />
      </>,
    );
    await loadedAudio(2);
    const [first, second] = liveAudio() as [HTMLAudioElement, HTMLAudioElement];
    expect(first.getAttribute('src')).toMatch(/^blob:/);
    expect(second.getAttribute('src')).toBe(first.getAttribute('src'));
    expect(requested).toEqual([`/api/kling/mock-audio/${MOCK_TASK_IDS.bell}.mp3`]);
    expect(created).toHaveLength(1);

    // One player goes: the other still plays those bytes.
    rerender(<AudioResultPlayer task={bell} />);
    expect(revoked).toEqual([]);
    rerender(<></>);
    expect(revoked).toEqual([created[0]!.url]);
  });

  it('a format switch while playing fetches the WAV once: played and saved from the same bytes', async () => {
    const clicks = captureClicks();
    const { task } = seededBackend();
    const { container } = renderWithProvider(<AudioResultPlayer task={task(MOCK_TASK_IDS.rain)} />);
    const audio = await loadedAudio();
    metadataLoaded(audio, 10);
    fireEvent.click(screen.getByRole('button', { name: 'Play' }));
    fireEvent.click(screen.getByRole('radio', { name: 'WAV' }));
    // Until the WAV is in, the MP3 plays on.
    expect(audio.getAttribute('src')).toBe(created[0]!.url);
    expect(root(container)).toHaveAttribute('data-state', 'playing');
    await waitFor(() => expect(audio.getAttribute('src')).toBe(created[1]?.url));
    fireEvent.click(screen.getByRole('link', { name: 'Download WAV' }));
    await waitFor(() => expect(clicks).toEqual([created[1]!.url]));
    const wav = `/api/kling/mock-audio/${MOCK_TASK_IDS.rain}.wav`;
    expect(requested.filter((path) => path === wav)).toHaveLength(1);
    expect(created).toHaveLength(2);
  });
});

describe('memory', () => {
  function captureClicks() {
    const clicks: string[] = [];
    vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(function (this: HTMLAnchorElement) {
      clicks.push(this.href);
    });
    return clicks;
  }

  it('a failed fetch is not kept: the next download asks again and gets the file', async () => {
    const clicks = captureClicks();
    const { task } = seededBackend();
    const bell = task(MOCK_TASK_IDS.bell);
    server.use(http.get(bell.audios[0]!.mp3Url, () => HttpResponse.error(), { once: true }));
    renderWithProvider(<AudioResultPlayer task={bell} />);
    const link = screen.getByRole('link', { name: 'Download MP3' });
    fireEvent.click(link);
    await waitFor(() => expect(clicks).toHaveLength(1));
    expect(clicks[0]).toBe(bell.audios[0]!.mp3Url);
    fireEvent.click(link);
    await waitFor(() => expect(clicks).toHaveLength(2));
    expect(clicks[1]).toMatch(/^blob:/);
  }, 20_000);

  it('another clip in the same player lets the previous clip’s saved files go', async () => {
    const clicks = captureClicks();
    const { task } = seededBackend();
    const { rerender } = renderWithProvider(<AudioResultPlayer task={task(MOCK_TASK_IDS.bell)} />);
    fireEvent.click(screen.getByRole('link', { name: 'Download MP3' }));
    await waitFor(() => expect(clicks).toHaveLength(1));
    expect(revoked).toEqual([]);
    rerender(<AudioResultPlayer task={task(MOCK_TASK_IDS.fireworks)} />);
    expect(revoked).toEqual([clicks[0]]);
  }, 20_000);
});

describe('lifecycle', () => {
  it('releases the element on unmount and is safe under StrictMode', async () => {
    const { task } = seededBackend();
    const { unmount, container } = renderWithProvider(
      <StrictMode>
        <AudioResultPlayer task={task(MOCK_TASK_IDS.bell)} />
      </StrictMode>,
    );
    // StrictMode mounts, unmounts and mounts again: one element is left with a source.
    const audio = await loadedAudio();
    fireEvent.click(screen.getByRole('button', { name: 'Play' }));
    expect(root(container)).toHaveAttribute('data-state', 'playing');
    expect(liveAudio()).toHaveLength(1);
    const load = vi.mocked(HTMLMediaElement.prototype.load);
    load.mockClear();
    unmount();
    expect(audio.paused).toBe(true);
    expect(audio.hasAttribute('src')).toBe(false);
    expect(load).toHaveBeenCalled();
    // Every blob URL made (the throwaway first mount's fetch was aborted) is revoked.
    expect(revoked).toEqual(created.map(({ url }) => url));
  });
});

/**
 * Web Audio as jsdom lacks it: a clock the test moves, and the buffer sources the player starts. One
 * object for the whole file: the page's AudioContext outlives a test (the player keeps one per page).
 */
const web = {
  sources: [] as {
    loop: boolean;
    loopStart: number;
    loopEnd: number;
    started?: number;
    stopped: boolean;
  }[],
  clock: { now: 0 },
  // What decodeAudioData answers: by default the decoded MP3 (its padding makes it longer than the sound).
  decoded: { duration: 3.056 } as object,
};
function fakeWebAudio(decoded: object = { duration: 3.056 }) {
  web.sources.length = 0;
  web.clock.now = 0;
  web.decoded = decoded;
  const { sources, clock } = web;
  const node = () => ({ connect: (next: unknown) => next, disconnect() {} });
  vi.stubGlobal(
    'AudioContext',
    class {
      destination = {};
      get currentTime() {
        return clock.now;
      }
      resume = () => Promise.resolve();
      decodeAudioData = () => Promise.resolve(web.decoded);
      createGain = () => ({ ...node(), gain: { value: 1 } });
      createBufferSource = () => {
        const source = {
          ...node(),
          loop: false,
          loopStart: 0,
          loopEnd: 0,
          stopped: false,
          start(_when: number, offset: number) {
            source.started = offset;
          },
          stop() {
            source.stopped = true;
          },
        } as (typeof sources)[number] & Record<string, unknown>;
        sources.push(source);
        return source;
      };
    },
  );
  return { sources, clock };
}

describe('loop', () => {
  it('repeats without a gap from the decoded audio, keeping position and state when toggled', async () => {
    const { sources, clock } = fakeWebAudio();
    const { task } = seededBackend();
    const { container } = renderWithProvider(<AudioResultPlayer task={task(MOCK_TASK_IDS.bell)} />);
    const audio = await loadedAudio();
    metadataLoaded(audio, 3.056);
    fireEvent.click(screen.getByRole('button', { name: 'Play' }));
    audio.currentTime = 1.2;
    const loop = screen.getByRole('button', { name: 'Loop' });
    expect(loop).toHaveAttribute('aria-pressed', 'false');

    fireEvent.click(loop);
    expect(loop).toHaveAttribute('aria-pressed', 'true');
    expect(root(container)).toHaveAttribute('data-loop');
    // Until the buffer is decoded, the element repeats: it never ends.
    expect(audio.loop).toBe(true);
    // The first loop loads the Web Audio code (a lazy chunk): generous under load.
    await waitFor(() => expect(sources).toHaveLength(1), { timeout: 5000 });
    // The buffer loops the sound (3 s as the task says, not the MP3's padding) from where the element was.
    expect(sources[0]).toMatchObject({ loop: true, loopStart: 0, loopEnd: 3, started: 1.2 });
    expect(audio.paused).toBe(true);
    expect(root(container)).toHaveAttribute('data-state', 'playing');

    // 2.5 s later: round the end and back to 0.7 s, still playing.
    clock.now = 2.5;
    const slider = screen.getByRole('slider');
    await waitFor(() => expect(slider).toHaveAttribute('aria-valuenow', '0.7'));
    expect(root(container)).toHaveAttribute('data-state', 'playing');

    // Off: the element plays on from the same moment.
    const play = vi.mocked(HTMLMediaElement.prototype.play);
    play.mockClear();
    fireEvent.keyDown(slider, { key: 'l' });
    expect(loop).toHaveAttribute('aria-pressed', 'false');
    expect(sources[0]!.stopped).toBe(true);
    expect(audio.currentTime).toBeCloseTo(0.7);
    expect(audio.loop).toBe(false);
    expect(play).toHaveBeenCalledTimes(1);
    expect(root(container)).toHaveAttribute('data-state', 'playing');
  });

  it('pauses and seeks inside the loop; play starts the buffer again where it stopped', async () => {
    const { sources, clock } = fakeWebAudio();
    const { task } = seededBackend();
    const { container } = renderWithProvider(<AudioResultPlayer task={task(MOCK_TASK_IDS.bell)} />);
    const audio = await loadedAudio();
    metadataLoaded(audio, 3.056);
    fireEvent.click(screen.getByRole('button', { name: 'Loop' }));
    fireEvent.click(screen.getByRole('button', { name: 'Play' }));
    // The first loop loads the Web Audio code (a lazy chunk): generous under load.
    await waitFor(() => expect(sources).toHaveLength(1), { timeout: 5000 });
    clock.now = 1;
    fireEvent.click(screen.getByRole('button', { name: 'Pause' }));
    expect(root(container)).toHaveAttribute('data-state', 'paused');
    expect(sources[0]!.stopped).toBe(true);
    expect(screen.getByRole('slider')).toHaveAttribute('aria-valuenow', '1');

    fireEvent.click(screen.getByRole('button', { name: 'Play' }));
    expect(sources).toHaveLength(2);
    expect(sources[1]!.started).toBe(1);
    expect(root(container)).toHaveAttribute('data-state', 'playing');
    fireEvent.keyDown(screen.getByRole('slider'), { key: 'Home' });
    expect(sources[1]!.stopped).toBe(true);
    expect(sources[2]).toMatchObject({ started: 0, loop: true });
    expect(root(container)).toHaveAttribute('data-state', 'playing');
  });

  it('loops with the element alone where the file cannot be read (CORS): it never ends', async () => {
    const { sources } = fakeWebAudio();
    const { task } = seededBackend();
    const bell = task(MOCK_TASK_IDS.bell);
    server.use(http.get(bell.audios[0]!.mp3Url, () => HttpResponse.error()));
    renderWithProvider(<AudioResultPlayer task={bell} />);
    const audio = await loadedAudio();
    fireEvent.click(screen.getByRole('button', { name: 'Loop' }));
    fireEvent.click(screen.getByRole('button', { name: 'Play' }));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(sources).toHaveLength(0);
    expect(audio.loop).toBe(true);
    expect(audio.paused).toBe(false);
  });
});

describe('selection: trim and export', () => {
  const thumb = (name: 'start' | 'end') => screen.getByRole('slider', { name: `Selection ${name}` });

  it('Shift+arrows select from the playhead; the two thumbs are bounded by each other; Escape clears', async () => {
    const { task } = seededBackend();
    renderWithProvider(<AudioResultPlayer task={task(MOCK_TASK_IDS.rain)} />);
    await loadedAudio();
    const slider = screen.getByRole('slider', { name: 'Seek' });
    fireEvent.keyDown(slider, { key: 'PageUp' }); // 2 s
    expect(screen.queryByRole('group', { name: 'Selection' })).not.toBeInTheDocument();
    fireEvent.keyDown(slider, { key: 'ArrowRight', shiftKey: true });
    fireEvent.keyDown(slider, { key: 'ArrowRight', shiftKey: true });
    expect(screen.getByRole('group', { name: 'Selection' })).toBeInTheDocument();
    // Announced, since the focus stays on the seek slider.
    expect(
      screen.getAllByRole('status').find((region) => region.textContent?.startsWith('Selected')),
    ).toHaveTextContent('Selected 2 to 3 seconds');
    // The playhead stays; the selection runs 2–3 s (steps of half a second on a 10 s clip).
    expect(slider).toHaveAttribute('aria-valuenow', '2');
    expect(thumb('start')).toHaveAttribute('aria-valuenow', '2');
    expect(thumb('start')).toHaveAttribute('aria-valuetext', '2 of 10 seconds');
    expect(thumb('end')).toHaveAttribute('aria-valuenow', '3');
    // Multi-thumb: each bounded by the other.
    expect(thumb('start')).toHaveAttribute('aria-valuemax', '3');
    expect(thumb('end')).toHaveAttribute('aria-valuemin', '2');
    expect(thumb('end')).toHaveAttribute('aria-valuemax', '10');

    // Shift+← past the anchor: the selection turns round it.
    for (let i = 0; i < 3; i++) fireEvent.keyDown(slider, { key: 'ArrowLeft', shiftKey: true });
    expect(thumb('start')).toHaveAttribute('aria-valuenow', '1.5');
    expect(thumb('end')).toHaveAttribute('aria-valuenow', '2');

    // A thumb moves on its own keys, never past the other.
    fireEvent.keyDown(thumb('end'), { key: 'ArrowRight' });
    expect(thumb('end')).toHaveAttribute('aria-valuenow', '2.5');
    fireEvent.keyDown(thumb('start'), { key: 'End' });
    expect(Number(thumb('start').getAttribute('aria-valuenow'))).toBeLessThan(2.5);
    fireEvent.keyDown(thumb('end'), { key: 'End' });
    expect(thumb('end')).toHaveAttribute('aria-valuenow', '10');
    expect(screen.getByRole('button', { name: 'Download selection (WAV)' })).toBeEnabled();

    fireEvent.keyDown(thumb('end'), { key: 'Escape' });
    expect(screen.queryByRole('group', { name: 'Selection' })).not.toBeInTheDocument();
    expect(screen.queryByRole('button', { name: 'Download selection (WAV)' })).not.toBeInTheDocument();
  });

  it('a drag on the waveform selects; a click seeks and clears the selection', async () => {
    const captured = new Set<number>();
    Object.assign(HTMLElement.prototype, {
      setPointerCapture: (id: number) => captured.add(id),
      hasPointerCapture: (id: number) => captured.has(id),
    });
    const { task } = seededBackend();
    renderWithProvider(<AudioResultPlayer task={task(MOCK_TASK_IDS.rain)} />);
    await loadedAudio();
    const slider = screen.getByRole('slider', { name: 'Seek' });
    vi.spyOn(slider, 'getBoundingClientRect').mockReturnValue({ left: 0, width: 200 } as DOMRect);
    fireEvent.pointerDown(slider, { clientX: 40, pointerId: 1 });
    fireEvent.pointerMove(slider, { clientX: 90, pointerId: 1 });
    captured.clear();
    expect(thumb('start')).toHaveAttribute('aria-valuenow', '2');
    expect(thumb('end')).toHaveAttribute('aria-valuenow', '4.5');
    expect(slider).toHaveAttribute('aria-valuenow', '2');

    fireEvent.pointerDown(slider, { clientX: 160, pointerId: 2 });
    captured.clear();
    expect(screen.queryByRole('group', { name: 'Selection' })).not.toBeInTheDocument();
    expect(slider).toHaveAttribute('aria-valuenow', '8');
    delete (HTMLElement.prototype as Partial<HTMLElement>).setPointerCapture;
    delete (HTMLElement.prototype as Partial<HTMLElement>).hasPointerCapture;
  });

  it('plays the selection alone: from its start, pausing at its end', async () => {
    const { task } = seededBackend();
    const { container } = renderWithProvider(<AudioResultPlayer task={task(MOCK_TASK_IDS.rain)} />);
    const audio = await loadedAudio();
    metadataLoaded(audio, 10.057);
    const slider = screen.getByRole('slider', { name: 'Seek' });
    fireEvent.keyDown(slider, { key: 'PageUp' });
    fireEvent.keyDown(slider, { key: 'ArrowRight', shiftKey: true });
    fireEvent.keyDown(slider, { key: 'ArrowRight', shiftKey: true });
    fireEvent.keyDown(slider, { key: 'Home' });
    fireEvent.click(screen.getByRole('button', { name: 'Play' }));
    expect(audio.currentTime).toBe(2);
    expect(root(container)).toHaveAttribute('data-state', 'playing');
    audio.currentTime = 3.02;
    await waitFor(() => expect(root(container)).toHaveAttribute('data-state', 'paused'));
    expect(audio.currentTime).toBe(3);
  });

  it('downloads the selection as a WAV cut from the decoded audio: its length is the selection', async () => {
    const rate = 8000;
    fakeWebAudio({
      sampleRate: rate,
      numberOfChannels: 1,
      length: rate * 10,
      duration: 10,
      getChannelData: () => new Float32Array(rate * 10).fill(0.5),
    });
    const clicks: { href: string; download: string }[] = [];
    vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(function (this: HTMLAnchorElement) {
      clicks.push({ href: this.href, download: this.download });
    });
    const { task } = seededBackend();
    renderWithProvider(<AudioResultPlayer task={task(MOCK_TASK_IDS.rain)} />);
    await loadedAudio();
    const slider = screen.getByRole('slider', { name: 'Seek' });
    fireEvent.keyDown(slider, { key: 'PageUp' });
    for (let i = 0; i < 3; i++) fireEvent.keyDown(slider, { key: 'ArrowRight', shiftKey: true });
    fireEvent.click(screen.getByRole('button', { name: 'Download selection (WAV)' }));
    await waitFor(() => expect(clicks).toHaveLength(1), { timeout: 5000 });
    expect(clicks[0]!.download).toBe('heavy-rain-on-a-tin-roof-2.0-3.5s.wav');
    const { blob } = created.find(({ url }) => url === clicks[0]!.href)!;
    const view = new DataView(await blob.arrayBuffer());
    const text = (at: number) => String.fromCharCode(...new Uint8Array(view.buffer, at, 4));
    expect([text(0), text(8), text(36)]).toEqual(['RIFF', 'WAVE', 'data']);
    expect(view.getUint32(24, true)).toBe(rate);
    const frames = view.getUint32(40, true) / 2;
    expect(frames / rate).toBe(1.5);
    expect(blob.size).toBe(44 + 1.5 * rate * 2);
    // The WAV was cut (lossless), fetched once.
    expect(requested.filter((path) => path.endsWith('.wav'))).toHaveLength(1);
  }, 15_000);
});
