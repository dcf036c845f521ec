import type { Meta, StoryObj } from '@storybook/react-vite';
import { http, HttpResponse } from 'msw';
import { expect, fn, waitFor } from 'storybook/test';
import { SoundPromptForm } from '../src/components/SoundPromptForm';
import { mswParameters, STORY_BASE_URL, storyBackend } from './support/mockBackend';
import { quotaRefusal, usageHandler } from './support/queue';

/** A create that never answers (for as long as anyone looks): the pending state stays on screen. */
const FOREVER = 3_600_000;
/** Fast retries, so error stories reach their message quickly (the hook retries 1303 twice). */
const fastRetries = { kling: { polling: { intervalMs: 150, maxIntervalMs: 300 } } };

const promptOf = (canvas: { getByRole: (role: string, options: { name: string }) => HTMLElement }) =>
  canvas.getByRole('textbox', { name: 'Describe the sound' });

const meta = {
  title: 'Components/SoundPromptForm',
  component: SoundPromptForm,
  args: { onCreated: fn(), onCreateError: fn() },
  parameters: { ...mswParameters() },
} satisfies Meta<typeof SoundPromptForm>;

export default meta;
type Story = StoryObj<typeof meta>;

/** Empty, with the example presets. Ctrl+Enter (⌘+Enter) in the prompt generates. */
export const Default: Story = {
  play: async ({ canvas }) => {
    await expect(canvas.getByText('0/200')).toBeVisible();
    await expect(canvas.getByRole('spinbutton', { name: 'Duration (seconds)' })).toHaveValue(5);
    await expect(canvas.getByRole('slider', { name: 'Duration' })).toHaveValue('5');
  },
};

/** An example over typed text: **Undo example** (or Ctrl/⌘+Z in the box) brings the text and duration back. */
export const ExampleUndo: Story = {
  play: async ({ canvas, userEvent }) => {
    await userEvent.type(promptOf(canvas), 'My own careful prompt');
    await userEvent.click(canvas.getByRole('button', { name: 'Fireworks' }));
    await expect(promptOf(canvas)).toHaveValue('Fireworks crackling over a harbour at night');
    await userEvent.click(canvas.getByRole('button', { name: 'Undo example' }));
    await expect(promptOf(canvas)).toHaveValue('My own careful prompt');
    await expect(canvas.getByRole('spinbutton', { name: 'Duration (seconds)' })).toHaveValue(5);
    await userEvent.click(canvas.getByRole('button', { name: 'Rain' }));
  },
};

/** A preset fills the prompt and the duration; Generate creates the task and calls `onCreated`. */
export const Created: Story = {
  play: async ({ canvas, args, userEvent }) => {
    await userEvent.click(canvas.getByRole('button', { name: 'Rain' }));
    await expect(promptOf(canvas)).toHaveValue('Heavy rain on a tin roof with distant thunder');
    await expect(canvas.getByRole('spinbutton', { name: 'Duration (seconds)' })).toHaveValue(8);
    await userEvent.click(canvas.getByRole('button', { name: 'Generate sound' }));
    await waitFor(() => expect(args.onCreated).toHaveBeenCalledTimes(1));
    await expect(args.onCreated).toHaveBeenCalledWith(
      expect.objectContaining({
        status: 'submitted',
        request: { prompt: 'Heavy rain on a tin roof with distant thunder', duration: 8 },
      }),
    );
  },
};

/** Keyboard only: type, then Ctrl+Enter. */
export const KeyboardSubmit: Story = {
  play: async ({ canvas, args, userEvent }) => {
    await userEvent.click(promptOf(canvas));
    await userEvent.keyboard('A cat purring on a sofa');
    await userEvent.keyboard('{Control>}{Enter}{/Control}');
    await waitFor(() => expect(args.onCreated).toHaveBeenCalledTimes(1));
  },
};

/**
 * The shared schema, inline: a 201-character prompt and a 2.9 s duration are refused before any request,
 * each field marked `aria-invalid` and described by its error.
 */
export const ValidationErrors: Story = {
  play: async ({ canvas, args, userEvent }) => {
    await userEvent.click(promptOf(canvas));
    await userEvent.paste('Thunder '.repeat(25) + 'x');
    const duration = canvas.getByRole('spinbutton', { name: 'Duration (seconds)' });
    await userEvent.clear(duration);
    await userEvent.type(duration, '2.9');
    await userEvent.click(canvas.getByRole('button', { name: 'Generate sound' }));

    await expect(promptOf(canvas)).toHaveAttribute('aria-invalid', 'true');
    await expect(promptOf(canvas)).toHaveAccessibleDescription(
      expect.stringContaining('Keep the prompt to 200 characters or fewer.'),
    );
    await expect(duration).toHaveAttribute('aria-invalid', 'true');
    await expect(duration).toHaveAccessibleDescription(
      expect.stringContaining('Duration must be at least 3 seconds.'),
    );
    await expect(canvas.getByText('201/200')).toHaveAttribute('data-state', 'over');
    await expect(args.onCreated).not.toHaveBeenCalled();
  },
};

/** Sending: the button says so and ignores more presses, the form is `aria-busy`. */
export const Pending: Story = {
  // Spies of its own: this create times out after the story (30 s), is looked up and retried, and must
  // not reach the shared spies of a story that runs later.
  args: {
    defaultPrompt: 'Waves on a pebble beach',
    defaultDuration: 7.5,
    onCreated: fn(),
    onCreateError: fn(),
  },
  parameters: mswParameters({ scenario: { slowMs: FOREVER } }),
  play: async ({ canvas, canvasElement, userEvent }) => {
    await userEvent.click(canvas.getByRole('button', { name: 'Generate sound' }));
    const button = await canvas.findByRole('button', { name: 'Sending…' });
    await expect(button).toHaveAttribute('aria-disabled', 'true');
    await expect(canvasElement.querySelector('form')).toHaveAttribute('data-state', 'pending');
    await expect(canvasElement.querySelector('form')).toHaveAttribute('aria-busy', 'true');
  },
};

/** Code 1303: too many tasks at once. Retried twice by the hook, then said in plain words. */
export const RateLimited: Story = {
  args: { defaultPrompt: 'A whoosh of a passing car' },
  parameters: { ...mswParameters({ scenario: { createError: { code: 1303 } } }), ...fastRetries },
  play: async ({ canvas, args, userEvent }) => {
    await userEvent.click(canvas.getByRole('button', { name: 'Generate sound' }));
    const alert = await canvas.findByRole('alert', {}, { timeout: 5000 });
    await expect(alert).toHaveTextContent('Too many sounds are being generated at once');
    await expect(args.onCreateError).toHaveBeenCalledWith(expect.objectContaining({ code: 1303 }));
  },
};

/** Code 1301: the prompt tripped the content-safety rules. Not retried. */
export const ContentPolicy: Story = {
  args: { defaultPrompt: 'Something the rules do not allow' },
  parameters: mswParameters({ scenario: { createError: { code: 1301 } } }),
  play: async ({ canvas, userEvent }) => {
    await userEvent.click(canvas.getByRole('button', { name: 'Generate sound' }));
    await expect(await canvas.findByRole('alert')).toHaveTextContent(
      'The prompt was blocked by content safety rules. Try describing the sound differently.',
    );
  },
};

/** The network is down (every API request fails to connect). */
export const NetworkDown: Story = {
  args: { defaultPrompt: 'Knocking on an old door' },
  parameters: {
    msw: {
      handlers: [http.all(`*${STORY_BASE_URL}/*`, () => HttpResponse.error()), ...storyBackend().handlers],
    },
    ...fastRetries,
  },
  play: async ({ canvas, userEvent }) => {
    await userEvent.click(canvas.getByRole('button', { name: 'Generate sound' }));
    await expect(await canvas.findByRole('alert', {}, { timeout: 5000 })).toHaveTextContent(
      'Could not reach the server. Check your connection and try again.',
    );
  },
};

/** The proxy has a limit for this user: what is left shows beside Generate (and describes it). */
export const QuotaLeft: Story = {
  parameters: { msw: { handlers: [usageHandler(38), ...storyBackend().handlers] } },
  play: async ({ canvas }) => {
    await expect(await canvas.findByText('12 of 50 sounds left today')).toBeVisible();
    await expect(canvas.getByRole('button', { name: 'Generate sound' })).toHaveAccessibleDescription(
      '12 of 50 sounds left today',
    );
  },
};

/** The user's quota is used (2001): plain words and when it resets; never retried. */
export const QuotaUsed: Story = {
  args: { defaultPrompt: 'A whoosh of a passing car' },
  parameters: { msw: { handlers: [usageHandler(50), quotaRefusal(2001), ...storyBackend().handlers] } },
  play: async ({ canvas, args, userEvent }) => {
    await expect(await canvas.findByText('0 of 50 sounds left today')).toHaveAttribute(
      'data-state',
      'used-up',
    );
    await userEvent.click(canvas.getByRole('button', { name: 'Generate sound' }));
    const alert = await canvas.findByRole('alert');
    await expect(alert).toHaveTextContent('You have made as many sounds as your plan allows for now.');
    await expect(alert).toHaveTextContent('You can make more from');
    await expect(args.onCreateError).toHaveBeenCalledTimes(1);
  },
};

/** The user already has as many sounds waiting as the proxy allows (2003). */
export const QueueFull: Story = {
  args: { defaultPrompt: 'A whoosh of a passing car' },
  parameters: { msw: { handlers: [usageHandler(10), quotaRefusal(2003), ...storyBackend().handlers] } },
  play: async ({ canvas, userEvent }) => {
    await userEvent.click(canvas.getByRole('button', { name: 'Generate sound' }));
    await expect(await canvas.findByRole('alert')).toHaveTextContent(
      'You already have as many sounds waiting as you can.',
    );
  },
};

/** The counter warns near the limit (quietly: screen readers hear it at 20, 10 and 0 left). */
export const NearTheLimit: Story = {
  args: {
    defaultPrompt:
      'A lively harbour at dawn: gulls calling, ropes creaking against wooden posts, small waves lapping ' +
      'the hulls, a distant foghorn, and the first fishing boats puttering out to the sea',
  },
  play: async ({ canvas }) => {
    await expect(canvas.getByText('180/200')).toHaveAttribute('data-state', 'near');
  },
};

/** Controlled by the app: the app owns the prompt and the duration (here, both are fixed). */
export const Controlled: Story = {
  args: { prompt: 'Footsteps in the snow', duration: 6.5 },
  play: async ({ canvas, userEvent }) => {
    await userEvent.type(promptOf(canvas), '!');
    await expect(promptOf(canvas)).toHaveValue('Footsteps in the snow');
  },
};

/** The dark tokens. */
export const Dark: Story = {
  globals: { theme: 'dark' },
  args: { defaultPrompt: 'Wind chimes in a breeze' },
};

/** Dark, with an error showing. */
export const DarkWithError: Story = {
  ...ValidationErrors,
  globals: { theme: 'dark' },
};

/** Every string replaced (here in French), and the app's own presets. */
export const CustomMessages: Story = {
  args: {
    presets: [
      { label: 'Orage', prompt: 'Un orage lointain sur les collines', duration: 8 },
      { label: 'Cloche', prompt: 'Une petite cloche qui sonne deux fois', duration: 3 },
    ],
    messages: {
      formPromptLabel: 'Décrivez le son',
      formPromptPlaceholder: 'Des feux d’artifice au-dessus du port',
      formPromptCounterLabel: (length, max) => `${length} caractères sur ${max}`,
      formDurationLabel: 'Durée (secondes)',
      formDurationSliderLabel: 'Durée',
      formDurationHint: (min, max) => `De ${min} à ${max} secondes`,
      formDurationValueText: (value) => `${value} secondes`,
      formPresetsLabel: 'Exemples',
      formSubmit: 'Générer le son',
      formSubmitting: 'Envoi…',
      formShortcutHint: (mac) => `${mac ? '⌘' : 'Ctrl'}+Entrée pour générer`,
      formPromptEmpty: 'Décrivez le son souhaité.',
    },
  },
  parameters: { kling: { locale: 'fr-FR' } },
  play: async ({ canvas, userEvent }) => {
    await userEvent.click(canvas.getByRole('button', { name: 'Générer le son' }));
    await expect(canvas.getByRole('textbox', { name: 'Décrivez le son' })).toHaveAccessibleDescription(
      expect.stringContaining('Décrivez le son souhaité.'),
    );
  },
};

/** A phone (320 px wide): the button takes the full width. */
export const Mobile: Story = {
  globals: { viewport: { value: 'mobile1', isRotated: false } },
  parameters: { maxWidth: 320 },
  args: { defaultPrompt: 'A sci-fi laser zap' },
};
