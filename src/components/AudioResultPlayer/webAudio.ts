/**
 * Decoded audio for what `<audio>` cannot do well: a loop without a gap (`<audio loop>` leaves one on most
 * browsers, and an MP3 adds its encoder padding), and a WAV cut from a selection. Loaded with `import()`
 * only when a loop or an export needs it, so a player that never loops does not ship it.
 */

let context: AudioContext | undefined;

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
