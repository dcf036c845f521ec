/**
 * Serves a kept audio file the way a CDN would, so `<audio>` can seek and browsers can cache it: `GET`
 * and `HEAD`, single `Range` requests (206 / 416), `ETag` with `If-None-Match` (304) and `If-Range`, and
 * `Cache-Control: private, immutable` (a kept file never changes, and it is one user's).
 * Fetch API only.
 */
import { parseRange } from '../../api/range';
import { TASK_ID_PATTERN } from '../../api/schemas';
import type { KeptFormat } from '../core/fileStore';
import { base64url } from '../core/base64';

/** A file as it is served. */
export interface ServedFile {
  bytes: Uint8Array;
  /** The exact media type, e.g. `audio/mpeg`. */
  contentType: string;
  /** A strong entity tag, quoted: `"…"`. */
  etag: string;
}

/** The part of the proxy's path space the kept files live in: `{basePath}/files/…`. */
export const FILES_SEGMENT = '/files/';

/** Where a kept file is served: `{origin}{basePath}/files/{taskId}/{audioId}.{mp3|wav}`. */
export const keptFileUrl = (
  origin: string,
  basePath: string,
  taskId: string,
  audioId: string,
  format: KeptFormat,
): string =>
  `${origin}${basePath}${FILES_SEGMENT}${encodeURIComponent(taskId)}/${encodeURIComponent(audioId)}.${format}`;

/**
 * The file a path names, `undefined` when the path is under `{basePath}/files/` but names nothing valid,
 * and `null` when it is not under it at all (another route's).
 */
export function matchFilePath(
  pathname: string,
  basePath: string,
): { taskId: string; audioId: string; format: KeptFormat } | undefined | null {
  const prefix = basePath + FILES_SEGMENT;
  if (!pathname.startsWith(prefix)) return null;
  const match = /^([^/]+)\/([^/]+)\.(mp3|wav)$/.exec(pathname.slice(prefix.length));
  if (!match) return undefined;
  let taskId: string, audioId: string;
  try {
    taskId = decodeURIComponent(match[1]!);
    audioId = decodeURIComponent(match[2]!);
  } catch {
    return undefined;
  }
  // The same strict set as task ids everywhere: no slash, no dot segment, no escape survives.
  if (!TASK_ID_PATTERN.test(taskId) || !TASK_ID_PATTERN.test(audioId)) return undefined;
  return { taskId, audioId, format: match[3] as KeptFormat };
}

/** A strong ETag from the bytes: the first 16 bytes of their SHA-256, base64url. */
export async function fileEtag(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>));
  return `"${base64url(digest.subarray(0, 16))}"`;
}

/** `If-None-Match`: `*`, or a list in which one tag matches (weak comparison, as the RFC says for it). */
function noneMatch(header: string | null, etag: string): boolean {
  if (header === null) return false;
  if (header.trim() === '*') return true;
  const bare = (tag: string) => tag.trim().replace(/^W\//, '');
  return header.split(',').some((tag) => bare(tag) === etag);
}

/**
 * Answers a `GET` or `HEAD` for `file`: 200 with the whole file, 206 with one range, 416 when the range
 * starts past the end, 304 when `If-None-Match` matches. Another method gets 405.
 */
export function serveFile(request: Request, file: ServedFile): Response {
  const method = request.method.toUpperCase();
  const size = file.bytes.byteLength;
  const headers = new Headers({
    'accept-ranges': 'bytes',
    // The URL names one kept file forever; `private`: it is one user's, shared caches must not keep it.
    'cache-control': 'private, max-age=31536000, immutable',
    etag: file.etag,
    'x-content-type-options': 'nosniff',
  });
  if (method !== 'GET' && method !== 'HEAD') {
    headers.set('allow', 'GET, HEAD');
    return new Response(null, { status: 405, headers });
  }
  if (noneMatch(request.headers.get('if-none-match'), file.etag)) {
    return new Response(null, { status: 304, headers });
  }
  headers.set('content-type', file.contentType);
  // A range of a file that has changed since (another ETag in `If-Range`) is answered with the whole file.
  const ifRange = request.headers.get('if-range');
  const range =
    ifRange === null || ifRange.trim() === file.etag
      ? parseRange(request.headers.get('range'), size)
      : undefined;
  if (range === 'unsatisfiable') {
    headers.set('content-range', `bytes */${size}`);
    return new Response(null, { status: 416, headers });
  }
  const [start, end] = range ?? [0, size - 1];
  headers.set('content-length', String(end - start + 1));
  if (range) headers.set('content-range', `bytes ${start}-${end}/${size}`);
  return new Response(method === 'HEAD' ? null : file.bytes.slice(start, end + 1), {
    status: range ? 206 : 200,
    headers,
  });
}
