/**
 * HTTP byte ranges (RFC 9110 §14), single ranges only: one parser for every place that serves audio files
 * (the proxy's kept copies and the mock backend's CDN).
 */

/**
 * A `Range: bytes=…` header as an inclusive `[start, end]`: `undefined` for none (or several ranges, or
 * a malformed one, which may be answered with the whole file), `'unsatisfiable'` when it starts past the
 * end.
 */
export function parseRange(
  header: string | null,
  size: number,
): [number, number] | 'unsatisfiable' | undefined {
  const match = header && /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  if (!match || (match[1] === '' && match[2] === '')) return undefined;
  if (match[1] === '') {
    const suffix = Number(match[2]);
    if (suffix === 0 || size === 0) return 'unsatisfiable';
    return [Math.max(0, size - suffix), size - 1];
  }
  const start = Number(match[1]);
  const last = match[2] === '' ? Infinity : Number(match[2]);
  // `bytes=5-3` is not a valid range: ignore it and send the whole file.
  if (last < start) return undefined;
  if (start >= size) return 'unsatisfiable';
  const end = Math.min(last, size - 1);
  return [start, end];
}
