/**
 * What a newcomer tripped on in the form (issue 20): the counter and validation agree, the placeholder is
 * clearly an example, examples never overwrite typed text without a way back, no keyboard hint on a touch
 * screen, no empty row under Generate; and `useSoundPromptForm` drives markup of an app's own.
 */
import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SoundPromptForm, useSoundPromptForm } from '../src';
import type { MockKlingBackend } from '../src/mocks';
import { renderWithProvider, useMockBackend } from './render';

const posts = (backend: MockKlingBackend) => backend.requests.filter((r) => r.method === 'POST');
const promptBox = () => screen.getByRole('textbox', { name: 'Describe the sound' });
const durationBox = () => screen.getByRole('spinbutton', { name: 'Duration (seconds)' });
const submitButton = () => screen.getByRole('button', { name: /Generate sound|Sending/ });
const presets = () => screen.getByRole('group', { name: 'Examples' });

afterEach(() => vi.unstubAllGlobals());

describe('the counter and validation agree', () => {
  it('200 characters and a trailing space count as 200, are not over the limit, and are sent trimmed', async () => {
    const backend = useMockBackend();
    const { container } = renderWithProvider(<SoundPromptForm defaultPrompt={'x'.repeat(200) + ' '} />);
    const counter = container.querySelector('[data-part="counter"]')!;
    expect(counter).toHaveTextContent('200/200');
    expect(counter).toHaveAttribute('data-state', 'near');
    expect(promptBox()).toHaveAccessibleDescription(expect.stringContaining('200 of 200 characters'));
    await userEvent.setup().click(submitButton());
    await waitFor(() => expect(posts(backend)).toHaveLength(1));
    expect(posts(backend)[0]!.body).toMatchObject({ prompt: 'x'.repeat(200) });
  });

  it('201 characters show 201/200 as over, and are refused with the words the counter implies', async () => {
    const backend = useMockBackend();
    const { container } = renderWithProvider(<SoundPromptForm defaultPrompt={' ' + 'x'.repeat(201)} />);
    expect(container.querySelector('[data-part="counter"]')).toHaveTextContent('201/200');
    expect(container.querySelector('[data-part="counter"]')).toHaveAttribute('data-state', 'over');
    await userEvent.setup().click(submitButton());
    expect(promptBox()).toHaveAccessibleDescription(expect.stringContaining('200 characters or fewer'));
    expect(posts(backend)).toHaveLength(0);
  });
});

describe('the placeholder is clearly an example', () => {
  it('is worded as an example and is not any preset’s text', () => {
    useMockBackend();
    renderWithProvider(<SoundPromptForm />);
    const placeholder = promptBox().getAttribute('placeholder')!;
    expect(placeholder).toMatch(/^e\.g\. /);
    for (const button of within(presets()).getAllByRole('button'))
      expect(button.getAttribute('title')).not.toContain(placeholder.slice(5));
  });

  it('Generate on an empty box shows the box empty beside "Describe the sound you want"', async () => {
    const backend = useMockBackend();
    renderWithProvider(<SoundPromptForm />);
    await userEvent.setup().click(submitButton());
    expect(promptBox()).toHaveAccessibleDescription(expect.stringContaining('Describe the sound you want.'));
    // Nothing in the box looks like text while the form says there is none.
    expect(promptBox()).not.toHaveAttribute('placeholder');
    expect(promptBox()).toHaveValue('');
    expect(posts(backend)).toHaveLength(0);
    await userEvent.setup().type(promptBox(), 'a');
    await userEvent.setup().clear(promptBox());
    expect(promptBox()).not.toHaveAttribute('placeholder');
  });
});

describe('examples never overwrite typed text without a way back', () => {
  it('Undo example brings back the typed prompt and duration', async () => {
    useMockBackend();
    renderWithProvider(<SoundPromptForm />);
    const user = userEvent.setup();
    await user.type(promptBox(), 'My own careful prompt');
    await user.clear(durationBox());
    await user.type(durationBox(), '7.5');
    await user.click(within(presets()).getByRole('button', { name: 'Rain' }));
    expect(promptBox()).toHaveValue('Heavy rain on a tin roof with distant thunder');
    expect(durationBox()).toHaveValue(8);
    // A second example still undoes back to what was typed, not to the first example.
    await user.click(within(presets()).getByRole('button', { name: 'Door bell' }));
    await user.click(screen.getByRole('button', { name: 'Undo example' }));
    expect(promptBox()).toHaveValue('My own careful prompt');
    expect(durationBox()).toHaveValue(7.5);
    expect(screen.queryByRole('button', { name: 'Undo example' })).not.toBeInTheDocument();
  });

  it('Ctrl+Z in the prompt undoes the example; editing the example keeps the edit', async () => {
    useMockBackend();
    renderWithProvider(<SoundPromptForm />);
    const user = userEvent.setup();
    await user.type(promptBox(), 'typed');
    await user.click(within(presets()).getByRole('button', { name: 'Footsteps' }));
    await user.click(promptBox());
    await user.keyboard('{Control>}z{/Control}');
    expect(promptBox()).toHaveValue('typed');

    await user.click(within(presets()).getByRole('button', { name: 'Footsteps' }));
    await user.type(promptBox(), ' at night');
    // The example was edited: it is the person's text now, and Undo is no longer offered.
    expect(screen.queryByRole('button', { name: 'Undo example' })).not.toBeInTheDocument();
  });

  it('an example on an empty box offers no undo', async () => {
    useMockBackend();
    renderWithProvider(<SoundPromptForm />);
    await userEvent.setup().click(within(presets()).getByRole('button', { name: 'Rain' }));
    expect(screen.queryByRole('button', { name: 'Undo example' })).not.toBeInTheDocument();
  });
});

describe('polish', () => {
  it('no Ctrl+Enter hint on a touch screen; the shortcut still works with a keyboard', async () => {
    vi.stubGlobal('matchMedia', (query: string) => ({
      matches: query === '(pointer: coarse)',
      media: query,
      addEventListener() {},
      removeEventListener() {},
    }));
    const backend = useMockBackend();
    renderWithProvider(<SoundPromptForm defaultPrompt="Rain" />);
    await waitFor(() => expect(screen.queryByText(/\+Enter to generate/)).not.toBeInTheDocument());
    expect(promptBox()).not.toHaveAccessibleDescription(expect.stringContaining('Enter'));
    await userEvent.setup().type(promptBox(), '{Control>}{Enter}{/Control}');
    await waitFor(() => expect(posts(backend)).toHaveLength(1));
  });

  it('shows the Ctrl+Enter hint with a mouse and keyboard', () => {
    useMockBackend();
    renderWithProvider(<SoundPromptForm />);
    expect(screen.getByText('Press Ctrl+Enter to generate')).toBeInTheDocument();
  });

  it('no empty element is a row of its own: the idle form’s rows all hold something', () => {
    useMockBackend();
    const { container } = renderWithProvider(<SoundPromptForm />);
    const rows = [...container.querySelector('form')!.children];
    expect(rows.filter((row) => row.textContent === '')).toEqual([]);
    // The busy-service status is still there, ready to speak, beside the button.
    expect(
      within(container.querySelector('[data-part="actions"]') as HTMLElement).getByRole('status'),
    ).toBeEmptyDOMElement();
  });
});

describe('useSoundPromptForm', () => {
  function MyForm({ onCreated }: { onCreated: (taskId: string) => void }) {
    const form = useSoundPromptForm({ onCreated: (task) => onCreated(task.taskId), presets: [] });
    return (
      <form {...form.getFormProps()} aria-label="mine">
        <label htmlFor={form.ids.prompt}>What sound?</label>
        <textarea {...form.getPromptProps()} />
        {form.errors.prompt && <p id={form.ids.promptError}>{form.errors.prompt}</p>}
        <span id={form.ids.promptCount}>{form.counter.text}</span>
        <label htmlFor={form.ids.duration}>Seconds</label>
        <input {...form.getDurationInputProps()} />
        <button {...form.getSubmitProps()}>{form.submitLabel}</button>
      </form>
    );
  }

  it('validates with the shared schema and creates from markup of the app’s own', async () => {
    const backend = useMockBackend();
    const created = vi.fn();
    renderWithProvider(<MyForm onCreated={created} />);
    const user = userEvent.setup();
    await user.click(screen.getByRole('button', { name: 'Generate sound' }));
    expect(screen.getByRole('textbox', { name: 'What sound?' })).toHaveAccessibleDescription(
      expect.stringContaining('Describe the sound you want.'),
    );
    expect(screen.getByRole('form', { name: 'mine' })).toHaveAttribute('data-state', 'invalid');
    await user.type(screen.getByRole('textbox', { name: 'What sound?' }), 'A cat purring');
    expect(screen.getByText('13/200')).toBeInTheDocument();
    await user.clear(screen.getByRole('spinbutton', { name: 'Seconds' }));
    await user.type(screen.getByRole('spinbutton', { name: 'Seconds' }), '4');
    await user.click(screen.getByRole('button', { name: 'Generate sound' }));
    await waitFor(() => expect(created).toHaveBeenCalledWith(backend.tasks[0]!.taskId));
    expect(posts(backend)[0]!.body).toMatchObject({ prompt: 'A cat purring', duration: 4 });
  });
});
