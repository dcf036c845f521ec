import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { http, HttpResponse } from 'msw';
import { useState } from 'react';
import { describe, expect, it, vi } from 'vitest';
import { SoundPromptForm, type AudioTask } from '../src';
import { KIND_MESSAGES, KLING_ERROR_CODES } from '../src/api/errors';
import type { MockKlingBackend } from '../src/mocks';
import { BASE_URL, renderWithProvider, useMockBackend } from './render';
import { server } from './server';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const posts = (backend: MockKlingBackend) => backend.requests.filter((r) => r.method === 'POST');

const promptBox = () => screen.getByRole('textbox', { name: 'Describe the sound' });
const durationBox = () => screen.getByRole('spinbutton', { name: 'Duration (seconds)' });
const slider = () => screen.getByRole('slider', { name: 'Duration' });
const submitButton = () => screen.getByRole('button', { name: /Generate sound|Sending/ });
const form = () => submitButton().closest('form')!;

async function fill(prompt: string, duration?: string) {
  const user = userEvent.setup();
  await user.click(promptBox());
  await user.paste(prompt);
  if (duration !== undefined) {
    await user.clear(durationBox());
    await user.type(durationBox(), duration);
  }
  return user;
}

describe('SoundPromptForm validation (the shared schema, before any request)', () => {
  it('sends nothing for a 201-character prompt and shows the error inline', async () => {
    const backend = useMockBackend();
    renderWithProvider(<SoundPromptForm />);
    const user = await fill('x'.repeat(201));
    expect(screen.getByText('201/200')).toHaveAttribute('data-state', 'over');
    await user.click(submitButton());
    await sleep(50);

    expect(posts(backend)).toHaveLength(0);
    expect(backend.requests).toHaveLength(0);
    expect(promptBox()).toHaveAttribute('aria-invalid', 'true');
    expect(promptBox()).toHaveAccessibleDescription(
      expect.stringContaining('Keep the prompt to 200 characters or fewer.'),
    );
    expect(form()).toHaveAttribute('data-state', 'invalid');
    // Focus goes to the field to fix.
    expect(promptBox()).toHaveFocus();
  });

  it('sends nothing for a 2.9 s duration and shows the error inline', async () => {
    const backend = useMockBackend();
    renderWithProvider(<SoundPromptForm />);
    const user = await fill('Rain on a tin roof', '2.9');
    await user.click(submitButton());
    await sleep(50);

    expect(backend.requests).toHaveLength(0);
    expect(durationBox()).toHaveAttribute('aria-invalid', 'true');
    expect(durationBox()).toHaveAccessibleDescription(
      expect.stringContaining('Duration must be at least 3 seconds.'),
    );
    expect(durationBox()).toHaveFocus();
    expect(promptBox()).not.toHaveAttribute('aria-invalid');
  });

  it('rejects 10.1 s, two decimals and an empty field with their own words', async () => {
    const backend = useMockBackend();
    renderWithProvider(<SoundPromptForm defaultPrompt="Wind" />);
    const user = userEvent.setup();
    for (const [typed, message] of [
      ['10.1', 'Duration must be at most 10 seconds.'],
      ['4.25', 'Use at most one decimal place, e.g. 5.5.'],
      ['', 'Enter the duration as a number of seconds.'],
    ] as const) {
      await user.clear(durationBox());
      if (typed) await user.type(durationBox(), typed);
      await user.click(submitButton());
      expect(durationBox()).toHaveAccessibleDescription(expect.stringContaining(message));
    }
    expect(backend.requests).toHaveLength(0);
  });

  it('an empty or blank prompt is an error on submit, not while typing', async () => {
    const backend = useMockBackend();
    renderWithProvider(<SoundPromptForm />);
    const user = userEvent.setup();
    await user.click(submitButton());
    expect(screen.getByText('Describe the sound you want.')).toBeInTheDocument();
    expect(backend.requests).toHaveLength(0);

    // After the first submit, errors follow every keystroke: typing fixes it at once.
    await user.type(promptBox(), '   ');
    expect(promptBox()).toHaveAttribute('aria-invalid', 'true');
    await user.type(promptBox(), 'b');
    expect(promptBox()).not.toHaveAttribute('aria-invalid');
    expect(screen.queryByText('Describe the sound you want.')).not.toBeInTheDocument();
  });

  it('does not show errors on keystrokes before the first submit; shows them on blur after an edit', async () => {
    useMockBackend();
    renderWithProvider(<SoundPromptForm />);
    const user = userEvent.setup();
    // Tabbing through an untouched field says nothing.
    await user.click(promptBox());
    await user.tab();
    expect(promptBox()).not.toHaveAttribute('aria-invalid');

    await user.clear(durationBox());
    await user.type(durationBox(), '12');
    expect(durationBox()).not.toHaveAttribute('aria-invalid');
    expect(screen.queryByText(/at most 10 seconds/)).not.toBeInTheDocument();
    await user.tab();
    expect(durationBox()).toHaveAttribute('aria-invalid', 'true');
    expect(screen.getByText('Duration must be at most 10 seconds.')).toBeInTheDocument();
  });
});

describe('SoundPromptForm submitting', () => {
  it('sends the trimmed prompt, the duration as a number and an external task id; calls onCreated', async () => {
    const backend = useMockBackend();
    const onCreated = vi.fn<(task: AudioTask) => void>();
    renderWithProvider(<SoundPromptForm onCreated={onCreated} />);
    const user = await fill('  Rain on a tin roof  ', '4.5');
    await user.click(submitButton());

    await waitFor(() => expect(onCreated).toHaveBeenCalledTimes(1));
    const sent = posts(backend);
    expect(sent).toHaveLength(1);
    expect(new URL(sent[0]!.url).pathname).toBe(`${BASE_URL}/v1/audio/text-to-audio`);
    const body = sent[0]!.body as Record<string, unknown>;
    expect(body).toEqual({
      prompt: 'Rain on a tin roof',
      duration: 4.5,
      external_task_id: expect.stringMatching(/^[0-9a-f-]{32,36}$/),
    });
    expect(typeof body.duration).toBe('number');
    expect(onCreated.mock.calls[0]![0]).toMatchObject({
      taskId: backend.tasks[0]!.taskId,
      status: 'submitted',
      request: { prompt: 'Rain on a tin roof', duration: 4.5 },
    });
    // The values stay, to tweak and try again.
    expect(promptBox()).toHaveValue('  Rain on a tin roof  ');
    expect(form()).toHaveAttribute('data-state', 'idle');
  });

  it('Ctrl+Enter and Cmd+Enter in the prompt submit; plain Enter adds a line', async () => {
    const backend = useMockBackend();
    renderWithProvider(<SoundPromptForm />);
    const user = await fill('Bells');
    await user.keyboard('{Enter}');
    expect(promptBox()).toHaveValue('Bells\n');
    expect(posts(backend)).toHaveLength(0);

    await user.keyboard('{Control>}{Enter}{/Control}');
    await waitFor(() => expect(posts(backend)).toHaveLength(1));
    expect(promptBox()).toHaveValue('Bells\n');
    await waitFor(() => expect(form()).toHaveAttribute('data-state', 'idle'));

    await user.keyboard('{Meta>}{Enter}{/Meta}');
    await waitFor(() => expect(posts(backend)).toHaveLength(2));
    expect((posts(backend)[1]!.body as { prompt: string }).prompt).toBe('Bells');
  });

  it('shows the pending state and ignores a second submit while the first is in flight', async () => {
    const backend = useMockBackend({ scenario: { slowMs: 300 } });
    const onCreated = vi.fn();
    renderWithProvider(<SoundPromptForm onCreated={onCreated} />);
    const user = await fill('Rain');
    await user.click(submitButton());

    await waitFor(() => expect(form()).toHaveAttribute('data-state', 'pending'));
    expect(form()).toHaveAttribute('aria-busy', 'true');
    expect(submitButton()).toHaveTextContent('Sending…');
    expect(submitButton()).toHaveAttribute('aria-disabled', 'true');
    await user.click(submitButton());
    await user.keyboard('{Control>}{Enter}{/Control}');

    await waitFor(() => expect(onCreated).toHaveBeenCalledTimes(1));
    expect(posts(backend)).toHaveLength(1);
    expect(submitButton()).toHaveTextContent('Generate sound');
    expect(submitButton()).not.toHaveAttribute('aria-disabled');
    expect(form()).not.toHaveAttribute('aria-busy');
  });

  it('says 1303 (rate limited) in plain words after the hook’s retries', async () => {
    const backend = useMockBackend({ scenario: { createError: { code: 1303 } } });
    const onCreateError = vi.fn();
    renderWithProvider(<SoundPromptForm onCreateError={onCreateError} />);
    const user = await fill('Rain');
    await user.click(submitButton());

    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent(KLING_ERROR_CODES[1303].message);
    expect(alert).toHaveAttribute('data-code', '1303');
    expect(form()).toHaveAttribute('data-state', 'error');
    // 1303 is worth retrying: the first try and the hook's two retries.
    expect(posts(backend)).toHaveLength(3);
    expect(onCreateError).toHaveBeenCalledWith(expect.objectContaining({ code: 1303 }));
    expect(backend.tasks).toHaveLength(0);

    // The error goes away when the next try starts, and a success leaves none.
    backend.setScenario({ createError: undefined });
    await user.click(submitButton());
    await waitFor(() => expect(backend.tasks).toHaveLength(1));
    await waitFor(() => expect(screen.queryByRole('alert')).not.toBeInTheDocument());
  });

  it('says 1301 (content policy) in plain words, without retrying', async () => {
    const backend = useMockBackend({ scenario: { createError: { code: 1301 } } });
    renderWithProvider(<SoundPromptForm />);
    const user = await fill('Something the policy blocks');
    await user.click(submitButton());

    expect(await screen.findByRole('alert')).toHaveTextContent(
      'The prompt was blocked by content safety rules. Try describing the sound differently.',
    );
    expect(posts(backend)).toHaveLength(1);
  });

  it('says when the network is down', async () => {
    useMockBackend();
    server.use(http.all(`${BASE_URL}/*`, () => HttpResponse.error()));
    renderWithProvider(<SoundPromptForm />);
    const user = await fill('Rain');
    await user.click(submitButton());
    expect(await screen.findByRole('alert')).toHaveTextContent(KIND_MESSAGES.network);
  });

  it('lets the caller’s onSubmit cancel the create with preventDefault', async () => {
    const backend = useMockBackend();
    const onSubmit = vi.fn((event: { preventDefault(): void }) => event.preventDefault());
    renderWithProvider(<SoundPromptForm onSubmit={onSubmit} defaultPrompt="Rain" />);
    await userEvent.setup().click(submitButton());
    await sleep(50);
    expect(onSubmit).toHaveBeenCalledTimes(1);
    expect(backend.requests).toHaveLength(0);
  });
});

describe('SoundPromptForm values', () => {
  it('shows a live n/200 counter, read by screen readers as a description', async () => {
    useMockBackend();
    renderWithProvider(<SoundPromptForm defaultPrompt="Rain" />);
    const counter = screen.getByText('4/200');
    expect(counter).toHaveAttribute('aria-hidden', 'true');
    expect(promptBox()).toHaveAccessibleDescription(expect.stringContaining('4 of 200 characters'));
    const user = userEvent.setup();
    await user.type(promptBox(), ' drops');
    expect(screen.getByText('10/200')).toBeInTheDocument();
  });

  it('announces the characters left only at 20, 10 and 0, and once when over the limit', async () => {
    useMockBackend();
    const { container } = renderWithProvider(<SoundPromptForm defaultPrompt={'x'.repeat(178)} />);
    const live = container.querySelector('[aria-live="polite"][data-part="counter-announcer"]')!;
    const user = userEvent.setup();
    expect(live).toHaveTextContent('');
    await user.type(promptBox(), 'xx');
    expect(live).toHaveTextContent('20 characters left');
    await user.type(promptBox(), 'x');
    expect(live).toHaveTextContent(/^$/);
    await user.type(promptBox(), 'x'.repeat(19));
    expect(live).toHaveTextContent('No characters left');
    await user.type(promptBox(), 'xx');
    expect(live).toHaveTextContent('Too long: the limit is 200 characters');
  });

  it('keeps the number field and the slider in sync', async () => {
    useMockBackend();
    renderWithProvider(<SoundPromptForm />);
    expect(durationBox()).toHaveValue(5);
    expect(slider()).toHaveValue('5');
    expect(slider()).toHaveAttribute('aria-valuetext', '5 seconds');

    fireEvent.change(slider(), { target: { value: '7.3' } });
    expect(durationBox()).toHaveValue(7.3);
    const user = userEvent.setup();
    await user.clear(durationBox());
    await user.type(durationBox(), '9.5');
    expect(slider()).toHaveValue('9.5');
    expect(slider()).toHaveAttribute('aria-valuetext', '9.5 seconds');
    expect(slider()).toHaveAttribute('min', '3');
    expect(slider()).toHaveAttribute('max', '10');
    expect(slider()).toHaveAttribute('step', '0.1');
  });

  it('fills the prompt and the duration from a preset', async () => {
    const backend = useMockBackend();
    renderWithProvider(<SoundPromptForm />);
    const user = userEvent.setup();
    const presets = screen.getByRole('group', { name: 'Examples' });
    await user.click(within(presets).getByRole('button', { name: 'Rain' }));
    expect(promptBox()).toHaveValue('Heavy rain on a tin roof with distant thunder');
    expect(durationBox()).toHaveValue(8);
    await user.click(submitButton());
    await waitFor(() => expect(posts(backend)).toHaveLength(1));
    expect(posts(backend)[0]!.body).toMatchObject({
      prompt: 'Heavy rain on a tin roof with distant thunder',
      duration: 8,
    });
  });

  it('takes its own presets, or none', () => {
    useMockBackend();
    const { unmount } = renderWithProvider(
      <SoundPromptForm presets={[{ label: 'Laser', prompt: 'A laser zap', duration: 3.5 }]} />,
    );
    expect(screen.getAllByRole('button', { name: 'Laser' })).toHaveLength(1);
    expect(screen.queryByRole('button', { name: 'Rain' })).not.toBeInTheDocument();
    unmount();
    renderWithProvider(<SoundPromptForm presets={[]} />);
    expect(screen.queryByRole('group', { name: 'Examples' })).not.toBeInTheDocument();
  });

  it('works controlled: the parent owns prompt and duration', async () => {
    const backend = useMockBackend();
    const seen: Array<[string, number]> = [];
    function Parent() {
      const [prompt, setPrompt] = useState('Rain');
      const [duration, setDuration] = useState(4);
      seen.push([prompt, duration]);
      return (
        <>
          <button type="button" onClick={() => (setPrompt('Thunder'), setDuration(9.5))}>
            outside
          </button>
          <SoundPromptForm
            prompt={prompt}
            onPromptChange={(next) => setPrompt(next.toUpperCase())}
            duration={duration}
            onDurationChange={setDuration}
          />
        </>
      );
    }
    renderWithProvider(<Parent />);
    const user = userEvent.setup();
    expect(promptBox()).toHaveValue('Rain');
    expect(durationBox()).toHaveValue(4);

    await user.type(promptBox(), 'y');
    expect(promptBox()).toHaveValue('RAINY');
    await user.click(screen.getByRole('button', { name: 'outside' }));
    expect(promptBox()).toHaveValue('Thunder');
    expect(durationBox()).toHaveValue(9.5);
    expect(slider()).toHaveValue('9.5');
    fireEvent.change(slider(), { target: { value: '6' } });
    expect(seen.at(-1)).toEqual(['Thunder', 6]);
    expect(durationBox()).toHaveValue(6);

    await user.click(submitButton());
    await waitFor(() => expect(posts(backend)).toHaveLength(1));
    expect(posts(backend)[0]!.body).toMatchObject({ prompt: 'Thunder', duration: 6 });
  });

  it('ignores a change the controlling parent refuses', async () => {
    useMockBackend();
    renderWithProvider(<SoundPromptForm prompt="Fixed" duration={5} />);
    const user = userEvent.setup();
    await user.type(promptBox(), 'abc');
    expect(promptBox()).toHaveValue('Fixed');
    fireEvent.change(slider(), { target: { value: '8' } });
    expect(durationBox()).toHaveValue(5);
  });

  it('passes className, native props, data-part and ref through; strings come from messages', () => {
    useMockBackend();
    let node: HTMLFormElement | null = null;
    renderWithProvider(
      <SoundPromptForm
        ref={(el) => void (node = el)}
        className="mine"
        aria-label="New sound"
        data-testid="f"
        messages={{ formSubmit: 'Make it', formPromptLabel: 'Sound idea' }}
      />,
      { messages: { formPresetsLabel: 'Ideas' } },
    );
    const el = screen.getByTestId('f');
    expect(node).toBe(el);
    expect(el).toHaveClass('rka-SoundPromptForm', 'mine');
    expect(el).toHaveAttribute('data-part', 'root');
    expect(screen.getByRole('form', { name: 'New sound' })).toBe(el);
    expect(screen.getByRole('button', { name: 'Make it' })).toHaveClass('rka-SoundPromptForm-submit');
    expect(screen.getByRole('textbox', { name: 'Sound idea' })).toHaveAttribute('data-part', 'prompt');
    expect(screen.getByRole('group', { name: 'Ideas' })).toBeInTheDocument();
  });
});
