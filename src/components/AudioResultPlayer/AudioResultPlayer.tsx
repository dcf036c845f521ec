import {
  forwardRef,
  useCallback,
  useEffect,
  useState,
  type ComponentPropsWithoutRef,
  type CSSProperties,
} from 'react';
import type { KlingAudioMessages } from '../../api/messages';
import { isTerminalStatus, type AudioTask, type GeneratedAudio } from '../../api/schemas';
import { useAudioTask } from '../../hooks/useAudioTask';
import { playerMessages } from '../../api/messages';
import { useComponentMessages, visuallyHidden } from '../internal';
import { useAudioPlayer, type AudioFormat } from './useAudioPlayer';
import { Waveform } from './Waveform';

export interface AudioResultPlayerProps extends Omit<ComponentPropsWithoutRef<'div'>, 'children'> {
  /** A task to watch: polled until it finishes, then played. Give this, `task` or `audio`. */
  taskId?: string;
  /** A task you already have; a pending one is polled until it finishes. */
  task?: AudioTask;
  /** One generated audio to play, without a task (no expiry notice, no status). */
  audio?: GeneratedAudio;
  /** The prompt, for the title and the download's file name. Defaults to the task's own (`task.request`). */
  prompt?: string;
  /** Replacements for any string of this player. Defaults to the provider's messages. */
  messages?: Partial<KlingAudioMessages>;
  /** Pause other players when this one starts. Defaults to `true`: one clip at a time. */
  exclusive?: boolean;
  /** The format played and downloaded first. Defaults to `'mp3'`. */
  defaultFormat?: AudioFormat;
  /**
   * Announce status changes through a polite live region. Set `false` where a surrounding component
   * already announces them (the studio does, and the rows of the history list do not need to), so screen
   * readers hear each change once. Defaults to `true`.
   */
  announce?: boolean;
}

const FORMATS: AudioFormat[] = ['mp3', 'wav'];

// `data-part="seek-slider"` and the class `rka-AudioResultPlayer-seekSlider`.
const part = (name: string) => ({
  'data-part': name,
  className: `rka-AudioResultPlayer-${name.replace(/-(\w)/g, (_, letter: string) => letter.toUpperCase())}`,
});

/**
 * Plays a generated sound: progress while the task is pending, then play/pause, a seek slider over the
 * waveform, the time, a gapless loop, mute, an MP3/WAV switch, a download and the link's expiry. A drag on
 * the waveform (or Shift+←/→) selects a part: played and looped alone, saved as WAV. Keyboard inside the
 * player: Space/K play or pause, ←/→ seek, L loop, M mute, Escape clears the selection. One clip plays at a time across players.
 *
 * @example
 * <AudioResultPlayer taskId={task.taskId} />
 */
export const AudioResultPlayer = forwardRef<HTMLDivElement, AudioResultPlayerProps>(
  function AudioResultPlayer(
    {
      taskId,
      task: taskProp,
      audio: audioProp,
      prompt: promptProp,
      messages,
      exclusive,
      defaultFormat,
      announce = true,
      className,
      ...props
    },
    ref,
  ) {
    const { m, locale } = useComponentMessages(playerMessages, messages);
    const pendingProp = taskProp && !isTerminalStatus(taskProp.status);
    const query = useAudioTask(taskId ?? (pendingProp ? { taskId: taskProp.taskId } : null));
    const task = query.task ?? taskProp;
    const audio = audioProp ?? task?.audios[0];
    const prompt = promptProp ?? task?.request?.prompt;
    const player = useAudioPlayer({
      audio,
      createdAt: task?.createdAt,
      prompt,
      exclusive,
      defaultFormat,
      messages,
    });
    const { state, format, duration, currentTime, peaks, selection } = player;
    const progress = duration ? Math.min(1, currentTime / duration) : 0;
    const pending = !audio && (!task || !isTerminalStatus(task.status)) && !query.error;

    // The elapsed time ticks every second while pending; the live region only changes with the status.
    const [now, setNow] = useState(Date.now);
    useEffect(() => {
      if (!pending) return;
      const timer = setInterval(() => setNow(Date.now()), 1000);
      return () => clearInterval(timer);
    }, [pending]);

    const { ref: rootRef, ...rootProps } = player.getRootProps({ ...props, ...part('root') });
    const setRef = useCallback(
      (node: HTMLDivElement | null) => {
        rootRef(node);
        if (typeof ref === 'function') ref(node);
        else if (ref) ref.current = node;
      },
      [rootRef, ref],
    );

    const announcement = query.error
      ? m.errorText(query.error)
      : task?.status === 'failed'
        ? `${m.status('failed')}: ${task.statusMessage || m.failedReasonUnknown}`
        : player.error
          ? m.playerError(player.error.kind)
          : pending
            ? task
              ? m.status(task.status)
              : m.playerLoading
            : '';
    const title = prompt ?? (task && m.untitledTask(task.taskId));

    return (
      <div
        {...rootProps}
        ref={setRef}
        className={`rka-AudioResultPlayer${className ? ` ${className}` : ''}`}
        data-status={task?.status}
      >
        {title && <p {...part('title')}>{title}</p>}
        <div {...part('status')} {...(announce && { role: 'status', 'aria-live': 'polite' as const })}>
          {announcement}
        </div>
        {pending && task && (
          // The clock differs between a server render and hydration: expected, not a bug.
          <p {...part('elapsed')} suppressHydrationWarning>
            {m.elapsed(Math.max(0, Math.floor((now - task.createdAt) / 1000)), locale)}
          </p>
        )}
        {query.error && (
          <button {...part('retry')} type="button" onClick={() => void query.refetch()}>
            {m.retry}
          </button>
        )}
        {audio && state !== 'error' && (
          <>
            <div {...part('controls')}>
              <button {...part('play-button')} {...player.getPlayButtonProps()} />
              <div {...part('track')}>
                <div
                  {...part('seek-slider')}
                  {...player.getSeekSliderProps()}
                  style={{ '--rka-progress': progress } as CSSProperties}
                >
                  {peaks ? (
                    <Waveform {...part('waveform')} peaks={peaks} progress={progress} />
                  ) : (
                    <div {...part('progress')} />
                  )}
                  <span {...part('playhead')} />
                </div>
                {selection && (
                  // Beside the seek slider, not in it: a slider holds no other control.
                  <div
                    {...part('selection')}
                    {...player.getSelectionProps()}
                    style={
                      {
                        '--rka-selection-start': selection[0] / duration,
                        '--rka-selection-end': selection[1] / duration,
                      } as CSSProperties
                    }
                  >
                    <span {...part('selection-thumb')} {...player.getSelectionThumbProps('start')} />
                    <span {...part('selection-thumb')} {...player.getSelectionThumbProps('end')} />
                  </div>
                )}
              </div>
              <span {...part('time')}>{m.playerTime(currentTime, duration, locale)}</span>
              <button {...part('loop-button')} {...player.getLoopButtonProps()} />
              <button {...part('mute-button')} {...player.getMuteButtonProps()} />
            </div>
            <div {...part('footer')}>
              <div {...part('format-switch')} {...player.getFormatSwitchProps()}>
                {FORMATS.map((f) => (
                  <label key={f} {...part('format-option')}>
                    <input {...player.getFormatOptionProps(f)} />
                    {f.toUpperCase()}
                  </label>
                ))}
              </div>
              <a {...part('download')} {...player.getDownloadProps(format)}>
                {m.playerDownload(format)}
              </a>
              {selection && (
                <>
                  {/* The selection as it changes (Shift+arrows keep the focus on the seek slider). Only
                      while there is one: a player stays quiet where the studio speaks for the task. */}
                  <span {...part('selection-status')} role="status" style={visuallyHidden}>
                    {m.playerSelected(
                      Math.round(selection[0] * 10) / 10,
                      Math.round(selection[1] * 10) / 10,
                      locale,
                    )}
                  </span>
                  <button {...part('export-button')} {...player.getExportButtonProps()}>
                    {m.playerExportSelection}
                  </button>
                </>
              )}
              {player.daysLeft !== undefined && (
                // The date is in the reader's time zone, which the server rendering it may not share.
                <p
                  {...part('expiry')}
                  data-urgent={player.daysLeft <= 3 ? '' : undefined}
                  suppressHydrationWarning
                >
                  {m.playerExpiresIn(player.daysLeft, locale, player.expiresAt)}
                </p>
              )}
            </div>
          </>
        )}
      </div>
    );
  },
);
