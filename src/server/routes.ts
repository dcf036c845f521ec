/**
 * The proxy's route table: three named operations, matched on a path that must already be in its one
 * canonical form. Anything ambiguous is refused rather than cleaned up, so what is matched is what is
 * forwarded.
 */
import { TEXT_TO_AUDIO_PATH } from '../api/client';

/** The three operations the proxy forwards, by name (as they appear in log info). */
export type KlingProxyRoute = 'createTask' | 'getTask' | 'listTasks';

export type RouteMatch =
  | { route: 'createTask' }
  | { route: 'getTask'; id: string; byQuery: boolean }
  | { route: 'listTasks' }
  | { route: null; status: 404 }
  | { route: null; status: 405; allow: string };

// Double slashes, backslashes, encoded slashes or backslashes, and dot segments, plain or encoded. The
// Fetch API resolves literal dot segments while parsing the URL, but other callers may not have.
const UNSAFE_PATH = /\/\/|\\|%2f|%5c|(^|\/)(\.|%2e){1,2}(\/|$)/i;

// Task ids are digits; external ids are the caller's own. This set covers UUIDs and the usual
// `order-42:retry.1` shapes and cannot express a path, a query, a scheme with `//` or an escape.
const ID = /^[\w.:~-]{1,256}$/;

/** The decoded id, or undefined when it is not one the proxy will forward. */
function decodeId(raw: string | null): string | undefined {
  if (raw === null) return undefined;
  let id: string;
  try {
    id = decodeURIComponent(raw);
  } catch {
    return undefined;
  }
  return ID.test(id) && !/^\.+$/.test(id) ? id : undefined;
}

/**
 * Matches a request against the three routes under `basePath` (normalised: no trailing slash).
 * `pathname` is the URL's path as received, still percent-encoded.
 */
export function matchRoute(method: string, url: URL, basePath: string): RouteMatch {
  const prefix = basePath + TEXT_TO_AUDIO_PATH;
  const { pathname } = url;
  if (UNSAFE_PATH.test(pathname) || !pathname.startsWith(prefix)) return { route: null, status: 404 };
  const rest = pathname.slice(prefix.length);

  if (rest === '') {
    if (method === 'POST') return { route: 'createTask' };
    if (method !== 'GET') return { route: null, status: 405, allow: 'GET, POST' };
    const external = url.searchParams.get('external_task_id');
    if (external === null) return { route: 'listTasks' };
    // searchParams has already decoded the value once; decodeId must not decode it again.
    const id = decodeId(encodeURIComponent(external));
    return id ? { route: 'getTask', id, byQuery: true } : { route: null, status: 404 };
  }

  const id = rest[0] === '/' ? decodeId(rest.slice(1)) : undefined;
  if (!id) return { route: null, status: 404 };
  return method === 'GET'
    ? { route: 'getTask', id, byQuery: false }
    : { route: null, status: 405, allow: 'GET' };
}
