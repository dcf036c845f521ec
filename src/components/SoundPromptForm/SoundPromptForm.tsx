import {
  forwardRef,
  useEffect,
  useId,
  useMemo,
  useState,
  type ChangeEvent,
  type ComponentPropsWithoutRef,
  type FormEvent,
  type KeyboardEvent,
} from 'react';
import { isQuotaError, type KlingApiError } from '../../api/errors';
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
import { useAudioUsage } from '../../hooks/useAudioUsage';
import { useCreateAudioTask, type UseCreateAudioTaskOptions } from '../../hooks/useCreateAudioTask';
import {
  compose,
  join,
  partOf,
  useComponentMessages,
  useControllableState,
  visuallyHidden,
} from '../internal';

export type { SoundPromptPreset } from '../../api/messages';

/** What the form is doing, as `data-state` on the `<form>`. */
export type SoundPromptFormState = 'idle' | 'invalid' | 'pending' | 'error';

export interface SoundPromptFormProps extends Omit<
  ComponentPropsWithoutRef<'form'>,
  'children' | 'onDurationChange'
> {
  // `onDurationChange` is also a media event prop; on a form it means the duration control's change.
  /** Called with the new task once the service has accepted it (status `submitted`). */
  onCreated?: (task: AudioTask) => void;
  /** Called with the error when a create fails (after the hook's own retries). */
  onCreateError?: (error: KlingApiError) => void;
  /** The prompt, controlled. Use with `onPromptChange`. */
  prompt?: string;
  /** The prompt at first render, uncontrolled. Defaults to `''`. */
  defaultPrompt?: string;
  /** Called with every change of the prompt (typing or a preset). */
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

type Field = 'prompt' | 'duration';
type FieldErrors = Partial<Record<Field, string>>;

const part = partOf('SoundPromptForm');

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

/**
 * The prompt and duration of a new sound, with a live character counter, a duration field and slider kept
 * in sync, example presets, inline validation from `createAudioTaskInputSchema`, a pending state, and the
 * service's errors in plain words. Ctrl+Enter (⌘+Enter on a Mac) in the prompt submits.
 *
 * @example
 * <SoundPromptForm onCreated={(task) => setTaskId(task.taskId)} />
 */
export const SoundPromptForm = forwardRef<HTMLFormElement, SoundPromptFormProps>(function SoundPromptForm(
  {
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
    className,
    onSubmit,
    ...props
  },
  ref,
) {
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
    usage: `${id}-usage`,
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
  const [checked, setChecked] = useState<Record<Field, boolean>>({ prompt: false, duration: false });
  const [dirty, setDirty] = useState<Record<Field, boolean>>({ prompt: false, duration: false });
  const values = useMemo(
    () => ({ prompt, duration: durationText.trim() === '' ? Number.NaN : Number(durationText) }),
    [prompt, durationText],
  );
  const { errors } = useMemo(() => validate(values, m, locale), [values, m, locale]);
  const shown: FieldErrors = {
    prompt: checked.prompt ? errors.prompt : undefined,
    duration: checked.duration ? errors.duration : undefined,
  };

  // Apple platforms say ⌘. Read after mount, so the server render and hydration agree.
  const [mac, setMac] = useState(false);
  useEffect(() => {
    setMac(/Mac|iPhone|iPad/.test(navigator.platform || navigator.userAgent));
  }, []);

  const create = useCreateAudioTask({
    ...createOptions,
    mutation: {
      onSuccess: (task) => onCreated?.(task),
      onError: (error) => onCreateError?.(error),
    },
  });
  const pending = create.isPending;
  // A busy service (1303 with Retry-After) makes the create wait: say for how long, tick each second.
  const { retryAt } = create;
  const [now, setNow] = useState(0);
  useEffect(() => {
    if (!retryAt) return;
    setNow(Date.now());
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [retryAt]);
  const waitSeconds = retryAt && now ? Math.max(0, Math.ceil((retryAt - now) / 1000)) : undefined;

  // What is left under the user's limit, where the proxy has one: the task quota first, else the units.
  const { usage } = useAudioUsage();
  const quota =
    usage?.tasks.max !== undefined ? 'tasks' : usage?.units.max !== undefined ? 'units' : undefined;
  const usageText =
    usage && quota
      ? m.formUsageLeft(
          Math.max(0, usage[quota].max! - usage[quota].used),
          usage[quota].max!,
          quota,
          usage[quota].window,
          locale,
        )
      : undefined;
  // A quota refusal says when the allowance starts afresh: the usage's own reset time (refreshed on the
  // refusal), else the answer's Retry-After from the moment it arrived.
  const error = create.error;
  const refusedAt = useMemo(() => (error ? Date.now() : 0), [error]);
  const resetsAt = !isQuotaError(error)
    ? undefined
    : ((error.code === 2001
        ? usage?.tasks.resetsAt
        : error.code === 2002
          ? usage?.units.resetsAt
          : undefined) ??
      (error.code !== 2003 && error.retryAfterMs !== undefined ? refusedAt + error.retryAfterMs : undefined));
  const state: SoundPromptFormState = pending
    ? 'pending'
    : create.isError && create.error.kind !== 'aborted'
      ? 'error'
      : shown.prompt || shown.duration
        ? 'invalid'
        : 'idle';

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

  const changePrompt = (event: ChangeEvent<HTMLTextAreaElement>) => {
    setDirty((d) => (d.prompt ? d : { ...d, prompt: true }));
    setPrompt(event.target.value);
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

  const blur = (field: Field) => () => {
    if (dirty[field]) setChecked((c) => (c[field] ? c : { ...c, [field]: true }));
  };

  const keyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (event.key === 'Enter' && (event.ctrlKey || event.metaKey) && !event.nativeEvent.isComposing) {
      event.preventDefault();
      event.currentTarget.form?.requestSubmit();
    }
  };

  const applyPreset = (preset: SoundPromptPreset) => {
    setPrompt(preset.prompt);
    setShownDuration(preset.duration);
    setDuration(preset.duration);
    setDurationText(String(preset.duration));
    setDirty({ prompt: true, duration: true });
  };

  const length = prompt.length;
  const left = PROMPT_MAX_LENGTH - prompt.trim().length;
  const counterState = left < 0 ? 'over' : left <= ANNOUNCE_AT[0]! ? 'near' : 'ok';
  // Quiet while typing: a polite announcement only on reaching 20, 10 or 0 characters left, and once when
  // going over. Its text stays the same while over the limit, so it is not repeated per keystroke.
  const announcement =
    left < 0
      ? m.formPromptOverLimit(PROMPT_MAX_LENGTH, locale)
      : ANNOUNCE_AT.includes(left)
        ? m.formPromptCharactersLeft(left, locale)
        : '';

  const presets = presetsProp ?? m.formPresets;
  const sliderValue = clampDuration(values.duration);

  return (
    <form
      noValidate
      {...props}
      ref={ref}
      className={join('rka-SoundPromptForm', className)}
      data-part="root"
      data-state={state}
      aria-busy={pending || undefined}
      onSubmit={compose(onSubmit, submit)}
    >
      <div {...part('field')} data-invalid={shown.prompt ? '' : undefined}>
        <div {...part('label-row')}>
          <label {...part('label')} htmlFor={ids.prompt}>
            {m.formPromptLabel}
          </label>
          <span {...part('counter')} data-state={counterState} aria-hidden="true">
            {m.formPromptCounter(length, PROMPT_MAX_LENGTH, locale)}
          </span>
        </div>
        <textarea
          {...part('prompt')}
          id={ids.prompt}
          name="prompt"
          rows={3}
          value={prompt}
          placeholder={m.formPromptPlaceholder}
          aria-invalid={shown.prompt ? true : undefined}
          aria-describedby={join(shown.prompt && ids.promptError, ids.promptCount, ids.promptHint)}
          aria-keyshortcuts="Control+Enter Meta+Enter"
          onChange={changePrompt}
          onBlur={blur('prompt')}
          onKeyDown={keyDown}
        />
        <span id={ids.promptCount} style={visuallyHidden}>
          {m.formPromptCounterLabel(length, PROMPT_MAX_LENGTH, locale)}
        </span>
        <span {...part('counter-announcer')} style={visuallyHidden} aria-live="polite">
          {announcement}
        </span>
        {shown.prompt && (
          <p {...part('error')} id={ids.promptError}>
            {shown.prompt}
          </p>
        )}
        <p {...part('hint')} id={ids.promptHint}>
          {m.formShortcutHint(mac)}
        </p>
      </div>

      <div {...part('field')} data-invalid={shown.duration ? '' : undefined}>
        <label {...part('label')} id={ids.durationLabel} htmlFor={ids.duration}>
          {m.formDurationLabel}
        </label>
        <div {...part('duration-controls')}>
          <input
            {...part('duration-input')}
            id={ids.duration}
            name="duration"
            type="number"
            inputMode="decimal"
            min={DURATION_MIN}
            max={DURATION_MAX}
            step={DURATION_STEP}
            value={durationText}
            aria-invalid={shown.duration ? true : undefined}
            aria-describedby={join(shown.duration && ids.durationError, ids.durationHint)}
            onChange={(event) => changeDurationText(event.target.value)}
            onBlur={blur('duration')}
          />
          <input
            {...part('duration-slider')}
            type="range"
            min={DURATION_MIN}
            max={DURATION_MAX}
            step={DURATION_STEP}
            value={sliderValue}
            aria-label={m.formDurationSliderLabel}
            aria-valuetext={m.formDurationValueText(sliderValue, locale)}
            aria-describedby={ids.durationHint}
            onChange={(event) => changeDurationText(event.target.value)}
            onBlur={blur('duration')}
          />
        </div>
        {shown.duration && (
          <p {...part('error')} id={ids.durationError}>
            {shown.duration}
          </p>
        )}
        <p {...part('hint')} id={ids.durationHint}>
          {m.formDurationHint(DURATION_MIN, DURATION_MAX, DURATION_STEP, locale)}
        </p>
      </div>

      {presets.length > 0 && (
        <div {...part('presets')} role="group" aria-labelledby={ids.presets}>
          <span {...part('presets-label')} id={ids.presets}>
            {m.formPresetsLabel}
          </span>
          {presets.map((preset, index) => (
            <button
              key={`${index}-${preset.label}`}
              {...part('preset')}
              type="button"
              title={m.formPresetDescription(preset, locale)}
              onClick={() => applyPreset(preset)}
            >
              {preset.label}
            </button>
          ))}
        </div>
      )}

      {/* Cancelled by the person: nothing to report. */}
      {create.error && create.error.kind !== 'aborted' && (
        <p {...part('alert')} role="alert" data-code={create.error.code}>
          {m.errorText(create.error)}
          {resetsAt !== undefined && ` ${m.formQuotaResets(resetsAt, locale)}`}
        </p>
      )}

      <div {...part('actions')}>
        {usageText && (
          <p
            {...part('usage')}
            id={ids.usage}
            data-state={usage![quota!].used >= usage![quota!].max! ? 'used-up' : undefined}
          >
            {usageText}
          </p>
        )}
        {/* aria-disabled, not disabled: a disabled button drops keyboard focus to the page's start. */}
        <button
          {...part('submit')}
          type="submit"
          data-state={pending ? 'pending' : 'idle'}
          aria-disabled={pending || undefined}
          aria-describedby={usageText ? ids.usage : undefined}
        >
          {pending ? m.formSubmitting : m.formSubmit}
        </button>
        {waitSeconds !== undefined && (
          <button {...part('cancel')} type="button" onClick={create.cancel}>
            {m.formCancel}
          </button>
        )}
      </div>
      <p {...part('wait')} role="status">
        {waitSeconds === undefined ? '' : m.formRetryWait(waitSeconds, locale)}
      </p>
    </form>
  );
});
