import {
  forwardRef,
  useCallback,
  useEffect,
  useId,
  useMemo,
  useRef,
  useState,
  useSyncExternalStore,
  type ComponentPropsWithoutRef,
} from 'react';
import { studioMessages, type KlingAudioMessages } from '../../api/messages';
import type { AudioTask } from '../../api/schemas';
import { useKlingAudioContext } from '../../hooks/KlingAudioProvider';
import { useAudioTask } from '../../hooks/useAudioTask';
import { useDeleteAudioTask } from '../../hooks/useDeleteAudioTask';
import { usePendingAudioTasks } from '../../hooks/usePendingAudioTasks';
import { AudioResultPlayer, type AudioResultPlayerProps } from '../AudioResultPlayer';
import { AudioTaskList, type AudioTaskListProps } from '../AudioTaskList';
import { join, partOf, useComponentMessages, useControllableState, visuallyHidden } from '../internal';
import { SoundPromptForm, type SoundPromptFormProps, type SoundPromptPreset } from '../SoundPromptForm';

/** The current task's status, or `idle` before there is one, as `data-state` on the studio. */
export type TextToAudioStudioState = 'idle' | AudioTask['status'];

export interface TextToAudioStudioProps extends Omit<ComponentPropsWithoutRef<'section'>, 'children'> {
  /** The task shown as current, controlled (`null`: none). Use with `onTaskIdChange`. */
  taskId?: string | null;
  /** The task shown as current at first render, uncontrolled. Defaults to the newest pending task, if any. */
  defaultTaskId?: string | null;
  /** Called when the current task changes: a new one was created, one was picked from the history, or a
   * pending one was resumed after a reload. */
  onTaskIdChange?: (taskId: string | null) => void;
  /** Resume the newest pending task of this browser (kept across reloads) when there is no current one.
   * Defaults to `true`. */
  resume?: boolean;
  /** Tasks per page of the history at first render. Defaults to `10`. */
  listPageSize?: number;
  /** Example buttons of the form. Defaults to `messages.formPresets`; `[]` hides them. */
  presets?: readonly SoundPromptPreset[];
  /** Replacements for any string of the studio, its form, player and history. Defaults to the provider's. */
  messages?: Partial<KlingAudioMessages>;
  /** Extra props for the form (e.g. `defaultPrompt`, `onCreated`). */
  formProps?: Partial<SoundPromptFormProps>;
  /** Extra props for the current task's player. */
  playerProps?: Partial<AudioResultPlayerProps>;
  /** Extra props for the history (e.g. `pageSizeOptions`). */
  listProps?: Partial<AudioTaskListProps>;
}

const part = partOf('TextToAudioStudio');

/** The prompt box's content and duration, kept across reloads (per storage namespace: per user). */
interface Draft {
  prompt: string;
  duration: number;
}
const DRAFT = 'studio:draft';
const CURRENT = 'studio:current';
const noValue = () => undefined;

/** A value the provider's memory keeps across reloads; `undefined` on the server and while hydrating. */
function useKept<T>(name: string): [T | undefined, (value: T | undefined) => void] {
  const { memory } = useKlingAudioContext();
  const value = useSyncExternalStore(memory.subscribe, () => memory.load<T>(name), noValue);
  const save = useCallback((next: T | undefined) => memory.save(name, next), [memory, name]);
  return [value, save];
}

/**
 * The form's prompt and duration as a draft kept across reloads (per storage namespace), as props for the
 * form, unless the app controls the prompt itself (`formProps.prompt` or `formProps.duration`).
 */
function useDraft(formProps: Partial<SoundPromptFormProps> | undefined) {
  const { memory } = useKlingAudioContext();
  const [draft, saveDraft] = useKept<Draft>(DRAFT);
  const ownsPrompt = formProps?.prompt === undefined && formProps?.duration === undefined;
  const shownDraft: Draft = {
    prompt: draft?.prompt ?? formProps?.defaultPrompt ?? '',
    duration: draft?.duration ?? formProps?.defaultDuration ?? 5,
  };
  // Read at call time: a preset or its undo changes the prompt and the duration in one event.
  const setDraft = (patch: Partial<Draft>) =>
    saveDraft({ ...shownDraft, ...memory.load<Draft>(DRAFT), ...patch });
  const draftProps: Partial<SoundPromptFormProps> = ownsPrompt
    ? {
        prompt: shownDraft.prompt,
        duration: shownDraft.duration,
        onPromptChange: (prompt) => {
          setDraft({ prompt });
          formProps?.onPromptChange?.(prompt);
        },
        onDurationChange: (duration) => {
          setDraft({ duration });
          formProps?.onDurationChange?.(duration);
        },
      }
    : {};
  return { draftProps, ownsPrompt, setDraft };
}

/** True when `element` is far enough on screen for its first lines to be seen. */
function isInView(element: Element) {
  const { top, bottom } = element.getBoundingClientRect();
  const height = element.ownerDocument.defaultView?.innerHeight ?? 0;
  return bottom > 0 && top < height - 64;
}

/**
 * The whole flow in one drop-in: describe a sound, generate it, watch it finish, play it, and find it
 * again in the history. It survives a reload: the newest pending task of this browser comes back as the
 * current one. Picking a sound in the history makes it current. Status changes of the current sound are
 * announced once each.
 *
 * @example
 * <KlingAudioProvider baseUrl="/api/kling">
 *   <TextToAudioStudio />
 * </KlingAudioProvider>
 */
export const TextToAudioStudio = forwardRef<HTMLElement, TextToAudioStudioProps>(function TextToAudioStudio(
  {
    taskId: taskIdProp,
    defaultTaskId,
    onTaskIdChange,
    resume = true,
    listPageSize = 10,
    presets,
    messages,
    formProps,
    playerProps,
    listProps,
    className,
    ...props
  },
  ref,
) {
  const { m, locale } = useComponentMessages(studioMessages, messages);
  const id = useId();
  const pending = usePendingAudioTasks();
  // `undefined`: nothing chosen yet, so a pending task may be resumed. `null`: none, on purpose.
  const [chosen, setChosen] = useControllableState<string | null | undefined>(
    taskIdProp,
    defaultTaskId,
    onTaskIdChange as ((taskId: string | null | undefined) => void) | undefined,
  );
  // The current sound of the last visit (kept per storage namespace), else the newest pending task.
  const [saved, setSaved] = useKept<string>(CURRENT);
  const resumable = resume && chosen === undefined ? (saved ?? pending[0]) : undefined;
  const current = chosen ?? resumable ?? null;

  // Pending ids come from storage, which a server render does not have: resume after mount, and hold on
  // to the task once it finishes (it then leaves the pending list).
  useEffect(() => {
    if (resumable) setChosen(resumable);
  }, [resumable, setChosen]);
  // The current sound, finished or not, comes back after a reload.
  useEffect(() => {
    if (current) setSaved(current);
  }, [current, setSaved]);

  const { draftProps, ownsPrompt, setDraft } = useDraft(formProps);

  const { task } = useAudioTask(current);
  const title = task ? task.request?.prompt || m.untitledTask(task.taskId) : '';
  // A waiting task cancelled from the player: deleted (never sent), and the studio says so once.
  const [cancelNotice, setCancelNotice] = useState('');
  const remove = useDeleteAudioTask({
    mutation: {
      onSuccess: (_, removedId) => {
        if (removedId !== current) return;
        setCancelNotice(m.queueCancelled);
        setChosen(null);
        currentHeading.current?.focus();
      },
    },
  });
  // One announcement per status change of the current task; the elapsed time and polls do not change it.
  const announcement = task
    ? m.studioAnnouncement(
        task.status,
        title,
        task.status === 'failed' ? task.statusMessage || m.failedReasonUnknown : undefined,
      )
    : cancelNotice;

  const formRef = useRef<HTMLFormElement>(null);
  const currentRef = useRef<HTMLElement>(null);
  const currentHeading = useRef<HTMLHeadingElement>(null);
  const select = (next: AudioTask) => {
    setChosen(next.taskId);
    // Take keyboard and screen-reader users to what they picked (above the history on narrow screens).
    currentHeading.current?.focus();
  };

  const created = (next: AudioTask) => {
    setChosen(next.taskId);
    // On a phone the progress appears below the fold: bring it into view, and focus its heading (which
    // also closes the on-screen keyboard). Where it is already in view, focus stays on the form.
    const section = currentRef.current;
    if (!section || isInView(section)) return;
    currentHeading.current?.focus({ preventScroll: true });
    const still = section.ownerDocument.defaultView?.matchMedia?.('(prefers-reduced-motion: reduce)').matches;
    section.scrollIntoView?.({ block: 'start', behavior: still ? 'auto' : 'smooth' });
  };

  // A task's prompt back in the form, ready to change and generate again: a failed sound's next step
  // ("Edit prompt") and the history's "Reuse the prompt".
  const fillForm = (request: AudioTask['request']) => {
    if (request) {
      const { prompt, duration } = request;
      if (ownsPrompt) setDraft({ prompt, duration });
      formProps?.onPromptChange?.(prompt);
      formProps?.onDurationChange?.(duration);
    }
    const box = formRef.current?.elements.namedItem('prompt');
    if (box instanceof HTMLTextAreaElement) {
      box.focus();
      box.setSelectionRange(box.value.length, box.value.length);
    }
  };
  const editPrompt = () => fillForm(task?.request);

  // The history's heading is the studio's "History".
  const listMessages = useMemo(
    () => ({ ...messages, listLabel: messages?.studioHistoryLabel ?? m.studioHistoryLabel }),
    [messages, m.studioHistoryLabel],
  );
  const state: TextToAudioStudioState = task?.status ?? 'idle';
  const currentId = `${id}-current`;

  return (
    <section
      aria-label={m.studioLabel}
      {...props}
      ref={ref}
      className={join('rka-TextToAudioStudio', className)}
      data-part="root"
      data-state={state}
    >
      <div {...part('main')}>
        <SoundPromptForm
          presets={presets}
          messages={messages}
          {...formProps}
          {...draftProps}
          {...part('form', formProps?.className)}
          ref={formRef}
          onCreated={(next) => {
            setCancelNotice('');
            created(next);
            formProps?.onCreated?.(next);
          }}
        />
        <section {...part('current')} ref={currentRef} aria-labelledby={currentId} data-status={task?.status}>
          <h2 {...part('current-heading')} id={currentId} ref={currentHeading} tabIndex={-1}>
            {m.studioCurrentLabel}
          </h2>
          {current ? (
            <AudioResultPlayer
              messages={messages}
              // The studio's own announcer speaks for the current task.
              announce={false}
              {...playerProps}
              {...part('player', playerProps?.className)}
              taskId={current}
            />
          ) : (
            <p {...part('idle')}>{m.studioIdle}</p>
          )}
          {task?.status === 'failed' && (
            <div {...part('next-step')}>
              <button {...part('edit-prompt')} type="button" onClick={editPrompt}>
                {m.studioEditPrompt}
              </button>
            </div>
          )}
          {task?.status === 'queued' && (
            // Waiting in the proxy's queue: its place in line, and the one moment it can be taken back
            // (once sent, the vendor has no cancel: it runs and is billed).
            <div {...part('queue')}>
              <p {...part('queue-position')}>{m.queuePosition(task.queue?.position, locale)}</p>
              <button
                {...part('cancel')}
                type="button"
                aria-label={m.cancelQueuedLabel(title)}
                aria-disabled={remove.isPending || undefined}
                onClick={() => {
                  if (!remove.isPending) remove.mutate(task.taskId);
                }}
              >
                {m.cancelQueued}
              </button>
            </div>
          )}
        </section>
      </div>
      <AudioTaskList
        defaultPageSize={listPageSize}
        messages={listMessages}
        // The current sound is shown in full above: the history's rows stay compact.
        expandSelected={false}
        onReuse={(reused) => fillForm(reused.request)}
        {...listProps}
        onCreated={(made) => {
          if (made[0]) setChosen(made[0].taskId);
          listProps?.onCreated?.(made);
        }}
        onDelete={(gone) => {
          if (gone.some((task) => task.taskId === current)) setChosen(null);
          listProps?.onDelete?.(gone);
        }}
        {...part('history', listProps?.className)}
        selectedTaskId={current ?? undefined}
        onSelect={(picked) => {
          select(picked);
          listProps?.onSelect?.(picked);
        }}
      />
      <div {...part('announcer')} role="status" style={visuallyHidden}>
        {announcement}
      </div>
    </section>
  );
});
