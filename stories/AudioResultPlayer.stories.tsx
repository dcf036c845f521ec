import type { Meta, StoryObj } from '@storybook/react-vite';
import { expect, waitFor } from 'storybook/test';
import { AudioResultPlayer } from '../src/components/AudioResultPlayer';
import { mockTaskSeeds } from '../src/mocks';
import { CROSS_ORIGIN_AUDIO, MOCK_TASK_IDS, mswParameters, storyBackend } from './support/mockBackend';

const DAY = 86_400_000;
const LONG_PROMPT =
  'A busy night market in the rain: sizzling woks, vendors calling out, scooters splashing through puddles, ' +
  'a distant thunderclap, wind chimes and a street musician on an erhu, all in wide stereo';

/** Waits for the player to settle in `state` (its `data-state`). */
const settles = async (canvasElement: HTMLElement, state: string, index = 0) =>
  waitFor(
    () =>
      expect(canvasElement.querySelectorAll('[data-part="root"]')[index]).toHaveAttribute(
        'data-state',
        state,
      ),
    { timeout: 5000 },
  );

const meta = {
  title: 'Components/AudioResultPlayer',
  component: AudioResultPlayer,
  args: { taskId: MOCK_TASK_IDS.fireworks, prompt: 'Fireworks over a harbour at midnight' },
  parameters: { ...mswParameters() },
} satisfies Meta<typeof AudioResultPlayer>;

export default meta;
type Story = StoryObj<typeof meta>;

/** A finished task: the waveform of the real audio, time, format switch, download and the expiry notice. */
export const Ready: Story = {
  play: async ({ canvas, canvasElement }) => {
    await settles(canvasElement, 'ready');
    const slider = canvas.getByRole('slider', { name: 'Seek' });
    // The task says 5 s; once loaded, the file's own duration (an MP3 carries a few ms of padding).
    await expect(slider.getAttribute('aria-valuetext')).toMatch(/^0 of 5(\.\d)? seconds$/);
    await waitFor(
      () => expect(canvasElement.querySelector('canvas[data-part="waveform"]')).toBeInTheDocument(),
      {
        timeout: 5000,
      },
    );
    await expect(canvas.getByRole('link', { name: 'Download MP3' })).toHaveAttribute(
      'download',
      'fireworks-over-a-harbour-at-midnight.mp3',
    );
  },
};

/** Play pressed: the time runs. */
export const Playing: Story = {
  play: async ({ canvas, canvasElement, userEvent }) => {
    await settles(canvasElement, 'ready');
    await userEvent.click(canvas.getByRole('button', { name: 'Play' }));
    await settles(canvasElement, 'playing');
    const slider = canvas.getByRole('slider');
    await waitFor(() => expect(Number(slider.getAttribute('aria-valuenow'))).toBeGreaterThan(0.2));
    await expect(canvas.getByRole('button', { name: 'Pause' })).toBeInTheDocument();
  },
};

/** Loop on (the button, or L): the clip repeats without a gap, played from its decoded audio. */
export const Looping: Story = {
  play: async ({ canvas, canvasElement, userEvent }) => {
    await settles(canvasElement, 'ready');
    const loop = canvas.getByRole('button', { name: 'Loop' });
    await userEvent.click(loop);
    await expect(loop).toHaveAttribute('aria-pressed', 'true');
    await userEvent.click(canvas.getByRole('button', { name: 'Play' }));
    await settles(canvasElement, 'playing');
    await expect(canvasElement.querySelector('[data-part="root"]')).toHaveAttribute('data-loop');
  },
};

/**
 * A part selected (drag on the waveform, or Shift+arrows from the playhead): two thumbs to adjust it, played
 * and looped alone, and saved as a WAV cut in the browser.
 */
export const Selection: Story = {
  play: async ({ canvas, canvasElement, userEvent }) => {
    await settles(canvasElement, 'ready');
    canvas.getByRole('slider', { name: 'Seek' }).focus();
    // 2 s in, then four steps of 0.3 s (a twentieth of the 5 s clip, in tenths).
    await userEvent.keyboard('{PageUp}{Shift>}{ArrowRight}{ArrowRight}{ArrowRight}{ArrowRight}{/Shift}');
    await expect(canvas.getByRole('group', { name: 'Selection' })).toBeInTheDocument();
    await expect(canvas.getByRole('slider', { name: 'Selection start' })).toHaveAttribute(
      'aria-valuenow',
      '2',
    );
    await expect(canvas.getByRole('slider', { name: 'Selection end' })).toHaveAttribute(
      'aria-valuenow',
      '3.2',
    );
    await expect(canvas.getByRole('button', { name: 'Download selection (WAV)' })).toBeEnabled();
  },
};

/** The proxy kept the clip and answered its peaks: the waveform draws at once, nothing is downloaded. */
export const PeaksWithoutDownload: Story = {
  args: {
    taskId: undefined,
    audio: {
      id: 'kept-clip',
      mp3Url: `${location.origin}/api/kling/mock-audio/${MOCK_TASK_IDS.laser}.mp3`,
      wavUrl: `${location.origin}/api/kling/mock-audio/${MOCK_TASK_IDS.laser}.wav`,
      mp3Duration: 3.5,
      wavDuration: 3.5,
      kept: true,
      peaks: Array.from({ length: 240 }, (_, index) =>
        Math.abs(Math.sin(index / 9) * Math.exp(-index / 120)),
      ),
    },
    prompt: 'A sci-fi laser zap',
  },
  play: async ({ canvasElement }) => {
    await expect(canvasElement.querySelector('canvas[data-part="waveform"]')).toBeInTheDocument();
    await expect(canvasElement.querySelector('[data-part="root"]')).toHaveAttribute('data-state', 'idle');
  },
};

/** A 200-character prompt wraps; the download name is cut to a sane length. */
export const LongPrompt: Story = {
  args: { prompt: LONG_PROMPT },
  play: async ({ canvas }) => {
    await expect(canvas.getByText(LONG_PROMPT)).toBeInTheDocument();
  },
};

/** The CDN answers 403, as for a link cleared after 30 days: a clear dead-link state, no retries. */
export const ExpiredLink: Story = {
  parameters: mswParameters({ scenario: { audio: 'expired' } }),
  play: async ({ canvas, canvasElement }) => {
    await settles(canvasElement, 'error');
    await expect(canvas.getByRole('status')).toHaveTextContent('This link has expired');
    await expect(canvas.queryByRole('button', { name: 'Play' })).not.toBeInTheDocument();
  },
};

/** More than 30 days after creation the player knows the link is gone without asking. */
export const PastRetention: Story = {
  parameters: mswParameters({
    seed: [
      { taskId: MOCK_TASK_IDS.fireworks, prompt: 'Fireworks', duration: 5, createdAt: Date.now() - 31 * DAY },
    ],
  }),
  play: async ({ canvas, canvasElement }) => {
    await settles(canvasElement, 'error');
    await expect(canvas.getByRole('status')).toHaveTextContent('This link has expired');
  },
};

/** A few days left: the notice turns urgent. */
export const ExpiringSoon: Story = {
  parameters: mswParameters({
    seed: [
      {
        taskId: MOCK_TASK_IDS.fireworks,
        prompt: 'Fireworks',
        duration: 5,
        createdAt: Date.now() - 28.5 * DAY,
      },
    ],
  }),
  play: async ({ canvas }) => {
    await expect(await canvas.findByText(/Link expires in 2 days/)).toHaveAttribute('data-urgent');
  },
};

/** The file is gone (404). */
export const NotFound: Story = {
  parameters: mswParameters({ scenario: { audio: 'missing' } }),
  play: async ({ canvas, canvasElement }) => {
    await settles(canvasElement, 'error');
    await expect(canvas.getByRole('status')).toHaveTextContent('no longer exists');
  },
};

/**
 * The audio host sends no CORS header: `<audio>` still plays, but the file cannot be read, so there is a
 * plain progress bar instead of a waveform (and download falls back to a link).
 */
export const HostWithoutCors: Story = {
  parameters: mswParameters({ audioBaseUrl: CROSS_ORIGIN_AUDIO, scenario: { audio: 'no-cors' } }),
  play: async ({ canvas, canvasElement }) => {
    await settles(canvasElement, 'ready');
    await expect(canvasElement.querySelector('[data-part="progress"]')).toBeInTheDocument();
    await expect(canvasElement.querySelector('canvas')).not.toBeInTheDocument();
    await expect(Number(canvas.getByRole('slider').getAttribute('aria-valuemax'))).toBeCloseTo(5, 0);
  },
};

/** One clip at a time: starting one player pauses the other. */
export const SeveralPlayers: Story = {
  render: () => (
    <div style={{ display: 'grid', gap: '1rem' }}>
      {(['fireworks', 'rain', 'bell'] as const).map((name) => (
        <AudioResultPlayer
          key={name}
          taskId={MOCK_TASK_IDS[name]}
          prompt={mockTaskSeeds.find((seed) => seed.taskId === MOCK_TASK_IDS[name])!.prompt}
        />
      ))}
    </div>
  ),
  play: async ({ canvas, canvasElement, userEvent }) => {
    await settles(canvasElement, 'ready', 1);
    const [first, second] = canvas.getAllByRole('button', { name: 'Play' });
    await userEvent.click(first!);
    await settles(canvasElement, 'playing', 0);
    await userEvent.click(second!);
    await settles(canvasElement, 'playing', 1);
    await settles(canvasElement, 'paused', 0);
  },
};

/** The dark tokens (toolbar: Theme → Dark). */
export const Dark: Story = {
  globals: { theme: 'dark' },
};

/** Arabic, right to left: numbers in the locale's digits, time runs right to left. */
export const RightToLeft: Story = {
  args: {
    prompt: 'ألعاب نارية فوق الميناء',
    messages: {
      playerPlay: 'تشغيل',
      playerPause: 'إيقاف مؤقت',
      playerSeek: 'تقديم',
      playerMute: 'كتم',
      playerFormat: 'الصيغة',
      playerDownload: (format) => `تنزيل ${format.toUpperCase()}`,
      playerTimeText: (current, total, locale) =>
        `${new Intl.NumberFormat(locale, { maximumFractionDigits: 1 }).format(current)} من ${new Intl.NumberFormat(locale, { maximumFractionDigits: 1 }).format(total)} ثانية`,
      playerExpiresIn: (days, locale) =>
        `ينتهي الرابط بعد ${new Intl.NumberFormat(locale).format(days)} يومًا. نزّل الملف للاحتفاظ به.`,
    },
  },
  parameters: { dir: 'rtl', kling: { locale: 'ar-EG' } },
  play: async ({ canvas, canvasElement }) => {
    await settles(canvasElement, 'ready');
    await expect(canvas.getByRole('slider', { name: 'تقديم' }).getAttribute('aria-valuetext')).toMatch(
      /^٠ من ٥(٫[٠-٩])? ثانية$/,
    );
  },
};

/** A narrow phone screen. */
export const MobileWidth: Story = {
  parameters: { maxWidth: 320 },
};

/** While the task is generating: its status, announced once, and the elapsed time. */
export const Pending: Story = {
  args: { taskId: MOCK_TASK_IDS.pending, prompt: 'Thunder rolling over distant hills' },
  play: async ({ canvas }) => {
    await waitFor(() => expect(canvas.getByRole('status')).toHaveTextContent('Generating'));
    await expect(await canvas.findByText(/s elapsed/)).toBeInTheDocument();
  },
};

const fresh = storyBackend({
  timing: { submittedMs: 1000, processingMs: 2000 },
  seed: [
    {
      taskId: 'fresh-task',
      prompt: 'A small brass bell rung twice',
      duration: 3,
      // Read by every reset: the task is created when the story starts.
      get createdAt() {
        return Date.now();
      },
    },
  ],
});

/** A task created a moment ago: queued, generating, then the player appears. */
export const FinishesWhileWatching: Story = {
  args: { taskId: 'fresh-task', prompt: 'A small brass bell rung twice' },
  parameters: { msw: { handlers: fresh.handlers } },
  beforeEach: () => fresh.reset(),
  play: async ({ canvas }) => {
    await waitFor(() => expect(canvas.getByRole('status')).toHaveTextContent(/Queued|Generating/));
    await expect(canvas.queryByRole('button', { name: 'Play' })).not.toBeInTheDocument();
    await expect(await canvas.findByRole('button', { name: 'Play' }, { timeout: 10_000 })).toBeEnabled();
  },
};

/** The vendor refused the prompt: its reason, in words. */
export const Failed: Story = {
  args: { taskId: MOCK_TASK_IDS.failed, prompt: 'A forbidden sound' },
  play: async ({ canvas }) => {
    await expect(
      await canvas.findByText(/Failed: Failure to pass the risk control system/),
    ).toBeInTheDocument();
  },
};

/** Just an audio object, no task: no status, no expiry notice. */
export const AudioOnly: Story = {
  args: {
    taskId: undefined,
    audio: {
      id: 'clip',
      mp3Url: `${location.origin}/api/kling/mock-audio/${MOCK_TASK_IDS.laser}.mp3`,
      wavUrl: `${location.origin}/api/kling/mock-audio/${MOCK_TASK_IDS.laser}.wav`,
      mp3Duration: 3.5,
      wavDuration: 3.5,
    },
    prompt: 'A sci-fi laser zap',
  },
};
