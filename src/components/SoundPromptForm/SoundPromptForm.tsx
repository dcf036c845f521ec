import { forwardRef, type ComponentPropsWithoutRef } from 'react';
import { DURATION_MAX, DURATION_MIN, DURATION_STEP } from '../../api/schemas';
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
        </p>
      )}

      <div {...part('actions')}>
        {/* In the actions row, not a row of its own: empty, it takes no space under the button. */}
        <p {...part('wait')} role="status">
          {form.waitText}
        </p>
        <button {...part('submit')} {...form.getSubmitProps()}>
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
