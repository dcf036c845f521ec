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
const rowsOf = (canvasElement: HTMLElement) =>
  canvasElement.querySelectorAll<HTMLElement>('[role="row"][data-task-id]');
const rowOf = (canvasElement: HTMLElement, taskId: string) =>
  canvasElement.querySelector<HTMLElement>(`[role="row"][data-task-id="${taskId}"]`)!;

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
 * A page of history in compact rows: play/pause, the name, a small waveform (or a progress line while
 * generating), the length and the time, a star and an actions menu; the reason of a failure. Each name is
 * a button (`onSelect`).
 */
export const Default: Story = {
  play: async ({ canvas, canvasElement, args, userEvent }) => {
    await waitFor(() => expect(rowsOf(canvasElement)).toHaveLength(8), LOADED);
    const failed = canvasElement.querySelector('[role="row"][data-status="failed"]') as HTMLElement;
    await expect(within(failed).getByText(CONTENT_SAFETY_REASON)).toBeVisible();
    await expect(canvasElement.querySelector('[role="row"][data-status="processing"]')).not.toBeNull();
    await expect(canvas.getAllByRole('button', { name: /^Play / })).toHaveLength(6);

    await userEvent.click(canvas.getByRole('button', { name: 'Heavy rain on a tin roof' }));
    await expect(args.onSelect).toHaveBeenCalledWith(expect.objectContaining({ taskId: MOCK_TASK_IDS.rain }));
  },
};

/** One row marked as the selected one (`aria-current`), with the full player under it. */
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
    await expect(canvas.getByText('Loading sounds…')).toHaveAttribute('role', 'status');
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
// Page 2 is never answered, its prefetch included: the list prefetches the next page as soon as page 1
// arrives, so a backend made slow only after page 1 shows could already have answered it.
const pageTwoNeverAnswers = http.get(`${STORY_BASE_URL}/v1/audio/text-to-audio`, ({ request }) =>
  new URL(request.url).searchParams.get('pageNum') === '2' ? new Promise<never>(() => {}) : undefined,
);

/**
 * The previous page stays on screen, `aria-busy` with a moving bar (its text at full contrast), while a
 * slow next page loads. The story ends while it is still loading, so the accessibility check sees it.
 */
export const LoadingNextPage: Story = {
  parameters: {
    msw: { handlers: [pageTwoNeverAnswers, ...slowLater.handlers] },
    kling: { storage: rememberedStorage(manyMockTaskSeeds(25)) },
  },
  play: async ({ canvas, canvasElement, userEvent }) => {
    slowLater.setScenario({ slowMs: 0 });
    await waitFor(() => expect(rowsOf(canvasElement)).toHaveLength(10), LOADED);
    await userEvent.click(canvas.getByRole('button', { name: 'Next page' }));
    const list = canvas.getByRole('region', { name: 'Generated sounds' });
    await waitFor(() => expect(list).toHaveAttribute('aria-busy', 'true'), LOADED);
    await expect(canvas.getByText('Page 2')).toBeVisible();
    // Still the first page, readable and playable.
    await expect(rowsOf(canvasElement)).toHaveLength(10);
    await expect(canvas.getAllByRole('button', { name: /^Play / })).toHaveLength(10);
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
 * 500 sounds on one page (the vendor's maximum): 500 compact rows, one `<audio>` element for the whole
 * list, nothing fetched until a row is played; the grid is still one tab stop.
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
    await expect(canvasElement.querySelectorAll('.rka-AudioResultPlayer')).toHaveLength(0);
    await expect(canvasElement.querySelectorAll('[role="grid"] [tabindex="0"]')).toHaveLength(1);
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
      listPlay: (title) => `${title} abspielen`,
      listSearch: 'Klänge suchen',
      listStarredFilter: 'Markiert',
    },
  },
  parameters: { kling: { locale: 'de-DE' } },
  play: async ({ canvas }) => {
    await expect(await canvas.findByRole('heading', { name: 'Erzeugte Klänge' })).toBeVisible();
    await expect(await canvas.findAllByText('Wird erzeugt')).not.toHaveLength(0);
    await expect(canvas.getByRole('searchbox', { name: 'Klänge suchen' })).toBeVisible();
    await expect(canvas.getAllByRole('button', { name: /abspielen$/ })).not.toHaveLength(0);
  },
};

/** A phone (320 px wide). */
export const Mobile: Story = {
  globals: { viewport: { value: 'mobile1', isRotated: false } },
  parameters: { maxWidth: 320 },
};

// ---------------------------------------------------------------------------------------------------
// Managing the history: search, star, rename, delete with Undo, takes. The mock answers as the proxy
// with records does (prompts from the server), so these stories need no remembered prompts.

const HISTORY_SEEDS = [
  { taskId: '780000000000000001', prompt: 'Door creak in an old house', duration: 3, starred: true },
  { taskId: '780000000000000002', prompt: 'Rain on a tin roof', duration: 6, title: 'Storm take' },
  { taskId: '780000000000000003', prompt: '100% wet footsteps_on_gravel', duration: 4 },
  { taskId: '780000000000000004', prompt: 'Glass bottle clink', duration: 3.5, starred: true },
  { taskId: '780000000000000005', prompt: 'Cat purring softly', duration: 7 },
];
const history = (options: Parameters<typeof mswParameters>[0] = {}) => ({
  ...mswParameters({ seed: HISTORY_SEEDS, records: true, ...options }),
  kling: { storage: null },
});

/** A search with results: the words of the prompt or the name, case-insensitive; `%` and `_` are plain text. */
export const SearchWithResults: Story = {
  parameters: history(),
  play: async ({ canvas, canvasElement, userEvent }) => {
    await waitFor(() => expect(rowsOf(canvasElement)).toHaveLength(5), LOADED);
    await userEvent.type(canvas.getByRole('searchbox', { name: 'Search sounds' }), '100% WET');
    await waitFor(() => expect(rowsOf(canvasElement)).toHaveLength(1), LOADED);
    await expect(canvas.getByText('100% wet footsteps_on_gravel')).toBeVisible();
    await waitFor(() => expect(canvas.getByText('1 sound on this page')).toBeInTheDocument(), LOADED);
  },
};

/** A search without results: "No sounds match", and a way back. */
export const SearchWithoutResults: Story = {
  parameters: history(),
  play: async ({ canvas, canvasElement, userEvent }) => {
    await waitFor(() => expect(rowsOf(canvasElement)).toHaveLength(5), LOADED);
    await userEvent.type(canvas.getByRole('searchbox', { name: 'Search sounds' }), 'thunder');
    await expect(await canvas.findByText('No sounds match', { selector: 'p' }, LOADED)).toBeVisible();
    await expect(canvas.getByRole('button', { name: 'Clear the search' })).toBeVisible();
  },
};

/** The Starred filter: starred sounds only. */
export const StarredFilter: Story = {
  parameters: history(),
  play: async ({ canvas, canvasElement, userEvent }) => {
    await waitFor(() => expect(rowsOf(canvasElement)).toHaveLength(5), LOADED);
    const filter = canvas.getByRole('button', { name: 'Starred' });
    await userEvent.click(filter);
    await expect(filter).toHaveAttribute('aria-pressed', 'true');
    await waitFor(() => expect(rowsOf(canvasElement)).toHaveLength(2), LOADED);
    for (const row of rowsOf(canvasElement)) {
      await expect(within(row).getByRole('button', { name: /^Star / })).toHaveAttribute(
        'aria-pressed',
        'true',
      );
    }
  },
};

/** Rename inline from the actions menu (an APG menu button): Enter saves, focus comes back to the name. */
export const Rename: Story = {
  parameters: history(),
  play: async ({ canvas, canvasElement, userEvent }) => {
    await waitFor(() => expect(rowsOf(canvasElement)).toHaveLength(5), LOADED);
    const row = rowOf(canvasElement, '780000000000000005');
    await userEvent.click(within(row).getByRole('button', { name: 'More actions for Cat purring softly' }));
    const menu = await canvas.findByRole('menu');
    await expect(within(menu).getAllByRole('menuitem')[0]).toHaveFocus();
    await userEvent.click(within(menu).getByRole('menuitem', { name: 'Rename' }));
    const field = await within(row).findByRole('textbox', { name: 'Name' });
    await expect(field).toHaveFocus();
    await userEvent.clear(field);
    await userEvent.type(field, 'Sleepy cat{Enter}');
    await expect(await within(row).findByRole('button', { name: 'Sleepy cat' })).toHaveFocus();
    await waitFor(() => expect(canvas.getByText('Renamed to Sleepy cat')).toBeInTheDocument(), LOADED);
  },
};

/** The Undo moment after a delete: the row is gone, "Deleted …" with Undo, the delete not sent yet. */
export const UndoMoment: Story = {
  args: { undoMs: FOREVER },
  parameters: history(),
  play: async ({ canvas, canvasElement, userEvent }) => {
    await waitFor(() => expect(rowsOf(canvasElement)).toHaveLength(5), LOADED);
    const row = rowOf(canvasElement, '780000000000000003');
    await userEvent.click(within(row).getByRole('button', { name: /^More actions for 100% wet/ }));
    await userEvent.click(await canvas.findByRole('menuitem', { name: 'Delete' }));
    await waitFor(() => expect(rowsOf(canvasElement)).toHaveLength(4));
    await expect(canvas.getByText('Deleted 100% wet footsteps_on_gravel')).toBeVisible();
    await expect(canvas.getByRole('button', { name: 'Undo' })).toBeVisible();
    // Focus moved on to the next row.
    await expect(
      within(rowOf(canvasElement, '780000000000000004')).getByRole('button', { name: 'Glass bottle clink' }),
    ).toHaveFocus();
  },
};

/** Takes made together, side by side: Keep (the star) and "Discard the others". */
export const TakesGroup: Story = {
  parameters: history({
    seed: [
      { taskId: '790000000000000001', prompt: 'Sword unsheathed', duration: 3, groupId: 'g1', starred: true },
      { taskId: '790000000000000002', prompt: 'Sword unsheathed', duration: 3, groupId: 'g1' },
      { taskId: '790000000000000003', prompt: 'Sword unsheathed', duration: 3, groupId: 'g1' },
      ...HISTORY_SEEDS.slice(0, 2),
    ],
  }),
  play: async ({ canvas, canvasElement }) => {
    await waitFor(() => expect(rowsOf(canvasElement)).toHaveLength(5), LOADED);
    const group = canvas.getByRole('rowgroup', { name: '3 takes of Sword unsheathed' });
    // Numbered in the order they were made; the oldest (Take 1) is the kept one.
    for (const take of ['Take 1', 'Take 2', 'Take 3']) {
      await expect(within(group).getByRole('button', { name: `Keep ${take}` })).toBeVisible();
    }
    await expect(within(group).getByRole('button', { name: 'Keep Take 3' })).toHaveAttribute(
      'aria-pressed',
      'true',
    );
    await expect(within(group).getByRole('button', { name: 'Discard the others' })).toBeVisible();
  },
};

/**
 * The keyboard in Chromium: the grid is one tab stop; ↓/↑ move between rows in the same column, →/←
 * between cells, Home/End to the row's ends; Enter on the play cell plays, and the menu opens with Enter.
 */
export const Keyboard: Story = {
  args: { onSelect: undefined },
  parameters: history(),
  play: async ({ canvas, canvasElement, userEvent }) => {
    await waitFor(() => expect(rowsOf(canvasElement)).toHaveLength(5), LOADED);
    // From the control before the grid, Tab lands on the grid's one tab stop: its first cell.
    canvas.getByRole('button', { name: 'Starred' }).focus();
    await userEvent.tab();
    const first = rowOf(canvasElement, '780000000000000001');
    await expect(
      within(first).getByRole('button', { name: 'Play Door creak in an old house' }),
    ).toHaveFocus();
    await userEvent.keyboard('{ArrowDown}');
    const second = rowOf(canvasElement, '780000000000000002');
    await expect(within(second).getByRole('button', { name: 'Play Storm take' })).toHaveFocus();
    await userEvent.keyboard('{ArrowRight}');
    await expect(within(second).getByRole('button', { name: 'Storm take' })).toHaveFocus();
    await userEvent.keyboard('{End}');
    const menuButton = within(second).getByRole('button', { name: 'More actions for Storm take' });
    await expect(menuButton).toHaveFocus();
    // One tab stop: Tab leaves the grid for the pagination.
    await userEvent.tab();
    await expect(canvas.getByRole('button', { name: 'Previous page' })).toHaveFocus();
    await userEvent.tab({ shift: true });
    await expect(menuButton).toHaveFocus();
    await userEvent.keyboard('{Enter}');
    const menu = await canvas.findByRole('menu');
    await expect(within(menu).getAllByRole('menuitem')[0]).toHaveFocus();
    await userEvent.keyboard('{ArrowUp}');
    await expect(within(menu).getByRole('menuitem', { name: 'Delete' })).toHaveFocus();
    await userEvent.keyboard('{Escape}');
    await expect(canvas.queryByRole('menu')).toBeNull();
    await expect(menuButton).toHaveFocus();
    await userEvent.keyboard('{Home}{Enter}');
    await waitFor(
      () => expect(within(second).getByRole('button', { name: 'Pause Storm take' })).toBeInTheDocument(),
      LOADED,
    );
  },
};
