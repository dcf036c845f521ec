/**
 * MP3 encoding for the mock backend's `url_mp3`, with LAME compiled to plain JavaScript
 * (`@breezystack/lamejs`). The encoder is loaded with a dynamic `import()` the first time an MP3 is asked
 * for, so nothing else (not even the rest of the mocks entry) pays for its ~250 KB. The package ships it as
 * `dist/vendor/lamejs/lamejs.js` with its LGPL licence beside it (`dist/vendor/lamejs/LICENSE`): a plain
 * path, not a nested `node_modules` folder that packaging tools may strip (see vite.config.ts).
 */
import { MOCK_SAMPLE_RATE } from './audio';

export interface EncodeMp3Options {
  /** Constant bit rate in kbit/s. Defaults to `64` (plenty for 22.05 kHz mono). */
  kbps?: number;
}

// LAME works on blocks of 1152 samples (one MPEG-1 frame; two MPEG-2 frames at 22.05 kHz).
const BLOCK = 1152;

/** Samples in one MPEG-2 Layer III frame (22.05 kHz). */
const FRAME = 576;

/**
 * How long the MP3 of `sampleCount` samples plays, in seconds: LAME pads the end to whole frames and adds
 * two frames of encoder delay and flush. This is what a browser reports for the file, so the mock's
 * `duration_mp3` matches the file the way the vendor's does (test/audio.test.ts counts the frames).
 */
export function mp3Duration(sampleCount: number, sampleRate = MOCK_SAMPLE_RATE): number {
  return ((Math.ceil(sampleCount / FRAME) + 2) * FRAME) / sampleRate;
}

/**
 * Encodes 16-bit mono PCM samples as a constant-bit-rate MP3 file (MPEG-2 Layer III at 22.05 kHz).
 * Works in browsers and Node: the encoder is pure JavaScript.
 */
export async function encodeMp3(
  samples: Int16Array,
  sampleRate = MOCK_SAMPLE_RATE,
  options: EncodeMp3Options = {},
): Promise<Uint8Array> {
  const kbps = options.kbps ?? 64;
  // Each story, test and demo run builds a fresh backend over the same seeded sounds; LAME in JavaScript
  // costs hundreds of milliseconds per clip on the main thread, so identical input is encoded once.
  const key = `${sampleRate}/${kbps}/${samples.length}/${fingerprint(samples)}`;
  let file = encoded.get(key);
  if (file) encoded.delete(key);
  else {
    file = encode(samples, sampleRate, kbps);
    file.catch(() => encoded.delete(key));
  }
  encoded.set(key, file);
  while (encoded.size > ENCODED_CACHE_SIZE) encoded.delete(encoded.keys().next().value!);
  // A copy: callers own their bytes.
  return (await file).slice();
}

// Recently encoded files, least recently used first (a Map keeps insertion order).
const ENCODED_CACHE_SIZE = 32;
const encoded = new Map<string, Promise<Uint8Array>>();

/** FNV-1a over the samples: identical clips share a key, different ones practically never do. */
function fingerprint(samples: Int16Array): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < samples.length; i++) hash = Math.imul(hash ^ (samples[i]! & 0xffff), 0x01000193);
  return (hash >>> 0).toString(36);
}

async function encode(samples: Int16Array, sampleRate: number, kbps: number): Promise<Uint8Array> {
  const { Mp3Encoder } = await import('@breezystack/lamejs');
  const encoder = new Mp3Encoder(1, sampleRate, kbps);
  const chunks: Uint8Array[] = [];
  let total = 0;
  const keep = (
    chunk: ArrayLike<number> & { buffer: ArrayBufferLike; byteOffset: number; length: number },
  ) => {
    if (chunk.length === 0) return;
    // lamejs hands out Int8Array views over its own buffer: copy them out as bytes.
    const bytes = new Uint8Array(chunk.length);
    bytes.set(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length));
    chunks.push(bytes);
    total += bytes.length;
  };
  for (let i = 0; i < samples.length; i += BLOCK) keep(encoder.encodeBuffer(samples.subarray(i, i + BLOCK)));
  keep(encoder.flush());
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}
