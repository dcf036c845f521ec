/**
 * The proxy's route table: three named operations. A path matches only as a literal prefix followed, for
 * a lookup, by one id segment from a strict character set, so no dot segment, doubled or encoded slash,
 * encoded backslash or embedded URL can match anything: such paths are not cleaned up, they are simply
 * unknown.
 *
 * A raw `\` is a `/` to the URL parser (as in browsers), so by the time a Fetch handler has a `Request` it
 * is one. `toNodeHandler` sees the raw target first and keeps every `\` as `%5C`: over node:http, a path
 * with a backslash matches nothing.
 */
import { TEXT_TO_AUDIO_PATH, USAGE_PATH } from '../../api/client';
import { TASK_ID_PATTERN } from '../../api/schemas';

/**
 * The three operations the proxy forwards, by name (as they appear in log info), the two push routes it
 * answers itself (`push.ts`), and `keptFile`, a kept copy served from `{basePath}/files/…` (`keepAudio`).
 */
export type KlingProxyRoute =
  | 'createTask'
  | 'getTask'
  | 'listTasks'
  | 'deleteTask'
  | 'updateTask'
  | 'taskEvents'
  | 'taskCallback'
  | 'keptFile'
  | 'usage';

export type RouteMatch =
  | { route: 'createTask' }
  | { route: 'getTask'; id: string; byQuery: boolean }
  | { route: 'listTasks' }
  | { route: 'usage' }
  // The history the user manages (the proxy's own routes, answered from its records).
  | { route: 'deleteTask' | 'updateTask'; id: string }
  | { route: null; status: 404 }
  | { route: null; status: 405; allow: string };

// Task ids are digits; external ids are the caller's own. This set covers UUIDs and the usual
// `order-42:retry.1` shapes and cannot express a path, a query, a scheme with `//` or an escape. An id
// of dots only is no id: `.` and `..` would be dot segments in the vendor's URL (the URL parser resolves
// them in the request path before it gets here, but not in `?external_task_id=`).
const isId = (value: string) => TASK_ID_PATTERN.test(value) && !/^\.+$/.test(value);

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
  // The signed-in user's figures against the proxy's limits (`limits`).
  if (pathname === basePath + USAGE_PATH) {
    return method === 'GET' ? { route: 'usage' } : { route: null, status: 405, allow: 'GET' };
  }
  if (!pathname.startsWith(prefix)) return { route: null, status: 404 };
  const rest = pathname.slice(prefix.length);

  if (rest === '') {
    if (method === 'POST') return { route: 'createTask' };
    if (method !== 'GET') return { route: null, status: 405, allow: 'GET, POST' };
    const external = url.searchParams.get('external_task_id');
    if (external === null) return { route: 'listTasks' };
    // searchParams has already decoded the value, once.
    return isId(external) ? { route: 'getTask', id: external, byQuery: true } : { route: null, status: 404 };
  }

  const id = rest[0] === '/' ? decode(rest.slice(1)) : '';
  if (!isId(id)) return { route: null, status: 404 };
  if (method === 'GET') return { route: 'getTask', id, byQuery: false };
  if (method === 'DELETE') return { route: 'deleteTask', id };
  if (method === 'PATCH') return { route: 'updateTask', id };
  return { route: null, status: 405, allow: 'GET, DELETE, PATCH' };
}
