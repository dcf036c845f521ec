import { act, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AudioTaskList, SoundPromptForm, type AudioTask } from '../src';
import { KLING_ERROR_CODES } from '../src/api/errors';
import { CONTENT_SAFETY_REASON, manyMockTaskSeeds, MOCK_TASK_IDS, mockTaskSeeds } from '../src/mocks';
import type { MockKlingBackend } from '../src/mocks';
import { keepPlayersOffscreen, renderWithProvider, useMockBackend } from './render';
import { server } from './server';

const listRequests = (backend: MockKlingBackend) =>
  backend.requests
    .filter((r) => r.method === 'GET' && new URL(r.url).searchParams.has('pageNum'))
    .map((r) => {
      const params = new URL(r.url).searchParams;
      return `${params.get('pageNum')}/${params.get('pageSize')}`;
    });

const list = () => screen.getByRole('region', { name: 'Generated sounds' });
const rows = () => within(list()).queryAllByRole('listitem');
const rowTitles = () =>
  rows().map((row) => row.querySelector('[data-part="title"], [data-part="select"]')!.textContent);
const previous = () => screen.getByRole('button', { name: 'Previous page' });
const next = () => screen.getByRole('button', { name: 'Next page' });
const seedId = (n: number) => `77${String(n).padStart(16, '0')}`;

afterEach(() => vi.unstubAllGlobals());

describe('AudioTaskList paging', () => {
  it('pages forward and back; the buttons are unavailable at the ends', async () => {
    keepPlayersOffscreen();
    const backend = useMockBackend({ seed: manyMockTaskSeeds(25) });
    renderWithProvider(<AudioTaskList defaultPageSize={10} />);
    const user = userEvent.setup();

    await waitFor(() => expect(rows()).toHaveLength(10));
    expect(rowTitles()[0]).toBe(`Task ${seedId(1)}`);
    expect(previous()).toHaveAttribute('aria-disabled', 'true');
    expect(next()).not.toHaveAttribute('aria-disabled');
    expect(screen.getByText('Page 1')).toBeInTheDocument();

    await user.click(next());
    await waitFor(() => expect(rowTitles()[0]).toBe(`Task ${seedId(11)}`));
    expect(rows()).toHaveLength(10);
    expect(screen.getByText('Page 2')).toBeInTheDocument();
    expect(previous()).not.toHaveAttribute('aria-disabled');

    await user.click(next());
    await waitFor(() => expect(rows()).toHaveLength(5));
    expect(rowTitles().at(-1)).toBe(`Task ${seedId(25)}`);
    expect(next()).toHaveAttribute('aria-disabled', 'true');
    // Pressing an unavailable button does nothing.
    await user.click(next());
    expect(screen.getByText('Page 3')).toBeInTheDocument();

    await user.click(previous());
    await waitFor(() => expect(rowTitles()[0]).toBe(`Task ${seedId(11)}`));
    await user.click(previous());
    await waitFor(() => expect(rowTitles()[0]).toBe(`Task ${seedId(1)}`));
    expect(previous()).toHaveAttribute('aria-disabled', 'true');
    await user.click(previous());
    expect(screen.getByText('Page 1')).toBeInTheDocument();

    const asked = listRequests(backend);
    expect(asked).toEqual(expect.arrayContaining(['1/10', '2/10', '3/10']));
    expect(asked.every((request) => /^[123]\/10$/.test(request))).toBe(true);
  });

  it('changes the page size and goes back to page 1', async () => {
    keepPlayersOffscreen();
    const backend = useMockBackend({ seed: manyMockTaskSeeds(25) });
    const onPageSizeChange = vi.fn();
    renderWithProvider(<AudioTaskList defaultPageSize={10} onPageSizeChange={onPageSizeChange} />);
    const user = userEvent.setup();
    await waitFor(() => expect(rows()).toHaveLength(10));
    await user.click(next());
    await waitFor(() => expect(screen.getByText('Page 2')).toBeInTheDocument());

    const select = screen.getByRole('combobox', { name: 'Per page' });
    expect(
      within(select)
        .getAllByRole('option')
        .map((o) => o.textContent),
    ).toEqual(['10', '30', '50', '100']);
    await user.selectOptions(select, '30');
    await waitFor(() => expect(rows()).toHaveLength(25));
    expect(screen.getByText('Page 1')).toBeInTheDocument();
    expect(onPageSizeChange).toHaveBeenCalledWith(30);
    expect(previous()).toHaveAttribute('aria-disabled', 'true');
    expect(next()).toHaveAttribute('aria-disabled', 'true');
    expect(listRequests(backend)).toContain('1/30');
  });

  it('keeps the previous page on screen, marked busy, while the next one loads', async () => {
    keepPlayersOffscreen();
    const backend = useMockBackend({ seed: manyMockTaskSeeds(25) });
    renderWithProvider(<AudioTaskList defaultPageSize={10} />);
    const user = userEvent.setup();
    await waitFor(() => expect(rows()).toHaveLength(10));
    // Let the prefetch of page 2 settle, then make page 3 slow.
    await waitFor(() => expect(listRequests(backend)).toContain('2/10'));
    await user.click(next());
    await waitFor(() => expect(rowTitles()[0]).toBe(`Task ${seedId(11)}`));
    await waitFor(() => expect(listRequests(backend)).toContain('3/10'));
    backend.setScenario({ slowMs: 300 });
    await user.click(previous());
    await user.click(next());
    // Page 2 is cached; page 3 was prefetched. Go to a page size never asked for, which must load.
    await user.selectOptions(screen.getByRole('combobox', { name: 'Per page' }), '50');
    expect(list()).toHaveAttribute('aria-busy', 'true');
    expect(rows().length).toBeGreaterThan(0);
    await waitFor(() => expect(rows()).toHaveLength(25));
    expect(list()).not.toHaveAttribute('aria-busy');
  });

  it('works with a controlled page and a fixed page size (no page-size choice then)', async () => {
    keepPlayersOffscreen();
    useMockBackend({ seed: manyMockTaskSeeds(12) });
    const onPageNumChange = vi.fn();
    renderWithProvider(<AudioTaskList pageSize={5} pageNum={2} onPageNumChange={onPageNumChange} />);
    await waitFor(() => expect(rowTitles()[0]).toBe(`Task ${seedId(6)}`));
    expect(screen.queryByRole('combobox', { name: 'Per page' })).not.toBeInTheDocument();
    await userEvent.setup().click(next());
    expect(onPageNumChange).toHaveBeenCalledWith(3);
    // The parent did not move: still page 2.
    expect(rowTitles()[0]).toBe(`Task ${seedId(6)}`);
  });
});

describe('AudioTaskList rows', () => {
  it('shows status badges, time, duration, the failure reason and a player for finished sounds', async () => {
    keepPlayersOffscreen();
    useMockBackend({ seed: mockTaskSeeds });
    renderWithProvider(<AudioTaskList />);
    await waitFor(() => expect(rows()).toHaveLength(mockTaskSeeds.length));

    const byId = (id: string) => rows().find((row) => row.textContent!.includes(`Task ${id}`))!;
    const pending = byId(MOCK_TASK_IDS.pending);
    expect(pending).toHaveAttribute('data-status', 'processing');
    expect(within(pending).getByText('Generating')).toHaveAttribute('data-status', 'processing');
    expect(within(pending).queryByRole('button', { name: 'Play' })).not.toBeInTheDocument();

    const failed = byId(MOCK_TASK_IDS.failed);
    expect(failed).toHaveAttribute('data-status', 'failed');
    expect(within(failed).getByText('Failed')).toBeInTheDocument();
    expect(within(failed).getByText(CONTENT_SAFETY_REASON)).toBeInTheDocument();

    const done = byId(MOCK_TASK_IDS.rain);
    expect(done).toHaveAttribute('data-status', 'succeed');
    expect(within(done).getAllByText('Ready').length).toBeGreaterThan(0);
    expect(within(done).getByText('10 s')).toBeInTheDocument();
    const time = done.querySelector('time')!;
    expect(new Date(time.getAttribute('dateTime')!).getTime()).toBeGreaterThan(Date.now() - 3_600_000);
    expect(time.textContent).toMatch(/\d/);
    expect(within(done).getByRole('button', { name: 'Play' })).toBeInTheDocument();
  });

  it('shows the prompt of a task this browser created', async () => {
    keepPlayersOffscreen();
    useMockBackend({ seed: manyMockTaskSeeds(2) });
    renderWithProvider(
      <>
        <SoundPromptForm />
        <AudioTaskList />
      </>,
    );
    await waitFor(() => expect(rows()).toHaveLength(2));
    const user = userEvent.setup();
    await user.type(screen.getByRole('textbox', { name: 'Describe the sound' }), 'Wind chimes at dusk');
    await user.click(screen.getByRole('button', { name: 'Generate sound' }));
    await waitFor(() => expect(rowTitles()[0]).toBe('Wind chimes at dusk'));
    expect(rows()[0]).toHaveAttribute('data-status', 'submitted');
    expect(within(rows()[0]!).getByText('5 s')).toBeInTheDocument();
    // It refreshes itself while a task on the page is pending.
    await waitFor(() => expect(rows()[0]).toHaveAttribute('data-status', 'succeed'), { timeout: 3000 });
  });

  it('calls onSelect with the task, by mouse or keyboard, and marks the selected row', async () => {
    keepPlayersOffscreen();
    useMockBackend({ seed: mockTaskSeeds });
    const picked: AudioTask[] = [];
    renderWithProvider(
      <AudioTaskList onSelect={(task) => picked.push(task)} selectedTaskId={MOCK_TASK_IDS.bell} />,
    );
    await waitFor(() => expect(rows()).toHaveLength(mockTaskSeeds.length));
    const user = userEvent.setup();

    const bell = screen.getByRole('button', { name: `Task ${MOCK_TASK_IDS.bell}` });
    expect(bell).toHaveAttribute('aria-current', 'true');
    expect(bell.closest('li')).toHaveAttribute('data-selected');

    await user.click(screen.getByRole('button', { name: `Task ${MOCK_TASK_IDS.rain}` }));
    expect(picked.map((task) => task.taskId)).toEqual([MOCK_TASK_IDS.rain]);
    expect(picked[0]).toMatchObject({
      status: 'succeed',
      audios: [expect.objectContaining({ wavDuration: 10 })],
    });

    screen.getByRole('button', { name: `Task ${MOCK_TASK_IDS.failed}` }).focus();
    await user.keyboard('{Enter}');
    await user.keyboard(' ');
    expect(picked.map((task) => task.taskId)).toEqual([
      MOCK_TASK_IDS.rain,
      MOCK_TASK_IDS.failed,
      MOCK_TASK_IDS.failed,
    ]);
  });

  it('has no row buttons without onSelect', async () => {
    keepPlayersOffscreen();
    useMockBackend({ seed: mockTaskSeeds.slice(1, 2) });
    renderWithProvider(<AudioTaskList />);
    await waitFor(() => expect(rows()).toHaveLength(1));
    expect(
      within(rows()[0]!).queryByRole('button', { name: `Task ${MOCK_TASK_IDS.fireworks}` }),
    ).not.toBeInTheDocument();
  });
});

describe('AudioTaskList states', () => {
  it('says when there is nothing yet', async () => {
    useMockBackend();
    renderWithProvider(<AudioTaskList />);
    expect(await screen.findByText('No sounds yet. Generated sounds appear here.')).toBeInTheDocument();
    expect(list()).toHaveAttribute('data-state', 'empty');
    expect(screen.queryByRole('navigation')).not.toBeInTheDocument();
  });

  it('shows a loading state first', async () => {
    useMockBackend({ scenario: { slowMs: 200 } });
    renderWithProvider(<AudioTaskList />);
    expect(screen.getByRole('status')).toHaveTextContent('Loading sounds…');
    expect(list()).toHaveAttribute('data-state', 'loading');
    await waitFor(() => expect(list()).toHaveAttribute('data-state', 'empty'));
  });

  it('shows an error in plain words with a retry that works', async () => {
    keepPlayersOffscreen();
    // 1000 (the server's credential) is not worth retrying, so the error shows at once.
    const backend = useMockBackend({ seed: mockTaskSeeds, scenario: { listError: { code: 1000 } } });
    renderWithProvider(<AudioTaskList />);
    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent('The history could not be loaded.');
    expect(alert).toHaveTextContent(KLING_ERROR_CODES[1000].message);
    expect(list()).toHaveAttribute('data-state', 'error');

    backend.setScenario({ listError: undefined });
    await userEvent.setup().click(within(alert).getByRole('button', { name: 'Try again' }));
    await waitFor(() => expect(rows()).toHaveLength(mockTaskSeeds.length));
    expect(screen.queryByRole('alert')).not.toBeInTheDocument();
  });

  it('renders a 500-task page with players only near the viewport, fetching nothing off screen', async () => {
    keepPlayersOffscreen();
    const backend = useMockBackend({ seed: manyMockTaskSeeds(500) });
    const audioRequests: string[] = [];
    server.events.on('request:start', ({ request }) => {
      if (/\.(mp3|wav)$/.test(new URL(request.url).pathname)) audioRequests.push(request.url);
    });
    renderWithProvider(<AudioTaskList defaultPageSize={500} />);
    await waitFor(() => expect(rows()).toHaveLength(500), { timeout: 10_000 });
    server.events.removeAllListeners();
    expect(rowTitles()[499]).toBe(`Task ${seedId(500)}`);
    // The first screenful has its players; the other rows hold their place until they come near.
    expect(within(list()).getAllByRole('button', { name: 'Play' })).toHaveLength(10);
    expect(within(rows()[10]!).queryByRole('button', { name: 'Play' })).not.toBeInTheDocument();
    expect(list().querySelectorAll('[data-part="player-placeholder"]')).toHaveLength(490);
    expect(audioRequests).toEqual([]);
    expect(listRequests(backend)).toEqual(['1/500', '2/500']);
  }, 30_000); // 500 rows: seconds of jsdom DOM work on a busy 2-core machine.

  it("mounts a row's player when the row comes near the viewport, and keeps it", async () => {
    // One observer per list (rows) and one per player (loading): only the rows ever come near here.
    const watched = new Map<Element, IntersectionObserverCallback>();
    vi.stubGlobal(
      'IntersectionObserver',
      class {
        constructor(private callback: IntersectionObserverCallback) {}
        observe(target: Element) {
          watched.set(target, this.callback);
        }
        unobserve() {}
        disconnect() {}
      },
    );
    useMockBackend({ seed: manyMockTaskSeeds(30) });
    renderWithProvider(<AudioTaskList defaultPageSize={30} />);
    await waitFor(() => expect(rows()).toHaveLength(30));
    const row = rows()[20]!;
    expect(within(row).queryByRole('button', { name: 'Play' })).not.toBeInTheDocument();

    const placeholder = row.querySelector('[data-part="player-placeholder"]')!;
    const near = (isIntersecting: boolean) =>
      act(() =>
        watched.get(placeholder)!(
          [{ target: placeholder, isIntersecting } as unknown as IntersectionObserverEntry],
          {} as IntersectionObserver,
        ),
      );
    near(false);
    expect(within(row).queryByRole('button', { name: 'Play' })).not.toBeInTheDocument();
    near(true);
    expect(within(row).getByRole('button', { name: 'Play' })).toBeInTheDocument();
    // Its own lazy loading still applies: nothing has been fetched, the player waits to be seen.
    expect(row.querySelector('.rka-AudioResultPlayer')).toHaveAttribute('data-state', 'idle');
    expect(within(rows()[21]!).queryByRole('button', { name: 'Play' })).not.toBeInTheDocument();
  });

  it('passes className, native props and ref through; strings come from messages', async () => {
    useMockBackend();
    let node: HTMLElement | null = null;
    renderWithProvider(
      <AudioTaskList
        ref={(el) => void (node = el)}
        className="mine"
        data-testid="l"
        headingLevel={3}
        messages={{ listLabel: 'Your sounds', listEmpty: 'Nothing here' }}
      />,
    );
    expect(await screen.findByText('Nothing here')).toBeInTheDocument();
    const el = screen.getByTestId('l');
    expect(node).toBe(el);
    expect(el).toHaveClass('rka-AudioTaskList', 'mine');
    expect(screen.getByRole('heading', { level: 3, name: 'Your sounds' })).toBeInTheDocument();
    expect(screen.getByRole('region', { name: 'Your sounds' })).toBe(el);
  });
});
