/**
 * The proxy's route table: three named operations. A path matches only as a literal prefix followed, for
 * a lookup, by one id segment from a strict character set, so no dot segment, doubled or encoded slash,
 * backslash or embedded URL can match anything: such paths are not cleaned up, they are simply unknown.
 */
import { TEXT_TO_AUDIO_PATH } from '../api/client';
import { TASK_ID_PATTERN } from '../api/schemas';

/**
 * The three operations the proxy forwards, by name (as they appear in log info), and `keptFile`, a
 * kept copy served from `{basePath}/files/…` (see `keepAudio`).
 */
export type KlingProxyRoute = 'createTask' | 'getTask' | 'listTasks' | 'keptFile';

export type RouteMatch =
  | { route: 'createTask' }
  | { route: 'getTask'; id: string; byQuery: boolean }
  | { route: 'listTasks' }
  | { route: null; status: 404 }
  | { route: null; status: 405; allow: string };

// Task ids are digits; external ids are the caller's own. This set covers UUIDs and the usual
// `order-42:retry.1` shapes and cannot express a path, a query, a scheme with `//` or an escape. (Dot
// segments never get here: parsing the request URL has already resolved them.)
const ID = TASK_ID_PATTERN;

/** A path segment decoded once; malformed escapes give '' (which is no id). */
function decode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return '';
  }
}

/** Matches a request against the three routes under `basePath` (normalised: no trailing slash). */
export function matchRoute(method: string, url: URL, basePath: string): RouteMatch {
  const prefix = basePath + TEXT_TO_AUDIO_PATH;
  const { pathname } = url;
  if (!pathname.startsWith(prefix)) return { route: null, status: 404 };
  const rest = pathname.slice(prefix.length);

  if (rest === '') {
    if (method === 'POST') return { route: 'createTask' };
    if (method !== 'GET') return { route: null, status: 405, allow: 'GET, POST' };
    const external = url.searchParams.get('external_task_id');
    if (external === null) return { route: 'listTasks' };
    // searchParams has already decoded the value, once.
    return ID.test(external)
      ? { route: 'getTask', id: external, byQuery: true }
      : { route: null, status: 404 };
  }

  const id = rest[0] === '/' ? decode(rest.slice(1)) : '';
  if (!ID.test(id)) return { route: null, status: 404 };
  return method === 'GET'
    ? { route: 'getTask', id, byQuery: false }
    : { route: null, status: 405, allow: 'GET' };
}
