import type { Meta, StoryObj } from '@storybook/react-vite';
import { http, HttpResponse } from 'msw';
import { expect, fn, waitFor, within } from 'storybook/test';
import { TextToAudioStudio } from '../src/components/TextToAudioStudio';
import { manyMockTaskSeeds, mockTaskSeeds } from '../src/mocks';
import { MOCK_TASK_IDS, mswParameters, STORY_BASE_URL, storyBackend } from './support/mockBackend';
import { rememberedStorage } from './support/rememberedTasks';
import { QUEUED_TASK_ID, queuedTaskHandler, usageHandler } from './support/queue';

const FOREVER = 3_600_000;
const WIDE = { maxWidth: 1100 };
/** Fast retries and polls, so error stories reach their message quickly. */
const fast = { polling: { intervalMs: 150, maxIntervalMs: 300 } };

type Canvas = Parameters<NonNullable<Story['play']>>[0]['canvas'];
const studioOf = (canvas: Canvas) => canvas.getByRole('region', { name: 'Text to audio' });
const currentOf = (canvas: Canvas) => canvas.getByRole('region', { name: 'Current sound' });
const settles = (canvas: Canvas, state: string, timeout = 5000) =>
  waitFor(() => expect(studioOf(canvas)).toHaveAttribute('data-state', state), { timeout });

/** Per story: a fresh storage in which this browser "made" the seeded tasks (so their prompts show). */
const remembered = (kling: Record<string, unknown> = {}) => ({
  kling: { storage: rememberedStorage(), ...kling },
});

const meta = {
  title: 'Components/TextToAudioStudio',
  component: TextToAudioStudio,
  args: { onTaskIdChange: fn() },
  parameters: { ...mswParameters(), ...WIDE },
} satisfies Meta<typeof TextToAudioStudio>;

export default meta;
type Story = StoryObj<typeof meta>;

/** The whole flow: type, generate, watch it finish, play. */
export const Playground: Story = {
  parameters: {
    ...mswParameters({ timing: { submittedMs: 800, processingMs: 1600 } }),
    ...remembered({ polling: { intervalMs: 400, maxIntervalMs: 800 } }),
  },
  play: async ({ canvas, userEvent, args }) => {
    await userEvent.type(
      canvas.getByRole('textbox', { name: 'Describe the sound' }),
      'Footsteps crunching on fresh snow',
    );
    const duration = canvas.getByRole('spinbutton', { name: 'Duration (seconds)' });
    await userEvent.clear(duration);
    await userEvent.type(duration, '4');
    await userEvent.click(canvas.getByRole('button', { name: 'Generate sound' }));

    await settles(canvas, 'submitted');
    await expect(args.onTaskIdChange).toHaveBeenCalledTimes(1);
    const history = canvas.getByRole('region', { name: 'History' });
    await waitFor(() =>
      expect(
        within(history).getByRole('button', { name: 'Footsteps crunching on fresh snow' }),
      ).toHaveAttribute('aria-current', 'true'),
    );
    await settles(canvas, 'processing');
    await settles(canvas, 'succeed', 10_000);
    await expect(studioOf(canvas).querySelector('[data-part="announcer"]')).toHaveTextContent(
      'Ready to play: Footsteps crunching on fresh snow',
    );

    const current = currentOf(canvas);
    const play = await within(current).findByRole('button', { name: 'Play' });
    await waitFor(
      () => expect(current.querySelector('.rka-AudioResultPlayer')).toHaveAttribute('data-state', 'ready'),
      { timeout: 5000 },
    );
    await userEvent.click(play);
    await waitFor(
      () => expect(current.querySelector('.rka-AudioResultPlayer')).toHaveAttribute('data-state', 'playing'),
      { timeout: 5000 },
    );
    await expect(within(current).getByRole('slider', { name: 'Seek' })).toHaveAttribute(
      'aria-valuetext',
      // The length as the decoder reads it: an MP3 may carry a few milliseconds of encoder padding.
      expect.stringMatching(/ of 4(\.\d)? seconds$/),
    );
    await userEvent.click(within(current).getByRole('button', { name: 'Pause' }));
  },
};

/** First visit: nothing current yet, history from the service. */
export const Default: Story = {
  parameters: remembered(),
  play: async ({ canvas }) => {
    await expect(
      within(currentOf(canvas)).getByText('Describe a sound and generate it: it will appear here.'),
    ).toBeVisible();
    await expect(studioOf(canvas)).toHaveAttribute('data-state', 'idle');
  },
};

/** The create request is on its way. */
export const Pending: Story = {
  args: { formProps: { defaultPrompt: 'A door creaking open slowly' } },
  parameters: {
    ...mswParameters({ seed: mockTaskSeeds.slice(1), scenario: { slowMs: FOREVER } }),
    ...remembered(),
  },
  play: async ({ canvas, userEvent }) => {
    await userEvent.click(canvas.getByRole('button', { name: 'Generate sound' }));
    await expect(await canvas.findByRole('button', { name: 'Sending…' })).toHaveAttribute(
      'aria-disabled',
      'true',
    );
  },
};

/** A sound still generating, with its elapsed time. */
export const Processing: Story = {
  parameters: remembered(),
  args: { defaultTaskId: MOCK_TASK_IDS.pending },
  play: async ({ canvas }) => {
    await settles(canvas, 'processing');
    await expect(await within(currentOf(canvas)).findByText(/s elapsed$/)).toBeVisible();
  },
};

/**
 * A sound waiting in the proxy's queue for a free slot of the account (other users are generating): its
 * place in line, and what is left of the user's daily quota.
 */
export const Queued: Story = {
  args: { defaultTaskId: QUEUED_TASK_ID },
  parameters: {
    msw: { handlers: [queuedTaskHandler(2), usageHandler(12, 20), ...storyBackend().handlers] },
    ...remembered(),
  },
  play: async ({ canvas }) => {
    await settles(canvas, 'queued');
    await expect(
      await within(currentOf(canvas)).findByText('Waiting for a free slot — 2nd in line'),
    ).toBeVisible();
    await expect(await canvas.findByText('8 of 20 sounds left today')).toBeVisible();
  },
};

/** A finished sound, ready to play. */
export const Succeeded: Story = {
  parameters: remembered(),
  args: { defaultTaskId: MOCK_TASK_IDS.fireworks },
  play: async ({ canvas }) => {
    await settles(canvas, 'succeed');
    await expect(await within(currentOf(canvas)).findByRole('button', { name: 'Play' })).toBeVisible();
  },
};

/** A sound the service refused to make, with its reason, and the next step: Edit prompt. */
export const Failed: Story = {
  parameters: remembered(),
  args: { defaultTaskId: MOCK_TASK_IDS.failed },
  play: async ({ canvas, userEvent }) => {
    await settles(canvas, 'failed');
    await expect(within(currentOf(canvas)).getByText(/risk control/)).toBeVisible();
    await userEvent.click(within(currentOf(canvas)).getByRole('button', { name: 'Edit prompt' }));
    await expect(canvas.getByRole('textbox', { name: 'Describe the sound' })).toHaveFocus();
  },
};

/** Picking a sound in the history makes it current (and moves focus to it). */
export const SelectFromHistory: Story = {
  parameters: remembered(),
  play: async ({ canvas, userEvent }) => {
    const history = canvas.getByRole('region', { name: 'History' });
    await userEvent.click(
      await within(history).findByRole('button', { name: 'A small brass bell rung twice' }),
    );
    await settles(canvas, 'succeed');
    await expect(canvas.getByRole('heading', { name: 'Current sound' })).toHaveFocus();
  },
};

/**
 * After a reload: this browser had a task pending (kept in storage), so it comes back as the current
 * sound and is watched until it finishes.
 */
export const ResumedAfterReload: Story = {
  parameters: { kling: { storage: rememberedStorage(mockTaskSeeds, [MOCK_TASK_IDS.pending]) } },
  play: async ({ canvas, args }) => {
    await settles(canvas, 'processing');
    await expect(args.onTaskIdChange).toHaveBeenCalledWith(MOCK_TASK_IDS.pending);
    await expect(
      within(currentOf(canvas)).getAllByText('Thunder rolling over distant hills'),
    ).not.toHaveLength(0);
  },
};

/** Code 1303: too many tasks at once. */
export const RateLimited: Story = {
  args: { formProps: { defaultPrompt: 'A soft synth pad' } },
  parameters: { ...mswParameters({ scenario: { createError: { code: 1303 } } }), ...remembered(fast) },
  play: async ({ canvas, userEvent }) => {
    await userEvent.click(canvas.getByRole('button', { name: 'Generate sound' }));
    await expect(await canvas.findByRole('alert', {}, { timeout: 5000 })).toHaveTextContent(
      'Too many sounds are being generated at once',
    );
  },
};

/** Code 1301: blocked by the content-safety rules. */
export const ContentPolicy: Story = {
  args: { formProps: { defaultPrompt: 'Something the rules do not allow' } },
  parameters: { ...mswParameters({ scenario: { createError: { code: 1301 } } }), ...remembered() },
  play: async ({ canvas, userEvent }) => {
    await userEvent.click(canvas.getByRole('button', { name: 'Generate sound' }));
    await expect(await canvas.findByRole('alert', {}, { timeout: 5000 })).toHaveTextContent(
      'blocked by content safety rules',
    );
  },
};

/** The network is down: the form and the history both say so. */
export const NetworkDown: Story = {
  args: { formProps: { defaultPrompt: 'Waves on a pebble beach' } },
  parameters: {
    msw: {
      handlers: [http.all(`*${STORY_BASE_URL}/*`, () => HttpResponse.error()), ...storyBackend().handlers],
    },
    ...remembered(fast),
  },
  play: async ({ canvas, userEvent }) => {
    await userEvent.click(canvas.getByRole('button', { name: 'Generate sound' }));
    await waitFor(() => expect(canvas.getAllByRole('alert')).toHaveLength(2), { timeout: 8000 });
    for (const alert of canvas.getAllByRole('alert')) {
      await expect(alert).toHaveTextContent('Could not reach the server');
    }
  },
};

/** Nothing generated yet, anywhere. */
export const EmptyHistory: Story = {
  parameters: mswParameters({ seed: [] }),
  play: async ({ canvas }) => {
    await expect(await canvas.findByText('No sounds yet. Generated sounds appear here.')).toBeVisible();
  },
};

/** 500 sounds in the history, all on one page. */
export const LongHistory: Story = {
  args: { listPageSize: 500, defaultTaskId: '770000000000000001' },
  parameters: {
    ...mswParameters({ seed: manyMockTaskSeeds(500) }),
    // This browser made the newest 200 (what it remembers at most); the older ones were made elsewhere.
    kling: { storage: rememberedStorage(manyMockTaskSeeds(500)) },
  },
  play: async ({ canvasElement }) => {
    const rows = () => canvasElement.querySelectorAll('[role="row"][data-task-id]');
    await waitFor(() => expect(rows()).toHaveLength(500), { timeout: 10_000 });
    // Compact rows: the only full player is the current sound's.
    await expect(canvasElement.querySelectorAll('.rka-AudioResultPlayer')).toHaveLength(1);
  },
};

/** The dark tokens, with a finished sound. */
export const Dark: Story = {
  ...Succeeded,
  globals: { theme: 'dark' },
};

/** Every string of the studio, its form, player and history replaced (here in Spanish). */
export const CustomMessages: Story = {
  args: { defaultTaskId: MOCK_TASK_IDS.rain },
  parameters: {
    kling: {
      storage: rememberedStorage(),
      locale: 'es-ES',
      messages: {
        studioLabel: 'Texto a audio',
        studioCurrentLabel: 'Sonido actual',
        studioHistoryLabel: 'Historial',
        studioIdle: 'Describe un sonido y genéralo: aparecerá aquí.',
        studioAnnouncement: (status: string, title: string) => `${status}: ${title}`,
        formPromptLabel: 'Describe el sonido',
        formPromptCounterLabel: (length: number, max: number) => `${length} de ${max} caracteres`,
        formDurationLabel: 'Duración (segundos)',
        formDurationSliderLabel: 'Duración',
        formDurationHint: (min: number, max: number) => `De ${min} a ${max} segundos`,
        formDurationValueText: (value: number) => `${value} segundos`,
        formPresetsLabel: 'Ejemplos',
        formPresets: [
          { label: 'Lluvia', prompt: 'Lluvia intensa sobre un tejado de chapa', duration: 8 },
          { label: 'Campana', prompt: 'Una campanita que suena dos veces', duration: 3 },
        ],
        formSubmit: 'Generar sonido',
        formShortcutHint: (mac: boolean) => `${mac ? '⌘' : 'Ctrl'}+Intro para generar`,
        listPagination: 'Páginas',
        listPrevious: 'Página anterior',
        listNext: 'Página siguiente',
        listPage: (pageNum: number) => `Página ${pageNum}`,
        listPageSize: 'Por página',
        untitledTask: (taskId: string) => `Tarea ${taskId}`,
        status: (status: string) =>
          ({ submitted: 'En cola', processing: 'Generando', succeed: 'Listo', failed: 'Error' })[status] ??
          status,
      },
    },
  },
  play: async ({ canvas }) => {
    await expect(canvas.getByRole('region', { name: 'Texto a audio' })).toBeVisible();
    await expect(canvas.getByRole('button', { name: 'Generar sonido' })).toBeVisible();
    await expect(await canvas.findByRole('heading', { name: 'Historial' })).toBeVisible();
  },
};

/** A phone (320 px wide): one column, the current sound above the history. */
export const Mobile: Story = {
  args: { defaultTaskId: MOCK_TASK_IDS.fireworks },
  globals: { viewport: { value: 'mobile1', isRotated: false } },
  parameters: { maxWidth: 320, ...remembered() },
  play: async ({ canvas }) => {
    await settles(canvas, 'succeed');
    const main = studioOf(canvas).querySelector('[data-part="main"]')!.getBoundingClientRect();
    const history = canvas.getByRole('region', { name: 'History' }).getBoundingClientRect();
    // One column: the history starts below the form and the current sound.
    await expect(history.top).toBeGreaterThanOrEqual(main.bottom);
  },
};

/** Wide: two columns, the history beside the form. */
export const TwoColumns: Story = {
  parameters: remembered(),
  play: async ({ canvas }) => {
    const main = studioOf(canvas).querySelector('[data-part="main"]')!.getBoundingClientRect();
    const history = canvas.getByRole('region', { name: 'History' }).getBoundingClientRect();
    await expect(history.left).toBeGreaterThanOrEqual(main.right);
  },
};
