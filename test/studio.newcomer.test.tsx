/**
 * What a newcomer tripped on in the studio (issue 20): nothing visible after Generate on a phone, no next
 * step after a failure, and the prompt draft and a finished current sound lost on reload and user switch.
 */
import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { TextToAudioStudio } from '../src';
import {
  createMemoryStorage,
  createTestQueryClient,
  keepPlayersOffscreen,
  renderWithProvider,
  useMockBackend,
} from './render';

beforeEach(keepPlayersOffscreen);
afterEach(() => {
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
});

const studio = () => screen.getByRole('region', { name: 'Text to audio' });
const current = () => screen.getByRole('region', { name: 'Current sound' });
const promptBox = () => screen.getByRole('textbox', { name: 'Describe the sound' });
const durationBox = () => screen.getByRole('spinbutton', { name: 'Duration (seconds)' });
const FAST = { timing: { submittedMs: 20, processingMs: 40 } };

async function generate(prompt: string) {
  const user = userEvent.setup();
  await user.type(promptBox(), prompt);
  await user.click(screen.getByRole('button', { name: 'Generate sound' }));
  return user;
}

describe('after Generate on a phone', () => {
  it('brings the progress into view and moves focus to it when it is below the fold', async () => {
    useMockBackend({ timing: { submittedMs: 2000, processingMs: 2000 } });
    const scrolled: Element[] = [];
    Element.prototype.scrollIntoView = function (this: Element) {
      scrolled.push(this);
    };
    // A 375 px phone: the current sound starts below the 700 px viewport.
    vi.spyOn(Element.prototype, 'getBoundingClientRect').mockImplementation(function (this: Element) {
      const below = this.getAttribute('data-part') === 'current';
      return DOMRect.fromRect({ x: 0, y: below ? 1200 : 0, width: 375, height: below ? 300 : 40 });
    });
    renderWithProvider(<TextToAudioStudio />);
    await generate('Owl hooting');
    await waitFor(() => expect(studio()).toHaveAttribute('data-state', 'submitted'));
    expect(screen.getByRole('heading', { name: 'Current sound' })).toHaveFocus();
    expect(scrolled).toEqual([current()]);
  });

  it('leaves focus on the form where the progress is already in view', async () => {
    useMockBackend({ timing: { submittedMs: 2000, processingMs: 2000 } });
    Element.prototype.scrollIntoView = vi.fn();
    // A wide screen: the current sound is beside the form, in view.
    vi.spyOn(Element.prototype, 'getBoundingClientRect').mockImplementation(() =>
      DOMRect.fromRect({ x: 0, y: 300, width: 600, height: 300 }),
    );
    renderWithProvider(<TextToAudioStudio />);
    await generate('Owl hooting');
    await waitFor(() => expect(studio()).toHaveAttribute('data-state', 'submitted'));
    expect(screen.getByRole('button', { name: 'Generate sound' })).toHaveFocus();
    expect(Element.prototype.scrollIntoView).not.toHaveBeenCalled();
  });
});

describe('a failure offers a next step', () => {
  it('Edit prompt puts the failed prompt and duration back in the form and focuses it', async () => {
    useMockBackend(FAST);
    renderWithProvider(<TextToAudioStudio />);
    const user = await generate('A forbidden noise');
    await waitFor(() => expect(studio()).toHaveAttribute('data-state', 'failed'), { timeout: 3000 });
    // The person moved on and typed something else; the failed prompt is one click away.
    await user.clear(promptBox());
    await user.type(promptBox(), 'other');
    await user.clear(durationBox());
    await user.type(durationBox(), '9');
    await user.click(within(current()).getByRole('button', { name: 'Edit prompt' }));
    expect(promptBox()).toHaveValue('A forbidden noise');
    expect(durationBox()).toHaveValue(5);
    expect(promptBox()).toHaveFocus();
  });

  it('a sound that succeeded offers no Edit prompt', async () => {
    useMockBackend(FAST);
    renderWithProvider(<TextToAudioStudio />);
    await generate('Owl hooting');
    await waitFor(() => expect(studio()).toHaveAttribute('data-state', 'succeed'), { timeout: 3000 });
    expect(within(current()).queryByRole('button', { name: 'Edit prompt' })).not.toBeInTheDocument();
  });
});

describe('state survives reload and user switch', () => {
  it('the prompt draft and its duration come back after a reload', async () => {
    useMockBackend(FAST);
    const storage = createMemoryStorage();
    const first = renderWithProvider(<TextToAudioStudio />, { storage });
    const user = userEvent.setup();
    await user.type(promptBox(), 'Half-written idea');
    await user.clear(durationBox());
    await user.type(durationBox(), '6.5');
    first.unmount();

    renderWithProvider(<TextToAudioStudio />, { storage, queryClient: createTestQueryClient() });
    expect(promptBox()).toHaveValue('Half-written idea');
    expect(durationBox()).toHaveValue(6.5);
  });

  it('a finished current sound is still current after a reload', async () => {
    const backend = useMockBackend(FAST);
    const storage = createMemoryStorage();
    const first = renderWithProvider(<TextToAudioStudio />, { storage });
    await generate('Distant church bells');
    await waitFor(() => expect(studio()).toHaveAttribute('data-state', 'succeed'), { timeout: 3000 });
    expect(JSON.parse(storage.getItem('rka:pending') ?? '[]')).toEqual([]);
    first.unmount();

    const onTaskIdChange = vi.fn();
    renderWithProvider(<TextToAudioStudio onTaskIdChange={onTaskIdChange} />, {
      storage,
      queryClient: createTestQueryClient(),
    });
    await waitFor(() => expect(studio()).toHaveAttribute('data-state', 'succeed'));
    expect(onTaskIdChange).toHaveBeenCalledWith(backend.tasks[0]!.taskId);
  });

  it('each user (storage namespace) keeps a draft and a current sound of their own', async () => {
    useMockBackend(FAST);
    const storage = createMemoryStorage();
    const ada = renderWithProvider(<TextToAudioStudio />, { storage, storageNamespace: 'demo:ada' });
    await generate('Ada’s sound');
    await waitFor(() => expect(studio()).toHaveAttribute('data-state', 'succeed'), { timeout: 3000 });
    ada.unmount();

    const grace = renderWithProvider(<TextToAudioStudio />, {
      storage,
      storageNamespace: 'demo:grace',
      queryClient: createTestQueryClient(),
    });
    expect(promptBox()).toHaveValue('');
    expect(studio()).toHaveAttribute('data-state', 'idle');
    await userEvent.setup().type(promptBox(), 'Grace’s draft');
    grace.unmount();

    renderWithProvider(<TextToAudioStudio />, {
      storage,
      storageNamespace: 'demo:ada',
      queryClient: createTestQueryClient(),
    });
    expect(promptBox()).toHaveValue('Ada’s sound');
    await waitFor(() => expect(studio()).toHaveAttribute('data-state', 'succeed'));
  });

  it('an example and its undo change prompt and duration together in the studio', async () => {
    useMockBackend(FAST);
    renderWithProvider(<TextToAudioStudio />, { storage: createMemoryStorage() });
    const user = userEvent.setup();
    await user.type(promptBox(), 'typed');
    await user.click(screen.getByRole('button', { name: 'Rain' }));
    expect(promptBox()).toHaveValue('Heavy rain on a tin roof with distant thunder');
    expect(durationBox()).toHaveValue(8);
    await user.click(screen.getByRole('button', { name: 'Undo example' }));
    expect(promptBox()).toHaveValue('typed');
    expect(durationBox()).toHaveValue(5);
  });
});
