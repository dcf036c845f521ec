/**
 * One in-memory model of Kling's Text to Audio API: the three routes with the vendor's envelope, tasks that
 * advance on a clock, scenario switches, and the audio files. It answers Fetch `Request`s; `handlers.ts`
 * wraps it in msw handlers. Web APIs only, and no import of msw here, so `.fetch` works without msw.
 */
import type { RequestHandler } from 'msw';
import * as z from 'zod/mini';
import { getErrorInfo } from '../api/errors';
import { parseRange } from '../api/range';
import {
  describeIssues,
  isTerminalStatus,
  listAudioTasksParamsSchema,
  matchesSearch,
  searchWords,
  updateAudioTaskInputSchema,
  PAGE_NUM_MAX,
  PAGE_NUM_MIN,
  PAGE_SIZE_MAX,
  PAGE_SIZE_MIN,
  parseWireCreateRequest,
  RESULT_RETENTION_DAYS,
  toAudioTask,
  wireTaskSchema,
  type AudioTask,
  type AudioTaskStatus,
  type WireTask,
} from '../api/schemas';
import { MOCK_SAMPLE_RATE, sampleCount, synthesizeSamples, encodeWav } from './audio';
import { encodeMp3, mp3Duration } from './mp3';

/** A vendor error to answer with. */
export interface MockErrorSpec {
  /** The vendor's business code, e.g. `1303`. */
  code: number;
  /** HTTP status. Defaults to the code's status in `KLING_ERROR_CODES` (400, or 500 for 5xxx codes, when unknown). */
  httpStatus?: number;
  /** Sent as a `Retry-After` header (seconds) when set. */
  retryAfterSeconds?: number;
  /** How many answers get this error before it stops. Defaults to every answer. */
  times?: number;
  /** The envelope's `message`. Defaults to the code's meaning. */
  message?: string;
}

/** How the audio files are served. */
export type MockAudioMode = 'ok' | 'expired' | 'missing' | 'no-cors';

/** Switches that make the mock misbehave the ways the real service (or the network) can. */
export interface MockScenario {
  /** Answer creates with this vendor error (validation errors still come first). */
  createError?: MockErrorSpec;
  /** Answer single-task lookups (both forms) with this vendor error. */
  pollError?: MockErrorSpec;
  /** Answer list requests with this vendor error. */
  listError?: MockErrorSpec;
  /** Answer deletes and edits (DELETE, PATCH) with this vendor error. */
  editError?: MockErrorSpec;
  /** Extra delay on every API answer, in milliseconds. The work (e.g. storing a task) happens first. */
  slowMs?: number;
  /**
   * Answer these routes with HTTP 200 and a body no client can read: a gateway's HTML page and a
   * truncated JSON envelope, alternately (HTML first). A malformed create does not store the task.
   */
  malformed?: 'create' | 'poll' | 'list' | 'all';
  /**
   * Store the created task, then drop the connection: `true` every time, a number that many times.
   * Through msw the request fails with a network error (`Response.error()`); through `.fetch` the promise
   * rejects with `TypeError('fetch failed')`, as Node's `fetch` does.
   */
  dropAfterStore?: boolean | number;
  /**
   * Make tasks end `failed` with this reason: `true` for a content-safety reason, or a function of the
   * prompt returning the reason (or `undefined` to let the task succeed). Decided when the task is created.
   * Without it, a prompt containing the word "forbidden" fails with a content-safety reason.
   */
  failTasks?: boolean | ((prompt: string) => string | undefined);
  /**
   * How the audio files answer: `ok` (with `Access-Control-Allow-Origin: *`), `expired` (403 with a
   * CDN-style "Request has expired" body, like a link cleared after 30 days, which is also how every
   * file answers once the clock is 30 days past its task's creation), `missing` (404), `no-cors`
   * (200 without the CORS header, so a waveform `fetch` fails while `<audio>` still plays). Defaults to `ok`.
   */
  audio?: MockAudioMode;
}

/** A task that exists before any request: for stories and tests. */
export interface MockTaskSeed {
  prompt: string;
  duration: number;
  /**
   * Freezes the task in this status. Without it the task advances from `createdAt` like a created one
   * (so a seed minutes old has already succeeded, or failed when it has a `failReason`).
   */
  status?: AudioTaskStatus;
  /** Milliseconds since the epoch. Defaults to `now() - (index + 1) * 60_000`: the first seed is the newest. */
  createdAt?: number;
  /** Makes the task end `failed` with this reason (a `failed` status without one gets a content-safety reason). */
  failReason?: string;
  externalTaskId?: string;
  /** Defaults to a fresh vendor-like numeric id. */
  taskId?: string;
  /** The user's own name for it (`task_info.title`). */
  title?: string;
  /** `task_info.starred`. */
  starred?: boolean;
  /** Takes made together share it (`task_info.group_id`). */
  groupId?: string;
}

export interface MockKlingBackendOptions {
  /**
   * Where the vendor routes live, e.g. `/api/kling` (a path: matched on any origin) or
   * `http://localhost:5173/mock-upstream` (matched on that origin only).
   */
  baseUrl: string;
  /**
   * Where the WAV and MP3 files are served. Defaults to `${baseUrl}/mock-audio`. A relative value is
   * resolved against each API request's URL, so the URLs in answers are always absolute http(s).
   */
  audioBaseUrl?: string;
  /** Time a task spends in each status, in ms. Defaults to `{ submittedMs: 1500, processingMs: 4000 }`. */
  timing?: { submittedMs?: number; processingMs?: number };
  /**
   * The clock. Statuses are computed from it whenever a task is read (no timers), so a fake clock moves
   * tasks along. Defaults to `Date.now`.
   */
  now?: () => number;
  /** Tasks that exist from the start, and again after `reset()`. */
  seed?: readonly MockTaskSeed[];
  /** The scenario at the start, and again after `reset()`. Defaults to none (everything works). */
  scenario?: MockScenario;
  /** Delay of every API answer, in ms. Defaults to `0`. */
  latencyMs?: number;
  /**
   * The account's parallel-task limit, as the vendor counts it: a create while this many tasks are not
   * finished is refused with HTTP 429, code 1303 (the proxy's queue then waits). Defaults to no limit.
   */
  parallel?: number;
  /**
   * What a finished task cost, as the vendor's `final_unit_deduction` string (a failed one costs `'0'`).
   * Defaults to `'0.25'`, Text to Audio's list price per task.
   */
  unitsPerTask?: string;
  /**
   * Answer as `react-kling-audio/server` with records does: every task carries `task_info.prompt` and
   * `task_info.duration`. Whatever this says, the mock also serves the proxy's history routes (DELETE and
   * PATCH of a task, the list's `q`, `starred` and `status`, a create's `group_id`), so stories and tests
   * can manage a history without a proxy. Defaults to `false` (the vendor's answers).
   */
  records?: boolean;
  /**
   * Call a task's `callback_url` back as the vendor does: a POST of the bare task at each status change,
   * a little late, now and then twice, now and then never. Real timers (`setTimeout`), whatever `now` is.
   * `true` takes the defaults. Defaults to off: no request leaves the mock unless asked.
   */
  callbacks?: boolean | MockCallbackOptions;
}

/** How the mock's callbacks behave. */
export interface MockCallbackOptions {
  /** Delay of each callback after the change, in ms, drawn from `[min, max]`. Defaults to `[30, 300]`. */
  delayMs?: readonly [number, number];
  /** Share of callbacks sent twice (the second one later). Defaults to `0.1`. */
  duplicateRate?: number;
  /** Share of callbacks never sent. Defaults to `0.05`. */
  lossRate?: number;
  /** Makes the draws (delays, duplicates, losses) the same on every run. Defaults to random ones. */
  seed?: number;
  /** How callbacks are sent. Defaults to the global `fetch`. */
  fetch?: (request: Request) => Promise<Response>;
}

/** An API request the backend received. */
export interface MockRequestRecord {
  method: string;
  url: string;
  /** The parsed JSON body (or the raw text when it is not JSON), for requests with a body. */
  body?: unknown;
}

export interface MockKlingBackend {
  /** msw handlers: the vendor routes under `baseUrl` and the audio files under `audioBaseUrl`. */
  handlers: RequestHandler[];
  /**
   * The same behaviour as a Fetch handler (e.g. the demo's upstream behind the real proxy). Paths outside
   * `baseUrl` and `audioBaseUrl` get a 404 vendor envelope.
   */
  fetch(request: Request): Promise<Response>;
  /** Forgets every task and request (the seed comes back) and restores the initial scenario. */
  reset(): void;
  /** Changes part of the scenario; a changed error's `times` count starts again. */
  setScenario(patch: Partial<MockScenario>): void;
  /** Every task now, newest first, as the domain model (with `request`: the prompt and duration). */
  readonly tasks: readonly AudioTask[];
  /** The API requests received so far (not the audio files), oldest first. */
  readonly requests: readonly MockRequestRecord[];
}

/** Marks an answer that must be a dropped connection rather than a response. */
export const NETWORK_ERROR = Symbol('network error');
export type MockAnswer = Response | typeof NETWORK_ERROR;

/** The backend without its msw handlers: what `handlers.ts` builds on. */
export interface MockKlingCore extends Omit<MockKlingBackend, 'handlers'> {
  /** Answers a request for a URL this backend serves; `undefined` for any other URL. */
  handle(request: Request): Promise<MockAnswer | undefined>;
  /** URL patterns (matched against the URL without query) of what `handle` serves, for msw. */
  readonly patterns: readonly RegExp[];
}

/** The reason given to tasks failed by `failTasks: true` or the word "forbidden". */
export const CONTENT_SAFETY_REASON =
  'Failure to pass the risk control system: the prompt may contain sensitive content.';

const TASKS_PATH = '/v1/audio/text-to-audio';
const AUDIO_CACHE_SIZE = 50;
const CREATE_KEYS = ['createError', 'pollError', 'listError', 'editError', 'dropAfterStore'] as const;
type CountedKey = (typeof CREATE_KEYS)[number];

interface TaskRecord {
  taskId: string;
  externalTaskId?: string;
  prompt: string;
  duration: number;
  createdAt: number;
  failReason?: string;
  frozen?: AudioTaskStatus;
  order: number;
  callbackUrl?: string;
  title?: string;
  starred?: boolean;
  groupId?: string;
  /** When the user last renamed or starred it: answers never say older than that. */
  editedAt?: number;
}

interface Base {
  /** `undefined`: any origin. */
  origin?: string;
  /** The path without a trailing slash (`''` for the root). */
  path: string;
  /** The configured value, to resolve relative audio URLs. */
  raw: string;
}

function parseBase(value: string): Base {
  const absolute = /^[a-z][a-z\d+.-]*:\/\//i.test(value);
  const url = new URL(value, 'http://relative.invalid');
  return {
    origin: absolute ? url.origin : undefined,
    path: url.pathname.replace(/\/+$/, ''),
    raw: value.replace(/\/+$/, ''),
  };
}

/** The path below `base`, or `undefined` when `url` is not under it. */
function pathUnder(url: URL, base: Base): string | undefined {
  if (base.origin !== undefined && url.origin !== base.origin) return undefined;
  if (url.pathname === base.path) return '';
  return url.pathname.startsWith(`${base.path}/`) ? url.pathname.slice(base.path.length) : undefined;
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function basePattern(base: Base): RegExp {
  const origin = base.origin === undefined ? '[a-z][a-z\\d+.-]*://[^/]+' : escapeRegExp(base.origin);
  return new RegExp(`^${origin}${escapeRegExp(base.path)}(?:/.*)?$`, 'i');
}

/** A vendor-looking task id: 18 digits, like the numeric ids the vendor hands out. */
function numericId(): string {
  const digits = crypto.getRandomValues(new Uint32Array(3));
  return `7${Array.from(digits, (n) => String(n % 1_000_000).padStart(6, '0')).join('')}`.slice(0, 18);
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });

/** mulberry32: a tiny seeded generator, so a seeded mock sends the same callbacks on every run. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Field names in validation messages, in the vendor's snake_case. */
const snakeFields = (message: string) =>
  message.replace(/\bexternalTaskId\b/g, 'external_task_id').replace(/\bcallbackUrl\b/g, 'callback_url');

const formatSeconds = (seconds: number) => (Number.isInteger(seconds) ? seconds.toFixed(1) : String(seconds));

const MALFORMED_HTML =
  '<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1>' +
  '<p>The upstream answered with something unexpected.</p></body></html>';

/**
 * Creates the backend without msw handlers. Use `createMockKlingBackend` (which adds them) unless msw
 * cannot be installed.
 */
export function createMockKlingCore(options: MockKlingBackendOptions): MockKlingCore {
  const now = options.now ?? Date.now;
  const submittedMs = options.timing?.submittedMs ?? 1500;
  const processingMs = options.timing?.processingMs ?? 4000;
  const latencyMs = options.latencyMs ?? 0;
  const apiBase = parseBase(options.baseUrl);
  const audioBase = parseBase(options.audioBaseUrl ?? `${apiBase.raw}/mock-audio`);
  const patterns = [basePattern(audioBase), basePattern(apiBase)];

  let records = new Map<string, TaskRecord>();
  let requests: MockRequestRecord[] = [];
  let scenario: MockScenario = {};
  const uses = new Map<CountedKey, number>();
  const audioCache = new Map<string, Promise<Uint8Array>>();
  let order = 0;
  let malformedCount = 0;
  const callbackOptions =
    options.callbacks === true ? {} : options.callbacks === false ? undefined : options.callbacks;
  const random = callbackOptions?.seed === undefined ? Math.random : seededRandom(callbackOptions.seed);
  const callbackTimers = new Set<ReturnType<typeof setTimeout>>();
  // Where relative audio URLs resolve when there is no request to resolve them against (`tasks`).
  let lastRequestUrl: string | undefined;

  function newTaskId(): string {
    let id = numericId();
    while (records.has(id)) id = numericId();
    return id;
  }

  function failReasonFor(prompt: string): string | undefined {
    const { failTasks } = scenario;
    if (typeof failTasks === 'function') return failTasks(prompt);
    if (failTasks) return CONTENT_SAFETY_REASON;
    return /\bforbidden\b/i.test(prompt) ? CONTENT_SAFETY_REASON : undefined;
  }

  function applySeed() {
    const start = now();
    (options.seed ?? []).forEach((seed, index) => {
      const taskId = seed.taskId ?? newTaskId();
      const failReason = seed.failReason ?? (seed.status === 'failed' ? CONTENT_SAFETY_REASON : undefined);
      records.set(taskId, {
        taskId,
        externalTaskId: seed.externalTaskId || undefined,
        prompt: seed.prompt,
        duration: seed.duration,
        createdAt: seed.createdAt ?? start - (index + 1) * 60_000,
        failReason,
        frozen: seed.status,
        order: order++,
        title: seed.title || undefined,
        starred: seed.starred || undefined,
        groupId: seed.groupId || undefined,
      });
    });
  }

  function reset() {
    callbackTimers.forEach(clearTimeout);
    callbackTimers.clear();
    records = new Map();
    requests = [];
    uses.clear();
    audioCache.clear();
    malformedCount = 0;
    scenario = { ...options.scenario };
    applySeed();
  }
  reset();

  function statusOf(record: TaskRecord, at: number): { status: AudioTaskStatus; updatedAt: number } {
    const processingAt = record.createdAt + submittedMs;
    const doneAt = processingAt + processingMs;
    const status: AudioTaskStatus =
      record.frozen ??
      (at < processingAt
        ? 'submitted'
        : at < doneAt
          ? 'processing'
          : record.failReason === undefined
            ? 'succeed'
            : 'failed');
    const updatedAt =
      status === 'submitted' ? record.createdAt : status === 'processing' ? processingAt : doneAt;
    return { status, updatedAt };
  }

  function audioBaseFor(requestUrl: string | undefined): string {
    const fallback = globalThis.location?.href ?? 'http://localhost/';
    return new URL(audioBase.raw, requestUrl ?? fallback).href.replace(/\/+$/, '');
  }

  function toWire(record: TaskRecord, at: number, requestUrl: string | undefined): WireTask {
    const { status, updatedAt } = statusOf(record, at);
    const wire: WireTask = {
      task_id: record.taskId,
      task_status: status,
      task_status_msg: status === 'failed' ? (record.failReason ?? CONTENT_SAFETY_REASON) : '',
      task_info: {
        external_task_id: record.externalTaskId ?? '',
        ...(options.records && { prompt: record.prompt, duration: record.duration }),
        ...(record.title && { title: record.title }),
        ...(record.starred && { starred: true }),
        ...(record.groupId && { group_id: record.groupId }),
      },
      created_at: record.createdAt,
      updated_at: Math.max(updatedAt, record.editedAt ?? 0),
    };
    if (status === 'succeed') {
      const base = audioBaseFor(requestUrl);
      const seconds = formatSeconds(record.duration);
      // An MP3 is a little longer than its source (whole frames plus the encoder's delay): say so.
      const mp3Seconds = mp3Duration(sampleCount(record.duration)).toFixed(3);
      wire.task_result = {
        audios: [
          {
            id: `${record.taskId}01`,
            url_mp3: `${base}/${record.taskId}.mp3`,
            url_wav: `${base}/${record.taskId}.wav`,
            duration_mp3: mp3Seconds,
            duration_wav: seconds,
          },
        ],
      };
      wire.final_unit_deduction = options.unitsPerTask ?? '0.25';
    } else if (status === 'failed') {
      wire.final_unit_deduction = '0';
    }
    return wire;
  }

  /** The vendor's callbacks of one task: one per status change, each late, maybe twice, maybe never. */
  function scheduleCallbacks(record: TaskRecord, requestUrl: string) {
    const { delayMs: [min, max] = [30, 300], duplicateRate = 0.1, lossRate = 0.05 } = callbackOptions!;
    const send = callbackOptions!.fetch ?? ((request: Request) => fetch(request));
    const changes = [
      record.createdAt,
      record.createdAt + submittedMs,
      record.createdAt + submittedMs + processingMs,
    ];
    for (const at of changes) {
      if (random() < lossRate) continue;
      const copies = random() < duplicateRate ? 2 : 1;
      let delay = Math.max(0, at - now());
      for (let copy = 0; copy < copies; copy++) {
        delay += min + random() * (max - min);
        const timer = setTimeout(() => {
          callbackTimers.delete(timer);
          // The task as it was at that change: a late copy says something older than the task is now.
          const body = JSON.stringify(toWire(record, at, requestUrl));
          void send(
            new Request(record.callbackUrl!, {
              method: 'POST',
              headers: { 'Content-Type': 'application/json' },
              body,
            }),
          )
            .then((response) => response.body?.cancel())
            .catch(() => {});
        }, delay);
        callbackTimers.add(timer);
      }
    }
  }

  const newestFirst = () =>
    [...records.values()].sort((a, b) => b.createdAt - a.createdAt || b.order - a.order);

  function findTask(id: string): TaskRecord | undefined {
    return records.get(id) ?? [...records.values()].find((record) => record.externalTaskId === id);
  }

  /** Takes one use of a counted scenario switch; `undefined` when it is off or used up. */
  function consume<K extends CountedKey>(key: K): MockScenario[K] | undefined {
    const value = scenario[key];
    if (value === undefined || value === false) return undefined;
    const limit = typeof value === 'number' ? value : typeof value === 'object' ? value.times : undefined;
    if (limit !== undefined) {
      const used = uses.get(key) ?? 0;
      if (used >= limit) return undefined;
      uses.set(key, used + 1);
    }
    return value;
  }

  // ------------------------------------------------------------------------------------------------
  // Answers

  const json = (status: number, body: unknown, headers?: HeadersInit) => {
    const response = new Response(JSON.stringify(body), { status, headers });
    response.headers.set('Content-Type', 'application/json; charset=utf-8');
    return response;
  };

  const ok = (data: unknown) =>
    json(200, { code: 0, message: 'SUCCEED', request_id: crypto.randomUUID(), data });

  function vendorError(spec: MockErrorSpec): Response {
    const info = getErrorInfo(spec.code);
    const status = spec.httpStatus ?? info?.httpStatus ?? (spec.code >= 5000 ? 500 : 400);
    const headers = new Headers();
    if (spec.retryAfterSeconds !== undefined) headers.set('Retry-After', String(spec.retryAfterSeconds));
    return json(
      status,
      { code: spec.code, message: spec.message ?? info?.meaning ?? 'error', request_id: crypto.randomUUID() },
      headers,
    );
  }

  const isMalformed = (route: 'create' | 'poll' | 'list') =>
    scenario.malformed === route || scenario.malformed === 'all';

  function malformedAnswer(): Response {
    const html = malformedCount++ % 2 === 0;
    if (html) return new Response(MALFORMED_HTML, { status: 200, headers: { 'Content-Type': 'text/html' } });
    const full = JSON.stringify({ code: 0, message: 'SUCCEED', request_id: crypto.randomUUID(), data: {} });
    return new Response(full.slice(0, Math.floor(full.length / 2)), {
      status: 200,
      headers: { 'Content-Type': 'application/json; charset=utf-8' },
    });
  }

  async function create(text: string, requestUrl: string): Promise<MockAnswer> {
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      return vendorError({ code: 1201, message: 'The request body must be a JSON object.' });
    }
    const parsed = parseWireCreateRequest(body);
    if (!parsed.success) {
      return vendorError({ code: 1201, message: snakeFields(describeIssues(parsed.error)) });
    }
    const error = consume('createError');
    if (error) return vendorError(error);
    // The vendor holds a slot per task from `submitted` until it ends, failures included.
    if (options.parallel !== undefined) {
      const at = now();
      let running = 0;
      for (const task of records.values()) if (!isTerminalStatus(statusOf(task, at).status)) running++;
      if (running >= options.parallel) {
        return vendorError({ code: 1303, message: 'parallel task over resource pack limit' });
      }
    }
    const { prompt, duration, externalTaskId, callbackUrl, groupId } = parsed.data;
    if (externalTaskId !== undefined && findByExternalId(externalTaskId)) {
      return vendorError({ code: 1201, message: 'external_task_id already exists' });
    }
    if (isMalformed('create')) return malformedAnswer();

    const record: TaskRecord = {
      taskId: newTaskId(),
      externalTaskId,
      prompt,
      duration,
      createdAt: now(),
      failReason: failReasonFor(prompt),
      order: order++,
      callbackUrl,
      groupId,
    };
    records.set(record.taskId, record);
    if (callbackOptions && callbackUrl) scheduleCallbacks(record, requestUrl);
    if (consume('dropAfterStore')) return NETWORK_ERROR;
    const wire = toWire(record, record.createdAt, requestUrl);
    return ok({
      task_id: wire.task_id,
      task_info: wire.task_info,
      task_status: 'submitted',
      created_at: wire.created_at,
      updated_at: wire.created_at,
    });
  }

  const findByExternalId = (id: string) =>
    [...records.values()].find((record) => record.externalTaskId === id);

  function getOne(record: TaskRecord | undefined, requestUrl: string): Response {
    const error = consume('pollError');
    if (error) return vendorError(error);
    if (!record) return vendorError({ code: 1203, message: 'task not found' });
    if (isMalformed('poll')) return malformedAnswer();
    return ok(toWire(record, now(), requestUrl));
  }

  function list(url: URL): Response {
    const raw = (name: string) => {
      const value = url.searchParams.get(name);
      return value === null || value === '' ? undefined : Number(value);
    };
    const params = z.safeParse(listAudioTasksParamsSchema, {
      pageNum: raw('pageNum'),
      pageSize: raw('pageSize'),
    });
    if (!params.success) {
      const message = `pageNum must be a whole number from ${PAGE_NUM_MIN} to ${PAGE_NUM_MAX}, pageSize from ${PAGE_SIZE_MIN} to ${PAGE_SIZE_MAX}`;
      return vendorError({ code: 1201, message: `${message} (got ${url.search || 'none'}).` });
    }
    const error = consume('listError');
    if (error) return vendorError(error);
    if (isMalformed('list')) return malformedAnswer();
    const { pageNum, pageSize } = params.data;
    const at = now();
    const words = searchWords(url.searchParams.get('q') ?? undefined);
    const starredOnly = url.searchParams.get('starred') === 'true';
    const status = url.searchParams.get('status');
    const matching = newestFirst().filter(
      (record) =>
        matchesSearch(words, record.prompt, record.title) &&
        (!starredOnly || record.starred) &&
        (!status || statusOf(record, at).status === status),
    );
    const page = matching.slice((pageNum - 1) * pageSize, pageNum * pageSize);
    return ok(page.map((record) => toWire(record, at, url.href)));
  }

  // The proxy's history routes (see `records`): by task id only, as the proxy's own records are.
  function remove(record: TaskRecord | undefined): Response {
    if (!record) return vendorError({ code: 1203, message: 'task not found' });
    const error = consume('editError');
    if (error) return vendorError(error);
    records.delete(record.taskId);
    return ok({ task_id: record.taskId });
  }

  function edit(record: TaskRecord | undefined, text: string, requestUrl: string): Response {
    if (!record) return vendorError({ code: 1203, message: 'task not found' });
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    const parsed = z.safeParse(updateAudioTaskInputSchema, body);
    if (!parsed.success) return vendorError({ code: 1201, message: describeIssues(parsed.error) });
    const error = consume('editError');
    if (error) return vendorError(error);
    const { title, starred } = parsed.data;
    if (title !== undefined) record.title = title || undefined;
    if (starred !== undefined) record.starred = starred || undefined;
    record.editedAt = Math.max(now(), statusOf(record, now()).updatedAt);
    return ok(toWire(record, now(), requestUrl));
  }

  async function api(request: Request, url: URL, rest: string): Promise<MockAnswer> {
    const method = request.method.toUpperCase();
    const record: MockRequestRecord = { method, url: request.url };
    let text = '';
    if (method !== 'GET' && method !== 'HEAD') {
      text = await request.text();
      try {
        record.body = JSON.parse(text);
      } catch {
        if (text) record.body = text;
      }
    }
    requests.push(record);
    lastRequestUrl = request.url;

    let answer: MockAnswer;
    if (rest === TASKS_PATH || rest === `${TASKS_PATH}/`) {
      const external = url.searchParams.get('external_task_id');
      answer =
        method === 'POST'
          ? await create(text, request.url)
          : method !== 'GET'
            ? vendorError({ code: 1202, message: `${method} is not supported here` })
            : external
              ? getOne(findByExternalId(external), request.url)
              : list(url);
    } else if (rest.startsWith(`${TASKS_PATH}/`) && !rest.slice(TASKS_PATH.length + 1).includes('/')) {
      let id: string;
      try {
        id = decodeURIComponent(rest.slice(TASKS_PATH.length + 1));
      } catch {
        id = '';
      }
      answer =
        method === 'GET'
          ? getOne(findTask(id), request.url)
          : method === 'DELETE'
            ? remove(records.get(id))
            : method === 'PATCH'
              ? edit(records.get(id), text, request.url)
              : vendorError({ code: 1202, message: `${method} is not supported here` });
    } else {
      answer = vendorError({ code: 1203, message: `no such API: ${url.pathname}` });
    }

    // The work is done before the wait: a slow answer that times out may still have created a task.
    const delay = latencyMs + (scenario.slowMs ?? 0);
    if (delay > 0) await sleep(delay, request.signal);
    return answer;
  }

  // ------------------------------------------------------------------------------------------------
  // Audio files

  function audioBytes(record: TaskRecord, format: 'wav' | 'mp3'): Promise<Uint8Array> {
    const key = `${record.taskId}.${format}`;
    let bytes = audioCache.get(key);
    if (bytes) {
      // Re-insert: the Map's order is the eviction order (least recently used first).
      audioCache.delete(key);
    } else {
      const samples = synthesizeSamples(record.prompt, record.duration, { seed: record.taskId });
      bytes =
        format === 'wav'
          ? Promise.resolve(encodeWav(samples, MOCK_SAMPLE_RATE))
          : encodeMp3(samples, MOCK_SAMPLE_RATE);
      // A failed encode must not stay cached.
      bytes.catch(() => audioCache.delete(key));
    }
    audioCache.set(key, bytes);
    while (audioCache.size > AUDIO_CACHE_SIZE) audioCache.delete(audioCache.keys().next().value!);
    return bytes;
  }

  async function audio(request: Request, rest: string): Promise<Response> {
    const mode = scenario.audio ?? 'ok';
    const cors: Record<string, string> =
      mode === 'no-cors'
        ? {}
        : {
            'Access-Control-Allow-Origin': '*',
            'Access-Control-Expose-Headers': 'Content-Length, Content-Range, Accept-Ranges',
          };
    const method = request.method.toUpperCase();
    if (method === 'OPTIONS') {
      return new Response(null, {
        status: 204,
        headers: {
          ...cors,
          'Access-Control-Allow-Methods': 'GET, HEAD',
          'Access-Control-Allow-Headers': 'Range',
        },
      });
    }
    const text = (status: number, body: string, type = 'text/plain; charset=utf-8') =>
      new Response(method === 'HEAD' ? null : body, { status, headers: { ...cors, 'Content-Type': type } });
    if (method !== 'GET' && method !== 'HEAD') return text(405, 'Method Not Allowed');

    const match = /^\/([^/]+)\.(wav|mp3)$/.exec(rest);
    const record = match ? records.get(decodeURIComponent(match[1]!)) : undefined;
    if (!match || !record || statusOf(record, now()).status !== 'succeed' || mode === 'missing') {
      return text(404, 'Not Found');
    }
    // The vendor clears every result 30 days after it is made: past that, on this backend's clock, the
    // links answer as a purged CDN object does (the task itself still says `succeed` with its URLs).
    if (mode === 'expired' || now() >= record.createdAt + RESULT_RETENTION_DAYS * 86_400_000) {
      return text(
        403,
        '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>',
        'application/xml',
      );
    }
    const format = match[2] as 'wav' | 'mp3';
    const bytes = await audioBytes(record, format);
    const headers = new Headers({
      ...cors,
      'Content-Type': format === 'wav' ? 'audio/wav' : 'audio/mpeg',
      'Accept-Ranges': 'bytes',
      'Cache-Control': 'public, max-age=3600',
      ETag: `"${record.taskId}-${format}-${bytes.length}"`,
    });
    const range = parseRange(request.headers.get('Range'), bytes.length);
    if (range === 'unsatisfiable') {
      headers.set('Content-Range', `bytes */${bytes.length}`);
      return new Response(null, { status: 416, headers });
    }
    const [start, end] = range ?? [0, bytes.length - 1];
    headers.set('Content-Length', String(end - start + 1));
    if (range) headers.set('Content-Range', `bytes ${start}-${end}/${bytes.length}`);
    return new Response(method === 'HEAD' ? null : bytes.slice(start, end + 1), {
      status: range ? 206 : 200,
      headers,
    });
  }

  // ------------------------------------------------------------------------------------------------

  async function handle(request: Request): Promise<MockAnswer | undefined> {
    const url = new URL(request.url);
    const audioRest = pathUnder(url, audioBase);
    if (audioRest !== undefined) return audio(request, audioRest);
    const apiRest = pathUnder(url, apiBase);
    if (apiRest !== undefined) return api(request, url, apiRest);
    return undefined;
  }

  return {
    patterns,
    handle,
    async fetch(request) {
      const answer =
        (await handle(request)) ??
        vendorError({ code: 1203, message: `no such API: ${new URL(request.url).pathname}` });
      if (answer === NETWORK_ERROR) throw new TypeError('fetch failed');
      return answer;
    },
    reset,
    setScenario(patch) {
      for (const key of Object.keys(patch) as (keyof MockScenario)[]) {
        if ((CREATE_KEYS as readonly string[]).includes(key)) uses.delete(key as CountedKey);
      }
      scenario = { ...scenario, ...patch };
    },
    get tasks() {
      const at = now();
      return newestFirst().map((record) => ({
        ...toAudioTask(z.parse(wireTaskSchema, toWire(record, at, lastRequestUrl))),
        request: { prompt: record.prompt, duration: record.duration },
      }));
    },
    get requests() {
      return [...requests];
    },
  };
}
