import {
  useEffect,
  useId,
  useMemo,
  useState,
  useSyncExternalStore,
  type ChangeEvent,
  type FormEvent,
  type KeyboardEvent,
} from 'react';
import type { KlingApiError } from '../../api/errors';
import { formMessages, type KlingAudioMessages, type SoundPromptPreset } from '../../api/messages';
import {
  createAudioTaskInputSchema,
  DURATION_MAX,
  DURATION_MIN,
  DURATION_STEP,
  PROMPT_MAX_LENGTH,
  type AudioTask,
  type CreateAudioTaskInput,
  type InputIssueReason,
} from '../../api/schemas';
import { useCreateAudioTask, type UseCreateAudioTaskOptions } from '../../hooks/useCreateAudioTask';
import { join, useComponentMessages, useControllableState } from '../internal';

/** What the form is doing, as `data-state` on the `<form>`. */
export type SoundPromptFormState = 'idle' | 'invalid' | 'pending' | 'error';

/** The form's two fields. */
export type SoundPromptField = 'prompt' | 'duration';

export interface UseSoundPromptFormOptions {
  /** Called with the new task once the service has accepted it (status `submitted`). */
  onCreated?: (task: AudioTask) => void;
  /** Called with the error when a create fails (after the hook's own retries). */
  onCreateError?: (error: KlingApiError) => void;
  /** The prompt, controlled. Use with `onPromptChange`. */
  prompt?: string;
  /** The prompt at first render, uncontrolled. Defaults to `''`. */
  defaultPrompt?: string;
  /** Called with every change of the prompt (typing, a preset, or undoing a preset). */
  onPromptChange?: (prompt: string) => void;
  /** The duration in seconds, controlled. Use with `onDurationChange`. */
  duration?: number;
  /** The duration at first render, uncontrolled. Defaults to `5`. */
  defaultDuration?: number;
  /** Called with every change of the duration that is a number (the field may be briefly empty while typing). */
  onDurationChange?: (duration: number) => void;
  /** Example buttons that fill the prompt and the duration. `[]` hides them. Defaults to `messages.formPresets`. */
  presets?: readonly SoundPromptPreset[];
  /** Replacements for any string of this form. Defaults to the provider's messages. */
  messages?: Partial<KlingAudioMessages>;
  /** Passed to `useCreateAudioTask` (e.g. `retries`). */
  createOptions?: Omit<UseCreateAudioTaskOptions, 'mutation'>;
}

type FieldErrors = Partial<Record<SoundPromptField, string>>;

/** What a preset replaced, so that one Undo brings it back. */
interface Replaced {
  prompt: string;
  duration: number;
  durationText: string;
  /** The prompt the preset put in: Undo is offered only while the box still holds it. */
  presetPrompt: string;
}

// Thresholds at which the remaining characters are announced; in between, the prompt stays quiet.
const ANNOUNCE_AT = [20, 10, 0];

// The shared schema decides what is valid and says why (`issue.params.reason`); the messages say it in the
// app's words. A rule the form has no words for keeps the schema's own message.
function validate(
  values: { prompt: string; duration: number },
  m: typeof formMessages,
  locale: string | undefined,
): { errors: FieldErrors; input?: CreateAudioTaskInput } {
  const result = createAudioTaskInputSchema.safeParse(values);
  if (result.success) return { errors: {}, input: result.data };
  const words: Record<InputIssueReason, string | undefined> = {
    'prompt-empty': m.formPromptEmpty,
    'prompt-too-long': m.formPromptTooLong(PROMPT_MAX_LENGTH, locale),
    'duration-too-short': m.formDurationTooShort(DURATION_MIN, locale),
    'duration-too-long': m.formDurationTooLong(DURATION_MAX, locale),
    'duration-precision': m.formDurationPrecision,
    'external-id': undefined,
    'callback-url': undefined,
  };
  const errors: FieldErrors = {};
  for (const issue of result.error.issues) {
    const field = issue.path[0];
    if ((field !== 'prompt' && field !== 'duration') || errors[field]) continue;
    const reason = (issue as { params?: { reason?: InputIssueReason } }).params?.reason;
    errors[field] =
      (reason && words[reason]) ||
      (issue.code === 'invalid_type'
        ? field === 'prompt'
          ? m.formPromptEmpty
          : m.formDurationNotNumber
        : issue.message);
  }
  return { errors };
}

const clampDuration = (value: number) =>
  Number.isFinite(value) ? Math.min(DURATION_MAX, Math.max(DURATION_MIN, value)) : DURATION_MIN;

const TOUCH_QUERY = '(pointer: coarse)';
const touchQuery = () => (typeof matchMedia === 'function' ? matchMedia(TOUCH_QUERY) : undefined);
const subscribeTouch = (onChange: () => void) => {
  const query = touchQuery();
  query?.addEventListener?.('change', onChange);
  return () => query?.removeEventListener?.('change', onChange);
};
const never = () => () => {};
const serverFalse = () => false;

/**
 * What the device says: Apple platforms say ⌘, and a touch screen as the main pointer usually has no
 * keyboard (so no shortcut to offer). `false` on the server and while hydrating, so both renders agree.
 */
function useDevice() {
  const mac = useSyncExternalStore(
    never,
    () => /Mac|iPhone|iPad/.test(navigator.platform || navigator.userAgent),
    serverFalse,
  );
  const touch = useSyncExternalStore(subscribeTouch, () => touchQuery()?.matches ?? false, serverFalse);
  return { mac, touch };
}

/**
 * Whole seconds until `at` (ms since the epoch), ticking each second; `undefined` without one. A busy
 * service (1303 with Retry-After) makes the create wait: the form says for how long.
 */
function useSecondsUntil(at: number | undefined): number | undefined {
  const [now, setNow] = useState(0);
  useEffect(() => {
    if (!at) return;
    const tick = () => setNow(Date.now());
    const first = setTimeout(tick, 0);
    const timer = setInterval(tick, 1000);
    return () => {
      clearTimeout(first);
      clearInterval(timer);
    };
  }, [at]);
  return at && now ? Math.max(0, Math.ceil((at - now) / 1000)) : undefined;
}

/** The counter beside the prompt: what is sent (the trimmed prompt, as the shared schema counts it). */
function promptCounter(prompt: string, m: typeof formMessages, locale: string | undefined) {
  const length = prompt.trim().length;
  const left = PROMPT_MAX_LENGTH - length;
  return {
    length,
    max: PROMPT_MAX_LENGTH,
    state: (left < 0 ? 'over' : left <= ANNOUNCE_AT[0]! ? 'near' : 'ok') as 'ok' | 'near' | 'over',
    text: m.formPromptCounter(length, PROMPT_MAX_LENGTH, locale),
    label: m.formPromptCounterLabel(length, PROMPT_MAX_LENGTH, locale),
    // Quiet while typing: a polite announcement only on reaching 20, 10 or 0 characters left, and once
    // when going over. Its text stays the same while over the limit, so it is not repeated per keystroke.
    announcement:
      left < 0
        ? m.formPromptOverLimit(PROMPT_MAX_LENGTH, locale)
        : ANNOUNCE_AT.includes(left)
          ? m.formPromptCharactersLeft(left, locale)
          : '',
  };
}

/**
 * The behaviour of `<SoundPromptForm>` without its markup, React Aria style: state, the strings to show,
 * and prop getters for each part (`getPromptProps`, `getSubmitProps`, …), so a design system can render
 * the same form with its own components. Validation comes from `createAudioTaskInputSchema`, the create
 * from `useCreateAudioTask`.
 *
 * @example
 * const form = useSoundPromptForm({ onCreated: (task) => setTaskId(task.taskId) });
 * <form {...form.getFormProps()}>
 *   <textarea {...form.getPromptProps()} />
 *   <button {...form.getSubmitProps()}>{form.submitLabel}</button>
 * </form>
 */
export function useSoundPromptForm({
  onCreated,
  onCreateError,
  prompt: promptProp,
  defaultPrompt = '',
  onPromptChange,
  duration: durationProp,
  defaultDuration = 5,
  onDurationChange,
  presets: presetsProp,
  messages,
  createOptions,
}: UseSoundPromptFormOptions = {}) {
  const { m, locale } = useComponentMessages(formMessages, messages);
  const id = useId();
  const ids = {
    prompt: `${id}-prompt`,
    promptCount: `${id}-prompt-count`,
    promptHint: `${id}-prompt-hint`,
    promptError: `${id}-prompt-error`,
    duration: `${id}-duration`,
    durationLabel: `${id}-duration-label`,
    durationHint: `${id}-duration-hint`,
    durationError: `${id}-duration-error`,
    presets: `${id}-presets`,
  };

  const [prompt, setPrompt] = useControllableState(promptProp, defaultPrompt, onPromptChange);
  const [duration, setDuration] = useControllableState(durationProp, defaultDuration, onDurationChange);
  // The number field's own text: while typing "7." or clearing the field it is not a number yet.
  const [durationText, setDurationText] = useState(() => String(duration));
  // A controlled duration changed from outside: show it (unless the text already means that number).
  const [shownDuration, setShownDuration] = useState(duration);
  if (shownDuration !== duration) {
    setShownDuration(duration);
    if (Number(durationText) !== duration || durationText.trim() === '') setDurationText(String(duration));
  }

  // Errors are shown for a field once it has been checked: on blur (after an edit) or on submit. From then
  // on they follow every keystroke, so a fix clears the error at once.
  const [checked, setChecked] = useState<Record<SoundPromptField, boolean>>({
    prompt: false,
    duration: false,
  });
  const [dirty, setDirty] = useState<Record<SoundPromptField, boolean>>({ prompt: false, duration: false });
  const values = useMemo(
    () => ({ prompt, duration: durationText.trim() === '' ? Number.NaN : Number(durationText) }),
    [prompt, durationText],
  );
  const { errors } = useMemo(() => validate(values, m, locale), [values, m, locale]);
  const shown: FieldErrors = {
    prompt: checked.prompt ? errors.prompt : undefined,
    duration: checked.duration ? errors.duration : undefined,
  };

  const { mac, touch } = useDevice();

  const create = useCreateAudioTask({
    ...createOptions,
    mutation: {
      onSuccess: (task) => onCreated?.(task),
      onError: (error) => onCreateError?.(error),
    },
  });
  const pending = create.isPending;
  const waitSeconds = useSecondsUntil(create.retryAt);
  // Cancelled by the person: nothing to report.
  const error = create.error && create.error.kind !== 'aborted' ? create.error : null;
  const state: SoundPromptFormState = pending
    ? 'pending'
    : error
      ? 'error'
      : shown.prompt || shown.duration
        ? 'invalid'
        : 'idle';

  // What the last preset replaced, while the box still holds that preset's text.
  const [replaced, setReplaced] = useState<Replaced | null>(null);
  const canUndoPreset = replaced !== null && replaced.presetPrompt === prompt;

  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    if (pending) return;
    setChecked({ prompt: true, duration: true });
    const { input } = validate(values, m, locale);
    if (!input) {
      // Take the person to the first thing to fix.
      const target = errors.prompt ? ids.prompt : ids.duration;
      event.currentTarget.ownerDocument.getElementById(target)?.focus();
      return;
    }
    create.mutate(input);
  };

  const changeDurationText = (text: string) => {
    setDirty((d) => (d.duration ? d : { ...d, duration: true }));
    setDurationText(text);
    const value = Number(text);
    if (text.trim() !== '' && Number.isFinite(value)) {
      setShownDuration(value);
      setDuration(value);
    }
  };

  const fill = (next: { prompt: string; duration: number; durationText?: string }) => {
    setPrompt(next.prompt);
    setShownDuration(next.duration);
    setDuration(next.duration);
    setDurationText(next.durationText ?? String(next.duration));
  };

  const applyPreset = (preset: SoundPromptPreset) => {
    // Typed text (or an earlier example the person kept) is kept aside, so Undo brings it back.
    const own = canUndoPreset ? replaced : { prompt, duration, durationText, presetPrompt: '' };
    setReplaced(own.prompt.trim() === '' ? null : { ...own, presetPrompt: preset.prompt });
    fill(preset);
    setDirty({ prompt: true, duration: true });
  };

  const undoPreset = () => {
    if (!canUndoPreset) return;
    fill(replaced);
    setReplaced(null);
  };

  const keyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (event.nativeEvent.isComposing) return;
    if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      event.currentTarget.form?.requestSubmit();
    } else if (
      canUndoPreset &&
      event.key.toLowerCase() === 'z' &&
      (event.ctrlKey || event.metaKey) &&
      !event.shiftKey
    ) {
      // The example was set by code, which the browser's own undo does not see: Ctrl/⌘+Z undoes it here.
      event.preventDefault();
      undoPreset();
    }
  };

  const blur = (field: SoundPromptField) => () => {
    if (dirty[field]) setChecked((c) => (c[field] ? c : { ...c, [field]: true }));
  };

  const presets = presetsProp ?? m.formPresets;
  const sliderValue = clampDuration(values.duration);
  // No keyboard shortcut to offer on a touch screen.
  const shortcutHint = touch ? undefined : m.formShortcutHint(mac);

  return {
    m,
    locale,
    ids,
    state,
    pending,
    prompt,
    duration,
    durationText,
    /** The errors on screen (a field's error shows once it was checked). */
    errors: shown,
    /** The create's error, in plain words via `m.errorText(error)`; `null` when there is none to show. */
    error,
    counter: promptCounter(prompt, m, locale),
    shortcutHint,
    presets,
    canUndoPreset,
    /** Seconds until a busy service is tried again; `undefined` when not waiting. */
    waitSeconds,
    waitText: waitSeconds === undefined ? '' : m.formRetryWait(waitSeconds, locale),
    submitLabel: pending ? m.formSubmitting : m.formSubmit,
    applyPreset,
    undoPreset,
    cancel: create.cancel,

    getFormProps: () => ({
      noValidate: true,
      'data-state': state,
      'aria-busy': pending || undefined,
      onSubmit: submit,
    }),
    getPromptProps: () => ({
      id: ids.prompt,
      name: 'prompt',
      rows: 3,
      value: prompt,
      // Hidden while the box is flagged empty: the example must not look like text that is there.
      placeholder: shown.prompt ? undefined : m.formPromptPlaceholder,
      'aria-invalid': shown.prompt ? true : undefined,
      'aria-describedby': join(
        shown.prompt && ids.promptError,
        ids.promptCount,
        shortcutHint && ids.promptHint,
      ),
      'aria-keyshortcuts': 'Control+Enter Meta+Enter',
      onChange: (event: ChangeEvent<HTMLTextAreaElement>) => {
        setDirty((d) => (d.prompt ? d : { ...d, prompt: true }));
        setPrompt(event.target.value);
      },
      onBlur: blur('prompt'),
      onKeyDown: keyDown,
    }),
    getDurationInputProps: () => ({
      id: ids.duration,
      name: 'duration',
      type: 'number',
      inputMode: 'decimal' as const,
      min: DURATION_MIN,
      max: DURATION_MAX,
      step: DURATION_STEP,
      value: durationText,
      'aria-invalid': shown.duration ? true : undefined,
      'aria-describedby': join(shown.duration && ids.durationError, ids.durationHint),
      onChange: (event: ChangeEvent<HTMLInputElement>) => changeDurationText(event.target.value),
      onBlur: blur('duration'),
    }),
    getDurationSliderProps: () => ({
      type: 'range',
      min: DURATION_MIN,
      max: DURATION_MAX,
      step: DURATION_STEP,
      value: sliderValue,
      'aria-label': m.formDurationSliderLabel,
      'aria-valuetext': m.formDurationValueText(sliderValue, locale),
      'aria-describedby': ids.durationHint,
      onChange: (event: ChangeEvent<HTMLInputElement>) => changeDurationText(event.target.value),
      onBlur: blur('duration'),
    }),
    getPresetProps: (preset: SoundPromptPreset) => ({
      type: 'button' as const,
      title: m.formPresetDescription(preset, locale),
      onClick: () => applyPreset(preset),
    }),
    getUndoPresetProps: () => ({
      type: 'button' as const,
      onClick: undoPreset,
    }),
    getSubmitProps: () => ({
      type: 'submit' as const,
      'data-state': pending ? 'pending' : 'idle',
      // aria-disabled, not disabled: a disabled button drops keyboard focus to the page's start.
      'aria-disabled': pending || undefined,
    }),
    getCancelProps: () => ({
      type: 'button' as const,
      onClick: create.cancel,
    }),
  };
}

/** What `useSoundPromptForm` returns. */
export type UseSoundPromptFormResult = ReturnType<typeof useSoundPromptForm>;
