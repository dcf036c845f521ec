import { act, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { useState } from 'react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { TextToAudioStudio } from '../src';
import { MOCK_TASK_IDS, mockTaskSeeds } from '../src/mocks';
import {
  createMemoryStorage,
  createTestQueryClient,
  keepPlayersOffscreen,
  renderWithProvider,
  useMockBackend,
} from './render';

// Players stay "off screen" (no audio is loaded): these tests are about the studio's flow.
beforeEach(keepPlayersOffscreen);
afterEach(() => vi.unstubAllGlobals());

const studio = () => screen.getByRole('region', { name: 'Text to audio' });
const current = () => screen.getByRole('region', { name: 'Current sound' });
const history = () => screen.getByRole('region', { name: 'History' });
const announcer = () => studio().querySelector<HTMLElement>('[data-part="announcer"]')!;

/** Every text the live region showed, in order (a change is what a screen reader announces). */
function recordAnnouncements() {
  const seen: string[] = [];
  const observer = new MutationObserver(() => {
    const text = announcer().textContent ?? '';
    if (text !== seen.at(-1)) seen.push(text);
  });
  observer.observe(announcer(), { childList: true, characterData: true, subtree: true });
  return { seen, stop: () => observer.disconnect() };
}

async function generate(prompt: string) {
  const user = userEvent.setup();
  await user.type(screen.getByRole('textbox', { name: 'Describe the sound' }), prompt);
  await user.click(screen.getByRole('button', { name: 'Generate sound' }));
  return user;
}

describe('TextToAudioStudio', () => {
  it('starts idle, then shows a new sound as current, in the history, and announces each status once', async () => {
    const backend = useMockBackend({ timing: { submittedMs: 150, processingMs: 300 } });
    renderWithProvider(<TextToAudioStudio />);
    expect(studio()).toHaveAttribute('data-state', 'idle');
    expect(
      within(current()).getByText('Describe a sound and generate it: it will appear here.'),
    ).toBeVisible();
    expect(await within(history()).findByText('No sounds yet. Generated sounds appear here.')).toBeVisible();
    const { seen, stop } = recordAnnouncements();

    await generate('Owl hooting in a forest');
    await waitFor(() => expect(studio()).toHaveAttribute('data-state', 'submitted'));
    expect(within(current()).getAllByText('Owl hooting in a forest').length).toBeGreaterThan(0);
    const taskId = backend.tasks[0]!.taskId;
    await waitFor(() =>
      expect(within(history()).getByRole('button', { name: 'Owl hooting in a forest' })).toHaveAttribute(
        'aria-current',
        'true',
      ),
    );

    await waitFor(() => expect(studio()).toHaveAttribute('data-state', 'succeed'), { timeout: 3000 });
    // Polls keep coming while pending; the announcement changes only with the status.
    stop();
    expect(seen).toEqual([
      'Queued: Owl hooting in a forest',
      'Generating: Owl hooting in a forest',
      'Ready to play: Owl hooting in a forest',
    ]);
    expect(within(current()).getByRole('button', { name: 'Play' })).toBeInTheDocument();
    // The studio's announcer speaks for the task: the current player and the history rows stay quiet (the
    // form's own region speaks only of a create waiting to retry, and is silent here).
    // The history's own regions speak only of what the person does there (a search, a rename, a delete).
    const ownParts = ['wait', 'live', 'undo'];
    const regions = within(studio()).getAllByRole('status');
    expect(regions.filter((region) => !ownParts.includes(region.dataset.part!))).toEqual([announcer()]);
    expect(history().querySelector('[data-part="live"]')).toHaveTextContent('');
    expect(history().querySelector('[data-part="undo"]')).toHaveTextContent('');
    expect(studio().querySelector('[data-part="wait"]')).toHaveTextContent('');
    expect(current().querySelectorAll('[aria-live], [role="status"]')).toHaveLength(0);
    expect(history().querySelectorAll('[role="row"] [aria-live], [role="row"] [role="status"]')).toHaveLength(
      0,
    );
    expect(backend.requests.filter((r) => r.method === 'POST')).toHaveLength(1);
    expect(backend.tasks[0]!.taskId).toBe(taskId);
  });

  it('announces a failure with its reason', async () => {
    useMockBackend({ timing: { submittedMs: 20, processingMs: 40 } });
    renderWithProvider(<TextToAudioStudio />);
    await generate('A forbidden noise');
    await waitFor(() => expect(studio()).toHaveAttribute('data-state', 'failed'), { timeout: 3000 });
    expect(announcer()).toHaveTextContent(
      /^Failed: A forbidden noise\. Failure to pass the risk control system/,
    );
  });

  it('survives a reload: the newest pending task comes back as the current one', async () => {
    const backend = useMockBackend({ timing: { submittedMs: 300, processingMs: 600 } });
    const storage = createMemoryStorage();
    const first = renderWithProvider(<TextToAudioStudio />, { storage });
    await generate('Distant church bells');
    await waitFor(() => expect(studio()).toHaveAttribute('data-state', 'submitted'));
    // "Reload": a new page with a new cache; only the storage is left.
    first.unmount();

    const onTaskIdChange = vi.fn();
    renderWithProvider(<TextToAudioStudio onTaskIdChange={onTaskIdChange} />, {
      storage,
      queryClient: createTestQueryClient(),
    });
    const taskId = backend.tasks[0]!.taskId;
    await waitFor(() => expect(onTaskIdChange).toHaveBeenCalledWith(taskId));
    await waitFor(() =>
      expect(within(current()).getAllByText('Distant church bells').length).toBeGreaterThan(0),
    );
    await waitFor(() => expect(studio()).toHaveAttribute('data-state', 'succeed'), { timeout: 3000 });
    // Once finished it leaves the pending list, and stays the current sound.
    expect(JSON.parse(storage.getItem('rka:pending') ?? '[]')).toEqual([]);
    expect(announcer()).toHaveTextContent('Ready to play: Distant church bells');
  });

  it('does not resume with resume={false}', async () => {
    useMockBackend({ timing: { submittedMs: 5000, processingMs: 5000 } });
    const storage = createMemoryStorage();
    const first = renderWithProvider(<TextToAudioStudio />, { storage });
    await generate('Rain');
    await waitFor(() => expect(studio()).toHaveAttribute('data-state', 'submitted'));
    first.unmount();
    renderWithProvider(<TextToAudioStudio resume={false} />, {
      storage,
      queryClient: createTestQueryClient(),
    });
    await within(history()).findByRole('button', { name: 'Rain' });
    expect(studio()).toHaveAttribute('data-state', 'idle');
  });

  it('shows a sound picked in the history as current and moves focus to it', async () => {
    useMockBackend({ seed: mockTaskSeeds });
    renderWithProvider(<TextToAudioStudio />);
    const user = userEvent.setup();
    const failed = await within(history()).findByRole('button', { name: `Task ${MOCK_TASK_IDS.failed}` });
    await user.click(failed);

    await waitFor(() => expect(studio()).toHaveAttribute('data-state', 'failed'));
    expect(screen.getByRole('heading', { name: 'Current sound' })).toHaveFocus();
    expect(failed).toHaveAttribute('aria-current', 'true');
    expect(announcer()).toHaveTextContent(`Failed: Task ${MOCK_TASK_IDS.failed}.`);

    await user.click(within(history()).getByRole('button', { name: `Task ${MOCK_TASK_IDS.bell}` }));
    await waitFor(() => expect(studio()).toHaveAttribute('data-state', 'succeed'));
    expect(announcer()).toHaveTextContent(`Ready to play: Task ${MOCK_TASK_IDS.bell}`);
    expect(within(current()).getByRole('button', { name: 'Play' })).toBeInTheDocument();
  });

  it('can be controlled by the app', async () => {
    useMockBackend({ seed: mockTaskSeeds });
    function App() {
      const [taskId, setTaskId] = useState<string | null>(MOCK_TASK_IDS.rain);
      return (
        <>
          <button type="button" onClick={() => setTaskId(null)}>
            clear
          </button>
          <TextToAudioStudio taskId={taskId} onTaskIdChange={setTaskId} />
        </>
      );
    }
    renderWithProvider(<App />);
    await waitFor(() => expect(studio()).toHaveAttribute('data-state', 'succeed'));
    await act(async () => screen.getByRole('button', { name: 'clear' }).click());
    expect(studio()).toHaveAttribute('data-state', 'idle');
    await userEvent
      .setup()
      .click(await within(history()).findByRole('button', { name: `Task ${MOCK_TASK_IDS.laser}` }));
    await waitFor(() => expect(studio()).toHaveAttribute('data-state', 'succeed'));
    expect(within(history()).getByRole('button', { name: `Task ${MOCK_TASK_IDS.laser}` })).toHaveAttribute(
      'aria-current',
      'true',
    );
  });

  it('passes messages to every part, and className and native props to its root', async () => {
    useMockBackend();
    renderWithProvider(
      <TextToAudioStudio
        className="mine"
        data-testid="s"
        messages={{ studioHistoryLabel: 'Past sounds', formSubmit: 'Go', studioLabel: 'Sound lab' }}
      />,
    );
    expect(screen.getByRole('region', { name: 'Sound lab' })).toHaveClass('rka-TextToAudioStudio', 'mine');
    expect(screen.getByRole('button', { name: 'Go' })).toBeInTheDocument();
    expect(await screen.findByRole('heading', { name: 'Past sounds' })).toBeInTheDocument();
    expect(screen.getByTestId('s')).toHaveAttribute('data-part', 'root');
  });
});
