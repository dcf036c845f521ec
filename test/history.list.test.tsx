import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { http, HttpResponse } from 'msw';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AudioTaskList, TextToAudioStudio } from '../src';
import type { MockKlingBackend, MockTaskSeed } from '../src/mocks';
import { BASE_URL, fakeMediaPlayback, renderWithProvider, useMockBackend } from './render';
import { server } from './server';

const SEEDS: MockTaskSeed[] = [
  { taskId: '780000000000000001', prompt: 'Door creak in an old house', duration: 3, starred: true },
  { taskId: '780000000000000002', prompt: 'Rain on a tin roof', duration: 6, title: 'Storm take' },
  { taskId: '780000000000000003', prompt: '100% wet footsteps_on_gravel', duration: 4 },
  { taskId: '780000000000000004', prompt: 'Glass bottle clink', duration: 3.5 },
];
const TAKES: MockTaskSeed[] = [
  { taskId: '790000000000000001', prompt: 'Sword unsheathed', duration: 3, groupId: 'g1' },
  { taskId: '790000000000000002', prompt: 'Sword unsheathed', duration: 3, groupId: 'g1', starred: true },
  { taskId: '790000000000000003', prompt: 'Sword unsheathed', duration: 3, groupId: 'g1' },
];
const FOREVER = 3_600_000;

const list = () => document.querySelector<HTMLElement>('.rka-AudioTaskList')!;
const rows = () => [...document.querySelectorAll<HTMLElement>('[role="row"][data-task-id]')];
const rowIds = () => rows().map((row) => row.dataset.taskId);
const row = (taskId: string) =>
  document.querySelector<HTMLElement>(`[role="row"][data-task-id="${taskId}"]`)!;
const sent = (backend: MockKlingBackend, method: string) =>
  backend.requests.filter((r) => r.method === method);
const useRecordsBackend = (options: Parameters<typeof useMockBackend>[0] = {}) =>
  useMockBackend({ seed: SEEDS, records: true, ...options });

afterEach(() => vi.restoreAllMocks());

async function openMenu(taskId: string, name: string) {
  const user = userEvent.setup();
  await user.click(within(row(taskId)).getByRole('button', { name: /^More actions for / }));
  await user.click(screen.getByRole('menuitem', { name }));
  return user;
}

describe('AudioTaskList: delete with Undo', () => {
  it('hides the row, offers Undo, and Undo brings it back without any delete sent', async () => {
    const backend = useRecordsBackend();
    renderWithProvider(<AudioTaskList undoMs={FOREVER} />);
    await waitFor(() => expect(rows()).toHaveLength(4));
    const user = await openMenu('780000000000000003', 'Delete');

    expect(rowIds()).not.toContain('780000000000000003');
    expect(
      screen.getByText('Deleted 100% wet footsteps_on_gravel').closest('[role="status"]'),
    ).not.toBeNull();
    // Focus went on to the next row's name.
    expect(
      within(row('780000000000000004')).getByRole('button', { name: 'Glass bottle clink' }),
    ).toHaveFocus();

    await user.click(screen.getByRole('button', { name: 'Undo' }));
    expect(rowIds()).toEqual(SEEDS.map((seed) => seed.taskId));
    expect(screen.queryByRole('button', { name: 'Undo' })).toBeNull();
    expect(sent(backend, 'DELETE')).toHaveLength(0);
    expect(backend.tasks).toHaveLength(4);
  });

  it('sends the delete once the Undo moment has passed, and the task is gone on the server', async () => {
    const backend = useRecordsBackend();
    const onDelete = vi.fn();
    renderWithProvider(<AudioTaskList undoMs={30} onDelete={onDelete} />);
    await waitFor(() => expect(rows()).toHaveLength(4));
    await openMenu('780000000000000002', 'Delete');
    await waitFor(() => expect(sent(backend, 'DELETE')).toHaveLength(1));
    expect(new URL(sent(backend, 'DELETE')[0]!.url).pathname).toBe(
      `${BASE_URL}/v1/audio/text-to-audio/780000000000000002`,
    );
    await waitFor(() => expect(screen.queryByRole('button', { name: 'Undo' })).toBeNull());
    expect(backend.tasks.map((task) => task.taskId)).not.toContain('780000000000000002');
    expect(rowIds()).not.toContain('780000000000000002');
    expect(onDelete).toHaveBeenCalledWith([expect.objectContaining({ taskId: '780000000000000002' })]);
  });

  it('puts the row back and says so when the server refuses the delete', async () => {
    const backend = useRecordsBackend();
    server.use(
      http.delete(`*${BASE_URL}/v1/audio/text-to-audio/:id`, () =>
        HttpResponse.json({ code: 5000, message: 'internal error' }, { status: 500 }),
      ),
    );
    renderWithProvider(<AudioTaskList undoMs={10} />);
    await waitFor(() => expect(rows()).toHaveLength(4));
    await openMenu('780000000000000004', 'Delete');
    expect(await screen.findByRole('alert')).toHaveTextContent('That did not work.');
    await waitFor(() => expect(rowIds()).toContain('780000000000000004'));
    expect(backend.tasks).toHaveLength(4);
  });
});

describe('AudioTaskList: star, rename, search', () => {
  it('stars at once (aria-pressed) and keeps it on the server', async () => {
    const backend = useRecordsBackend();
    renderWithProvider(<AudioTaskList />);
    await waitFor(() => expect(rows()).toHaveLength(4));
    const star = within(row('780000000000000004')).getByRole('button', { name: 'Star Glass bottle clink' });
    expect(star).toHaveAttribute('aria-pressed', 'false');
    await userEvent.setup().click(star);
    expect(star).toHaveAttribute('aria-pressed', 'true');
    await waitFor(() =>
      expect(backend.tasks.find((t) => t.taskId === '780000000000000004')!.starred).toBe(true),
    );
  });

  it('takes an optimistic star back when the server answers 500, and says so', async () => {
    useRecordsBackend();
    server.use(
      http.patch(`*${BASE_URL}/v1/audio/text-to-audio/:id`, () =>
        HttpResponse.json({ code: 5000, message: 'internal error' }, { status: 500 }),
      ),
    );
    renderWithProvider(<AudioTaskList />);
    await waitFor(() => expect(rows()).toHaveLength(4));
    const star = within(row('780000000000000001')).getByRole('button', { name: /^Star / });
    expect(star).toHaveAttribute('aria-pressed', 'true');
    await userEvent.setup().click(star);
    expect(await screen.findByRole('alert')).toHaveTextContent('That did not work.');
    await waitFor(() =>
      expect(within(row('780000000000000001')).getByRole('button', { name: /^Star / })).toHaveAttribute(
        'aria-pressed',
        'true',
      ),
    );
  });

  it('renames inline: Escape cancels, Enter saves and announces, focus comes back to the name', async () => {
    const backend = useRecordsBackend();
    renderWithProvider(<AudioTaskList />);
    await waitFor(() => expect(rows()).toHaveLength(4));
    let user = await openMenu('780000000000000004', 'Rename');
    let field = within(row('780000000000000004')).getByRole('textbox', { name: 'Name' });
    expect(field).toHaveFocus();
    await user.type(field, 'Nope{Escape}');
    expect(
      within(row('780000000000000004')).getByRole('button', { name: 'Glass bottle clink' }),
    ).toHaveFocus();
    expect(sent(backend, 'PATCH')).toHaveLength(0);

    user = await openMenu('780000000000000004', 'Rename');
    field = within(row('780000000000000004')).getByRole('textbox', { name: 'Name' });
    await user.clear(field);
    await user.type(field, '  Clink!  {Enter}');
    expect(within(row('780000000000000004')).getByRole('button', { name: 'Clink!' })).toHaveFocus();
    // The prompt stays visible under the new name.
    expect(within(row('780000000000000004')).getByText('Glass bottle clink')).toBeInTheDocument();
    await waitFor(() => expect(screen.getByText('Renamed to Clink!')).toBeInTheDocument());
    expect(sent(backend, 'PATCH').map((r) => r.body)).toEqual([{ title: 'Clink!' }]);
  });

  it('searches once typing pauses, says how many match, and shows "No sounds match" with a way back', async () => {
    const backend = useRecordsBackend();
    renderWithProvider(<AudioTaskList />);
    await waitFor(() => expect(rows()).toHaveLength(4));
    const user = userEvent.setup();
    const search = screen.getByRole('searchbox', { name: 'Search sounds' });
    await user.type(search, '100%');
    await waitFor(() => expect(rowIds()).toEqual(['780000000000000003']));
    expect(screen.getByText('1 sound on this page')).toBeInTheDocument();
    // One search for the whole word, not one per key.
    const searches = backend.requests.map((r) => new URL(r.url).searchParams.get('q')).filter(Boolean);
    expect(searches).toEqual(['100%']);

    await user.clear(search);
    await user.type(search, 'storm');
    await waitFor(() => expect(rowIds()).toEqual(['780000000000000002']));

    await user.clear(search);
    await user.type(search, 'thunder');
    await waitFor(() => expect(list()).toHaveAttribute('data-state', 'no-match'));
    expect(screen.getAllByText('No sounds match').length).toBeGreaterThan(0);
    await user.click(screen.getByRole('button', { name: 'Clear the search' }));
    await waitFor(() => expect(rows()).toHaveLength(4));
    expect(search).toHaveValue('');
  });

  it('shows starred sounds only with the Starred filter', async () => {
    const backend = useRecordsBackend();
    renderWithProvider(<AudioTaskList />);
    await waitFor(() => expect(rows()).toHaveLength(4));
    await userEvent.setup().click(screen.getByRole('button', { name: 'Starred' }));
    await waitFor(() => expect(rowIds()).toEqual(['780000000000000001']));
    expect(screen.getByRole('button', { name: 'Starred' })).toHaveAttribute('aria-pressed', 'true');
    expect(new URL(backend.requests.at(-1)!.url).searchParams.get('starred')).toBe('true');
  });
});

describe('AudioTaskList: takes', () => {
  it('shows a group together, and "Discard the others" deletes the takes not kept', async () => {
    const backend = useMockBackend({ seed: [...TAKES, ...SEEDS], records: true });
    renderWithProvider(<AudioTaskList undoMs={20} />);
    await waitFor(() => expect(rows()).toHaveLength(7));
    const group = screen.getByRole('rowgroup', { name: '3 takes of Sword unsheathed' });
    expect(within(group).getAllByRole('button', { name: /^Keep Take \d$/ })).toHaveLength(3);
    expect(within(group).getByRole('button', { name: 'Keep Take 2' })).toHaveAttribute(
      'aria-pressed',
      'true',
    );

    await userEvent.setup().click(within(group).getByRole('button', { name: 'Discard the others' }));
    await waitFor(() => expect(sent(backend, 'DELETE')).toHaveLength(2));
    await waitFor(() => expect(backend.tasks).toHaveLength(5));
    expect(backend.tasks.map((t) => t.taskId)).toContain('790000000000000002');
    expect(screen.queryByRole('rowgroup')).toBeNull();
  });

  it('makes takes from a row’s menu: one group, each once, and hands them to onCreated', async () => {
    const backend = useRecordsBackend();
    const onCreated = vi.fn();
    renderWithProvider(<AudioTaskList takesCount={2} onCreated={onCreated} />);
    await waitFor(() => expect(rows()).toHaveLength(4));
    await openMenu('780000000000000004', 'Make 2 takes');
    await waitFor(() => expect(onCreated).toHaveBeenCalledTimes(1));
    const made = onCreated.mock.calls[0]![0] as { taskId: string; groupId: string }[];
    expect(made).toHaveLength(2);
    expect(sent(backend, 'POST').map((r) => (r.body as { prompt: string }).prompt)).toEqual([
      'Glass bottle clink',
      'Glass bottle clink',
    ]);
    await waitFor(() =>
      expect(screen.getByRole('rowgroup', { name: '2 takes of Glass bottle clink' })).toBeVisible(),
    );
  });
});

describe('TextToAudioStudio: the history’s actions', () => {
  it('reuses a prompt in the form, makes a regenerated sound current, and clears a deleted current one', async () => {
    fakeMediaPlayback();
    const backend = useRecordsBackend();
    renderWithProvider(<TextToAudioStudio listProps={{ undoMs: 10 }} />);
    await waitFor(() => expect(rows()).toHaveLength(4));

    await openMenu('780000000000000002', 'Reuse the prompt');
    const prompt = screen.getByRole('textbox', { name: 'Describe the sound' });
    expect(prompt).toHaveValue('Rain on a tin roof');
    expect(prompt).toHaveFocus();
    expect(screen.getByRole('spinbutton', { name: /Duration/ })).toHaveValue(6);

    await openMenu('780000000000000004', 'Generate again');
    await waitFor(() => expect(sent(backend, 'POST')).toHaveLength(1));
    const made = backend.tasks[0]!.taskId;
    await waitFor(() =>
      expect(within(row(made)).getByRole('button', { name: 'Glass bottle clink' })).toHaveAttribute(
        'aria-current',
        'true',
      ),
    );

    await openMenu(made, 'Delete');
    await waitFor(() =>
      expect(screen.getByText('Describe a sound and generate it: it will appear here.')).toBeVisible(),
    );
    await waitFor(() => expect(sent(backend, 'DELETE')).toHaveLength(1));
  });
});
