import type { Meta, StoryObj } from '@storybook/react-vite';
import { http, HttpResponse } from 'msw';
import { expect, fn, waitFor, within } from 'storybook/test';
import { AudioTaskList } from '../src/components/AudioTaskList';
import { CONTENT_SAFETY_REASON, manyMockTaskSeeds } from '../src/mocks';
import { MOCK_TASK_IDS, mswParameters, STORY_BASE_URL, storyBackend } from './support/mockBackend';
import { rememberedStorage } from './support/rememberedTasks';

const FOREVER = 3_600_000;
// How long a page may take to arrive: testing-library's 1 s default is too short on a loaded CI machine
// (two pages fetched and rendered), which made Paging flaky.
const LOADED = { timeout: 5000 };
const rowsOf = (canvasElement: HTMLElement) => canvasElement.querySelectorAll('[data-part="item"]');

const meta = {
  title: 'Components/AudioTaskList',
  component: AudioTaskList,
  args: { onSelect: fn(), defaultPageSize: 10 },
  // The standard seed: six finished sounds, one still generating, one failed; made in this browser, so
  // their prompts are known.
  parameters: { ...mswParameters(), kling: { storage: rememberedStorage() } },
} satisfies Meta<typeof AudioTaskList>;

export default meta;
type Story = StoryObj<typeof meta>;

/**
 * A page of history: status badges, when each sound was made and how long it is, the reason of a
 * failure, and a player for each finished sound. Each title is a button (`onSelect`).
 */
export const Default: Story = {
  play: async ({ canvas, canvasElement, args, userEvent }) => {
    await waitFor(() => expect(rowsOf(canvasElement)).toHaveLength(8), LOADED);
    const failed = canvasElement.querySelector('[data-part="item"][data-status="failed"]') as HTMLElement;
    await expect(within(failed).getByText(CONTENT_SAFETY_REASON)).toBeVisible();
    await expect(canvasElement.querySelector('[data-part="item"][data-status="processing"]')).not.toBeNull();
    await expect(canvas.getAllByRole('button', { name: 'Play' })).toHaveLength(6);

    await userEvent.click(canvas.getByRole('button', { name: 'Heavy rain on a tin roof' }));
    await expect(args.onSelect).toHaveBeenCalledWith(expect.objectContaining({ taskId: MOCK_TASK_IDS.rain }));
  },
};

/** One row marked as the selected one (`aria-current`). */
export const Selected: Story = {
  args: { selectedTaskId: MOCK_TASK_IDS.bell },
  play: async ({ canvas }) => {
    await expect(
      await canvas.findByRole('button', { name: 'A small brass bell rung twice' }),
    ).toHaveAttribute('aria-current', 'true');
  },
};

/** Sounds made elsewhere (another browser, the API directly): no prompt is known, so the task id shows. */
export const MadeElsewhere: Story = {
  parameters: { kling: { storage: null } },
  play: async ({ canvas }) => {
    await expect(await canvas.findByRole('button', { name: `Task ${MOCK_TASK_IDS.rain}` })).toBeVisible();
  },
};

/** Without `onSelect` the titles are plain text. */
export const ReadOnly: Story = {
  args: { onSelect: undefined },
};

/** The first page is on its way. */
export const Loading: Story = {
  parameters: mswParameters({ scenario: { slowMs: FOREVER } }),
  play: async ({ canvas }) => {
    await expect(canvas.getByRole('status')).toHaveTextContent('Loading sounds…');
  },
};

/** 25 sounds, 10 a page: next, previous, and a page-size change (back to page 1). */
export const Paging: Story = {
  parameters: {
    ...mswParameters({ seed: manyMockTaskSeeds(25) }),
    kling: { storage: rememberedStorage(manyMockTaskSeeds(25)) },
  },
  play: async ({ canvas, canvasElement, userEvent }) => {
    await waitFor(() => expect(rowsOf(canvasElement)).toHaveLength(10), LOADED);
    const next = canvas.getByRole('button', { name: 'Next page' });
    const previous = canvas.getByRole('button', { name: 'Previous page' });
    await expect(previous).toHaveAttribute('aria-disabled', 'true');
    // One page at a time: while a page loads, "Next" is unavailable (a second click then does nothing,
    // which made this story flaky under load).
    const list = canvas.getByRole('region', { name: 'Generated sounds' });
    await userEvent.click(next);
    await waitFor(() => expect(list).not.toHaveAttribute('aria-busy'), LOADED);
    await userEvent.click(next);
    await waitFor(() => expect(rowsOf(canvasElement)).toHaveLength(5), LOADED);
    await expect(canvas.getByText('Page 3')).toBeVisible();
    await expect(next).toHaveAttribute('aria-disabled', 'true');
    await userEvent.selectOptions(canvas.getByRole('combobox', { name: 'Per page' }), '30');
    await waitFor(() => expect(rowsOf(canvasElement)).toHaveLength(25), LOADED);
    await expect(canvas.getByText('Page 1')).toBeVisible();
  },
};

const slowLater = storyBackend({ seed: manyMockTaskSeeds(25) });

/**
 * The previous page stays on screen, `aria-busy` with a moving bar (its text at full contrast), while a
 * slow next page loads. The story ends while it is still loading, so the accessibility check sees it.
 */
export const LoadingNextPage: Story = {
  parameters: {
    msw: { handlers: slowLater.handlers },
    kling: { storage: rememberedStorage(manyMockTaskSeeds(25)) },
  },
  play: async ({ canvas, canvasElement, userEvent }) => {
    slowLater.setScenario({ slowMs: 0 });
    await waitFor(() => expect(rowsOf(canvasElement)).toHaveLength(10), LOADED);
    slowLater.setScenario({ slowMs: FOREVER });
    await userEvent.click(canvas.getByRole('button', { name: 'Next page' }));
    const list = canvas.getByRole('region', { name: 'Generated sounds' });
    await waitFor(() => expect(list).toHaveAttribute('aria-busy', 'true'), LOADED);
    await expect(canvas.getByText('Page 2')).toBeVisible();
    // Still the first page, readable and playable.
    await expect(rowsOf(canvasElement)).toHaveLength(10);
    await expect(canvas.getAllByRole('button', { name: 'Play' })).toHaveLength(10);
  },
};

/** The same page change, answered after a moment: the next page replaces the busy one. */
export const NextPageArrives: Story = {
  parameters: {
    ...mswParameters({ seed: manyMockTaskSeeds(25), scenario: { slowMs: 300 } }),
    kling: { storage: rememberedStorage(manyMockTaskSeeds(25)) },
  },
  play: async ({ canvas, canvasElement, userEvent }) => {
    await waitFor(() => expect(rowsOf(canvasElement)).toHaveLength(10), LOADED);
    await userEvent.selectOptions(canvas.getByRole('combobox', { name: 'Per page' }), '50');
    const list = canvas.getByRole('region', { name: 'Generated sounds' });
    await waitFor(() => expect(rowsOf(canvasElement)).toHaveLength(25), LOADED);
    await expect(list).not.toHaveAttribute('aria-busy');
  },
};

/** Nothing generated yet. */
export const Empty: Story = {
  parameters: mswParameters({ seed: [] }),
  play: async ({ canvas }) => {
    await expect(await canvas.findByText('No sounds yet. Generated sounds appear here.')).toBeVisible();
  },
};

/**
 * 500 sounds on one page (the vendor's maximum). The first screenful has its players; the other rows
 * hold their place and mount a player when scrolled near (which then loads nothing until seen).
 */
export const LongList: Story = {
  args: { defaultPageSize: 500 },
  parameters: {
    ...mswParameters({ seed: manyMockTaskSeeds(500) }),
    // This browser made the newest 200 (what it remembers at most); the older ones were made elsewhere.
    kling: { storage: rememberedStorage(manyMockTaskSeeds(500)) },
  },
  play: async ({ canvasElement }) => {
    await waitFor(() => expect(rowsOf(canvasElement)).toHaveLength(500), { timeout: 10_000 });
    const last = rowsOf(canvasElement)[499]!;
    await expect(last.querySelector('.rka-AudioResultPlayer')).toBeNull();
    await expect(canvasElement.querySelectorAll('.rka-AudioResultPlayer').length).toBeLessThan(50);
    last.scrollIntoView();
    await waitFor(() => expect(last.querySelector('.rka-AudioResultPlayer')).not.toBeNull(), LOADED);
  },
};

/** The history could not be loaded: the reason in plain words and a retry that works. */
export const LoadError: Story = {
  parameters: mswParameters({ scenario: { listError: { code: 1000, times: 1 } } }),
  play: async ({ canvas, canvasElement, userEvent }) => {
    const alert = await canvas.findByRole('alert');
    await expect(alert).toHaveTextContent('The history could not be loaded.');
    await userEvent.click(within(alert).getByRole('button', { name: 'Try again' }));
    await waitFor(() => expect(rowsOf(canvasElement)).toHaveLength(8), LOADED);
  },
};

/** Rate limited (1303) on every try. */
export const RateLimited: Story = {
  parameters: mswParameters({ scenario: { listError: { code: 1303 } } }),
  play: async ({ canvas }) => {
    await expect(await canvas.findByRole('alert', {}, { timeout: 8000 })).toHaveTextContent(
      'Too many sounds are being generated at once',
    );
  },
};

/** The network is down. */
export const NetworkDown: Story = {
  parameters: {
    msw: {
      handlers: [http.all(`*${STORY_BASE_URL}/*`, () => HttpResponse.error()), ...storyBackend().handlers],
    },
  },
  play: async ({ canvas }) => {
    await expect(await canvas.findByRole('alert', {}, { timeout: 8000 })).toHaveTextContent(
      'Could not reach the server',
    );
  },
};

/** The dark tokens. */
export const Dark: Story = {
  ...Selected,
  globals: { theme: 'dark' },
};

/** Every string replaced (here in German), with the locale's dates and numbers. */
export const CustomMessages: Story = {
  args: {
    messages: {
      listLabel: 'Erzeugte Klänge',
      listPagination: 'Seiten',
      listPrevious: 'Vorherige Seite',
      listNext: 'Nächste Seite',
      listPage: (pageNum) => `Seite ${pageNum}`,
      listPageSize: 'Pro Seite',
      untitledTask: (taskId) => `Aufgabe ${taskId}`,
      status: (status) =>
        ({
          queued: 'Wartet',
          submitted: 'Wartet',
          processing: 'Wird erzeugt',
          succeed: 'Fertig',
          failed: 'Fehlgeschlagen',
        })[status],
      duration: (value) => `${String(value).replace('.', ',')} s`,
    },
  },
  parameters: { kling: { locale: 'de-DE' } },
  play: async ({ canvas }) => {
    await expect(await canvas.findByRole('heading', { name: 'Erzeugte Klänge' })).toBeVisible();
    await expect(await canvas.findAllByText('Fertig')).not.toHaveLength(0);
  },
};

/** A phone (320 px wide). */
export const Mobile: Story = {
  globals: { viewport: { value: 'mobile1', isRotated: false } },
  parameters: { maxWidth: 320 },
};
