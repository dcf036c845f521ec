/**
 * The typed client for the app's proxy, which speaks the vendor's own paths. No React, server-safe.
 */
import * as z from 'zod/mini';
import { KlingApiError, parseRetryAfter } from './errors';
import type { TaskEventHandlers, TaskEventStreamOptions } from './events';
import {
  createAudioTaskInputSchema,
  describeIssues,
  checkListParams,
  parseTaskEventData,
  PAGE_NUM_MIN,
  PAGE_SIZE_DEFAULT,
  toAudioTask,
  toWireCreateRequest,
  isWireEnvelope,
  isWireTask,
  withoutNulls,
  type AudioTask,
  type CreateAudioTaskInput,
  type ListAudioTasksParams,
} from './schemas';

/** The vendor's path for this API, under the proxy's mount point. */
export const TEXT_TO_AUDIO_PATH = '/v1/audio/text-to-audio';

type HeadersSource = HeadersInit | (() => HeadersInit | Promise<HeadersInit>);

export interface KlingAudioClientOptions {
  /** Where the app mounted the proxy, e.g. `/api/kling` or `https://example.com/api/kling`. */
  baseUrl: string;
  /** The `fetch` to use. Defaults to the global `fetch`. */
  fetch?: typeof fetch;
  /**
   * Extra headers for every request, or a (possibly async) function returning them, so an app can
   * attach its own session auth. Defaults to none.
   */
  headers?: HeadersSource;
  /** How long one request may take before it fails with kind `timeout`. Defaults to `30_000` ms. */
  timeoutMs?: number;
}

export interface RequestOptions {
  signal?: AbortSignal;
}

/** `{ taskId }` or `{ externalTaskId }`: the two ways the vendor can look a task up. */
export type GetTaskParams = { taskId: string } | { externalTaskId: string };

export interface KlingAudioClient {
  /** POST `{baseUrl}/v1/audio/text-to-audio`. */
  createTask(input: CreateAudioTaskInput, options?: RequestOptions): Promise<AudioTask>;
  /** GET `{baseUrl}/v1/audio/text-to-audio/{id}` (the task id, or the external id in its place). */
  getTask(params: GetTaskParams, options?: RequestOptions): Promise<AudioTask>;
  /** GET `{baseUrl}/v1/audio/text-to-audio?pageNum&pageSize`, newest first. */
  listTasks(params?: ListAudioTasksParams, options?: RequestOptions): Promise<AudioTask[]>;
  /**
   * Follows GET `{baseUrl}/v1/audio/text-to-audio/events` (Server-Sent Events) until `options.signal`
   * aborts: every `task` event goes to `handlers.onTask` as the model `getTask` returns; a dropped stream
   * reconnects with `Last-Event-ID`. Resolves once stopped, or once the proxy has no such route.
   */
  streamTaskEvents(handlers: TaskEventHandlers, options: TaskEventStreamOptions): Promise<void>;
  readonly baseUrl: string;
}

const anything = (_data: unknown): _data is unknown => true;
const isList = (data: unknown): data is unknown[] => Array.isArray(data);

/** The vendor's "resource not found" (1203), or any 404. */
export const isNotFound = (error: unknown): boolean =>
  KlingApiError.is(error) && (error.code === 1203 || error.httpStatus === 404);

function validationError(error: Parameters<typeof describeIssues>[0]): KlingApiError {
  return new KlingApiError({ kind: 'validation', message: describeIssues(error), cause: error });
}

/**
 * Creates a client for the app's proxy.
 *
 * @example
 * const client = createKlingAudioClient({ baseUrl: '/api/kling' });
 * const task = await client.createTask({ prompt: 'Rain on a tin roof', duration: 5 });
 */
export function createKlingAudioClient(options: KlingAudioClientOptions): KlingAudioClient {
  const baseUrl = options.baseUrl.replace(/\/+$/, '');
  const timeoutMs = options.timeoutMs ?? 30_000;

  /** One request to the proxy: the app's headers (possibly async), then the call's own. */
  async function send(
    path: string,
    init: { method?: string; headers: Record<string, string>; body?: string; signal: AbortSignal },
  ): Promise<Response> {
    const extra = typeof options.headers === 'function' ? await options.headers() : options.headers;
    const headers = new Headers(extra);
    for (const [name, value] of Object.entries(init.headers)) headers.set(name, value);
    return (options.fetch ?? globalThis.fetch)(baseUrl + path, { ...init, headers });
  }

  async function request<T>(
    method: 'GET' | 'POST',
    path: string,
    body: unknown,
    // A plain guard, not a zod schema: see the wire format in ./schemas.
    isData: (data: unknown) => data is T,
    signal: AbortSignal | undefined,
  ): Promise<T> {
    // One controller for the caller's abort and our deadline: `AbortSignal.any` is missing in Safari < 17.4
    // and Firefox < 124, and `AbortSignal.timeout` in older ones still.
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, timeoutMs);
    const onAbort = () => controller.abort();
    signal?.addEventListener('abort', onAbort);
    const failed = (cause: unknown): KlingApiError => {
      if (signal?.aborted) return new KlingApiError({ kind: 'aborted', cause });
      if (timedOut) return new KlingApiError({ kind: 'timeout', cause });
      return new KlingApiError({ kind: 'network', cause });
    };

    let response: Response;
    let text: string;
    try {
      if (signal?.aborted) throw signal.reason;
      response = await send(path, {
        method,
        headers:
          body === undefined
            ? { Accept: 'application/json' }
            : { Accept: 'application/json', 'Content-Type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: controller.signal,
      });
      // Read inside the try: a connection can drop in the middle of the body.
      text = await response.text();
    } catch (cause) {
      throw failed(cause);
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    }

    const httpStatus = response.status;
    const retryAfterMs = parseRetryAfter(response.headers.get('Retry-After'));
    const headerRequestId = response.headers.get('X-Request-Id') ?? undefined;

    let json: unknown;
    try {
      json = JSON.parse(text, withoutNulls);
    } catch (cause) {
      // An HTML gateway page or a truncated body: an error status says what happened, if there is one.
      throw new KlingApiError({
        kind: response.ok ? 'invalid-response' : 'api',
        message: response.ok ? undefined : `HTTP ${httpStatus} ${response.statusText}`.trim(),
        httpStatus,
        requestId: headerRequestId,
        retryAfterMs,
        cause,
      });
    }

    if (!isWireEnvelope(json)) {
      throw new KlingApiError({
        kind: response.ok ? 'invalid-response' : 'api',
        httpStatus,
        requestId: headerRequestId,
        retryAfterMs,
      });
    }
    const { code, message, request_id } = json;
    const requestId = request_id ?? headerRequestId;
    if (code !== 0 || !response.ok) {
      throw new KlingApiError({
        kind: 'api',
        code: code === 0 ? undefined : code,
        httpStatus,
        requestId,
        retryAfterMs,
        message: code !== 0 && message ? `Kling API error ${code}: ${message}` : undefined,
      });
    }
    const data = (json as { data?: unknown }).data;
    if (!isData(data)) {
      throw new KlingApiError({
        kind: 'invalid-response',
        message: `The server sent an answer that could not be read (${method} ${path}).`,
        httpStatus,
        requestId,
      });
    }
    return data;
  }

  return {
    baseUrl,
    async streamTaskEvents(handlers, streamOptions) {
      // Loaded when a stream opens: a page that never watches a task never downloads the reader.
      const { followTaskEvents } = await import('./events');
      const source = {
        get: (path: string, headers: Record<string, string>, signal: AbortSignal) =>
          send(path, { headers, signal }),
        readTask: parseTaskEventData,
      };
      return followTaskEvents(source, handlers, streamOptions);
    },
    async createTask(input, { signal } = {}) {
      const valid = z.safeParse(createAudioTaskInputSchema, input);
      if (!valid.success) throw validationError(valid.error);
      const wire = await request(
        'POST',
        TEXT_TO_AUDIO_PATH,
        toWireCreateRequest(valid.data),
        isWireTask,
        signal,
      );
      return toAudioTask(wire);
    },
    async getTask(params, { signal } = {}) {
      const byExternal = !('taskId' in params);
      const id = byExternal ? params.externalTaskId : params.taskId;
      if (typeof id !== 'string' || id.length === 0) {
        throw new KlingApiError({
          kind: 'validation',
          message: 'A task id or external task id is required.',
        });
      }
      const path = `${TEXT_TO_AUDIO_PATH}/${encodeURIComponent(id)}`;
      try {
        return toAudioTask(await request('GET', path, undefined, isWireTask, signal));
      } catch (error) {
        // The vendor's page leaves the external-id lookup form open (path or `?external_task_id=`): a
        // "not found" from one form is no proof, so ask in the other before saying so.
        if (!byExternal || !isNotFound(error)) throw error;
      }
      const query = new URLSearchParams({ external_task_id: id });
      const data = await request('GET', `${TEXT_TO_AUDIO_PATH}?${query}`, undefined, anything, signal);
      // Some gateways answer the query form as a list: only a task with this very id counts.
      const task = Array.isArray(data) ? data[0] : data;
      if (!isWireTask(task) || (task.task_info?.external_task_id ?? id) !== id) {
        throw new KlingApiError({ kind: 'api', code: 1203, httpStatus: 404 });
      }
      return toAudioTask(task);
    },
    async listTasks({ pageNum = PAGE_NUM_MIN, pageSize = PAGE_SIZE_DEFAULT } = {}, { signal } = {}) {
      const problem = checkListParams({ pageNum, pageSize });
      if (problem) throw new KlingApiError({ kind: 'validation', message: problem });
      const query = new URLSearchParams({ pageNum: String(pageNum), pageSize: String(pageSize) });
      const wire = await request('GET', `${TEXT_TO_AUDIO_PATH}?${query}`, undefined, isList, signal);
      // Item by item: a task the page cannot read is left out, the others still show.
      const tasks: AudioTask[] = [];
      for (const item of wire) if (isWireTask(item)) tasks.push(toAudioTask(item));
      if (wire.length > 0 && tasks.length === 0) {
        throw new KlingApiError({ kind: 'invalid-response', message: 'No task of the page could be read.' });
      }
      return tasks;
    },
  };
}
