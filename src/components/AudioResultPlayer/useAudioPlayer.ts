import {
  useEffect,
  useId,
  useRef,
  useState,
  useSyncExternalStore,
  type AnchorHTMLAttributes,
  type ButtonHTMLAttributes,
  type HTMLAttributes,
  type InputHTMLAttributes,
  type KeyboardEvent,
  type PointerEvent,
} from 'react';
import { playerMessages, type AudioPlayerErrorKind, type KlingAudioMessages } from '../../api/messages';
import type { GeneratedAudio } from '../../api/schemas';
import { compose, useComponentMessages } from '../internal';
import {
  createAudioPlayer,
  durationOf,
  expiresAtOf,
  fileUrlOf,
  type AudioFormat,
  type AudioPlayerState,
} from './playerController';

export { audioFileName } from './playerController';
export type { AudioFormat, AudioPlayerErrorKind, AudioPlayerState };

export interface UseAudioPlayerOptions {
  /** The clip to play (both formats). Without it the player stays `idle`. */
  audio?: GeneratedAudio;
  /**
   * When the task was created, in ms since the epoch. Result links die `RESULT_RETENTION_DAYS` (30) days
   * later: the player counts the days left and, past that, shows the `expired` state without a request.
   * Ignored for kept audio (`audio.kept`: the proxy's copy does not expire). Defaults to unknown (no notice).
   */
  createdAt?: number;
  /** The prompt, for the download's file name (`fireworks-over-a-harbour.mp3`). Defaults to none (`kling-audio-<id>`). */
  prompt?: string;
  /** The format played and downloaded first. Defaults to `'mp3'` (smaller). */
  defaultFormat?: AudioFormat;
  /** Pause every other exclusive player when this one starts. Defaults to `true`. */
  exclusive?: boolean;
  /** Replacements for the player's strings (labels, `aria-valuetext`). Defaults to the provider's. */
  messages?: Partial<KlingAudioMessages>;
}

type Props<T> = T & Record<`data-${string}`, unknown>;

const DAY = 86_400_000;

// Composes the caller's props with ours: both handlers run (theirs first; `preventDefault` skips ours).
// eslint-disable-next-line @typescript-eslint/no-explicit-any
function merge(theirs: any = {}, ours: any): any {
  const out = { ...theirs, ...ours };
  for (const key in ours) {
    if (/^on[A-Z]/.test(key) && theirs[key]) out[key] = compose(theirs[key], ours[key]);
  }
  return out;
}

const rtl = (element: Element) => getComputedStyle(element).direction === 'rtl';

export interface UseAudioPlayerResult {
  state: AudioPlayerState;
  /** Why the clip cannot play; set when `state` is `error`. */
  error: { kind: AudioPlayerErrorKind } | undefined;
  /** Seconds, at most `duration`. */
  currentTime: number;
  /**
   * Seconds, as the task reports them (the WAV's duration, never the MP3's padded one), so it is known before
   * loading; the file's own only when the task says none.
   */
  duration: number;
  format: AudioFormat;
  muted: boolean;
  /** Repeating the clip: gapless once its bytes are decoded (Web Audio), the element's own loop until then. */
  loop: boolean;
  /**
   * Normalised peaks (0–1): the audio's own (`audio.peaks`, from the proxy: no download), else decoded from
   * the file once fetched; `undefined` before, or when the host blocks CORS.
   */
  peaks: number[] | undefined;
  /** Whole days until the links expire (≤ 0 once expired); `undefined` without `createdAt`, or when kept. */
  daysLeft: number | undefined;
  /** When the links expire, in ms since the epoch; `undefined` when `daysLeft` is. */
  expiresAt: number | undefined;
  play(): void;
  pause(): void;
  toggle(): void;
  /** Moves to `seconds` (clamped to the clip). */
  seek(seconds: number): void;
  toggleMute(): void;
  /** Switches the file, keeping the position and whether it plays. */
  setFormat(format: AudioFormat): void;
  /** Repeats the clip (or stops), keeping the position and whether it plays. */
  setLoop(loop: boolean): void;
  /**
   * The part of the clip selected, `[start, end]` in seconds: play plays it alone (from its start), the loop
   * repeats it, `exportSelection` saves it. `undefined` when nothing is selected.
   */
  selection: readonly [number, number] | undefined;
  /** Selects `[start, end]` (either order, clamped to the clip; under 0.05 s selects nothing), or nothing. */
  setSelection(range: readonly [number, number] | undefined): void;
  /** Saves the selection as a WAV file, cut in the browser from the decoded audio (the WAV's). */
  exportSelection(): Promise<void>;
  /** Saves the file: fetched as a blob under a clean name, or opened as a plain link when CORS forbids it. */
  download(format?: AudioFormat): Promise<void>;
  /** For the element around the player: keyboard (Space/K, ←/→, M, L) and lazy loading once visible. */
  getRootProps<T extends HTMLAttributes<HTMLElement>>(
    props?: T,
  ): Props<T> & { ref: (node: HTMLElement | null) => void };
  getPlayButtonProps<T extends ButtonHTMLAttributes<HTMLButtonElement>>(props?: T): Props<T>;
  getMuteButtonProps<T extends ButtonHTMLAttributes<HTMLButtonElement>>(props?: T): Props<T>;
  /** A toggle button (`aria-pressed`) for the loop; `L` does the same inside the player. */
  getLoopButtonProps<T extends ButtonHTMLAttributes<HTMLButtonElement>>(props?: T): Props<T>;
  /**
   * A WAI-ARIA slider in seconds; the element is also the pointer surface: a click seeks (and clears the
   * selection), a drag selects. Shift+←/→ select from the playhead, Escape clears.
   */
  getSeekSliderProps<T extends HTMLAttributes<HTMLElement>>(props?: T): Props<T>;
  /** The group (`role="group"`) around the selection's two thumbs; their parent box spans the track. */
  getSelectionProps<T extends HTMLAttributes<HTMLElement>>(props?: T): Props<T>;
  /**
   * One thumb of the selection, a WAI-ARIA slider of the multi-thumb pattern: in seconds, bounded by the
   * other thumb (`aria-valuemin`/`aria-valuemax`), arrows, Page Up/Down, Home/End, or dragged.
   */
  getSelectionThumbProps<T extends HTMLAttributes<HTMLElement>>(edge: 'start' | 'end', props?: T): Props<T>;
  /** A button that saves the selection as WAV (`exportSelection`); disabled without a selection. */
  getExportButtonProps<T extends ButtonHTMLAttributes<HTMLButtonElement>>(props?: T): Props<T>;
  getFormatSwitchProps<T extends HTMLAttributes<HTMLElement>>(props?: T): Props<T>;
  /** A radio input for one format. */
  getFormatOptionProps<T extends InputHTMLAttributes<HTMLInputElement>>(
    format: AudioFormat,
    props?: T,
  ): Props<T>;
  /** An `<a>`: `href` (http(s) only) and `download`, with a click that fetches the file as a blob. */
  getDownloadProps<T extends AnchorHTMLAttributes<HTMLAnchorElement>>(
    format?: AudioFormat,
    props?: T,
  ): Props<T>;
}

/**
 * The behaviour of a player without its markup: a thin hook over a React-free controller
 * (`createAudioPlayer` in `playerController.ts`, read with `useSyncExternalStore`), which owns one `<audio>`
 * element (created in the browser only) and an enumerated `state`; the hook adds prop getters to spread on
 * your own elements.
 *
 * Nothing is fetched until the root (`getRootProps`) is near the viewport or play is pressed (with
 * `audio.peaks`, until play or a download); then the file is fetched once, shared with every other player
 * of the same URL, for the waveform, the download, playback (from a `blob:` URL of those bytes), the loop
 * and the export, and, after a media error, to tell a dead link (403/410 `expired`, 404 `not-found`) from a
 * network or format fault. Where CORS forbids reading the file, the element plays the remote URL itself.
 *
 * The loop (`setLoop`, `getLoopButtonProps`, `L`) repeats the clip, or the selection, without a gap once the
 * decoded audio plays it; the selection (`setSelection`, a drag on the seek slider, Shift+arrows, the two
 * thumbs of `getSelectionThumbProps`) plays alone and `exportSelection` saves it as WAV.
 *
 * @example
 * const player = useAudioPlayer({ audio: task.audios[0], createdAt: task.createdAt, prompt });
 * return (
 *   <div {...player.getRootProps()}>
 *     <button {...player.getPlayButtonProps()}>{player.state === 'playing' ? '❚❚' : '▶'}</button>
 *     <div {...player.getSeekSliderProps()} className="track" />
 *   </div>
 * );
 */
export function useAudioPlayer(options: UseAudioPlayerOptions = {}): UseAudioPlayerResult {
  const { audio, createdAt } = options;
  const { m, locale } = useComponentMessages(playerMessages, options.messages);
  const name = useId();
  const [player] = useState(() => createAudioPlayer(options));
  const snapshot = useSyncExternalStore(player.subscribe, player.getSnapshot, player.getSnapshot);
  useEffect(() => player.setOptions(options));
  useEffect(() => player.mount(), [player]);
  // Read the clock once per mount: a render must not depend on the time of day.
  const [now] = useState(Date.now);

  // Until the controller has heard of another clip (an effect away), show that clip from the start.
  const {
    state,
    kind,
    time: elementTime,
    fileDuration,
    muted,
    peaks: decoded,
    format,
    loop,
    selection,
  } = snapshot.clip === audio?.id
    ? snapshot
    : { ...snapshot, state: 'idle' as const, time: 0, fileDuration: 0, peaks: undefined };
  const peaks = audio?.peaks ?? decoded;
  const safe = (f: AudioFormat) => fileUrlOf(audio, f);
  const safeUrl = safe(format);
  const duration = durationOf(audio, fileDuration);
  // The MP3 runs a few milliseconds past the sound (encoder padding): the clock stops at the sound's end.
  const time = Math.min(elementTime, duration);
  const expiresAt = expiresAtOf({ createdAt, audio });
  const daysLeft = expiresAt === undefined ? undefined : Math.ceil((expiresAt - now) / DAY);
  const expired = daysLeft !== undefined && daysLeft <= 0;
  const shownState: AudioPlayerState = expired ? 'error' : safeUrl ? state : 'idle';
  const { play, pause, seek, toggleMute, setFormat, setLoop, setSelection, exportSelection, download } =
    player;
  // Where a keyboard or pointer selection began (its fixed end), and where a press on the track was.
  const anchor = useRef(0);
  const pressed = useRef<number>(undefined);
  const playing = shownState === 'playing';
  const toggle = () => (playing ? pause() : play());
  const disabled = !safeUrl || shownState === 'error';
  // A twentieth of the clip, in whole tenths: 0.5 s for a 10 s clip, 0.2 s for a 3 s one.
  const step = Math.max(Math.round(duration / 2) / 10, 0.1);
  // `moveTo` and `from`: what the arrows move (the playhead, or a selection thumb) and where it is.
  const onKey = (event: KeyboardEvent<HTMLElement>, onSlider: boolean, moveTo = seek, from = time) => {
    const target = event.target as HTMLElement;
    if (
      event.defaultPrevented ||
      event.altKey ||
      event.ctrlKey ||
      event.metaKey ||
      disabled ||
      target.closest('input,textarea,select,[contenteditable]:not([contenteditable="false"])')
    ) {
      return;
    }
    const key = event.key.length === 1 ? event.key.toLowerCase() : event.key;
    // Right to left, the left arrow moves forward. Home/End overshoot and are clamped to the ends.
    const flip = rtl(event.currentTarget) ? -1 : 1;
    const moves: Record<string, number> = { ArrowRight: step * flip, ArrowLeft: -step * flip };
    if (onSlider)
      Object.assign(moves, {
        ArrowUp: step,
        ArrowDown: -step,
        PageUp: 2,
        PageDown: -2,
        Home: -duration,
        End: duration,
      });
    if (key === 'k' || (key === ' ' && target.tagName !== 'BUTTON')) toggle();
    else if (key === 'm' && !onSlider) toggleMute();
    else if (key === 'l') setLoop(!loop);
    else if (key === 'Escape' && selection) setSelection(undefined);
    else if (moves[key] && event.shiftKey && moveTo === seek) {
      // Shift+arrows: select from the playhead on, as in text; the edge away from the anchor moves.
      if (!selection) anchor.current = time;
      const [start, end] = selection ?? [time, time];
      setSelection([anchor.current, (start === anchor.current ? end : start) + moves[key]]);
    } else if (moves[key]) moveTo(from + moves[key]);
    else return;
    event.preventDefault();
  };
  // The time under the pointer, on `box` (the track).
  const timeAt = (event: PointerEvent<HTMLElement>, box = event.currentTarget) => {
    const { left, width } = box.getBoundingClientRect();
    const fraction = (event.clientX - left) / width;
    return (rtl(box) ? 1 - fraction : fraction) * duration;
  };
  const capture = (event: PointerEvent<HTMLElement>) =>
    !disabled && !event.button && (event.currentTarget.setPointerCapture?.(event.pointerId), true);
  const captured = (event: PointerEvent<HTMLElement>) =>
    event.currentTarget.hasPointerCapture?.(event.pointerId);
  const [start, end] = selection ?? [0, 0];
  const round = (seconds: number) => Math.round(seconds * 10) / 10;
  // A slider in seconds (the seek slider, a selection thumb): its ARIA values, its keys (`moveTo`, `from`).
  const slider = (label: string, value: number, min: number, max: number, moveTo?: (t: number) => void) => ({
    role: 'slider',
    'aria-label': label,
    'aria-valuemin': round(min),
    'aria-valuemax': round(max),
    'aria-valuenow': round(value),
    'aria-valuetext': m.playerTimeText(round(value), round(duration), locale),
    onKeyDown: (event: KeyboardEvent<HTMLElement>) => onKey(event, true, moveTo, value),
  });
  // A button of the player: disabled while there is nothing to play.
  const button = (label: string, pressed: boolean, onClick: () => void) => ({
    type: 'button',
    'aria-label': label,
    'aria-pressed': pressed,
    disabled,
    onClick,
  });

  return {
    state: shownState,
    error: shownState === 'error' ? { kind: expired ? 'expired' : kind } : undefined,
    currentTime: time,
    duration,
    format,
    muted,
    loop,
    peaks,
    daysLeft,
    expiresAt,
    play,
    pause,
    toggle,
    seek,
    toggleMute,
    setFormat,
    setLoop,
    selection,
    setSelection,
    exportSelection,
    download,
    getRootProps: (props) =>
      merge(props, {
        ref: player.observe,
        'data-state': shownState,
        'data-loop': loop ? '' : undefined,
        onKeyDown: (event: KeyboardEvent<HTMLElement>) => onKey(event, false),
      }),
    getPlayButtonProps: (props) =>
      merge(props, {
        type: 'button',
        'aria-label': playing ? m.playerPause : m.playerPlay,
        'data-state': playing ? 'playing' : 'paused',
        disabled,
        onClick: toggle,
      }),
    getMuteButtonProps: (props) => merge(props, button(m.playerMute, muted, toggleMute)),
    getLoopButtonProps: (props) =>
      merge(
        props,
        button(m.playerLoop, loop, () => setLoop(!loop)),
      ),
    getSeekSliderProps: (props) =>
      merge(props, {
        ...slider(m.playerSeek, time, 0, duration),
        tabIndex: disabled ? -1 : 0,
        'aria-disabled': disabled || undefined,
        onPointerDown: (event: PointerEvent<HTMLElement>) => {
          if (!capture(event)) return;
          // A click seeks and clears the selection; dragging on from here selects.
          pressed.current = event.clientX;
          anchor.current = timeAt(event);
          setSelection(undefined);
          seek(anchor.current);
        },
        onPointerMove: (event: PointerEvent<HTMLElement>) => {
          if (captured(event) && Math.abs(event.clientX - pressed.current!) > 4)
            setSelection([anchor.current, timeAt(event)]);
        },
      }),
    getSelectionProps: (props) => merge(props, { role: 'group', 'aria-label': m.playerSelection }),
    getSelectionThumbProps: (edge, props) => {
      // Each thumb is bounded by the other (a tenth of a second apart at least).
      const move = (t: number) =>
        setSelection(edge > 'end' ? [Math.min(t, end - 0.1), end] : [start, Math.max(t, start + 0.1)]);
      return merge(props, {
        ...(edge > 'end'
          ? slider(m.playerSelectionStart, start, 0, end, move)
          : slider(m.playerSelectionEnd, end, start, duration, move)),
        tabIndex: 0,
        onPointerDown: capture,
        onPointerMove: (event: PointerEvent<HTMLElement>) =>
          captured(event) && move(timeAt(event, event.currentTarget.parentElement!)),
      });
    },
    getExportButtonProps: (props) =>
      merge(props, {
        type: 'button',
        disabled: disabled || !selection,
        onClick: () => void exportSelection(),
      }),
    getFormatSwitchProps: (props) => merge(props, { role: 'radiogroup', 'aria-label': m.playerFormat }),
    getFormatOptionProps: (f, props) =>
      merge(props, {
        type: 'radio',
        name,
        value: f,
        checked: format === f,
        disabled: !audio,
        onChange: () => setFormat(f),
      }),
    getDownloadProps: (f = format, props) =>
      merge(props, {
        href: safe(f) || undefined,
        download: player.fileName(f),
        onClick: (event: MouseEvent) => {
          // Modified clicks keep their meaning (new tab, save as…).
          if (event.ctrlKey || event.metaKey || event.shiftKey || event.altKey) return;
          event.preventDefault();
          void download(f);
        },
      }),
  };
}
