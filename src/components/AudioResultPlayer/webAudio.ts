/**
 * Decoded audio for what `<audio>` cannot do well: a loop without a gap (`<audio loop>` leaves one on most
 * browsers, and an MP3 adds its encoder padding), a WAV cut from a selection, and the waveform's peaks; with
 * the download's link. Loaded with `import()` only when a loop, an export, a waveform or a download needs
 * it, so none of it is in the first load: the player's loop engine (`createLoop`) lives here too, with
 * only its calls in `playerController.ts`.
 */

let context: AudioContext | undefined;

/** Decodes at a low sample rate (plenty for a picture) and keeps the loudest sample of each bin. */
export async function decodePeaks(file: Blob, bins = 96): Promise<number[]> {
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

/** Decodes a file at the output's sample rate (one shared context for the page). */
export async function decodeAudio(file: Blob): Promise<AudioBuffer> {
  context ??= new AudioContext();
  return context.decodeAudioData(await file.arrayBuffer());
}

/** A buffer looping now. */
export interface BufferLoop {
  /** Where it is, in seconds of the clip. */
  position(): number;
  /** Stops it; returns where it was. */
  stop(): number;
  setMuted(muted: boolean): void;
}

/**
 * Plays `buffer` from `offset`, repeating `start`–`end` (seconds) sample-exact: the loop is the source
 * node's own, so there is no gap and nothing ever ends.
 */
export function loopBuffer(
  buffer: AudioBuffer,
  offset: number,
  start: number,
  end: number,
  muted: boolean,
): BufferLoop {
  const audio = context!;
  void audio.resume();
  const gain = audio.createGain();
  const source = audio.createBufferSource();
  source.buffer = buffer;
  source.loop = true;
  source.loopStart = start;
  source.loopEnd = end;
  source.connect(gain).connect(audio.destination);
  // Outside the loop (a selection behind the playhead), start at its beginning.
  const from = offset >= start && offset < end ? offset : start;
  const began = audio.currentTime;
  source.start(0, from);
  const position = () => {
    const at = from + audio.currentTime - began;
    return at < end ? at : start + ((at - start) % (end - start));
  };
  const setMuted = (muted: boolean) => void (gain.gain.value = muted ? 0 : 1);
  setMuted(muted);
  return {
    position,
    stop: () => {
      const at = position();
      source.stop();
      gain.disconnect();
      return at;
    },
    setMuted,
  };
}

/**
 * `start`–`end` (seconds) of `buffer` as a 16-bit PCM WAV file, every channel kept, at the buffer's rate:
 * `round(end × rate) − round(start × rate)` frames.
 */
export function encodeWav(buffer: AudioBuffer, start: number, end: number): Blob {
  const { sampleRate: rate, numberOfChannels: channels } = buffer;
  const from = Math.round(start * rate);
  const frames = Math.max(0, Math.min(buffer.length, Math.round(end * rate)) - from);
  const size = frames * channels * 2;
  const view = new DataView(new ArrayBuffer(44 + size));
  const header: [number, number, number | string][] = [
    // [offset, bytes (0: text), value]: RIFF, then one `fmt ` chunk (PCM), then the `data` chunk.
    [0, 0, 'RIFF'],
    [4, 4, 36 + size],
    [8, 0, 'WAVEfmt '],
    [16, 4, 16],
    [20, 2, 1],
    [22, 2, channels],
    [24, 4, rate],
    [28, 4, rate * channels * 2],
    [32, 2, channels * 2],
    [34, 2, 16],
    [36, 0, 'data'],
    [40, 4, size],
  ];
  for (const [at, bytes, value] of header) {
    if (typeof value === 'string') [...value].forEach((c, i) => view.setUint8(at + i, c.charCodeAt(0)));
    else if (bytes === 4) view.setUint32(at, value, true);
    else view.setUint16(at, value, true);
  }
  const data = Array.from({ length: channels }, (_, channel) => buffer.getChannelData(channel));
  for (let frame = 0; frame < frames; frame++)
    for (let channel = 0; channel < channels; channel++) {
      const sample = Math.max(-1, Math.min(1, data[channel]![from + frame] ?? 0));
      view.setInt16(
        44 + (frame * channels + channel) * 2,
        sample < 0 ? sample * 0x8000 : sample * 0x7fff,
        true,
      );
    }
  return new Blob([view], { type: 'audio/wav' });
}

/**
 * Saves `blob` (a `blob:` URL) as `fileName`; without one (CORS, or a dead link) opens `fileUrl` in a new
 * tab: the browser can still fetch the file itself.
 */
export function saveLink(blob: string | undefined, fileUrl: string, fileName: string): void {
  const link = document.createElement('a');
  if (blob) {
    link.href = blob;
    link.download = fileName;
  } else {
    link.href = fileUrl;
    link.target = '_blank';
    link.rel = 'noopener';
  }
  link.click();
}

/** Saves `range` (seconds) of the decoded `file` as a WAV named after `fileName` and the range. */
export async function saveWav(file: Blob, range: readonly [number, number], fileName: string): Promise<void> {
  const href = URL.createObjectURL(encodeWav(await decodeAudio(file), ...range));
  saveLink(href, '', fileName.replace(/\.wav$/, `-${range.map((t) => t.toFixed(1)).join('-')}s.wav`));
  // Revoked once the browser has taken the file (a download reads the URL after the click returns).
  setTimeout(() => URL.revokeObjectURL(href), 30_000);
}

/** What the loop needs of its player (`playerController.ts`). */
export interface LoopHost {
  el(): HTMLAudioElement | undefined;
  /** The chosen file's URL. */
  url(): string;
  /** The bytes of a file (shared, fetched once). */
  bytes(fileUrl: string): Promise<Blob>;
  get(): {
    state: string;
    loop: boolean;
    muted: boolean;
    time: number;
    selection: readonly [number, number] | undefined;
  };
  /** The sound's length. */
  duration(): number;
  set(patch: { time?: number; state?: 'playing' | 'paused' }): void;
  /** Pauses the other exclusive player. */
  claim(): void;
}

/** The player's gapless loop. */
export interface Loop {
  /** The buffer loop playing now, if one is. */
  playing(): BufferLoop | undefined;
  /** Decodes the chosen file (once) and, while the player plays, moves the loop onto it. */
  prepare(): void;
  /** Starts the decoded loop at `offset` if the chosen file is decoded; `false` when it is not (yet). */
  start(offset: number): boolean;
  /** Starts again at `offset` (default: where it is), e.g. with new selection bounds. */
  restart(offset?: number): void;
  /** Back to the element at the same moment, playing on or paused. */
  unloop(playOn: boolean): void;
  /** Stops and forgets the decoded clip (another clip, or unmount). */
  reset(): void;
}

/**
 * The player's gapless loop over `host`: decodes the chosen file once, plays it through an
 * `AudioBufferSourceNode` looping the selection (else the sound) while the element waits paused, and hands
 * back to the element at the same moment.
 */
export function createLoop(host: LoopHost): Loop {
  let decoded: { url: string; buffer: AudioBuffer } | undefined;
  let decoding = '';
  let looping: (BufferLoop & { url: string }) | undefined;

  // The loop's bounds: the selection, else the sound (before an MP3's padding).
  const from = (offset: number) => {
    const { buffer, url } = decoded!;
    const [start, end] = host.get().selection ?? [0, Math.min(buffer.duration, host.duration())];
    looping = { ...loopBuffer(buffer, offset, start, end, host.get().muted), url };
    // Looping is playing: the element pauses (its pause is not the player's to show), this player is the one.
    host.el()!.pause();
    host.claim();
    host.set({ state: 'playing' });
  };

  const loop: Loop = {
    playing: () => looping,
    prepare: () => {
      const fileUrl = host.url();
      const el = host.el();
      if (decoded?.url === fileUrl) {
        if (host.get().state === 'playing' && el && looping?.url !== fileUrl)
          from(looping ? looping.stop() : el.currentTime);
        return;
      }
      if (decoding === fileUrl) return;
      decoding = fileUrl;
      host
        .bytes(fileUrl)
        .then(decodeAudio)
        .then(
          (buffer) => {
            if (decoding !== fileUrl) return;
            decoded = { url: fileUrl, buffer };
            if (host.get().loop) loop.prepare();
          },
          // No bytes (CORS) or no Web Audio: the element's own loop goes on (with its small gap).
          () => {},
        );
    },
    start: (offset) => decoded?.url === host.url() && (from(offset), true),
    restart: (offset) => {
      const at = looping!.stop();
      from(offset ?? at);
    },
    unloop: (playOn) => {
      const el = host.el()!;
      const time = looping!.stop();
      looping = undefined;
      el.currentTime = time;
      host.set({ time });
      if (playOn) void el.play().catch(() => {});
      else host.set({ state: 'paused' });
    },
    reset: () => {
      looping?.stop();
      looping = decoded = undefined;
      decoding = '';
    },
  };
  return loop;
}
