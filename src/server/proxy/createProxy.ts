/**
 * The server-side proxy between the app's browser code and the vendor: it holds the credential, forwards
 * three named operations and nothing else, and validates a create before it can cost anything.
 * Fetch API and WebCrypto only, so it runs on Node 20+ and on edge runtimes.
 */
import * as z from 'zod/mini';
import { TEXT_TO_AUDIO_PATH } from '../../api/client';
import { TASK_EVENTS_PATH } from '../../api/events';
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
  type WireTask,
} from '../../api/schemas';
import { matchFilePath } from '../http/files';
import { keepingFor, observeSucceeded, presentReply, type KeepAudioOptions } from '../keep/keeping';
import { createPushRoutes, taskOfReply } from '../push/push';
import { createTaskRecordCache } from '../records/recordCache';
import { answeredTask, createRecordOperations, type CreatesInFlight } from '../records/records';
import { fail, succeed, toResponse, type Reply } from '../http/reply';
import { NODE_BINDING, type NodeBinding } from './nodeBinding';
import { matchRoute, type KlingProxyRoute } from '../http/routes';
import { observeTaskUpdates, SHARED_SPACE, type KlingTaskStore } from '../core/taskStore';
import type { KlingTaskEventLog } from '../core/eventLog';
import { createMemoryTaskStore } from '../storage/memory/taskStore';
import { createMemoryTaskEventLog } from '../storage/memory/eventLog';
import type { TaskEventHubOptions } from '../push/hub';
import { createUpstream, type ClientSignal, type UpstreamContext } from '../vendor/upstream';

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
  /** The HTTP status sent to the browser; 499 when the browser went away before a lookup or list was answered. */
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
   * the store's `files`, then answered as `{origin}{basePath}/files/{taskId}/{audioId}.{mp3|wav}` (`origin`:
   * `callbackUrl`'s when set, else the request's) with
   * `kept: true` and served from there to their owner only. Options tune the download, or `put` the
   * files in the app's own storage. Defaults to `true` when a `store` is passed, else `false`.
   */
  keepAudio?: boolean | KeepAudioOptions;
  /**
   * The `fetch` used for upstream calls (a test's fake vendor, an instrumented client): when given, every
   * upstream call goes through it. Defaults to the global `fetch`, or, once the handler is served by
   * `toNodeHandler`, Node's own http/https client with keep-alive sockets (the same checks, limits and
   * refused redirects, at a fraction of the CPU time of Node 20's `fetch`).
   */
  fetch?: typeof fetch;
  /**
   * The whole request's budget, from its arrival to the answer: reading the create body (408, code 1200,
   * past it) and every upstream attempt, a token retry included (504, code 5002, past it).
   * Defaults to `30_000`.
   */
  timeoutMs?: number;
  /** Largest create body read, in bytes; a larger one gets 413. Defaults to `16_384` (16 KiB). */
  maxBodyBytes?: number;
  /** Called when a request arrives, for the app's logging. Its errors are ignored. */
  onRequest?: (info: KlingProxyRequestInfo) => void;
  /** Called with the answer's status, code, request id and duration. Its errors are ignored. */
  onResponse?: (info: KlingProxyResponseInfo) => void;
  /** A simple in-memory per-key limit (fixed windows), checked after `authorize`. Defaults to none. */
  rateLimit?: KlingProxyRateLimit;
  /**
   * The proxy's public mount URL (`https://app.example.com/api/kling`): enables push. Each create then
   * carries `callback_url = {callbackUrl}/callbacks/{token}`, and `GET {basePath}/v1/audio/text-to-audio/events`
   * streams the user's task changes. Defaults to none (clients poll).
   */
  callbackUrl?: string;
  /**
   * Where task changes are logged for the streams: `createPostgresTaskEventLog(db)` on the store's
   * database shares them between proxy instances (LISTEN/NOTIFY). Defaults to `createMemoryTaskEventLog()`
   * (one process).
   */
  events?: KlingTaskEventLog;
  /** The secret callback tokens are sealed with. Defaults to one derived from `secretKey` (or `apiKey`). */
  callbackSecret?: string;
  /**
   * Keeps work after an answer alive where the host would stop it (a callback is answered at once and
   * checked with the vendor afterwards): e.g. Vercel's `waitUntil`, a Worker's `ctx.waitUntil`. Defaults to
   * none (Node keeps running it anyway).
   */
  waitUntil?: (work: Promise<unknown>) => void;
  /**
   * The event streams: streams per user (`maxConnectionsPerUser`, then 429; defaults to `5`), heartbeat
   * and suggested reconnect delay (`heartbeatMs`, `retryMs`; defaults to `15_000` and `2000`).
   */
  eventStream?: TaskEventHubOptions;
}

// The rate limiter forgets the oldest windows beyond this many keys, so memory stays bounded.
const MAX_KEYS = 10_000;
/**
 * Reads a body up to `max` bytes as UTF-8 by `deadline`: the text, or the 413 / 408 answer once it is
 * larger or slower (then the rest is not read); throws on invalid UTF-8.
 */
async function readBody(request: Request, max: number, deadline: number): Promise<string | Reply> {
  const tooLarge = () => fail(413, 1200, `The request body is larger than ${max} bytes.`);
  // A declared length over the cap is refused before reading; a missing or false one is caught below.
  if (Number(request.headers.get('content-length')) > max) return tooLarge();
  const reader = request.body?.getReader();
  if (!reader) return '';
  // A body trickled a byte at a time would hold the connection as long as the client likes.
  let late = false;
  const timer = setTimeout(
    () => {
      late = true;
      void reader.cancel().catch(() => {});
    },
    Math.max(0, deadline - Date.now()),
  );
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let text = '';
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (late) return fail(408, 1200, 'The request body arrived too slowly.');
      if (done) return text + decoder.decode();
      size += value.byteLength;
      if (size > max) {
        void reader.cancel().catch(() => {});
        return tooLarge();
      }
      text += decoder.decode(value, { stream: true });
    }
  } finally {
    clearTimeout(timer);
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
/**
 * A proxy: a Fetch handler (`Request` in, `Response` out) that can be shut down. `close()` answers new
 * requests with 503, waits for those in flight, then stops the push sweep, the event streams and the
 * log's LISTEN client, and the keep queue (waiting for the files being kept). `await using` calls it too.
 */
export interface KlingAudioProxy {
  (request: Request): Promise<Response>;
  /** Shuts the proxy down, once; later calls get the same promise. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

export function createKlingAudioProxy(options: KlingAudioProxyOptions): KlingAudioProxy {
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
  if (options.callbackUrl !== undefined && !isHttpUrl(options.callbackUrl)) {
    throw new TypeError('createKlingAudioProxy: `callbackUrl` must be an http(s) URL.');
  }
  const baseStore = options.store ?? createMemoryTaskStore();
  let warned = options.store !== undefined;
  // Kept files are linked on the proxy's public origin when it is known: behind a load balancer that ends
  // TLS, the request's own origin is the internal one (http://10.0.0.7:3000), which no browser can use.
  const publicOrigin = options.callbackUrl ? new URL(options.callbackUrl).origin : undefined;
  const keptOrigin = (url: URL) => publicOrigin ?? url.origin;
  const keeping = keepingFor(options.keepAudio, baseStore, options.store !== undefined, basePath);
  // With keeping on, every change that leaves a record succeeded starts keeping its files.
  const keptStore = keeping && baseStore ? observeSucceeded(baseStore, keeping) : baseStore;

  const { forward, useTransport } = createUpstream({
    apiKey,
    accessKey,
    secretKey,
    fetch: options.fetch,
    timeoutMs,
  });

  // Push: every change to a record goes through the store's `updateTask`, so that is where it is announced.
  const store: KlingTaskStore | false =
    keptStore && options.callbackUrl
      ? observeTaskUpdates(keptStore, (record) => {
          if (record.task) push?.publish(record.userId, record.externalTaskId, answeredTask(record));
        })
      : keptStore;
  // Creates in flight in this process, shared by every request's record operations (a second tab waits).
  const inFlight: CreatesInFlight = new Map();
  // What this process lately read or wrote of the records, so polls of a pending task skip the database.
  const cache = createTaskRecordCache();
  /** The record operations for one request: its upstream calls share that request's budget and signal. */
  const recordsFor = (context: UpstreamContext) =>
    store === false
      ? undefined
      : createRecordOperations({
          store,
          forward: (method, path, body) =>
            forward(method, upstream + TEXT_TO_AUDIO_PATH + path, body, context),
          fail,
          timeoutMs,
          inFlight,
          cache,
          callbackUrl: options.callbackUrl
            ? (record): Promise<string> => push!.callbackUrlFor(record.userId, record.externalTaskId)
            : undefined,
        });
  // Without records (`store: false`, the shared space only), the tasks this instance created, for callbacks.
  const created = new Map<string, { taskId?: string }>();
  const push: ReturnType<typeof createPushRoutes> | undefined = options.callbackUrl
    ? createPushRoutes({
        callbackUrl: options.callbackUrl,
        secret: `callbacks:${options.callbackSecret ?? secretKey ?? apiKey}`,
        events: options.events ?? createMemoryTaskEventLog(),
        waitUntil: options.waitUntil,
        ...options.eventStream,
        find: async (userId, externalTaskId) => {
          if (!store)
            return created.has(externalTaskId)
              ? { ...created.get(externalTaskId), vendorExternalTaskId: externalTaskId }
              : undefined;
          const record = await store.findTask(userId, externalTaskId);
          return record && record.externalTaskId === externalTaskId ? record : undefined;
        },
        refresh: async (userId, externalTaskId): Promise<unknown> => {
          // A callback has no browser behind it: the proxy's own budget, nothing to cancel it.
          const context: UpstreamContext = { deadline: Date.now() + timeoutMs };
          const records = recordsFor(context);
          if (records) return records.getTask(userId, externalTaskId);
          const reply = await forward(
            'GET',
            `${upstream}${TEXT_TO_AUDIO_PATH}/${encodeURIComponent(externalTaskId)}`,
            undefined,
            context,
          );
          const task = taskOfReply(reply);
          if (task) push!.publish(SHARED_SPACE, externalTaskId, task);
        },
      })
    : undefined;

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

  /** The push routes: the vendor's callbacks (no user: the token is the check) and the user's stream. */
  async function handlePush(
    request: Request,
    url: URL,
    route: { route: 'taskEvents' | 'taskCallback'; token: string },
  ): Promise<Reply | Response> {
    if (!push) return fail(404, 1203, 'Not found: this proxy has no `callbackUrl`, so it pushes nothing.');
    if (route.route === 'taskCallback') {
      const answer = await push.callback(request, route.token);
      if (answer.code !== 0) return fail(answer.status, answer.code, answer.message);
      return succeed(null, undefined, answer.message);
    }
    const userId = await identify(request);
    if (userId === undefined) return fail(401, 1000, 'Not authorized.');
    // The shared space owns the whole account: its stream carries every task.
    // Each event's task as a get answers it: with its kept copies' URLs once they are kept.
    const origin = keptOrigin(url);
    const present = keeping
      ? async (owner: string, task: WireTask) => (await keeping.present(owner, [task], origin))[0]!
      : undefined;
    const answer = await push.events(request, userId === SHARED_SPACE ? null : userId, present);
    return answer instanceof Response ? answer : fail(answer.status, answer.code, answer.message);
  }

  async function handle(
    request: Request,
    url: URL,
    match: ReturnType<typeof matchRoute>,
    context: UpstreamContext,
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
    // A create runs to completion (its lookups included) even if the browser leaves, so a retry finds it.
    const records = recordsFor(match.route === 'createTask' ? { deadline: context.deadline } : context);
    if (scoped && !records) return fail(500, 5000, 'The proxy has no task store for signed-in users.');

    const target = upstream + TEXT_TO_AUDIO_PATH;
    if (match.route === 'getTask') {
      const answer = await records?.getTask(userId, match.id);
      if (answer || scoped) return answer ?? fail(404, 1203, 'Task not found.');
      // The shared space owns the whole account: a task this proxy has no record of is the vendor's to answer.
      const id = encodeURIComponent(match.id);
      return forward(
        'GET',
        target + (match.byQuery ? `?external_task_id=${id}` : `/${id}`),
        undefined,
        context,
      );
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
        context,
      );
      return records ? records.enrichList(reply) : reply;
    }

    // A cross-site form can post text/plain without a preflight; requiring JSON keeps creates same-origin.
    if (!/^application\/json\s*(;|$)/i.test(request.headers.get('content-type') ?? '')) {
      return fail(415, 1200, 'The request body must be application/json.');
    }
    let json: unknown;
    try {
      const text = await readBody(request, maxBodyBytes, context.deadline);
      if (typeof text !== 'string') return text;
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
    const body = toWireCreateRequest(input.data);
    if (push) {
      body.external_task_id ??= `rka-${crypto.randomUUID()}`;
      body.callback_url = await push.callbackUrlFor(SHARED_SPACE, body.external_task_id);
    }
    const reply = await forward('POST', target, JSON.stringify(body), context);
    const task = push ? taskOfReply(reply) : undefined;
    if (task) {
      created.set(body.external_task_id!, { taskId: task.task_id });
      push!.publish(SHARED_SPACE, body.external_task_id!, task);
    }
    return reply;
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

  /**
   * The answer to `request` (whose URL is `url`, and `signal` its signal or one that fires with it), before
   * the reply becomes a `Response`.
   */
  // Requests being answered, so `close()` can wait for them.
  const answering = new Set<Promise<unknown>>();
  let closing: Promise<void> | undefined;
  function respond(request: Request, url: URL, signal?: ClientSignal): Promise<Reply | Response> {
    if (closing) return Promise.resolve(fail(503, 5001, 'The proxy is shutting down.'));
    const work = answer(request, url, signal);
    answering.add(work);
    const done = () => answering.delete(work);
    work.then(done, done);
    return work;
  }
  const close = () =>
    (closing ??= (async () => {
      await Promise.allSettled([...answering]);
      await push?.close();
      await keeping?.close();
    })());

  async function answer(
    request: Request,
    url: URL,
    signal: ClientSignal = request.signal,
  ): Promise<Reply | Response> {
    const started = Date.now();
    const context: UpstreamContext = { deadline: started + timeoutMs, signal };
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
      call(onResponse, {
        ...info,
        status: answer.status,
        code: answer instanceof Response ? undefined : answer.code,
        requestId: answer instanceof Response ? undefined : answer.requestId,
        durationMs: Date.now() - started,
      });
      return answer;
    }
    // The push routes first (their paths would otherwise read as a task lookup); without push the events
    // path is still ours to refuse, never a lookup sent upstream.
    const pushRoute =
      push?.match(url, basePath) ??
      (url.pathname === basePath + TASK_EVENTS_PATH
        ? { route: 'taskEvents' as const, token: '' }
        : undefined);
    const match = pushRoute ? undefined : matchRoute(request.method, url, basePath);
    const info: KlingProxyRequestInfo = {
      method: request.method,
      route: pushRoute?.route ?? match!.route,
      path: url.pathname,
    };
    call(onRequest, info);
    let reply: Reply | Response;
    try {
      const asked: { userId?: string } = {};
      reply = pushRoute
        ? await handlePush(request, url, pushRoute)
        : await handle(request, url, match!, context, asked);
      // Kept audios point at their copies in every task answered (a create is still pending: no audio).
      if (
        keeping &&
        !(reply instanceof Response) &&
        asked.userId !== undefined &&
        (match?.route === 'getTask' || match?.route === 'listTasks')
      ) {
        reply = await presentReply(keeping, asked.userId, reply, keptOrigin(url));
      }
    } catch {
      // The error may come from the app's rate-limit key or the platform; its text is not for browsers.
      reply = fail(500, 5000, 'The proxy failed to handle the request.');
    }
    if (reply instanceof Response) {
      // A stream: logged when it opens (how long it stays is the client's to decide).
      call(onResponse, {
        ...info,
        status: reply.status,
        code: 0,
        requestId: undefined,
        durationMs: Date.now() - started,
      });
      return reply;
    }
    if (onResponse) {
      const { status, code, requestId } = reply;
      call(onResponse, { ...info, status, code, requestId, durationMs: Date.now() - started });
    }
    return reply;
  }

  const handler = async (request: Request): Promise<Response> => {
    const answer = await respond(request, new URL(request.url));
    return answer instanceof Response ? answer : toResponse(answer);
  };
  const binding: NodeBinding = { respond, useTransport };
  Object.defineProperty(handler, NODE_BINDING, { value: binding });
  // Runtimes without explicit resource management have no `Symbol.asyncDispose`: `close()` alone there.
  const dispose = typeof Symbol.asyncDispose === 'symbol' ? { [Symbol.asyncDispose]: close } : {};
  return Object.assign(handler, { close }, dispose) as KlingAudioProxy;
}
