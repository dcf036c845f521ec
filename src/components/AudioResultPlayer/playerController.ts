/**
 * The player without React: one `<audio>` element (created in the browser only), the clip's bytes (shared
 * per URL with every other player, see `sharedFiles.ts`), and a snapshot of its state for
 * `useSyncExternalStore`. `useAudioPlayer` is a thin hook over it, as react-query's `useQuery` is over its
 * `QueryObserver`.
 */
import type { AudioPlayerErrorKind } from '../../api/messages';
import { isHttpUrl, RESULT_RETENTION_DAYS, type GeneratedAudio } from '../../api/schemas';
import { holdFile, peekFile, releaseFile, type SharedFile } from './sharedFiles';
import type * as WebAudio from './webAudio';

/** What the player is doing. `idle`: nothing loaded yet (not visible, not played). */
export type AudioPlayerState = 'idle' | 'loading' | 'ready' | 'playing' | 'paused' | 'ended' | 'error';
/** The two files every result comes in. */
export type AudioFormat = 'mp3' | 'wav';

export interface AudioPlayerControllerOptions {
  audio?: GeneratedAudio;
  createdAt?: number;
  prompt?: string;
  defaultFormat?: AudioFormat;
  exclusive?: boolean;
}

/** What the controller knows; the hook derives what it shows from this and the options (`deriveView`). */
export interface AudioPlayerSnapshot {
  /** The audio id this state belongs to: another clip starts from `initial`. */
  clip: string | undefined;
  state: AudioPlayerState;
  kind: AudioPlayerErrorKind;
  time: number;
  fileDuration: number;
  muted: boolean;
  /** Decoded from the file (when the audio came without its own). */
  peaks: number[] | undefined;
  visible: boolean;
  format: AudioFormat;
  /** Repeating the clip (without a gap once its decoded audio plays). */
  loop: boolean;
  /** The part of the clip selected (seconds, start < end): played, looped and exported alone. */
  selection: readonly [number, number] | undefined;
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
let playingNow: AudioPlayerController | undefined;

/** Only http(s) URLs from the server go any further (src, href, fetch). */
export const fileUrlOf = (audio: GeneratedAudio | undefined, format: AudioFormat): string => {
  const fileUrl = audio?.[`${format}Url`];
  return isHttpUrl(fileUrl) ? fileUrl : '';
};

/** When the links die (ms since the epoch): `undefined` without `createdAt`, or for a kept copy. */
// A kept copy is the proxy's own file: it outlives the vendor's purge.
export const expiresAtOf = ({ createdAt, audio }: AudioPlayerControllerOptions): number | undefined =>
  createdAt === undefined || audio?.kept ? undefined : createdAt + RESULT_RETENTION_DAYS * DAY;

/**
 * The clip's length in seconds, as the task reports it: the WAV's (the sound itself), whatever the format
 * playing; an MP3 (and its element) reports a few frames of encoder padding more (3.056 s for a 3 s sound).
 * The file's own duration only where the task says none.
 */
export const durationOf = (audio: GeneratedAudio | undefined, fileDuration: number): number =>
  audio?.wavDuration || audio?.mp3Duration || fileDuration;

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

const initial = (clip: string | undefined, format: AudioFormat): AudioPlayerSnapshot => ({
  clip,
  state: 'idle',
  kind: 'network',
  time: 0,
  fileDuration: 0,
  muted: false,
  peaks: undefined,
  visible: false,
  format,
  loop: false,
  selection: undefined,
});

/** The player's state and actions, without React. Create one per player (`createAudioPlayer`). */
export interface AudioPlayerController {
  subscribe(listener: () => void): () => void;
  getSnapshot(): AudioPlayerSnapshot;
  /** The latest options; another clip starts afresh. */
  setOptions(options: AudioPlayerControllerOptions): void;
  /** Creates the element and listens to it; returns the cleanup (unmount). */
  mount(): () => void;
  /** Lazy loading: call with the player's root element (a ref callback), `null` when it goes. */
  observe(root: Element | null): void;
  play(): void;
  pause(): void;
  /** Moves to `seconds` (clamped to the clip). */
  seek(seconds: number): void;
  toggleMute(): void;
  /** Switches the file, keeping the position and whether it plays. */
  setFormat(format: AudioFormat): void;
  /** Repeats the clip without a gap (or stops repeating), keeping the position and whether it plays. */
  setLoop(loop: boolean): void;
  /** Selects `[start, end]` (seconds, in either order, clamped to the clip), or nothing. */
  setSelection(range: readonly [number, number] | undefined): void;
  /** Saves the selection as a WAV file cut from the decoded audio. */
  exportSelection(): Promise<void>;
  /** Saves the file: fetched as a blob under a clean name, or opened as a plain link when CORS forbids it. */
  download(format?: AudioFormat): Promise<void>;
  fileName(format: AudioFormat): string;
}

/**
 * Nothing is fetched until the player is near the viewport (`observe`) or play is pressed; then the file is
 * fetched once for the waveform, the download, playback (from a `blob:` URL of those bytes) and, after a
 * media error, to tell a dead link (403/410 `expired`, 404 `not-found`) from a network or format fault.
 * Where CORS forbids reading the file, the element plays the remote URL itself.
 */
export function createAudioPlayer(initialOptions: AudioPlayerControllerOptions): AudioPlayerController {
  let options = initialOptions;
  let snapshot = initial(options.audio?.id, options.defaultFormat ?? 'mp3');
  const listeners = new Set<() => void>();
  let el: HTMLAudioElement | undefined;
  // The files this player holds (each at most once), by URL.
  const held = new Map<string, SharedFile>();
  // The URL the waveform is being decoded from (one per clip).
  let peaksFrom = '';
  // The position and play state to restore once a switched format has loaded.
  let restore: { time: number; play: boolean } | null = null;
  // The file URL (http(s)) the element holds, whether it plays it from there or from our blob of it.
  let loaded = '';
  let observer: IntersectionObserver | undefined;
  let frame = 0;
  const now = Date.now();
  // The gapless loop (`webAudio.ts`): while its buffer plays, the element is paused, the state `playing`.
  let loop: WebAudio.Loop | undefined;

  const set = (patch: Partial<AudioPlayerSnapshot>) => {
    const previous = snapshot;
    if (Object.entries(patch).every(([key, value]) => previous[key as keyof AudioPlayerSnapshot] === value))
      return;
    snapshot = { ...previous, ...patch };
    if (snapshot.state !== previous.state) stateChanged(previous.state);
    listeners.forEach((listener) => listener());
  };

  /** The file URL of the format chosen now. */
  const url = () => fileUrlOf(options.audio, snapshot.format);
  const duration = () => durationOf(options.audio, snapshot.fileDuration);

  // Another clip (e.g. the studio's current result) starts afresh, waveform included: the element lets the
  // previous clip's file go (it must not play on under the new one; a paused element with a `src` keeps its
  // connection and decoder), then its bytes and blob URLs are let go, so a player that shows result after
  // result does not grow with each.
  const unload = () => {
    loop?.reset();
    if (el) {
      el.removeAttribute('src');
      el.load();
    }
    loaded = peaksFrom = '';
    restore = null;
    held.forEach((file, fileUrl) => releaseFile(fileUrl, file));
    held.clear();
  };

  const stateChanged = (previous: AudioPlayerState) => {
    if (previous === 'idle') fetchIfDue();
    // Smooth progress while playing (timeupdate fires only about four times a second).
    cancelAnimationFrame(frame);
    if (snapshot.state !== 'playing') return;
    const tick = () => {
      const range = snapshot.selection;
      const looping = loop?.playing();
      if (looping) set({ time: looping.position() });
      else if (restore || !el) {
        // A switched file is loading: its time is not the clip's yet.
      } else if (range && el.currentTime >= range[1]) {
        // The selection plays alone: round again (the element's loop, until the buffer's) or stop at its end.
        el.currentTime = range[snapshot.loop ? 0 : 1];
        if (!snapshot.loop) el.pause();
      } else set({ time: el.currentTime });
      frame = requestAnimationFrame(tick);
    };
    tick();
  };

  // A dead link (403/404/410 status), a network fault, or the element's own decode/format error code.
  const fail = (reason: unknown) => set({ kind: ERROR_KINDS[reason as number] ?? 'network', state: 'error' });

  // One fetch per file, shared with every player that holds the same URL, for the waveform, playback, the
  // download and the dead-link probe. The blob is typed by its format.
  const bytes = (fileUrl: string): Promise<Blob> => {
    let file = held.get(fileUrl);
    // Not held yet, or the held fetch failed (network, CORS) and was forgotten: ask again.
    if (!file || peekFile(fileUrl) !== file) {
      if (file) releaseFile(fileUrl, file);
      const type = fileUrl === options.audio?.wavUrl ? 'audio/wav' : 'audio/mpeg';
      held.set(fileUrl, (file = holdFile(fileUrl, type)));
    }
    return file.blob;
  };

  // The blob URL of `fileUrl` when its bytes are in (held by this player from then on).
  const blobUrl = (fileUrl: string) => {
    const blob = peekFile(fileUrl)?.url;
    if (blob) void bytes(fileUrl);
    return blob;
  };

  // The file, after the player was seen or played; the waveform is decoded once, from whichever format
  // comes first. The element gets a source only when it is needed: once the fetch has the bytes, or failed
  // for CORS or the network, or on play.
  const fetchIfDue = () => {
    const fileUrl = url();
    const expiresAt = expiresAtOf(options);
    // Peaks that came with the audio draw at once: the file waits for play (streamed) or a download.
    if (
      options.audio?.peaks ||
      !(snapshot.visible || snapshot.state !== 'idle') ||
      (expiresAt !== undefined && expiresAt <= now) ||
      !fileUrl ||
      snapshot.peaks ||
      peaksFrom ||
      !el
    )
      return;
    peaksFrom = fileUrl;
    const file = bytes(fileUrl);
    const current = () => peaksFrom === fileUrl;
    file.then(
      () => current() && load(true),
      // An HTTP error is a dead link whatever <audio> would say; CORS or the network only cost the
      // waveform (a plain bar instead): the element plays the remote URL.
      (reason) => current() && (typeof reason === 'number' ? fail(reason) : load(true)),
    );
    // The waveform's decoder comes with the Web Audio chunk (lazy): a page shows the bar until then.
    file
      .then(async (blob) => (await import('./webAudio')).decodePeaks(blob))
      .then(
        (peaks) => current() && set({ peaks }),
        () => {},
      );
  };

  // Points the element at the chosen file: our blob URL of it when the bytes are in (no second download),
  // else the remote URL: pressed before the fetch is done, play streams at once rather than wait for the
  // whole file, and a CORS-blocked host still plays (<audio> needs no CORS). A source already loaded is
  // never swapped for the blob mid-clip; only a format switch (or another clip) changes it. `ifEmpty`: only
  // if the element has no source yet.
  const load = (ifEmpty?: boolean) => {
    const target = url();
    const src = el?.getAttribute('src');
    if (!el || !target || (src && (ifEmpty || loaded === target))) return;
    // Switching formats: come back to the same moment, playing if it was. (Another clip has no source.)
    restore = src ? { time: el.currentTime, play: !el.paused } : null;
    loaded = target;
    el.src = blobUrl(target) ?? target;
  };

  // What the element says, unless the loop plays instead of it.
  const show = (state: AudioPlayerState) => loop?.playing() || set({ state });

  // The gapless loop's engine, loaded with the Web Audio code when the loop is first turned on.
  const engine = () =>
    import('./webAudio').then((module) => {
      loop ??= module.createLoop({ el: () => el, url, bytes, get: () => snapshot, duration, set, claim });
      if (snapshot.loop) loop.prepare();
    });

  // Pauses the exclusive player playing now when this one starts.
  const claim = () => {
    if (options.exclusive === false) return;
    if (playingNow && playingNow !== controller) playingNow.pause();
    playingNow = controller;
  };

  const seen = () => {
    observer?.disconnect();
    set({ visible: true });
    fetchIfDue();
  };

  const controller: AudioPlayerController = {
    subscribe: (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    getSnapshot: () => snapshot,
    setOptions: (next) => {
      const clipChanged = next.audio?.id !== options.audio?.id;
      options = next;
      if (!clipChanged) return;
      unload();
      // The format, the loop and having been seen carry over: they belong to the player, not the clip.
      set({ ...initial(next.audio?.id, snapshot.format), visible: snapshot.visible, loop: snapshot.loop });
      fetchIfDue();
    },
    mount: () => {
      const audioElement = (el = document.createElement('audio'));
      audioElement.preload = 'metadata';
      const on = (type: string, listener: () => void) => audioElement.addEventListener(type, listener);
      const sync = () => {
        if (!restore && !loop?.playing()) set({ time: audioElement.currentTime });
      };
      on('loadstart', () => show('loading'));
      on('loadedmetadata', () => {
        const fileDuration = audioElement.duration;
        if (Number.isFinite(fileDuration)) set({ fileDuration });
        const previous = restore;
        restore = null;
        if (previous) {
          audioElement.currentTime = previous.time;
          if (previous.play) void audioElement.play().catch(() => {});
        }
        if (snapshot.state === 'loading') show(previous?.time ? 'paused' : 'ready');
      });
      audioElement.loop = snapshot.loop;
      on('play', claim);
      on('playing', () => {
        show('playing');
        if (snapshot.loop) loop?.prepare();
      });
      on('pause', () => show(audioElement.ended ? 'ended' : 'paused'));
      on('ended', () => show('ended'));
      on('timeupdate', sync);
      on('seeked', sync);
      on('volumechange', () => set({ muted: audioElement.muted }));
      on('error', () => {
        const code = audioElement.error?.code;
        // A media error does not say why; the file's HTTP status does, when CORS lets us read it.
        bytes(loaded).then(() => fail(code), fail);
      });
      fetchIfDue();
      return () => {
        unload();
        cancelAnimationFrame(frame);
        audioElement.pause();
        if (playingNow === controller) playingNow = undefined;
        el = undefined;
      };
    },
    observe: (root) => {
      observer?.disconnect();
      if (!root || snapshot.visible) return;
      // Without IntersectionObserver, count the player as visible once it is on the page.
      if (typeof IntersectionObserver === 'undefined') return seen();
      observer = new IntersectionObserver(
        (entries) => entries.some((entry) => entry.isIntersecting) && seen(),
        { rootMargin: '200px' },
      );
      observer.observe(root);
    },
    play: () => {
      load();
      const range = snapshot.selection;
      // Outside the selection (or at its end), play it from its start.
      if (range && (snapshot.time < range[0] || snapshot.time >= range[1] - 0.05)) controller.seek(range[0]);
      if (!(snapshot.loop && el && loop?.start(snapshot.time))) void el?.play().catch(() => {});
    },
    pause: () => (loop?.playing() ? loop.unloop(false) : el?.pause()),
    seek: (seconds) => {
      const length = duration();
      if (!el || !length) return;
      const time = Math.min(Math.max(seconds, 0), length);
      el.currentTime = time;
      if (loop?.playing()) loop.restart(time);
      set({ time, state: snapshot.state === 'ended' ? 'paused' : snapshot.state });
    },
    toggleMute: () => {
      if (!el) return;
      el.muted = !el.muted;
      loop?.playing()?.setMuted(el.muted);
    },
    setSelection: (range) => {
      const length = duration();
      const [start, end] = [...(range ?? [0, 0])]
        .sort((a, b) => a - b)
        .map((t) => Math.min(Math.max(t, 0), length));
      // Less than a twentieth of a second is no selection (a click, not a drag).
      set({ selection: end! - start! >= 0.05 ? [start!, end!] : undefined });
      // A playing loop takes the new bounds at once.
      if (loop?.playing()) loop.restart();
    },
    exportSelection: async () => {
      const range = snapshot.selection;
      // The WAV: lossless, and without an MP3's encoder delay shifting the cut.
      const fileUrl = fileUrlOf(options.audio, 'wav') || url();
      if (!range || !fileUrl) return;
      const [file, module] = await Promise.all([bytes(fileUrl), import('./webAudio')]);
      await module.saveWav(file, range, controller.fileName('wav'));
    },
    setLoop: (on) => {
      set({ loop: on });
      // Meanwhile (and where the bytes cannot be read) the element repeats the clip: it never ends.
      if (el) el.loop = on;
      if (on) void engine();
      else if (loop?.playing()) loop.unloop(true);
    },
    setFormat: (format) => {
      set({ format });
      // A loop plays on until the new file is decoded, then loops that from the same moment.
      if (loop?.playing()) loop.prepare();
      // Only reload when something was loaded; otherwise the next play or sighting loads the new file. The
      // clip plays on until the new file's bytes are in, then the element switches at the same moment: the
      // file is fetched once, for playback and its download alike (a dead link fails here, CORS streams).
      const target = url();
      if (el?.getAttribute('src'))
        bytes(target).then(
          () => url() === target && load(),
          (reason) => url() === target && (typeof reason === 'number' ? fail(reason) : load()),
        );
    },
    download: async (format = snapshot.format) => {
      const fileUrl = fileUrlOf(options.audio, format);
      if (!fileUrl || !el) return;
      // The same blob URL the element plays: the file is not fetched again.
      const blob = await bytes(fileUrl).then(
        () => peekFile(fileUrl)?.url,
        () => '',
      );
      // The link is made in the lazy chunk: a download is rare next to play.
      (await import('./webAudio')).saveLink(blob, fileUrl, controller.fileName(format));
    },
    fileName: (format) => audioFileName(options.prompt, `kling-audio-${options.audio?.id ?? 'clip'}`, format),
  };
  return controller;
}
