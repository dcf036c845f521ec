/**
 * A clip's waveform from its WAV file, computed once when the proxy keeps it and answered on the audio
 * (`task_result.audios[].peaks`), so a player draws it without downloading the file. Plain PCM only (what
 * the vendor sends): no decoder, no dependency. No React, no Node APIs.
 */

/** How many peaks an audio gets: a few hundred, enough for a wide waveform. */
export const PEAK_COUNT = 300;

/**
 * The loudest sample of each of `count` equal stretches of the WAV's first channel, scaled so the loudest
 * is 1 and rounded to three decimals (small JSON). `undefined` for anything but a PCM (8/16/24/32-bit
 * integer or 32-bit float) WAV with samples.
 */
export function wavPeaks(file: Uint8Array, count = PEAK_COUNT): number[] | undefined {
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const text = (at: number) => String.fromCharCode(...file.subarray(at, at + 4));
  if (file.byteLength < 12 || text(0) !== 'RIFF' || text(8) !== 'WAVE') return undefined;
  let format: { code: number; channels: number; bits: number } | undefined;
  // Chunks: `fmt ` says how samples are written, `data` holds them (others, e.g. LIST, are skipped).
  for (let at = 12; at + 8 <= file.byteLength;) {
    const size = view.getUint32(at + 4, true);
    const body = at + 8;
    if (text(at) === 'fmt ' && size >= 16) {
      format = {
        code: view.getUint16(body, true),
        channels: view.getUint16(body + 2, true),
        bits: view.getUint16(body + 14, true),
      };
    } else if (text(at) === 'data' && format) {
      return peaksOf(view, body, Math.min(size, file.byteLength - body), format, count);
    }
    // Chunks are padded to an even size.
    at = body + size + (size % 2);
  }
  return undefined;
}

function peaksOf(
  view: DataView,
  start: number,
  size: number,
  { code, channels, bits }: { code: number; channels: number; bits: number },
  count: number,
): number[] | undefined {
  const bytes = bits / 8;
  // 1: integer PCM, 3: IEEE float, 0xfffe: WAVE_FORMAT_EXTENSIBLE (its subformat is PCM in practice).
  const float = code === 3 && bits === 32;
  if (!(float || ((code === 1 || code === 0xfffe) && [8, 16, 24, 32].includes(bits))) || !channels)
    return undefined;
  const frame = bytes * channels;
  const frames = Math.floor(size / frame);
  if (frames === 0) return undefined;
  const sample = (at: number) =>
    float
      ? view.getFloat32(at, true)
      : bits === 8
        ? (view.getUint8(at) - 128) / 128
        : bits === 16
          ? view.getInt16(at, true) / 32768
          : bits === 24
            ? (view.getUint8(at) | (view.getUint8(at + 1) << 8) | (view.getInt8(at + 2) << 16)) / 8388608
            : view.getInt32(at, true) / 2147483648;
  const peaks: number[] = [];
  for (let bin = 0; bin < count; bin++) {
    let peak = 0;
    const end = Math.floor(((bin + 1) * frames) / count);
    for (let index = Math.floor((bin * frames) / count); index < end; index++)
      peak = Math.max(peak, Math.abs(sample(start + index * frame)));
    peaks.push(peak);
  }
  const loudest = Math.max(...peaks) || 1;
  return peaks.map((peak) => Math.round((Math.min(peak, loudest) / loudest) * 1000) / 1000);
}
