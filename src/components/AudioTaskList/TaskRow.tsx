import { memo, useEffect, useRef, useState } from 'react';
import type { listMessages, sharedMessages } from '../../api/messages';
import type { AudioTask, GeneratedAudio } from '../../api/schemas';
import { audioFileName } from '../AudioResultPlayer';
import { partOf, visuallyHidden } from '../internal';
import { ActionsMenu, type MenuItem } from './ActionsMenu';

const part = partOf('AudioTaskList');

/** What a row can ask the list to do. One stable object: a row re-renders only when its own task does. */
export interface RowActions {
  play(task: AudioTask): void;
  select?(task: AudioTask): void;
  star(task: AudioTask): void;
  rename(task: AudioTask, title: string | null): void;
  remove(tasks: readonly AudioTask[]): void;
  reuse?(task: AudioTask): void;
  regenerate(task: AudioTask): void;
  takes(task: AudioTask): void;
}

/** The state of the one row that plays (every other row gets `undefined`). */
export interface RowPlayback {
  playing: boolean;
  /** 0–1. */
  progress: number;
}

interface TaskRowProps {
  task: AudioTask;
  /** The row's name: the task's title, else its prompt (a take: "Take 2"), else its id. */
  title: string;
  selected: boolean;
  inGroup: boolean;
  playback: RowPlayback | undefined;
  takesCount: number;
  actions: RowActions;
  m: typeof sharedMessages & typeof listMessages;
  locale: string | undefined;
}

const BARS = 40;

/** The clip's peaks (`audio.peaks`, from the proxy's kept copy) as a few dozen bars, or `undefined`. */
function barsOf(audio: GeneratedAudio | undefined): number[] | undefined {
  const peaks = (audio as (GeneratedAudio & { peaks?: number[] }) | undefined)?.peaks;
  if (!peaks?.length) return undefined;
  const size = peaks.length / BARS;
  return Array.from({ length: BARS }, (_, bar) => {
    let peak = 0;
    for (let i = Math.floor(bar * size); i < Math.max(Math.floor((bar + 1) * size), bar * size + 1); i++) {
      peak = Math.max(peak, peaks[Math.min(i, peaks.length - 1)] ?? 0);
    }
    return peak;
  });
}

function MiniWave({ task, progress }: { task: AudioTask; progress: number | undefined }) {
  if (task.status !== 'succeed') {
    // Pending: an indeterminate progress line (the status text says the rest); failed: nothing to draw.
    return task.status === 'failed' ? null : <span {...part('progress-line')} aria-hidden />;
  }
  const bars = barsOf(task.audios[0]);
  return (
    <svg
      {...part('wave')}
      viewBox={`0 0 ${BARS * 3} 20`}
      preserveAspectRatio="none"
      aria-hidden
      focusable="false"
      data-played={progress === undefined ? undefined : ''}
    >
      {bars ? (
        bars.map((peak, bar) => {
          const height = Math.max(1.5, peak * 20);
          return (
            <rect
              key={bar}
              x={bar * 3}
              y={(20 - height) / 2}
              width={2}
              height={height}
              data-played={progress !== undefined && bar / BARS < progress ? '' : undefined}
            />
          );
        })
      ) : (
        <>
          <rect x={0} y={9} width={BARS * 3} height={2} />
          {progress !== undefined && (
            <rect x={0} y={9} width={BARS * 3 * progress} height={2} data-played="" />
          )}
        </>
      )}
    </svg>
  );
}

/**
 * One compact row of the history grid: play/pause, the title (or the prompt), a small waveform or a
 * progress line with the length and the time, a star toggle and the actions menu. Memoised: a star on
 * one row re-renders that row only.
 */
export const TaskRow = memo(function TaskRow({
  task,
  title,
  selected,
  inGroup,
  playback,
  takesCount,
  actions,
  m,
  locale,
}: TaskRowProps) {
  const [renaming, setRenaming] = useState(false);
  const titleButton = useRef<HTMLButtonElement>(null);
  // Out of the field (saved or cancelled): focus goes back to the name it edited.
  const refocus = useRef(false);
  useEffect(() => {
    if (renaming || !refocus.current) return;
    refocus.current = false;
    titleButton.current?.focus();
  }, [renaming]);
  // Enter, then the blur of the field going away, must save once.
  const leaving = useRef(false);
  useEffect(() => {
    if (renaming) leaving.current = false;
  }, [renaming]);
  const startRenaming = () => setRenaming(true);
  /** Leaves the field, saving `value` unless it is `undefined` (cancelled). */
  const finish = (value: string | undefined, refocusAfter: boolean) => {
    if (leaving.current) return;
    leaving.current = true;
    refocus.current = refocusAfter;
    setRenaming(false);
    const next = value?.trim();
    if (next !== undefined && next !== (task.title ?? prompt ?? '')) actions.rename(task, next || null);
  };
  const audio = task.audios[0];
  const playable = task.status === 'succeed' && Boolean(audio?.mp3Url || audio?.wavUrl);
  // The WAV is the sound as made; an MP3 is a few frames longer (encoder delay and padding).
  const duration = task.request?.duration ?? audio?.wavDuration;
  const playing = playback?.playing ?? false;
  const prompt = task.request?.prompt;

  const items: MenuItem[] = [{ key: 'rename', label: m.listRename, onSelect: startRenaming }];
  if (prompt && actions.reuse) {
    items.push({ key: 'reuse', label: m.listReuse, onSelect: () => actions.reuse!(task) });
  }
  if (prompt) {
    items.push(
      { key: 'regenerate', label: m.listRegenerate, onSelect: () => actions.regenerate(task) },
      { key: 'takes', label: m.listTakes(takesCount, locale), onSelect: () => actions.takes(task) },
    );
  }
  if (playable && audio) {
    const name = (format: 'mp3' | 'wav') => audioFileName(prompt, `kling-audio-${audio.id}`, format);
    if (audio.mp3Url) {
      items.push({ key: 'mp3', label: m.listDownload('MP3'), href: audio.mp3Url, download: name('mp3') });
    }
    if (audio.wavUrl) {
      items.push({ key: 'wav', label: m.listDownload('WAV'), href: audio.wavUrl, download: name('wav') });
    }
  }
  items.push({ key: 'delete', label: m.listDelete, onSelect: () => actions.remove([task]) });

  return (
    <div
      {...part('row')}
      role="row"
      data-row=""
      data-task-id={task.taskId}
      data-status={task.status}
      data-state={playback ? (playing ? 'playing' : 'paused') : undefined}
      data-selected={selected ? '' : undefined}
      data-starred={task.starred ? '' : undefined}
      aria-selected={actions.select ? selected : undefined}
    >
      <div {...part('cell-play')} role="gridcell">
        {playable ? (
          <button
            {...part('play')}
            type="button"
            data-cell=""
            tabIndex={-1}
            aria-label={playing ? m.listPause(title) : m.listPlay(title)}
            data-state={playing ? 'playing' : 'paused'}
            onClick={() => actions.play(task)}
          >
            <span aria-hidden>{playing ? '❚❚' : '▶'}</span>
          </button>
        ) : (
          // A ring while generating, a mark when failed: the word itself for screen readers (and the
          // details cell says it in full beside the progress line).
          <span {...part('status')} data-status={task.status} data-cell="" tabIndex={-1}>
            <span style={visuallyHidden}>{m.status(task.status)}</span>
          </span>
        )}
      </div>
      <div {...part('cell-title')} role="gridcell">
        {renaming ? (
          <input
            {...part('rename')}
            aria-label={m.listRenameLabel}
            defaultValue={task.title ?? prompt ?? ''}
            maxLength={100}
            // Focus belongs in the field the person just asked for.
            // eslint-disable-next-line jsx-a11y/no-autofocus
            autoFocus
            onFocus={(event) => event.currentTarget.select()}
            onKeyDown={(event) => {
              if (event.key === 'Enter') {
                event.preventDefault();
                finish(event.currentTarget.value, true);
              } else if (event.key === 'Escape') {
                event.preventDefault();
                finish(undefined, true);
              }
            }}
            onBlur={(event) => finish(event.currentTarget.value, false)}
          />
        ) : (
          <button
            {...part(actions.select ? 'select' : 'title')}
            ref={titleButton}
            type="button"
            data-cell=""
            tabIndex={-1}
            aria-current={selected || undefined}
            // Enter (or a click) on the name picks the row where the list has `onSelect`, else plays it.
            onClick={() => {
              if (actions.select) actions.select(task);
              else if (playable) actions.play(task);
            }}
          >
            <span {...part('title-text')}>{title}</span>
          </button>
        )}
        {task.title && prompt && !renaming && <span {...part('prompt')}>{prompt}</span>}
        {task.status === 'failed' && (
          <span {...part('reason')}>{task.statusMessage || m.failedReasonUnknown}</span>
        )}
      </div>
      <div {...part('cell-details')} role="gridcell">
        <span {...part('details')} data-cell="" tabIndex={-1}>
          <MiniWave task={task} progress={playback?.progress} />
          {playable || task.status === 'failed' ? null : (
            <span {...part('pending-status')}>{m.status(task.status)}</span>
          )}
          {duration !== undefined && <span {...part('duration')}>{m.duration(duration, locale)}</span>}
          {task.unitsDeducted && (task.status === 'succeed' || task.status === 'failed') && (
            // What the vendor billed for it (`final_unit_deduction`).
            <span {...part('units')}>{m.unitsSpent(task.unitsDeducted, locale)}</span>
          )}
          <time {...part('created-at')} dateTime={new Date(task.createdAt).toISOString()}>
            {m.listCreatedAt(task.createdAt, locale)}
          </time>
        </span>
      </div>
      <div {...part('cell-star')} role="gridcell">
        <button
          {...part('star')}
          type="button"
          data-cell=""
          tabIndex={-1}
          aria-pressed={Boolean(task.starred)}
          aria-label={inGroup ? m.listKeep(title) : m.listStar(title)}
          onClick={() => actions.star(task)}
        >
          <span aria-hidden>{task.starred ? '★' : '☆'}</span>
        </button>
      </div>
      <div {...part('cell-actions')} role="gridcell">
        <ActionsMenu label={m.listActions(title)} items={items} part={part}>
          <span aria-hidden>⋯</span>
        </ActionsMenu>
      </div>
    </div>
  );
});
