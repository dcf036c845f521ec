/**
 * Serves a kept audio file the way a CDN would, so `<audio>` can seek and browsers can cache it: `GET`
 * and `HEAD`, single `Range` requests (206 / 416), `ETag` with `If-None-Match` (304) and `If-Range`.
 * `HEAD` and 304 are answered from the file's description, and a range reads only its bytes.
 *
 * Caching: `private, no-cache` with `Vary: Cookie, Authorization`. A kept file never changes, but it is
 * one user's, and a browser shared by two people must not hand the second one the first one's file from
 * its cache without asking: each use is revalidated (the proxy checks the user, then answers 304 from the
 * description, no bytes read). Fetch API only.
 */
import { parseRange } from '../../api/range';
import { TASK_ID_PATTERN } from '../../api/schemas';
import type { KeptFormat } from '../core/fileStore';
import { base64url } from '../core/base64';

/** A file as it is served: its description, and a way to read part of it. */
export interface ServedFile {
  /** Bytes. */
  size: number;
  /** Bytes `start` to `end` (inclusive); `undefined` when they are gone (then 404). */
  read: (start: number, end: number) => Promise<Uint8Array | undefined>;
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

/** How a kept file may be cached (see the top of this file). */
export const KEPT_FILE_CACHING = { 'cache-control': 'private, no-cache', vary: 'Cookie, Authorization' };

/**
 * Answers a `GET` or `HEAD` for `file`: 200 with the whole file, 206 with one range, 416 when the range
 * starts past the end, 304 when `If-None-Match` matches (these two and `HEAD` read no bytes). Another
 * method gets 405; bytes gone meanwhile, `undefined` (the caller's 404).
 */
export async function serveFile(request: Request, file: ServedFile): Promise<Response | undefined> {
  const method = request.method.toUpperCase();
  const { size } = file;
  const headers = new Headers({
    'accept-ranges': 'bytes',
    ...KEPT_FILE_CACHING,
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
  let body: Uint8Array | null = null;
  if (method !== 'HEAD' && end >= start) {
    const bytes = await file.read(start, end);
    if (!bytes) return undefined;
    body = bytes;
  }
  return new Response(body as Uint8Array<ArrayBuffer> | null, { status: range ? 206 : 200, headers });
}
