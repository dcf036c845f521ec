/**
 * The wire format of Kling's Text to Audio API and the camelCase domain model the library hands out.
 * One file: the input schema, the wire schemas and the mapping between them. No React, server-safe.
 */
import * as z from 'zod/mini';
import { statusRankOf, toKnownStatus, type AudioTaskStatus } from './status';

/** Longest prompt the vendor accepts, in characters. */
export const PROMPT_MAX_LENGTH = 200;
/** Shortest clip, in seconds. */
export const DURATION_MIN = 3;
/** Longest clip, in seconds. */
export const DURATION_MAX = 10;
/** Duration precision the vendor accepts, in seconds (one decimal place). */
export const DURATION_STEP = 0.1;
/** Days after creation before the vendor clears result URLs. */
export const RESULT_RETENTION_DAYS = 30;
/** `pageNum` range of the list endpoint. */
export const PAGE_NUM_MIN = 1;
export const PAGE_NUM_MAX = 1000;
/** `pageSize` range of the list endpoint; 30 is the vendor's default. */
export const PAGE_SIZE_MIN = 1;
export const PAGE_SIZE_MAX = 500;
export const PAGE_SIZE_DEFAULT = 30;

export type { AudioTaskStatus } from './status';
export const TERMINAL_STATUSES: readonly AudioTaskStatus[] = ['succeed', 'failed'];
export const isTerminalStatus = (status: AudioTaskStatus | undefined): boolean =>
  status === 'succeed' || status === 'failed';

/**
 * Orders two states of one task: `> 0` when `next` is newer. Statuses only move forward (an unknown one
 * counts as processing), then `updated_at` decides. What callbacks, streams and the cache all go by.
 */
export function compareTaskStates(
  next: { status: string; updatedAt: number },
  last: { status: string; updatedAt: number },
): number {
  return statusRankOf(next.status) - statusRankOf(last.status) || next.updatedAt - last.updatedAt;
}

/**
 * What a task id or an `externalTaskId` may hold: 1–256 URL-safe characters (the proxy looks ids up by
 * path), never only dots: `.` and `..` are path segments that resolve to another route.
 */
export const TASK_ID_PATTERN = /^(?!\.+$)[\w.:~-]{1,256}$/;

// Floating point: 3.3 * 10 is 32.99999…, so compare against the nearest tenth.
const hasOneDecimal = (value: number) => Math.abs(value * 10 - Math.round(value * 10)) < 1e-6;

/**
 * Why an input was refused, on each issue as `issue.params.reason`, so a form can say it in its own words
 * without knowing how the rules are written. A value of the wrong type has zod's `invalid_type` code instead.
 */
export type InputIssueReason =
  | 'prompt-empty'
  | 'prompt-too-long'
  | 'duration-too-short'
  | 'duration-too-long'
  | 'duration-precision'
  | 'external-id'
  | 'callback-url';

// Only `refine` checks (and one trim): each kind of zod check costs bytes in every app's bundle.
const check = <T>(test: (value: T) => boolean, message: string, reason?: InputIssueReason) =>
  z.refine<T>(test, reason ? { message, params: { reason } } : message);

/**
 * The input of a create call: the one schema the form, the client and the proxy all use.
 * The prompt is trimmed, non-empty and at most 200 characters; the duration is 3.0–10.0 s with at most
 * one decimal place.
 */
export const createAudioTaskInputSchema = /* @__PURE__ */ (() =>
  z.object({
    prompt: z.string('Describe the sound you want.').check(
      z.trim(),
      check((value: string) => value.length > 0, 'Describe the sound you want.', 'prompt-empty'),
      check(
        (value: string) => value.length <= PROMPT_MAX_LENGTH,
        `Keep the prompt to ${PROMPT_MAX_LENGTH} characters or fewer.`,
        'prompt-too-long',
      ),
    ),
    duration: z.number('Duration must be a number of seconds.').check(
      check(
        (value: number) => value >= DURATION_MIN,
        `Duration must be at least ${DURATION_MIN} seconds.`,
        'duration-too-short',
      ),
      check(
        (value: number) => value <= DURATION_MAX,
        `Duration must be at most ${DURATION_MAX} seconds.`,
        'duration-too-long',
      ),
      check(hasOneDecimal, 'Duration can have at most one decimal place.', 'duration-precision'),
    ),
    externalTaskId: z.optional(
      z.string().check(
        // The characters the proxy accepts in a lookup path, so every id created can be looked up.
        check(
          (value: string) => TASK_ID_PATTERN.test(value),
          'externalTaskId must be 1–256 of A–Z a–z 0–9 _ . : ~ -.',
          'external-id',
        ),
      ),
    ),
    callbackUrl: z.optional(
      z.string().check(check(isHttpUrl, 'callbackUrl must be an http(s) URL.', 'callback-url')),
    ),
  }))();
export type CreateAudioTaskInput = z.input<typeof createAudioTaskInputSchema>;

/** The list call's parameters, bounds checked before any request. */
/** Why list parameters are out of the vendor's bounds, or `undefined` when they are fine. */
export function checkListParams({
  pageNum = PAGE_NUM_MIN,
  pageSize = PAGE_SIZE_DEFAULT,
}: ListAudioTasksParams = {}) {
  const within = (value: number, min: number, max: number) =>
    Number.isInteger(value) && value >= min && value <= max;
  if (!within(pageNum, PAGE_NUM_MIN, PAGE_NUM_MAX)) {
    return `pageNum must be a whole number from ${PAGE_NUM_MIN} to ${PAGE_NUM_MAX}.`;
  }
  if (!within(pageSize, PAGE_SIZE_MIN, PAGE_SIZE_MAX)) {
    return `pageSize must be a whole number from ${PAGE_SIZE_MIN} to ${PAGE_SIZE_MAX}.`;
  }
  return undefined;
}

/** The list call's parameters as a schema (for servers), built on `checkListParams`; defaults 1 and 30. */
// Pure: apps that only use the client do not ship it (the client calls `checkListParams` directly).
export const listAudioTasksParamsSchema = /* @__PURE__ */ (() =>
  z.pipe(
    z.object({ pageNum: z.optional(z.number()), pageSize: z.optional(z.number()) }),
    z.transform((params, ctx) => {
      const problem = checkListParams(params);
      if (problem) ctx.issues.push({ code: 'custom', message: problem, input: params });
      return { pageNum: params.pageNum ?? PAGE_NUM_MIN, pageSize: params.pageSize ?? PAGE_SIZE_DEFAULT };
    }),
  ))();

export interface ListAudioTasksParams {
  /** 1–1000. Defaults to `1`. */
  pageNum?: number;
  /** 1–500. Defaults to `30`. */
  pageSize?: number;
}

/** A `JSON.parse` reviver that drops `null`s: the vendor sends `null` and leaves keys out alike. */
export const withoutNulls = (_key: string, value: unknown) => (value === null ? undefined : value);

/** True for absolute `http:` and `https:` URLs only: nothing else may reach `src` or `href`. */
export function isHttpUrl(value: unknown): value is string {
  if (typeof value !== 'string') return false;
  try {
    const { protocol } = new URL(value);
    return protocol === 'http:' || protocol === 'https:';
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------------
// Wire format (snake_case, as the vendor page shows). Unknown keys are ignored everywhere.
//
// Written once, as plain guards: the browser client reads every answer with them (zod's object, array
// and custom schemas would cost every app ~800 B for what these lines do), and the server and the mocks
// get the same guards as zod schemas (`wireTaskSchema`, …). Each field reads as zod's would: `optional`
// takes `undefined` (a `null` is not absent: the client drops nulls with `withoutNulls` before reading),
// a number is finite, an object is not an array.

type Check = (value: unknown) => boolean;
const isString: Check = (value) => typeof value === 'string';
const isNumber: Check = (value) => typeof value === 'number' && Number.isFinite(value);
const isStringOrNumber: Check = (value) => typeof value === 'string' || typeof value === 'number';
const optional =
  (check: Check): Check =>
  (value) =>
    value === undefined || check(value);
const array =
  (check: Check): Check =>
  (value) =>
    Array.isArray(value) && value.every(check);
/** An object (not `null`, not an array) whose listed fields pass their checks; other keys are ignored. */
const object =
  (fields: Record<string, Check>): Check =>
  (value) =>
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    Object.keys(fields).every((key) => fields[key]!((value as Record<string, unknown>)[key]));

/** Seconds from the wire: a number, or a numeric string. */
export const parseSeconds = (value: string | number): number =>
  typeof value === 'number' ? value : Number.parseFloat(value);

// Durations are documented as strings, but one official client reads numbers: accept both. Converted
// in `toAudioTask`.
const isWireSeconds: Check = (value) =>
  isStringOrNumber(value) &&
  Number.isFinite(parseSeconds(value as string | number)) &&
  parseSeconds(value as string | number) >= 0;

// Links are cleared 30 days after creation (`null` or `""`): such an audio is kept, without a link (see
// `toAudioTask`), so its task still shows; a player treats a missing link as not playable.
export interface WireAudio {
  id?: string;
  audio_id?: string | number;
  url_mp3?: unknown;
  url_wav?: unknown;
  duration_mp3: string | number;
  duration_wav: string | number;
  /** The proxy's own flag: the URLs point at its kept copy, which does not expire. Only `true` counts. */
  kept?: unknown;
  /** The proxy's own too: the clip's waveform, computed when it kept the files. Read leniently (`toPeaks`). */
  peaks?: unknown;
}

export interface WireTask {
  task_id: string;
  /** Any string: an unknown future status is read as not finished (see `toAudioTask`), so polling goes on. */
  task_status: string;
  task_status_msg?: string;
  /** `prompt` and `duration` come from the proxy's record (react-kling-audio/server), not the vendor. */
  task_info?: { external_task_id?: string; prompt?: string; duration?: string | number };
  task_result?: { audios?: WireAudio[] };
  final_unit_deduction?: string | number;
  created_at: number;
  updated_at: number;
}

/** The vendor's envelope: `code` 0 is success. `data` is read on its own with the guard of the call. */
export interface WireEnvelope {
  code: number;
  message?: string;
  request_id?: string;
}

/** Whether `value` has the shape of one audio of a task (`task_result.audios[]`). */
export const isWireAudio = /* @__PURE__ */ (() =>
  object({
    id: optional(isString),
    audio_id: optional(isStringOrNumber),
    duration_mp3: isWireSeconds,
    duration_wav: isWireSeconds,
  }))() as (value: unknown) => value is WireAudio;

/** Whether `value` has the shape of a task as the vendor (or the proxy) answers it. */
export const isWireTask = /* @__PURE__ */ (() =>
  object({
    task_id: (value) => isString(value) && (value as string).length > 0,
    task_status: isString,
    task_status_msg: optional(isString),
    task_info: optional(
      object({
        external_task_id: optional(isString),
        prompt: optional(isString),
        duration: optional(isWireSeconds),
      }),
    ),
    task_result: optional(object({ audios: optional(array(isWireAudio)) })),
    final_unit_deduction: optional(isStringOrNumber),
    created_at: isNumber,
    updated_at: isNumber,
  }))() as (value: unknown) => value is WireTask;

/** Whether `value` is the vendor's envelope (`{ code, message?, request_id? }`). */
export const isWireEnvelope = /* @__PURE__ */ (() =>
  object({
    code: isNumber,
    message: optional(isString),
    request_id: optional(isString),
  }))() as (value: unknown) => value is WireEnvelope;

// The same guards as zod schemas, for the server and the mocks (`z.safeParse(wireTaskSchema, body)`).
export const wireAudioSchema = /* @__PURE__ */ (() =>
  z.custom<WireAudio>(isWireAudio, 'not an audio of a task'))();
export const wireTaskSchema = /* @__PURE__ */ (() => z.custom<WireTask>(isWireTask, 'not a task'))();
export const wireEnvelopeSchema = /* @__PURE__ */ (() =>
  z.custom<WireEnvelope>(isWireEnvelope, 'not an envelope'))();
// Read item by item (see the client): one unreadable task must not hide a whole page.
export const wireTaskListSchema = /* @__PURE__ */ (() => z.custom<unknown[]>(Array.isArray, 'not a list'))();

/**
 * A task object that may come bare (a vendor callback, an event's data) or wrapped in the vendor's
 * envelope (`{ code, data: task }`, as some gateways forward callbacks).
 */
const unwrapTaskBody = (body: unknown): unknown =>
  typeof body === 'object' && body !== null && !('task_id' in body) && 'data' in body
    ? (body as { data: unknown }).data
    : body;

/** A task body, bare or wrapped (see `unwrapTaskBody`), read with `wireTaskSchema`. */
export function parseWireTaskBody(body: unknown) {
  return z.safeParse(wireTaskSchema, unwrapTaskBody(body));
}

/** A `task` event's data (JSON text) as the domain model, or `undefined` when it cannot be read. */
export function parseTaskEventData(data: string): AudioTask | undefined {
  try {
    const task = unwrapTaskBody(JSON.parse(data, withoutNulls));
    return isWireTask(task) ? toAudioTask(task) : undefined;
  } catch {
    return undefined;
  }
}

/** The create request body as the vendor takes it. */
export interface WireCreateRequest {
  prompt: string;
  duration: number;
  external_task_id?: string;
  callback_url?: string;
}

// ---------------------------------------------------------------------------------------------
// Domain model (camelCase, durations as numbers).

export interface GeneratedAudio {
  id: string;
  /** An http(s) URL, or `''` when the answer had no usable link (e.g. purged after 30 days): not playable. */
  mp3Url: string;
  /** An http(s) URL, or `''` when the answer had no usable link. */
  wavUrl: string;
  /** Seconds. */
  mp3Duration: number;
  /** Seconds. */
  wavDuration: number;
  /** `true` when the URLs point at the proxy's kept copy (no 30-day expiry). Absent otherwise. */
  kept?: boolean;
  /**
   * The clip's waveform: loudness from start to end, 0–1, a few hundred values, computed by the proxy when
   * it kept the files (`task_result.audios[].peaks`), so a waveform draws without downloading the file.
   */
  peaks?: number[];
}

export interface AudioTaskRequest {
  prompt: string;
  duration: number;
}

export interface AudioTask {
  taskId: string;
  externalTaskId?: string;
  status: AudioTaskStatus;
  /** `task_status_msg`, e.g. the failure reason. */
  statusMessage?: string;
  /** `[]` until the task has succeeded. */
  audios: GeneratedAudio[];
  /** `final_unit_deduction`, kept as the vendor's string. */
  unitsDeducted?: string;
  /** Milliseconds since the epoch. */
  createdAt: number;
  updatedAt: number;
  /** The prompt and duration: from the proxy's record (any device), else this browser's memory. */
  request?: AudioTaskRequest;
}

/** An audio's id: `id`, else `audio_id`, else its place in the task (the vendor always sends one of the two). */
export const wireAudioId = (
  taskId: string,
  audio: { id?: string; audio_id?: string | number },
  index: number,
): string => audio.id ?? (audio.audio_id === undefined ? `${taskId}-${index}` : String(audio.audio_id));

/** Most peaks an audio keeps: a waveform needs a few hundred; a longer list is cut, not trusted. */
const PEAKS_MAX = 1000;

/**
 * Peaks from the wire, leniently: an array of numbers, each clamped to 0–1 (anything else counts as 0);
 * `undefined` for anything but a non-empty array, so a malformed waveform never costs the task.
 */
const toPeaks = (value: unknown): number[] | undefined =>
  Array.isArray(value) && value.length
    ? // `Array.from` visits holes too (a `null` the JSON reviver dropped), which `map` would skip.
      Array.from(value.slice(0, PEAKS_MAX), (peak) =>
        typeof peak === 'number' && peak > 0 ? Math.min(peak, 1) : 0,
      )
    : undefined;

/** Maps a parsed wire task to the domain model. */
export function toAudioTask(wire: WireTask): AudioTask {
  const task: AudioTask = {
    taskId: wire.task_id,
    status: toKnownStatus(wire.task_status),
    audios: (wire.task_result?.audios ?? []).map((audio, index) => {
      const peaks = toPeaks(audio.peaks);
      return {
        id: wireAudioId(wire.task_id, audio, index),
        // Only http(s) may reach `src` or `href`; anything else (a purged link, `javascript:`) is no link.
        mp3Url: isHttpUrl(audio.url_mp3) ? audio.url_mp3 : '',
        wavUrl: isHttpUrl(audio.url_wav) ? audio.url_wav : '',
        mp3Duration: parseSeconds(audio.duration_mp3),
        wavDuration: parseSeconds(audio.duration_wav),
        ...(audio.kept === true && { kept: true }),
        ...(peaks && { peaks }),
      };
    }),
    createdAt: wire.created_at,
    updatedAt: wire.updated_at,
  };
  const externalTaskId = wire.task_info?.external_task_id;
  if (externalTaskId) task.externalTaskId = externalTaskId;
  const { prompt, duration } = wire.task_info ?? {};
  if (prompt && duration !== undefined) task.request = { prompt, duration: parseSeconds(duration) };
  if (wire.task_status_msg) task.statusMessage = wire.task_status_msg;
  if (wire.final_unit_deduction != null) task.unitsDeducted = String(wire.final_unit_deduction);
  return task;
}

/** Maps a domain input (already validated) to the vendor's create body. */
export function toWireCreateRequest(input: z.output<typeof createAudioTaskInputSchema>): WireCreateRequest {
  // The schema tolerates float noise (3.3 arrives as 3.3000000000000003); the vendor gets the tenth.
  const body: WireCreateRequest = { prompt: input.prompt, duration: Math.round(input.duration * 10) / 10 };
  if (input.externalTaskId) body.external_task_id = input.externalTaskId;
  if (input.callbackUrl) body.callback_url = input.callbackUrl;
  return body;
}

/** A task reference: a task id, or the caller's own external id. */
export type AudioTaskRef = string | { taskId: string } | { externalTaskId: string };

/**
 * Validates a create body in the vendor's snake_case form (what the proxy and the mock receive) with the
 * shared input schema. Empty optional strings, as in the vendor's own sample, count as absent.
 */
export function parseWireCreateRequest(body: unknown) {
  const wire = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  const optional = (value: unknown) => (value === '' || value === null ? undefined : value);
  return z.safeParse(createAudioTaskInputSchema, {
    prompt: wire.prompt,
    duration: wire.duration,
    externalTaskId: optional(wire.external_task_id),
    callbackUrl: optional(wire.callback_url),
  });
}

/** The first issue of a failed parse as one readable sentence, prefixed by its field. */
export function describeIssues(error: {
  issues: readonly { path: readonly PropertyKey[]; message: string }[];
}): string {
  return error.issues
    .map((issue) => (issue.path.length ? `${issue.path.join('.')}: ${issue.message}` : issue.message))
    .join('; ');
}
