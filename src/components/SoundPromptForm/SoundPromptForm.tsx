import { forwardRef, useEffect, useState, type ComponentPropsWithoutRef } from 'react';
import { isQuotaError, type KlingApiError } from '../../api/errors';
import type { formMessages } from '../../api/messages';
import { DURATION_MAX, DURATION_MIN, DURATION_STEP } from '../../api/schemas';
import { useAudioUsage } from '../../hooks/useAudioUsage';
import { compose, join, partOf, visuallyHidden } from '../internal';
import { useSoundPromptForm, type UseSoundPromptFormOptions } from './useSoundPromptForm';

export type { SoundPromptPreset } from '../../api/messages';
export type { SoundPromptFormState } from './useSoundPromptForm';

export interface SoundPromptFormProps
  extends Omit<ComponentPropsWithoutRef<'form'>, 'children' | 'onDurationChange'>, UseSoundPromptFormOptions {
  // `onDurationChange` is also a media event prop; on a form it means the duration control's change.
}

const part = partOf('SoundPromptForm');

/**
 * What is left under the user's limit, where the proxy has one (the task quota first, else the units), and
 * when a quota refusal's allowance starts afresh: the usage's own reset time (refreshed on the refusal),
 * else the answer's Retry-After from the moment it arrived.
 */
function useUsageNote(error: KlingApiError | null, m: typeof formMessages, locale: string | undefined) {
  const { usage } = useAudioUsage();
  const quota =
    usage?.tasks.max !== undefined ? 'tasks' : usage?.units.max !== undefined ? 'units' : undefined;
  const figures = usage && quota ? usage[quota] : undefined;
  const text =
    figures && quota
      ? m.formUsageLeft(Math.max(0, figures.max! - figures.used), figures.max!, quota, figures.window, locale)
      : undefined;
  // When the refusal arrived (read after render: a clock is not read while rendering).
  const [refused, setRefused] = useState<{ error: KlingApiError; at: number }>();
  useEffect(() => {
    if (!error) return;
    const timer = setTimeout(() => setRefused({ error, at: Date.now() }), 0);
    return () => clearTimeout(timer);
  }, [error]);
  const refusedAt = refused?.error === error ? refused.at : undefined;
  const resetsAt = !isQuotaError(error)
    ? undefined
    : ((error.code === 2001
        ? usage?.tasks.resetsAt
        : error.code === 2002
          ? usage?.units.resetsAt
          : undefined) ??
      (error.code !== 2003 && error.retryAfterMs !== undefined && refusedAt !== undefined
        ? refusedAt + error.retryAfterMs
        : undefined));
  return { text, usedUp: figures ? figures.used >= figures.max! : false, resetsAt };
}

/**
 * The prompt and duration of a new sound, with a live character counter, a duration field and slider kept
 * in sync, example presets (with Undo), inline validation from `createAudioTaskInputSchema`, a pending
 * state, and the service's errors in plain words. Ctrl+Enter (⌘+Enter on a Mac) in the prompt submits.
 * A thin shell over `useSoundPromptForm`, which gives the same behaviour for your own markup.
 *
 * @example
 * <SoundPromptForm onCreated={(task) => setTaskId(task.taskId)} />
 */
export const SoundPromptForm = forwardRef<HTMLFormElement, SoundPromptFormProps>(function SoundPromptForm(
  {
    onCreated,
    onCreateError,
    prompt,
    defaultPrompt,
    onPromptChange,
    duration,
    defaultDuration,
    onDurationChange,
    presets,
    messages,
    createOptions,
    className,
    onSubmit,
    ...props
  },
  ref,
) {
  const form = useSoundPromptForm({
    onCreated,
    onCreateError,
    prompt,
    defaultPrompt,
    onPromptChange,
    duration,
    defaultDuration,
    onDurationChange,
    presets,
    messages,
    createOptions,
  });
  const { m, locale, ids, errors } = form;
  const formProps = form.getFormProps();
  const usage = useUsageNote(form.error, m, locale);
  const usageId = `${ids.prompt}-usage`;

  return (
    <form
      {...props}
      {...formProps}
      ref={ref}
      className={join('rka-SoundPromptForm', className)}
      data-part="root"
      onSubmit={compose(onSubmit, formProps.onSubmit)}
    >
      <div {...part('field')} data-invalid={errors.prompt ? '' : undefined}>
        <div {...part('label-row')}>
          <label {...part('label')} htmlFor={ids.prompt}>
            {m.formPromptLabel}
          </label>
          <span {...part('counter')} data-state={form.counter.state} aria-hidden="true">
            {form.counter.text}
          </span>
        </div>
        <textarea {...part('prompt')} {...form.getPromptProps()} />
        <span id={ids.promptCount} style={visuallyHidden}>
          {form.counter.label}
        </span>
        <span {...part('counter-announcer')} style={visuallyHidden} aria-live="polite">
          {form.counter.announcement}
        </span>
        {errors.prompt && (
          <p {...part('error')} id={ids.promptError}>
            {errors.prompt}
          </p>
        )}
        {form.shortcutHint && (
          <p {...part('hint')} id={ids.promptHint}>
            {form.shortcutHint}
          </p>
        )}
      </div>

      <div {...part('field')} data-invalid={errors.duration ? '' : undefined}>
        <label {...part('label')} id={ids.durationLabel} htmlFor={ids.duration}>
          {m.formDurationLabel}
        </label>
        <div {...part('duration-controls')}>
          <input {...part('duration-input')} {...form.getDurationInputProps()} />
          <input {...part('duration-slider')} {...form.getDurationSliderProps()} />
        </div>
        {errors.duration && (
          <p {...part('error')} id={ids.durationError}>
            {errors.duration}
          </p>
        )}
        <p {...part('hint')} id={ids.durationHint}>
          {m.formDurationHint(DURATION_MIN, DURATION_MAX, DURATION_STEP, locale)}
        </p>
      </div>

      {form.presets.length > 0 && (
        <div {...part('presets')} role="group" aria-labelledby={ids.presets}>
          <span {...part('presets-label')} id={ids.presets}>
            {m.formPresetsLabel}
          </span>
          {form.presets.map((preset, index) => (
            <button key={`${index}-${preset.label}`} {...part('preset')} {...form.getPresetProps(preset)}>
              {preset.label}
            </button>
          ))}
          {form.canUndoPreset && (
            <button {...part('undo-preset')} {...form.getUndoPresetProps()}>
              {m.formPresetUndo}
            </button>
          )}
        </div>
      )}

      {form.error && (
        <p {...part('alert')} role="alert" data-code={form.error.code}>
          {m.errorText(form.error)}
          {usage.resetsAt !== undefined && ` ${m.formQuotaResets(usage.resetsAt, locale)}`}
        </p>
      )}

      <div {...part('actions')}>
        {usage.text && (
          <p {...part('usage')} id={usageId} data-state={usage.usedUp ? 'used-up' : undefined}>
            {usage.text}
          </p>
        )}
        {/* In the actions row, not a row of its own: empty, it takes no space under the button. */}
        <p {...part('wait')} role="status">
          {form.waitText}
        </p>
        <button
          {...part('submit')}
          {...form.getSubmitProps()}
          aria-describedby={usage.text ? usageId : undefined}
        >
          {form.submitLabel}
        </button>
        {form.waitSeconds !== undefined && (
          <button {...part('cancel')} {...form.getCancelProps()}>
            {m.formCancel}
          </button>
        )}
      </div>
    </form>
  );
});
