/**
 * Real, playable audio for the mock backend: a small deterministic synthesiser that picks a sound family
 * from the prompt's keywords and renders it to exactly the requested duration, and a WAV (RIFF PCM 16-bit
 * mono) writer. Web APIs only: runs in browsers, Node and edge runtimes.
 */

/** Sample rate of the mock's audio. Low enough to keep files small, high enough to sound right. */
export const MOCK_SAMPLE_RATE = 22_050;

/** The sound families the synthesiser knows, chosen from the prompt by keyword. */
export type MockSoundKind = 'burst' | 'water' | 'bell' | 'thump' | 'sweep' | 'tone';

// Order matters: the first family whose words appear in the prompt wins.
const KEYWORDS: readonly (readonly [MockSoundKind, RegExp])[] = [
  [
    'burst',
    /\b(fireworks?|firecrackers?|explosions?|explod\w*|blasts?|gunshots?|guns?|bangs?|booms?|thunder\w*|crackl\w*)\b/i,
  ],
  [
    'water',
    /\b(rain\w*|water\w*|winds?|windy|ocean|waves?|seas?|rivers?|streams?|storms?|drizzle|breeze|surf)\b/i,
  ],
  ['bell', /\b(bells?|chimes?|chiming|dings?|gongs?|notifications?|glockenspiel|xylophone)\b/i],
  ['thump', /\b(footsteps?|steps?|knock\w*|hearts?|heartbeats?|drums?|thumps?|doors?|walk\w*)\b/i],
  ['sweep', /\b(whoosh\w*|swoosh\w*|swish\w*|lasers?|sci-?fi|spaceships?|zaps?|robots?|aliens?|warp)\b/i],
];

/** Which sound family a prompt gets: `tone` (a soft chord over a little noise) when no keyword matches. */
export function soundKindForPrompt(prompt: string): MockSoundKind {
  for (const [kind, pattern] of KEYWORDS) if (pattern.test(prompt)) return kind;
  return 'tone';
}

export interface SynthesizeOptions {
  /** Samples per second. Defaults to `22_050`. */
  sampleRate?: number;
  /**
   * What makes the sound repeatable: the same prompt and seed always give the same samples. Defaults to
   * the prompt itself; the mock backend passes the task id so two tasks with one prompt differ.
   */
  seed?: string;
}

/** FNV-1a: a 32-bit hash of a string, to seed the generator. */
function hashString(value: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < value.length; i++) {
    hash ^= value.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** mulberry32: a tiny seeded PRNG returning floats in [0, 1). */
function createRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Render = (out: Float32Array, sampleRate: number, random: () => number, prompt: string) => void;

const TAU = Math.PI * 2;

/** Event start times (seconds): the first soon after the start, then gaps of `minGap`…`minGap + spread`. */
function eventTimes(duration: number, first: number, minGap: number, spread: number, random: () => number) {
  const times = [first];
  for (let t = first + minGap + random() * spread; t < duration - 0.15; t += minGap + random() * spread) {
    times.push(t);
  }
  return times;
}

// Fireworks, explosions, gunshots: noise bursts with a fast decay, a low boom, and a crackle tail.
const renderBurst: Render = (out, rate, random, prompt) => {
  const duration = out.length / rate;
  const crackle = /firework|crackl|firecracker/i.test(prompt);
  for (const start of eventTimes(duration, 0.03 + random() * 0.15, 0.3, 0.9, random)) {
    const amp = 0.5 + 0.5 * random();
    const tau = 0.06 + random() * 0.3;
    const from = Math.floor(start * rate);
    const length = Math.min(out.length - from, Math.floor((tau * 7 + (crackle ? 0.8 : 0)) * rate));
    const boomHz = 45 + random() * 30;
    let low = 0;
    for (let i = 0; i < length; i++) {
      const t = i / rate;
      const envelope = Math.exp(-t / tau);
      low += 0.3 * (random() * 2 - 1 - low);
      let sample = amp * envelope * (0.6 * (random() * 2 - 1) + 0.8 * low);
      sample += amp * 0.7 * Math.exp(-t / (tau * 1.5)) * Math.sin(TAU * boomHz * t);
      if (crackle && t > 0.12 && random() < 0.004)
        sample += amp * 0.8 * Math.exp(-(t - 0.12) / 0.5) * (random() * 2 - 1);
      out[from + i]! += sample;
    }
  }
};

// Rain, water, wind, ocean: low-passed noise with a slow swell; rain gets droplets.
const renderWater: Render = (out, rate, random, prompt) => {
  const droplets = /rain|drizzle|water|stream|river/i.test(prompt);
  const swellHz = 0.08 + random() * 0.15;
  const phase = random() * TAU;
  let lp1 = 0;
  let lp2 = 0;
  let drop = 0;
  for (let i = 0; i < out.length; i++) {
    const t = i / rate;
    const swell = 0.65 + 0.35 * Math.sin(TAU * swellHz * t + phase);
    const alpha = 0.04 + 0.12 * swell;
    lp1 += alpha * (random() * 2 - 1 - lp1);
    lp2 += alpha * (lp1 - lp2);
    let sample = lp2 * swell * 3;
    if (droplets) {
      if (random() < 0.0012) drop = 0.3 + 0.7 * random();
      drop *= 0.993;
      sample += drop * 0.25 * (random() * 2 - 1);
    }
    out[i]! += sample;
  }
};

// Bells and chimes: decaying inharmonic sine partials, struck every second or two.
const BELL_NOTES = [523.25, 587.33, 659.25, 783.99, 880];
const BELL_PARTIALS = [
  [1, 1, 1.6],
  [2, 0.5, 1.0],
  [2.76, 0.6, 0.8],
  [5.4, 0.25, 0.4],
  [8.93, 0.12, 0.25],
] as const;
const renderBell: Render = (out, rate, random) => {
  const duration = out.length / rate;
  for (const start of eventTimes(duration, 0.01, 0.8, 1.0, random)) {
    const base = BELL_NOTES[Math.floor(random() * BELL_NOTES.length)]!;
    const amp = 0.6 + 0.4 * random();
    const from = Math.floor(start * rate);
    const length = Math.min(out.length - from, Math.floor(4 * rate));
    for (const [ratio, gain, tau] of BELL_PARTIALS) {
      const step = (TAU * base * ratio) / rate;
      const decay = Math.exp(-1 / (tau * rate));
      let envelope = amp * gain;
      for (let i = 0; i < length; i++) {
        out[from + i]! += envelope * Math.sin(step * i);
        envelope *= decay;
      }
    }
  }
};

// Footsteps, knocks, heartbeats: short pitched-down thumps with a click, in a rhythm that fits the word.
const renderThump: Render = (out, rate, random, prompt) => {
  const duration = out.length / rate;
  const hits: { time: number; amp: number }[] = [];
  if (/heart/i.test(prompt)) {
    for (let t = 0.05; t < duration - 0.1; t += 0.85)
      hits.push({ time: t, amp: 1 }, { time: t + 0.22, amp: 0.7 });
  } else if (/knock|door/i.test(prompt)) {
    for (let t = 0.05; t < duration - 0.1; t += 1.4 + random() * 0.4) {
      for (let k = 0; k < 3; k++) hits.push({ time: t + k * 0.16, amp: 0.8 + 0.2 * random() });
    }
  } else {
    let left = true;
    for (let t = 0.05; t < duration - 0.1; t += 0.5 + random() * 0.1) {
      hits.push({ time: t, amp: left ? 1 : 0.8 });
      left = !left;
    }
  }
  for (const { time, amp } of hits) {
    const from = Math.floor(time * rate);
    const length = Math.min(out.length - from, Math.floor(0.3 * rate));
    let phase = 0;
    for (let i = 0; i < length; i++) {
      const t = i / rate;
      phase += (TAU * (45 + 90 * Math.exp(-t / 0.03))) / rate;
      const body = Math.exp(-t / 0.07) * Math.sin(phase);
      const click = 0.3 * Math.exp(-t / 0.005) * (random() * 2 - 1);
      out[from + i]! += amp * (body + click);
    }
  }
};

// Whooshes swell filtered noise up and down; lasers and sci-fi sounds are falling chirps.
const renderSweep: Render = (out, rate, random, prompt) => {
  const duration = out.length / rate;
  if (/whoosh|swoosh|swish|warp/i.test(prompt)) {
    for (const start of eventTimes(duration, 0.05, 1.0, 0.6, random)) {
      const from = Math.floor(start * rate);
      const length = Math.min(out.length - from, Math.floor((0.6 + random() * 0.5) * rate));
      let lp = 0;
      for (let i = 0; i < length; i++) {
        const shape = Math.sin((Math.PI * i) / length);
        lp += (0.02 + 0.4 * shape * shape) * (random() * 2 - 1 - lp);
        out[from + i]! += shape * shape * lp * 4;
      }
    }
    return;
  }
  for (const start of eventTimes(duration, 0.02, 0.3, 0.4, random)) {
    const from = Math.floor(start * rate);
    const length = Math.min(out.length - from, Math.floor(0.28 * rate));
    const high = 1400 + random() * 800;
    const low = 180 + random() * 120;
    let phase = 0;
    for (let i = 0; i < length; i++) {
      const progress = i / length;
      phase += (TAU * high * Math.pow(low / high, progress)) / rate;
      const envelope = Math.exp(-progress * 3);
      out[from + i]! += envelope * (Math.sin(phase) + 0.25 * Math.sin(3 * phase));
    }
  }
};

// Anything else: a soft major chord with a slow tremolo over a little low-passed noise.
const renderTone: Render = (out, rate, random) => {
  const roots = [220, 246.94, 261.63, 293.66];
  const root = roots[Math.floor(random() * roots.length)]!;
  const ratios = [1, 1.25, 1.5, 2];
  const tremoloHz = 0.3 + random() * 0.5;
  const attack = Math.min(0.3 * rate, out.length / 4);
  const release = Math.min(0.5 * rate, out.length / 4);
  let lp = 0;
  for (let i = 0; i < out.length; i++) {
    const t = i / rate;
    let chord = 0;
    for (let k = 0; k < ratios.length; k++) chord += Math.sin(TAU * root * ratios[k]! * t) / (k + 1);
    const tremolo = 0.8 + 0.2 * Math.sin(TAU * tremoloHz * t);
    lp += 0.05 * (random() * 2 - 1 - lp);
    const envelope = Math.min(1, i / attack, (out.length - i) / release);
    out[i]! += envelope * (tremolo * chord + 0.6 * lp);
  }
};

const RENDERERS: Record<MockSoundKind, Render> = {
  burst: renderBurst,
  water: renderWater,
  bell: renderBell,
  thump: renderThump,
  sweep: renderSweep,
  tone: renderTone,
};

/** The number of samples a clip of `duration` seconds has at `sampleRate`. */
export function sampleCount(duration: number, sampleRate = MOCK_SAMPLE_RATE): number {
  return Math.max(0, Math.round(duration * sampleRate));
}

/**
 * Renders the prompt's sound as 16-bit mono PCM samples, exactly `duration` seconds long, normalised to
 * about -2 dBFS (audible, never clipping) with 10 ms fades at both ends so it starts and stops without a
 * click. Deterministic for a given prompt, duration and seed.
 */
export function synthesizeSamples(
  prompt: string,
  duration: number,
  options: SynthesizeOptions = {},
): Int16Array {
  const rate = options.sampleRate ?? MOCK_SAMPLE_RATE;
  const mix = new Float32Array(sampleCount(duration, rate));
  const random = createRandom(hashString(`${options.seed ?? ''}\u0000${prompt}`));
  RENDERERS[soundKindForPrompt(prompt)](mix, rate, random, prompt);

  let peak = 0;
  for (const sample of mix) peak = Math.max(peak, Math.abs(sample));
  const gain = peak > 0 ? 0.8 / peak : 0;
  const fade = Math.min(Math.floor(0.01 * rate), Math.floor(mix.length / 2));
  const pcm = new Int16Array(mix.length);
  for (let i = 0; i < mix.length; i++) {
    const edge = Math.min(i, mix.length - 1 - i);
    const envelope = edge < fade ? edge / fade : 1;
    pcm[i] = Math.max(-32768, Math.min(32767, Math.round(mix[i]! * gain * envelope * 32767)));
  }
  return pcm;
}

/** Wraps 16-bit mono PCM samples in a 44-byte RIFF/WAVE header. */
export function encodeWav(samples: Int16Array, sampleRate = MOCK_SAMPLE_RATE): Uint8Array {
  const dataBytes = samples.length * 2;
  const bytes = new Uint8Array(44 + dataBytes);
  const view = new DataView(bytes.buffer);
  const ascii = (offset: number, text: string) => {
    for (let i = 0; i < text.length; i++) bytes[offset + i] = text.charCodeAt(i);
  };
  ascii(0, 'RIFF');
  view.setUint32(4, 36 + dataBytes, true);
  ascii(8, 'WAVE');
  ascii(12, 'fmt ');
  view.setUint32(16, 16, true); // fmt chunk size
  view.setUint16(20, 1, true); // PCM
  view.setUint16(22, 1, true); // mono
  view.setUint32(24, sampleRate, true);
  view.setUint32(28, sampleRate * 2, true); // byte rate
  view.setUint16(32, 2, true); // block align
  view.setUint16(34, 16, true); // bits per sample
  ascii(36, 'data');
  view.setUint32(40, dataBytes, true);
  for (let i = 0; i < samples.length; i++) view.setInt16(44 + i * 2, samples[i]!, true);
  return bytes;
}

/**
 * A playable WAV file of the prompt's sound, exactly `duration` seconds long.
 *
 * @example
 * const wav = synthesizeWav('Fireworks over a harbour', 5);
 * new Blob([wav], { type: 'audio/wav' });
 */
export function synthesizeWav(prompt: string, duration: number, options: SynthesizeOptions = {}): Uint8Array {
  return encodeWav(synthesizeSamples(prompt, duration, options), options.sampleRate ?? MOCK_SAMPLE_RATE);
}
