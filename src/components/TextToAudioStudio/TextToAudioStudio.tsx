import {
  forwardRef,
  useEffect,
  useId,
  useMemo,
  useRef,
  useState,
  type ComponentPropsWithoutRef,
} from 'react';
import { studioMessages, type KlingAudioMessages } from '../../api/messages';
import type { AudioTask } from '../../api/schemas';
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
  const resumable = resume && chosen === undefined ? pending[0] : undefined;
  const current = chosen ?? resumable ?? null;

  // Pending ids come from storage, which a server render does not have: resume after mount, and hold on
  // to the task once it finishes (it then leaves the pending list).
  useEffect(() => {
    if (resumable) setChosen(resumable);
  }, [resumable, setChosen]);

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

  // "Reuse the prompt" in the history fills the form: from then on the studio holds the form's draft.
  const [draft, setDraft] = useState<{ prompt: string; duration: number }>();
  const form = useRef<HTMLFormElement>(null);
  const reuse = (task: AudioTask) => {
    if (!task.request) return;
    setDraft({ ...task.request });
    form.current?.querySelector('textarea')?.focus();
  };

  const currentHeading = useRef<HTMLHeadingElement>(null);
  const select = (next: AudioTask) => {
    setChosen(next.taskId);
    // Take keyboard and screen-reader users to what they picked (above the history on narrow screens).
    currentHeading.current?.focus();
  };

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
          {...(draft && {
            prompt: draft.prompt,
            onPromptChange: (prompt: string) => {
              setDraft((now) => now && { ...now, prompt });
              formProps?.onPromptChange?.(prompt);
            },
            duration: draft.duration,
            onDurationChange: (duration: number) => {
              setDraft((now) => now && { ...now, duration });
              formProps?.onDurationChange?.(duration);
            },
          })}
          ref={form}
          {...part('form', formProps?.className)}
          onCreated={(created) => {
            setCancelNotice('');
            setChosen(created.taskId);
            formProps?.onCreated?.(created);
          }}
        />
        <section {...part('current')} aria-labelledby={currentId} data-status={task?.status}>
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
        onReuse={reuse}
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
