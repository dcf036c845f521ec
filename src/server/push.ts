/**
 * The proxy's two push routes, in one module the proxy dispatches to before its vendor routes:
 * - `POST {basePath}/callbacks/{token}`: the vendor's callback. A hint only (the vendor signs nothing): the
 *   task is fetched again from the vendor before anything changes, in the background, after a quick answer.
 * - `GET {basePath}/v1/audio/text-to-audio/events`: the user's task changes as Server-Sent Events.
 */
import { TEXT_TO_AUDIO_PATH } from '../api/client';
import { TASK_EVENTS_PATH } from '../api/events';
import { parseWireTaskBody, withoutNulls, type WireCreateRequest, type WireTask } from '../api/schemas';
import { createCallbackTokens } from './callbacks';
import { createTaskEventHub, type KlingTaskEventLog, type TaskEventHubOptions } from './taskEvents';

export type PushRoute = 'taskEvents' | 'taskCallback';

/** What the proxy tells the push routes about a task's owner. */
export interface PushRecords {
  /**
   * The owner (`''` for the shared space) and vendor task id of the task created with this vendor-facing
   * external id; `undefined` when the proxy created no such task.
   */
  find(externalId: string): Promise<{ owner: string; taskId?: string } | undefined>;
}

export interface PushOptions extends TaskEventHubOptions {
  /** The proxy's public mount URL, e.g. `https://app.example.com/api/kling`. */
  callbackUrl: string;
  /** Signs callback tokens. */
  secret: string;
  events: KlingTaskEventLog;
  /** The task from the vendor by its external id: `undefined` when the vendor does not have it (or failed). */
  fetchTask: (externalId: string) => Promise<WireTask | undefined>;
  /** Where the owner of a task is found. Defaults to the tasks this instance created (in memory). */
  records?: PushRecords;
  /**
   * A lost callback must not leave a task hanging: while a stream is open, a pending task that has not
   * changed for this long is read again from the vendor (once for all its watchers). Defaults to `5000` ms.
   */
  sweepMs?: number;
  /** Keeps background work alive after the answer (serverless hosts). Defaults to letting it run. */
  waitUntil?: (work: Promise<unknown>) => void;
}

export interface PushAnswer {
  status: number;
  code: number;
  message: string;
}

export function createPushRoutes(options: PushOptions) {
  const tokens = createCallbackTokens(options.secret);
  const hub = createTaskEventHub(options.events, options);
  const callbackBase = options.callbackUrl.replace(/\/+$/, '');
  const eventsPath = (basePath: string) => basePath + TASK_EVENTS_PATH;
  const callbacksPrefix = (basePath: string) => `${basePath}/callbacks/`;
  const sweepMs = options.sweepMs ?? 5000;

  // Tasks this instance created and has not seen finish: the default owner lookup, and the sweep's list.
  const pending = new Map<string, { owner: string; taskId?: string; changedAt: number }>();
  const records: PushRecords = options.records ?? { find: async (id) => pending.get(id) };

  /** Re-reads the task from the vendor and logs it; the log drops what is not newer. */
  async function refresh(externalId: string, owner: string) {
    const task = await options.fetchTask(externalId);
    if (task) await publish(owner, task, externalId);
  }

  async function publish(owner: string, task: WireTask, externalId = task.task_info?.external_task_id) {
    const event = await hub.publish(owner, task);
    const entry = externalId ? pending.get(externalId) : undefined;
    if (entry && event) entry.changedAt = Date.now();
    if (entry && (task.task_status === 'succeed' || task.task_status === 'failed'))
      pending.delete(externalId!);
    return event;
  }

  let sweeping = false;
  const sweep = setInterval(() => {
    if (sweeping || !hub.streams || pending.size === 0) return;
    sweeping = true;
    const due = [...pending].filter(([, entry]) => Date.now() - entry.changedAt >= sweepMs);
    void Promise.all(due.map(([id, entry]) => refresh(id, entry.owner).catch(() => {}))).finally(
      () => (sweeping = false),
    );
  }, sweepMs);
  (sweep as { unref?: () => void }).unref?.();

  return {
    hub,

    /** Which push route a request is for, if any (only exact paths; anything else is the vendor routes'). */
    match(url: URL, basePath: string): { route: PushRoute; token?: string } | undefined {
      if (url.pathname === eventsPath(basePath)) return { route: 'taskEvents' };
      const prefix = callbacksPrefix(basePath);
      if (url.pathname.startsWith(prefix)) {
        const token = url.pathname.slice(prefix.length);
        if (/^[\w.%~-]{1,600}$/.test(token)) return { route: 'taskCallback', token };
        return { route: 'taskCallback', token: '' };
      }
      return undefined;
    },

    /** Gives a create body its `callback_url` (and an external id to bind the token to, when it has none). */
    async prepareCreate(body: WireCreateRequest): Promise<void> {
      body.external_task_id ??= `rka-${crypto.randomUUID()}`;
      body.callback_url = `${callbackBase}/callbacks/${await tokens.sign(body.external_task_id)}`;
    },

    /**
     * A task the proxy read from the vendor anyway (a create or a get answer, the envelope as text): its
     * owner's streams hear of a change, and a new task joins the sweep.
     */
    observed(owner: string, body: string, created = false) {
      try {
        const parsed = parseWireTaskBody(JSON.parse(body, withoutNulls));
        if (!parsed.success) return;
        const task = parsed.data as WireTask;
        const externalId = task.task_info?.external_task_id;
        if (created && externalId) {
          pending.set(externalId, { owner, taskId: task.task_id, changedAt: Date.now() });
        }
        void publish(owner, task).catch(() => {});
      } catch {
        // Not a task: nothing to announce.
      }
    },

    async callback(request: Request, token: string): Promise<PushAnswer> {
      if (request.method !== 'POST')
        return { status: 405, code: 1202, message: 'Method not allowed: use POST.' };
      const externalId = token ? await tokens.verify(token) : undefined;
      const record = externalId === undefined ? undefined : await records.find(externalId);
      // A token we never made, or one for a task that does not exist: 404, and nothing changes.
      if (externalId === undefined || !record) return { status: 404, code: 1203, message: 'Not found.' };
      let body: unknown;
      try {
        body = JSON.parse(await request.text(), withoutNulls);
      } catch {
        return { status: 400, code: 1200, message: 'The callback body is not valid JSON.' };
      }
      const parsed = parseWireTaskBody(body);
      if (!parsed.success) return { status: 400, code: 1201, message: 'The callback body is not a task.' };
      const { task_id, task_info } = parsed.data;
      // A token is bound to one task: a body about another one is refused and changes nothing.
      const otherExternal = task_info?.external_task_id && task_info.external_task_id !== externalId;
      const otherTask = record.taskId !== undefined && task_id !== record.taskId;
      if (otherExternal || otherTask) {
        return { status: 400, code: 1201, message: 'The callback is not about the task of its URL.' };
      }
      // Answered now, checked later: the vendor retries slow answers, and the body is only a hint.
      const work = refresh(externalId, record.owner).catch(() => {});
      options.waitUntil?.(work);
      return { status: 200, code: 0, message: 'SUCCEED' };
    },

    /** The owner's stream (`null`: the shared space, every task); 429 past the per-user bound. */
    async events(request: Request, owner: string | null): Promise<Response | PushAnswer> {
      if (request.method !== 'GET')
        return { status: 405, code: 1202, message: 'Method not allowed: use GET.' };
      const response = await hub.open(owner, request.headers.get('last-event-id'), request.signal);
      return response ?? { status: 429, code: 1302, message: 'Too many open event streams.' };
    },

    close: () => (clearInterval(sweep), hub.close()),
  };
}

/** The vendor's path for one task by external id, under `upstream`. */
export const taskByExternalIdPath = (externalId: string) =>
  `${TEXT_TO_AUDIO_PATH}/${encodeURIComponent(externalId)}`;
