/** The proxy's options: what an app passes, checked and completed once. */
import { isHttpUrl } from '../../api/schemas';
import type { KlingTaskEventLog } from '../core/eventLog';
import type { KlingTaskStore } from '../core/taskStore';
import type { KlingProxyRoute } from '../http/routes';
import type { KeepAudioOptions } from '../keep/keeping';
import type { EventStreamOptions } from '../push/push';
import type { KlingProxyLimits } from '../queue/limits';

/**
 * What `onRequest` receives: never a header, a body, a credential or a token (a callback's path has
 * `{token}` in place of its token).
 */
export interface KlingProxyRequestInfo {
  method: string;
  /** The matched operation, or `null` for a path or method the proxy refuses. */
  route: KlingProxyRoute | null;
  /** The URL path as received, without the query; a callback's token is replaced by `{token}`. */
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
  /**
   * The vendor's callback signing secret (`whsec_…`), or a list of them while rotating: each callback
   * must then carry a valid Standard Webhooks signature (`webhook-id`, `webhook-timestamp`,
   * `webhook-signature`) over its raw body, within 5 minutes of now, else 401; a `webhook-id` seen
   * before is ignored. The callback token is checked too. Needs `callbackUrl`. Defaults to none
   * (callbacks are unsigned hints, checked with the vendor before anything changes).
   */
  webhookSecret?: string | readonly string[];
  /**
   * The proxy's own secret: callback tokens are sealed with it and the vendor's external ids keyed with it
   * (a change gives new tasks other ids; records keep theirs). Defaults to `secretKey` (or `apiKey`).
   */
  callbackSecret?: string;
  /**
   * Keeps work after an answer alive where the host would stop it (a callback is answered at once and
   * checked with the vendor afterwards): e.g. Vercel's `waitUntil`, a Worker's `ctx.waitUntil`. Defaults to
   * none (Node keeps running it anyway).
   */
  waitUntil?: (work: Promise<unknown>) => void;
  /**
   * The event streams: streams per user (`maxConnectionsPerUser`, then 429; defaults to `5`), heartbeat
   * and suggested reconnect delay (`heartbeatMs`, `retryMs`; defaults to `15_000` and `2000`), the unread
   * bytes a stream may hold (`maxBacklogBytes`, defaults to 64 KiB), and the sweep of watched pending tasks
   * (`sweepMs`, `sweepConcurrency`; defaults to `5000` and `4`). Defaults to those defaults.
   */
  eventStream?: EventStreamOptions;
  /**
   * One account, many users: a fair queue in front of the account's parallel limit, and each user's plan
   * (tasks, units, parallel and waiting tasks per UTC-aligned window), with the store as the queue (so it
   * holds across restarts and instances). A create with no free slot is answered `queued`; one over the
   * user's plan gets 429 (2001–2003). Adds `GET {basePath}/usage`. Needs a store (`store: false` cannot
   * queue). Defaults to none: nothing waits, and a 1303 goes back to the browser.
   */
  limits?: KlingProxyLimits;
}

/** The options after their checks, with defaults filled in. */
export interface ResolvedProxyOptions {
  upstream: string;
  basePath: string;
  timeoutMs: number;
  maxBodyBytes: number;
}

/** Checks the options (a `TypeError` for each mistake an app can make) and fills in the defaults. */
export function resolveOptions(options: KlingAudioProxyOptions): ResolvedProxyOptions {
  const { accessKey, secretKey, apiKey, authorize } = options;
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
  if (options.callbackUrl !== undefined && !isHttpUrl(options.callbackUrl)) {
    throw new TypeError('createKlingAudioProxy: `callbackUrl` must be an http(s) URL.');
  }
  if (options.limits !== undefined && options.store === false) {
    throw new TypeError('createKlingAudioProxy: `limits` need a store (the store is the queue).');
  }
  if (options.webhookSecret !== undefined && options.callbackUrl === undefined) {
    throw new TypeError('createKlingAudioProxy: `webhookSecret` needs `callbackUrl` (it signs callbacks).');
  }
  return { upstream, basePath, timeoutMs, maxBodyBytes };
}
