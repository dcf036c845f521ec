import {
  useCallback,
  useEffect,
  useId,
  useRef,
  useState,
  type AnchorHTMLAttributes,
  type ButtonHTMLAttributes,
  type HTMLAttributes,
  type InputHTMLAttributes,
  type KeyboardEvent,
  type PointerEvent,
} from 'react';
import { playerMessages, type AudioPlayerErrorKind, type KlingAudioMessages } from '../../api/messages';
import { isHttpUrl, RESULT_RETENTION_DAYS, type GeneratedAudio } from '../../api/schemas';
import { compose, useComponentMessages } from '../internal';

export type { AudioPlayerErrorKind };

/** What the player is doing. `idle`: nothing loaded yet (not visible, not played). */
export type AudioPlayerState = 'idle' | 'loading' | 'ready' | 'playing' | 'paused' | 'ended' | 'error';
/** The two files every result comes in. */
export type AudioFormat = 'mp3' | 'wav';

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

export interface UseAudioPlayerResult {
  state: AudioPlayerState;
  /** Why the clip cannot play; set when `state` is `error`. */
  error: { kind: AudioPlayerErrorKind } | undefined;
  /** Seconds. */
  currentTime: number;
  /** Seconds: the task's metadata until the file says otherwise, so it is known before loading. */
  duration: number;
  format: AudioFormat;
  muted: boolean;
  /** Normalised peaks (0–1) of the real audio once decoded; `undefined` before, or when the host blocks CORS. */
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
  /** Saves the file: fetched as a blob under a clean name, or opened as a plain link when CORS forbids it. */
  download(format?: AudioFormat): Promise<void>;
  /** For the element around the player: keyboard (Space/K, ←/→, M) and lazy loading once visible. */
  getRootProps<T extends HTMLAttributes<HTMLElement>>(
    props?: T,
  ): Props<T> & { ref: (node: HTMLElement | null) => void };
  getPlayButtonProps<T extends ButtonHTMLAttributes<HTMLButtonElement>>(props?: T): Props<T>;
  getMuteButtonProps<T extends ButtonHTMLAttributes<HTMLButtonElement>>(props?: T): Props<T>;
  /** A WAI-ARIA slider in seconds; the element is also the pointer surface (click or drag to seek). */
  getSeekSliderProps<T extends HTMLAttributes<HTMLElement>>(props?: T): Props<T>;
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

const DAY = 86_400_000;

// HTTP statuses of the file, then MediaError codes (when the file itself was fine).
const ERROR_KINDS: Record<number, AudioPlayerErrorKind> = {
  403: 'expired',
  410: 'expired',
  404: 'not-found',
  3: 'decode',
  4: 'unsupported',
};

// The exclusive player playing now: starting another one pauses it. Module-level on purpose, so it spans
// every player on the page; only ever touched from event handlers, never during render.
let playingNow: HTMLMediaElement | undefined;

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

/** A file name from the prompt: lowercase words joined by dashes, letters of any script kept. */
export function audioFileName(prompt: string | undefined, fallback: string, format: AudioFormat): string {
  const slug = (prompt ?? '')
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}]+/gu, '-')
    .slice(0, 60)
    .replace(/^-+|-+$/g, '');
  return `${slug || fallback}.${format}`;
}

/** Decodes at a low sample rate (plenty for a picture) and keeps the loudest sample of each bin. */
async function decodePeaks(file: Blob, bins = 96): Promise<number[]> {
  const data = (
    await new OfflineAudioContext(1, 1, 8000).decodeAudioData(await file.arrayBuffer())
  ).getChannelData(0);
  const size = Math.ceil(data.length / bins);
  const peaks: number[] = [];
  for (let bin = 0; bin < bins; bin++) {
    let peak = 0;
    for (let i = bin * size; i < Math.min(data.length, (bin + 1) * size); i++)
      peak = Math.max(peak, Math.abs(data[i]!));
    peaks.push(peak);
  }
  const loudest = Math.max(...peaks) || 1;
  return peaks.map((peak) => peak / loudest);
}

/**
 * The behaviour of a player without its markup: owns one `<audio>` element (created in the browser only),
 * an enumerated `state`, and prop getters to spread on your own elements.
 *
 * Nothing is fetched until the root (`getRootProps`) is near the viewport or play is pressed; then the
 * file is fetched once for the waveform, the download, playback (from a `blob:` URL of those bytes) and,
 * after a media error, to tell a dead link (403/410 `expired`, 404 `not-found`) from a network or format
 * fault. Where CORS forbids reading the file, the element plays the remote URL itself.
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
  const { audio, createdAt, prompt, exclusive = true } = options;
  const { m, locale } = useComponentMessages(playerMessages, options.messages);
  const name = useId();
  const [format, setFormatState] = useState<AudioFormat>(options.defaultFormat ?? 'mp3');
  const [state, setState] = useState<AudioPlayerState>('idle');
  const [kind, setKind] = useState<AudioPlayerErrorKind>('network');
  const [time, setTime] = useState(0);
  const [fileDuration, setFileDuration] = useState(0);
  const [muted, setMuted] = useState(false);
  const [peaks, setPeaks] = useState<number[]>();
  const [root, setRoot] = useState<HTMLElement | null>(null);
  const [seen, setVisible] = useState(false);
  // Without IntersectionObserver, count the player as visible once it is on the page.
  const visible = seen || (!!root && typeof IntersectionObserver === 'undefined');
  // Read the clock once per mount: a render must not depend on the time of day.
  const [now] = useState(Date.now);
  // Another clip in the same player (e.g. the studio's current result): start afresh, waveform included.
  const [clip, setClip] = useState(audio?.id);
  if (clip !== audio?.id) {
    setClip(audio?.id);
    setPeaks(undefined);
    setFileDuration(0);
    setTime(0);
    setState('idle');
  }

  const el = useRef<HTMLAudioElement>(null);
  // `files`: one fetch per file URL; `urls`: the `blob:` URL of each file fetched (ours to revoke).
  const live = useRef<{
    abort: AbortController;
    files: Map<string, Promise<Blob>>;
    urls: Map<string, string>;
  }>(null);
  // The position and play state to restore once a switched format has loaded.
  const restore = useRef<{ time: number; play: boolean }>(null);
  const latest = useRef({ exclusive, url: '' });
  // The file URL (http(s)) the element holds, whether it plays it from there or from our blob of it.
  const loaded = useRef('');

  // Only http(s) URLs from the server go any further (src, href, fetch).
  const safe = (f: AudioFormat) => {
    const fileUrl = audio?.[`${f}Url`];
    return isHttpUrl(fileUrl) ? fileUrl : '';
  };
  const safeUrl = safe(format);
  const duration = fileDuration || (audio ? audio[`${format}Duration`] : 0);
  // A kept copy is the proxy's own file: it outlives the vendor's purge.
  const expiresAt =
    createdAt === undefined || audio?.kept ? undefined : createdAt + RESULT_RETENTION_DAYS * DAY;
  const daysLeft = expiresAt === undefined ? undefined : Math.ceil((expiresAt - now) / DAY);
  const expired = daysLeft !== undefined && daysLeft <= 0;
  const shownState: AudioPlayerState = expired ? 'error' : safeUrl ? state : 'idle';
  useEffect(() => {
    latest.current = { exclusive, url: safeUrl };
  });

  // A dead link (403/404/410 status), a network fault, or the element's own decode/format error code.
  const fail = useCallback((reason: unknown) => {
    setKind(ERROR_KINDS[reason as number] ?? 'network');
    setState('error');
  }, []);

  // One fetch per file, shared by the waveform, playback, the download and the dead-link probe. The blob
  // is typed by its format (`f`), as a host may send a generic type and a media element may go by it.
  const bytes = useCallback((fileUrl: string, f?: AudioFormat) => {
    const current = live.current!;
    let file = current.files.get(fileUrl);
    if (!file) {
      const { files, abort } = current;
      file = fetch(fileUrl, { signal: abort.signal }).then(async (response) => {
        if (!response.ok) throw response.status;
        let blob = await response.blob();
        // A typed view of the same bytes (no copy).
        if (f) blob = blob.slice(0, blob.size, f === 'mp3' ? 'audio/mpeg' : 'audio/wav');
        // Unmounted meanwhile: no URL that nothing would revoke.
        abort.signal.throwIfAborted();
        current.urls.set(fileUrl, URL.createObjectURL(blob));
        return blob;
      });
      // A network or CORS failure is not kept: the next download asks again (it may work by then). An
      // HTTP status is an answer (a dead link), kept.
      file.catch(
        (reason) => typeof reason !== 'number' && files.get(fileUrl) === file && files.delete(fileUrl),
      );
      files.set(fileUrl, file);
    }
    return file;
  }, []);

  useEffect(() => {
    const audioElement = document.createElement('audio');
    audioElement.preload = 'metadata';
    el.current = audioElement;
    const current = { abort: new AbortController(), files: new Map(), urls: new Map() };
    live.current = current;
    const on = (type: string, listener: () => void) => audioElement.addEventListener(type, listener);
    const sync = () => {
      if (!restore.current) setTime(audioElement.currentTime);
    };
    on('loadstart', () => setState('loading'));
    on('loadedmetadata', () => {
      const { duration } = audioElement;
      if (Number.isFinite(duration)) setFileDuration(duration);
      const previous = restore.current;
      restore.current = null;
      if (previous) {
        audioElement.currentTime = previous.time;
        if (previous.play) void audioElement.play().catch(() => {});
      }
      setState((state) => (state === 'loading' ? (previous?.time ? 'paused' : 'ready') : state));
    });
    on('play', () => {
      if (!latest.current.exclusive) return;
      if (playingNow && playingNow !== audioElement) playingNow.pause();
      playingNow = audioElement;
    });
    on('playing', () => setState('playing'));
    on('pause', () => setState(audioElement.ended ? 'ended' : 'paused'));
    on('ended', () => setState('ended'));
    on('timeupdate', sync);
    on('seeked', sync);
    on('volumechange', () => setMuted(audioElement.muted));
    on('error', () => {
      const code = audioElement.error?.code;
      // A media error does not say why; the file's HTTP status does, when CORS lets us read it.
      bytes(loaded.current).then(() => fail(code), fail);
    });
    return () => {
      // The clip effect below, which also runs on unmount, releases the file and revokes the blob URLs.
      current.abort.abort();
      audioElement.pause();
      if (playingNow === audioElement) playingNow = undefined;
    };
  }, [bytes, fail]);

  // Another clip, or unmount: the element lets the previous clip's file go (it must not play on under the
  // new one; a paused element with a `src` keeps its connection and decoder), then the clip's bytes and
  // blob URLs are let go, so a player that shows result after result (the studio's) does not grow with each.
  useEffect(() => {
    const current = live.current;
    const audioElement = el.current;
    if (!current || !audioElement) return;
    return () => {
      audioElement.removeAttribute('src');
      audioElement.load();
      current.files.clear();
      current.urls.forEach((blobUrl) => URL.revokeObjectURL(blobUrl));
      current.urls.clear();
    };
  }, [clip]);

  // Lazy: wait until the player is near the viewport.
  useEffect(() => {
    if (!root || visible) return;
    const observer = new IntersectionObserver(
      (entries) => entries.some((entry) => entry.isIntersecting) && setVisible(true),
      { rootMargin: '200px' },
    );
    observer.observe(root);
    return () => observer.disconnect();
  }, [root, visible]);

  // One download per file where CORS allows. The element gets a source only when it is needed: once the
  // fetch (for the waveform) has the bytes, or failed for CORS or the network, or on play. It plays our
  // blob URL of the file when the bytes are in (no second download), else the remote URL: pressed before
  // the fetch is done, play streams at once rather than wait for the whole file, and a CORS-blocked host
  // still plays (<audio> needs no CORS). A source already loaded is never swapped for the blob mid-clip;
  // only a format switch (or another clip) changes it. `ifEmpty`: only if the element has no source yet.
  const load = useCallback((ifEmpty?: boolean) => {
    const audioElement = el.current;
    const target = latest.current.url;
    const src = audioElement?.getAttribute('src');
    if (!audioElement || !target || (src && (ifEmpty || loaded.current === target))) return;
    // Switching formats: come back to the same moment, playing if it was. (Another clip has no source.)
    restore.current = src ? { time: audioElement.currentTime, play: !audioElement.paused } : null;
    loaded.current = target;
    audioElement.src = live.current!.urls.get(target) ?? target;
  }, []);

  // The file, after the player was seen or played; the waveform is decoded once, from whichever format
  // comes first.
  const started = visible || state !== 'idle';
  useEffect(() => {
    if (!started || expired || !safeUrl || peaks) return;
    let current = true;
    const file = bytes(safeUrl, format);
    file.then(
      () => current && load(true),
      // An HTTP error is a dead link whatever <audio> would say; CORS or the network only cost the
      // waveform (a plain bar instead): the element plays the remote URL.
      (reason) => current && (typeof reason === 'number' ? fail(reason) : load(true)),
    );
    file.then(decodePeaks).then(
      (result) => current && setPeaks(result),
      () => {},
    );
    return () => {
      current = false;
    };
  }, [started, expired, safeUrl, format, peaks, bytes, fail, load]);

  // Smooth progress while playing (timeupdate fires only about four times a second).
  useEffect(() => {
    if (state !== 'playing') return;
    let frame = 0;
    const tick = () => {
      if (!restore.current) setTime(el.current!.currentTime);
      frame = requestAnimationFrame(tick);
    };
    tick();
    return () => cancelAnimationFrame(frame);
  }, [state]);

  const play = () => {
    load();
    void el.current?.play().catch(() => {});
  };
  const pause = () => el.current?.pause();
  const playing = shownState === 'playing';
  const toggle = () => (playing ? pause() : play());
  const seek = (seconds: number) => {
    const audioElement = el.current;
    if (!audioElement || !duration) return;
    const target = Math.min(Math.max(seconds, 0), duration);
    audioElement.currentTime = target;
    setTime(target);
    setState((state) => (state === 'ended' ? 'paused' : state));
  };
  const toggleMute = () => {
    if (el.current) el.current.muted = !el.current.muted;
  };
  const setFormat = (next: AudioFormat) => {
    latest.current.url = safe(next);
    setFormatState(next);
    // Only reload when something was loaded; otherwise the next play or sighting loads the new file.
    if (el.current?.getAttribute('src')) load();
  };
  const fileName = (f: AudioFormat) => audioFileName(prompt, `kling-audio-${audio?.id ?? 'clip'}`, f);

  const download = async (f: AudioFormat = format) => {
    const fileUrl = safe(f);
    const current = live.current;
    if (!fileUrl || !current) return;
    const link = document.createElement('a');
    // The same blob URL the element plays: the file is not fetched again.
    const blobUrl = await bytes(fileUrl, f).then(
      () => current.urls.get(fileUrl),
      () => {},
    );
    if (blobUrl) {
      link.href = blobUrl;
      link.download = fileName(f);
    } else {
      // CORS (or a dead link): the browser can still open the file itself.
      link.href = fileUrl;
      link.target = '_blank';
      link.rel = 'noopener';
    }
    link.click();
  };

  const disabled = !safeUrl || shownState === 'error';
  // A twentieth of the clip, in whole tenths: 0.5 s for a 10 s clip, 0.2 s for a 3 s one.
  const step = Math.max(Math.round(duration / 2) / 10, 0.1);
  const onKey = (event: KeyboardEvent<HTMLElement>, slider: boolean) => {
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
    if (slider)
      Object.assign(moves, {
        ArrowUp: step,
        ArrowDown: -step,
        PageUp: 2,
        PageDown: -2,
        Home: -duration,
        End: duration,
      });
    if (key === 'k' || (key === ' ' && target.tagName !== 'BUTTON')) toggle();
    else if (key === 'm' && !slider) toggleMute();
    else if (moves[key]) seek(time + moves[key]);
    else return;
    event.preventDefault();
  };
  const seekToPointer = (event: PointerEvent<HTMLElement>) => {
    const box = event.currentTarget.getBoundingClientRect();
    const fraction = (event.clientX - box.left) / box.width;
    seek((rtl(event.currentTarget) ? 1 - fraction : fraction) * duration);
  };
  const round = (seconds: number) => Math.round(seconds * 10) / 10;

  return {
    state: shownState,
    error: shownState === 'error' ? { kind: expired ? 'expired' : kind } : undefined,
    currentTime: time,
    duration,
    format,
    muted,
    peaks,
    daysLeft,
    expiresAt,
    play,
    pause,
    toggle,
    seek,
    toggleMute,
    setFormat,
    download,
    getRootProps: (props) =>
      merge(props, {
        ref: setRoot,
        'data-state': shownState,
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
    getMuteButtonProps: (props) =>
      merge(props, {
        type: 'button',
        'aria-label': m.playerMute,
        'aria-pressed': muted,
        disabled,
        onClick: toggleMute,
      }),
    getSeekSliderProps: (props) =>
      merge(props, {
        role: 'slider',
        tabIndex: disabled ? -1 : 0,
        'aria-label': m.playerSeek,
        'aria-valuemin': 0,
        'aria-valuemax': round(duration),
        'aria-valuenow': round(time),
        'aria-valuetext': m.playerTimeText(round(time), round(duration), locale),
        'aria-disabled': disabled || undefined,
        onKeyDown: (event: KeyboardEvent<HTMLElement>) => onKey(event, true),
        onPointerDown: (event: PointerEvent<HTMLElement>) => {
          if (disabled || event.button) return;
          event.currentTarget.setPointerCapture?.(event.pointerId);
          seekToPointer(event);
        },
        onPointerMove: (event: PointerEvent<HTMLElement>) => {
          if (event.currentTarget.hasPointerCapture?.(event.pointerId)) seekToPointer(event);
        },
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
        download: fileName(f),
        onClick: (event: MouseEvent) => {
          // Modified clicks keep their meaning (new tab, save as…).
          if (event.ctrlKey || event.metaKey || event.shiftKey || event.altKey) return;
          event.preventDefault();
          void download(f);
        },
      }),
  };
}
