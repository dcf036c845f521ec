/**
 * The server-side proxy between the app's browser code and the vendor: it holds the credential, forwards
 * three named operations and nothing else, and validates a create before it can cost anything.
 * Fetch API and WebCrypto only, so it runs on Node 20+ and on edge runtimes.
 */
import * as z from 'zod/mini';
import { TEXT_TO_AUDIO_PATH } from '../api/client';
import { TOKEN_RETRY_CODES } from '../api/errors';
import {
  describeIssues,
  isHttpUrl,
  listAudioTasksParamsSchema,
  PAGE_NUM_MAX,
  PAGE_NUM_MIN,
  PAGE_SIZE_MAX,
  PAGE_SIZE_MIN,
  parseWireCreateRequest,
  toWireCreateRequest,
} from '../api/schemas';
import { matchFilePath } from './files';
import { keepingFor, observeSucceeded, presentReply, type KeepAudioOptions } from './keeping';
import { createRecordOperations } from './records';
import { matchRoute, type KlingProxyRoute } from './routes';
import { createMemoryTaskStore, SHARED_SPACE, type KlingTaskStore } from './store';
import { signKlingToken } from './token';

/** What `onRequest` receives: never a header, a body, a credential or a token. */
export interface KlingProxyRequestInfo {
  method: string;
  /** The matched operation, or `null` for a path or method the proxy refuses. */
  route: KlingProxyRoute | null;
  /** The URL path as received, without the query. */
  path: string;
}

/** What `onResponse` receives. */
export interface KlingProxyResponseInfo extends KlingProxyRequestInfo {
  /** The HTTP status sent to the browser. */
  status: number;
  /** The vendor's business code (or the proxy's own, in the same table), when the body has one. */
  code: number | undefined;
  /** The vendor's `request_id`, or the proxy's own for an answer it made itself. */
  requestId: string | undefined;
  /** Time from receiving the request to having the answer, in milliseconds. */
  durationMs: number;
}

export interface KlingProxyRateLimit {
  /** Length of one window in milliseconds. */
  windowMs: number;
  /** Requests one key may make per window; the next ones get 429 with code 1302 and `Retry-After`. */
  max: number;
  /** Who is asking: usually the app's user id, else the client address. */
  key: (request: Request) => string | Promise<string>;
}

export interface KlingAudioProxyOptions {
  /** The vendor's access key, used with `secretKey` to sign a JWT. Pass this pair or `apiKey`. */
  accessKey?: string;
  /** The vendor's secret key. Never sent anywhere: it signs the token. */
  secretKey?: string;
  /** The vendor's single API key, sent as `Authorization: Bearer <apiKey>`. Pass this or the key pair, not both. */
  apiKey?: string;
  /** The vendor's origin (a path prefix is kept). Defaults to `'https://api-singapore.klingai.com'`. */
  upstream?: string;
  /** Where the app mounts the proxy. Defaults to `'/api/kling'`. */
  basePath?: string;
  /**
   * The app's own check of the person asking, run before anything goes upstream. Required: there is no
   * permissive default.
   * - a non-empty string is the user's id: every operation is scoped to that user's own records (an app
   *   with accounts needs this);
   * - `true` is one shared space: the whole vendor account is the one user's (a single-user tool);
   * - anything else, or a throw, answers 401 (code 1000) and sends nothing upstream.
   */
  authorize: (
    request: Request,
  ) => string | boolean | null | undefined | Promise<string | boolean | null | undefined>;
  /**
   * Where the records of the tasks this proxy creates live (see `createPostgresTaskStore`). `false` keeps
   * none: a plain pass-through for the shared space, and scoped users are refused (500). Defaults to
   * `createMemoryTaskStore()`, lost at restart (the proxy says so once, at its first request).
   */
  store?: KlingTaskStore | false;
  /**
   * Keep both files of each succeeded task before the vendor deletes them (30 days after creation):
   * fetched once in the background (https only, public addresses only, audio only, size capped), kept in
   * the store's `files`, then answered as `{origin}{basePath}/files/{taskId}/{audioId}.{mp3|wav}` with
   * `kept: true` and served from there to their owner only. Options tune the download, or `put` the
   * files in the app's own storage. Defaults to `true` when a `store` is passed, else `false`.
   */
  keepAudio?: boolean | KeepAudioOptions;
  /** The `fetch` used for upstream calls. Defaults to the global `fetch`. */
  fetch?: typeof fetch;
  /** How long one upstream attempt may take, body included, before a 504 (code 5002). Defaults to `30_000`. */
  timeoutMs?: number;
  /** Largest create body read, in bytes; a larger one gets 413. Defaults to `16_384` (16 KiB). */
  maxBodyBytes?: number;
  /** Called when a request arrives, for the app's logging. Its errors are ignored. */
  onRequest?: (info: KlingProxyRequestInfo) => void;
  /** Called with the answer's status, code, request id and duration. Its errors are ignored. */
  onResponse?: (info: KlingProxyResponseInfo) => void;
  /** A simple in-memory per-key limit (fixed windows), checked after `authorize`. Defaults to none. */
  rateLimit?: KlingProxyRateLimit;
}

interface Reply {
  status: number;
  body: string;
  headers?: Record<string, string>;
  code: number | undefined;
  requestId: string | undefined;
}

// Re-sign when less than this is left of the token's 30 minutes, so a token never expires in flight.
const REFRESH_MS = 5 * 60_000;
// The rate limiter forgets the oldest windows beyond this many keys, so memory stays bounded.
const MAX_KEYS = 10_000;
// Only these upstream headers reach the browser: never Set-Cookie, never anything about the upstream.
const PASSED_HEADERS = ['content-type', 'retry-after', 'x-request-id'];

/** An answer the proxy makes itself, in the vendor's envelope with a fresh request id. */
function fail(status: number, code: number, message: string, headers?: Record<string, string>): Reply {
  const requestId = crypto.randomUUID();
  return {
    status,
    body: JSON.stringify({ code, message, request_id: requestId, data: null }),
    headers: { 'x-request-id': requestId, ...headers },
    code,
    requestId,
  };
}

/** Reads a body up to `max` bytes as UTF-8: `null` once it is larger; throws on invalid UTF-8. */
async function readBody(request: Request, max: number): Promise<string | null> {
  // A declared length over the cap is refused before reading; a missing or false one is caught below.
  if (Number(request.headers.get('content-length')) > max) return null;
  const reader = request.body?.getReader();
  if (!reader) return '';
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let text = '';
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return text + decoder.decode();
    size += value.byteLength;
    if (size > max) {
      void reader.cancel().catch(() => {});
      return null;
    }
    text += decoder.decode(value, { stream: true });
  }
}

function createLimiter({ windowMs, max, key }: KlingProxyRateLimit) {
  const windows = new Map<string, { start: number; count: number }>();
  /** Seconds to wait, or 0 when the request may go on. */
  return async (request: Request): Promise<number> => {
    const id = await key(request);
    const now = Date.now();
    let window = windows.get(id);
    if (!window || now - window.start >= windowMs) {
      // Windows are re-inserted when they start, so the map runs oldest first: drop expired ones, and
      // the oldest live ones too if there are still too many keys.
      windows.delete(id);
      for (const [old, { start }] of windows) {
        if (now - start < windowMs && windows.size < MAX_KEYS) break;
        windows.delete(old);
      }
      window = { start: now, count: 0 };
      windows.set(id, window);
    }
    return ++window.count > max ? Math.ceil((window.start + windowMs - now) / 1000) : 0;
  };
}

const call = <T>(hook: ((info: T) => void) | undefined, info: T) => {
  try {
    hook?.(info);
  } catch {
    // A logging hook must not change the answer.
  }
};

/**
 * Creates the proxy as a Fetch handler (`Request` in, `Response` out) for Next.js route handlers, Hono,
 * Bun, Deno and Workers; `toNodeHandler` serves it from node:http, Express or Connect.
 *
 * Throws when `authorize` is missing, or when the credentials are not exactly one of the key pair or the
 * API key.
 *
 * @example
 * const handler = createKlingAudioProxy({
 *   accessKey: process.env.KLING_ACCESS_KEY,
 *   secretKey: process.env.KLING_SECRET_KEY,
 *   authorize: async (request) => (await getSession(request)) !== null,
 * });
 * export { handler as GET, handler as POST }; // app/api/kling/[...path]/route.ts
 */
export function createKlingAudioProxy(
  options: KlingAudioProxyOptions,
): (request: Request) => Promise<Response> {
  const { accessKey, secretKey, apiKey, authorize, onRequest, onResponse } = options;
  if (typeof authorize !== 'function') {
    throw new TypeError(
      'createKlingAudioProxy: `authorize` is required. Pass your own check of the user; `() => true` allows everyone.',
    );
  }
  if (!accessKey !== !secretKey || !accessKey === !apiKey) {
    throw new TypeError('createKlingAudioProxy: pass either `accessKey` and `secretKey`, or `apiKey`.');
  }
  const upstream = (options.upstream ?? 'https://api-singapore.klingai.com').replace(/\/+$/, '');
  if (!isHttpUrl(upstream)) throw new TypeError('createKlingAudioProxy: `upstream` must be an http(s) URL.');
  const basePath = (options.basePath ?? '/api/kling').replace(/\/+$/, '');
  if (basePath && basePath[0] !== '/')
    throw new TypeError('createKlingAudioProxy: `basePath` must start with /.');
  const timeoutMs = options.timeoutMs ?? 30_000;
  const maxBodyBytes = options.maxBodyBytes ?? 16_384;
  const limit = options.rateLimit && createLimiter(options.rateLimit);
  const given = options.store ?? createMemoryTaskStore();
  let warned = options.store !== undefined;
  const keeping = keepingFor(options.keepAudio, given, options.store !== undefined, basePath);
  // With keeping on, every change that leaves a record succeeded starts keeping its files.
  const store = keeping && given ? observeSucceeded(given, keeping) : given;

  let token: { value: Promise<string>; expires: number } | undefined;
  /** The vendor credential: the API key, or the cached token (a new one when `fresh` or close to expiry). */
  const credential = (fresh: boolean): Promise<string> => {
    if (apiKey) return Promise.resolve(apiKey);
    const now = Date.now();
    if (fresh || !token || token.expires - now < REFRESH_MS) {
      token = {
        value: signKlingToken({ accessKey: accessKey!, secretKey: secretKey!, now }),
        expires: now + 1_800_000,
      };
    }
    return token.value;
  };

  async function forward(method: string, target: string, body: string | undefined): Promise<Reply> {
    for (let attempt = 0; ; attempt++) {
      const authorization = `Bearer ${await credential(attempt > 0)}`;
      const signal = AbortSignal.timeout(timeoutMs);
      let response: Response;
      let text: string;
      try {
        response = await (options.fetch ?? fetch)(target, {
          method,
          // Built from scratch: nothing of the browser's request (cookies, its Authorization, hop-by-hop
          // or X-Forwarded-* headers) reaches the vendor.
          headers: {
            accept: 'application/json',
            'content-type': 'application/json',
            authorization,
          },
          body,
          cache: 'no-store',
          // A redirect would carry the credential somewhere not configured: refuse it.
          redirect: 'error',
          signal,
        });
        text = await response.text();
      } catch {
        return signal.aborted
          ? fail(504, 5002, `The audio service did not answer within ${timeoutMs} ms.`)
          : fail(502, 5000, 'Could not reach the audio service.');
      }
      let envelope: { code?: unknown; request_id?: unknown } | undefined;
      try {
        envelope = JSON.parse(text);
      } catch {
        // Not JSON (a gateway's HTML page): passed through as it is.
      }
      const code = typeof envelope?.code === 'number' ? envelope.code : undefined;
      // 1003/1004: the vendor refused the token before doing anything, so one retry with a fresh token
      // cannot create a second task. An API key cannot be refreshed.
      if (!apiKey && attempt === 0 && code !== undefined && TOKEN_RETRY_CODES.includes(code)) continue;
      const headers: Record<string, string> = {};
      for (const name of PASSED_HEADERS) {
        const value = response.headers.get(name);
        if (value) headers[name] = value;
      }
      const requestId = envelope?.request_id;
      return {
        status: response.status,
        body: text,
        headers,
        code,
        requestId: typeof requestId === 'string' ? requestId : headers['x-request-id'],
      };
    }
  }

  const records =
    store === false
      ? undefined
      : createRecordOperations({
          store,
          forward: (method, path, body) => forward(method, upstream + TEXT_TO_AUDIO_PATH + path, body),
          fail,
          timeoutMs,
        });

  /** The user `authorize` names: their id, `SHARED_SPACE` for `true`, `undefined` for a refusal. */
  async function identify(request: Request): Promise<string | undefined> {
    try {
      const who = await authorize(request);
      if (who === true) return SHARED_SPACE;
      if (typeof who === 'string' && who !== '') return who;
    } catch {
      // Fails closed: an error in the app's check is a refusal.
    }
    return undefined;
  }

  async function handle(
    request: Request,
    url: URL,
    match: ReturnType<typeof matchRoute>,
    asked: { userId?: string },
  ): Promise<Reply> {
    if (match.route === null) {
      return match.status === 405
        ? fail(405, 1202, `Method not allowed: use ${match.allow}.`, { allow: match.allow })
        : fail(404, 1203, 'Not found.');
    }
    const userId = await identify(request);
    if (userId === undefined) return fail(401, 1000, 'Not authorized.');
    asked.userId = userId;
    const wait = limit ? await limit(request) : 0;
    if (wait)
      return fail(429, 1302, `Too many requests: try again in ${wait} s.`, { 'retry-after': `${wait}` });

    if (!warned) {
      warned = true;
      console.warn(
        'react-kling-audio: task records are kept in memory and will not survive a restart; pass `store: createPostgresTaskStore(db)` to keep them.',
      );
    }
    const scoped = userId !== SHARED_SPACE;
    if (scoped && !records) return fail(500, 5000, 'The proxy has no task store for signed-in users.');

    const target = upstream + TEXT_TO_AUDIO_PATH;
    if (match.route === 'getTask') {
      const answer = await records?.getTask(userId, match.id);
      if (answer || scoped) return answer ?? fail(404, 1203, 'Task not found.');
      // The shared space owns the whole account: a task this proxy has no record of is the vendor's to answer.
      const id = encodeURIComponent(match.id);
      return forward('GET', target + (match.byQuery ? `?external_task_id=${id}` : `/${id}`), undefined);
    }
    if (match.route === 'listTasks') {
      const number = (name: string) => {
        const value = url.searchParams.get(name);
        return value === null ? undefined : /^\d{1,9}$/.test(value) ? Number(value) : NaN;
      };
      const page = z.safeParse(listAudioTasksParamsSchema, {
        pageNum: number('pageNum'),
        pageSize: number('pageSize'),
      });
      if (!page.success) {
        return fail(
          400,
          1201,
          `pageNum must be a whole number from ${PAGE_NUM_MIN} to ${PAGE_NUM_MAX}, pageSize from ${PAGE_SIZE_MIN} to ${PAGE_SIZE_MAX}.`,
        );
      }
      // A scoped user's list is their own records: the account-wide list never reaches them.
      if (scoped) return records!.listTasks(userId, page.data);
      const reply = await forward(
        'GET',
        `${target}?pageNum=${page.data.pageNum}&pageSize=${page.data.pageSize}`,
        undefined,
      );
      return records ? records.enrichList(reply) : reply;
    }

    // A cross-site form can post text/plain without a preflight; requiring JSON keeps creates same-origin.
    if (!/^application\/json\s*(;|$)/i.test(request.headers.get('content-type') ?? '')) {
      return fail(415, 1200, 'The request body must be application/json.');
    }
    let json: unknown;
    try {
      const text = await readBody(request, maxBodyBytes);
      if (text === null) return fail(413, 1200, `The request body is larger than ${maxBodyBytes} bytes.`);
      json = JSON.parse(text);
    } catch {
      return fail(400, 1200, 'The request body is not valid JSON.');
    }
    const input = parseWireCreateRequest(json);
    if (!input.success) return fail(400, 1201, describeIssues(input.error));
    // The vendor's callbacks are the proxy's to direct: a browser could point them anywhere.
    if (input.data.callbackUrl) return fail(400, 1201, 'callback_url is set by the server, not the browser.');
    if (records) return records.createTask(userId, input.data);
    // The normalised body (trimmed prompt, empty optional fields dropped), not the bytes received.
    return forward('POST', target, JSON.stringify(toWireCreateRequest(input.data)));
  }

  /** `GET`/`HEAD {basePath}/files/…`: one of the asking user's kept files, else 404. */
  async function serveKept(
    request: Request,
    file: ReturnType<typeof matchFilePath>,
  ): Promise<Response | Reply> {
    if (!file) return fail(404, 1203, 'Not found.');
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      return fail(405, 1202, 'Method not allowed: use GET, HEAD.', { allow: 'GET, HEAD' });
    }
    const userId = await identify(request);
    if (userId === undefined) return fail(401, 1000, 'Not authorized.');
    return keeping!.serve(request, userId, file);
  }

  return async (request) => {
    const started = Date.now();
    const url = new URL(request.url);
    // The kept files' own route, when keeping is on: binary answers, not the vendor's envelope.
    const file = keeping ? matchFilePath(url.pathname, basePath) : null;
    if (file !== null) {
      const info: KlingProxyRequestInfo = { method: request.method, route: 'keptFile', path: url.pathname };
      call(onRequest, info);
      let answer: Response | Reply;
      try {
        answer = await serveKept(request, file);
      } catch {
        answer = fail(500, 5000, 'The proxy failed to handle the request.');
      }
      const response =
        answer instanceof Response
          ? answer
          : new Response(answer.body, {
              status: answer.status,
              headers: { 'content-type': 'application/json', 'cache-control': 'no-store', ...answer.headers },
            });
      call(onResponse, {
        ...info,
        status: response.status,
        code: answer instanceof Response ? undefined : answer.code,
        requestId: answer instanceof Response ? undefined : answer.requestId,
        durationMs: Date.now() - started,
      });
      return response;
    }
    const match = matchRoute(request.method, url, basePath);
    const info: KlingProxyRequestInfo = { method: request.method, route: match.route, path: url.pathname };
    call(onRequest, info);
    let reply: Reply;
    try {
      const asked: { userId?: string } = {};
      reply = await handle(request, url, match, asked);
      // Kept audios point at their copies in every task answered (a create is still pending: no audio).
      if (
        keeping &&
        asked.userId !== undefined &&
        (match.route === 'getTask' || match.route === 'listTasks')
      ) {
        reply = await presentReply(keeping, asked.userId, reply, url.origin);
      }
    } catch {
      // The error may come from the app's rate-limit key or the platform; its text is not for browsers.
      reply = fail(500, 5000, 'The proxy failed to handle the request.');
    }
    const { status, body, headers, code, requestId } = reply;
    call(onResponse, { ...info, status, code, requestId, durationMs: Date.now() - started });
    return new Response([101, 204, 205, 304].includes(status) ? null : body, {
      status,
      headers: { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers },
    });
  };
}
