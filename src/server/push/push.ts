/**
 * The proxy's two push routes, in one module the proxy dispatches to before its vendor routes:
 * - `POST {basePath}/callbacks/{token}`: the vendor's callback. A hint only (the vendor signs nothing): the
 *   task is fetched again from the vendor before anything changes, in the background, after a quick answer.
 * - `GET {basePath}/v1/audio/text-to-audio/events`: the user's task changes as Server-Sent Events.
 * Plus the safety net for lost callbacks: while a stream is open, a pending task that has not changed for
 * a while is read again from the vendor, once for all its watchers.
 */
import { TASK_EVENTS_PATH } from '../../api/events';
import * as z from 'zod/mini';
import { isTerminalStatus, wireTaskSchema, withoutNulls, type WireTask } from '../../api/schemas';
import { envelopeTasks } from '../http/envelope';
import type { EventStreamReply } from '../http/sse';
import type { ClientSignal } from '../vendor/upstream';
import { createCallbackReceiver, type PushTaskRef } from './callback';
import { createCallbackTokens, type CallbackRef } from './callbacks';
import { createWebhookVerifier } from './webhook';
import { recordKey } from '../core/keys';
import type { KlingTaskEventLog } from '../core/eventLog';
import { createTaskEventHub, type PresentTask, type TaskEventHubOptions } from './hub';

export type PushRoute = 'taskEvents' | 'taskCallback';

export type { PushTaskRef } from './callback';

/** The streams' options an app may tune (`eventStream`): the hub's, and the sweep of watched pending tasks. */
export interface EventStreamOptions extends TaskEventHubOptions {
  /** How long a watched pending task may stay unchanged before the sweep reads it. Defaults to `5000` ms. */
  sweepMs?: number;
  /** Vendor reads one sweep runs at once. Defaults to `4`. */
  sweepConcurrency?: number;
}

export interface PushOptions extends EventStreamOptions {
  /** The proxy's public mount URL, e.g. `https://app.example.com/api/kling`. */
  callbackUrl: string;
  /** Seals callback tokens. */
  secret: string;
  events: KlingTaskEventLog;
  /** The proxy's task a callback token names; `undefined` when it created no such task. */
  find: (ref: CallbackRef) => Promise<PushTaskRef | undefined>;
  /** The vendor's signing secret(s): callbacks must then carry a valid Standard Webhooks signature. */
  webhookSecret?: string | readonly string[];
  /** Seconds a callback token must wait before calling again (the per-token limit), or 0. */
  limitCallback?: (request: Request) => Promise<number>;
  /** Whether the store can find a record by the vendor's external id (short, fixed-size tokens). */
  findsByVendorId?: boolean;
  /** Reads the task from the vendor again and keeps it (which announces a real change through `publish`). */
  refresh: (userId: string, externalTaskId: string) => Promise<unknown>;
  /** Keeps background work alive after the answer (serverless hosts). Defaults to letting it run. */
  waitUntil?: (work: Promise<unknown>) => void;
  /** How streams show a task (as a get answers it: kept copies' URLs); once per event. Defaults to as logged. */
  present?: PresentTask;
}

/** An answer of the events route when it opens no stream. */
export interface PushAnswer {
  status: number;
  code: number;
  message: string;
}

export function createPushRoutes(options: PushOptions) {
  const tokens = createCallbackTokens(options.secret);
  const receiver = createCallbackReceiver({
    tokens,
    find: options.find,
    refresh: options.refresh,
    webhook: options.webhookSecret === undefined ? undefined : createWebhookVerifier(options.webhookSecret),
    limit: options.limitCallback,
    waitUntil: options.waitUntil,
  });
  const hub = createTaskEventHub(options.events, options, options.present);
  const callbackBase = options.callbackUrl.replace(/\/+$/, '');
  const sweepMs = options.sweepMs ?? 5000;
  const sweepConcurrency = options.sweepConcurrency ?? 4;

  // Pending tasks this instance has seen (created, read or called back): what the sweep reads again.
  const pending = new Map<
    string,
    { userId: string; externalTaskId: string; changedAt: number; since: number }
  >();
  // A task the vendor never finishes must not be read forever: the sweep lets go of it after this long.
  const SWEEP_FOR_MS = 30 * 60_000;

  let sweeping = false;
  // The sweep reads only tasks someone here watches (their owner, or the shared space, has a stream), a
  // few at a time: one open stream must not make the proxy read every user's pending tasks at once (the
  // vendor's account-wide rate limit would then refuse everyone).
  const sweep = setInterval(() => {
    if (sweeping || hub.streams === 0 || pending.size === 0) return;
    const now = Date.now();
    for (const [key, entry] of pending) if (now - entry.since > SWEEP_FOR_MS) pending.delete(key);
    const due = [...pending.values()].filter(
      (entry) => now - entry.changedAt >= sweepMs && hub.watched(entry.userId),
    );
    if (due.length === 0) return;
    sweeping = true;
    const next = async (): Promise<void> => {
      const entry = due.shift();
      if (!entry) return;
      entry.changedAt = Date.now();
      await options.refresh(entry.userId, entry.externalTaskId).catch(() => {});
      return next();
    };
    void Promise.all(Array.from({ length: Math.min(sweepConcurrency, due.length) }, next)).finally(
      () => (sweeping = false),
    );
  }, sweepMs);
  (sweep as { unref?: () => void }).unref?.();

  return {
    hub,

    /** Which push route a request is for, if any: exact paths only; anything else is the vendor routes'. */
    match(url: URL, basePath: string): { route: PushRoute; token: string } | undefined {
      if (url.pathname === basePath + TASK_EVENTS_PATH) return { route: 'taskEvents', token: '' };
      const prefix = `${basePath}/callbacks/`;
      if (url.pathname.startsWith(prefix))
        return { route: 'taskCallback', token: url.pathname.slice(prefix.length) };
      return undefined;
    },

    /**
     * The `callback_url` for a create of this user's task: with the vendor's external id when the store
     * can find a record by it (a fixed-size token).
     */
    callbackUrlFor: async (userId: string, externalTaskId: string, vendorExternalTaskId?: string) =>
      `${callbackBase}/callbacks/${await tokens.sign(
        userId,
        externalTaskId,
        options.findsByVendorId ? vendorExternalTaskId : undefined,
      )}`,

    /**
     * A task's state as the proxy now knows it (`task` as a get answers it): its owner's streams hear of
     * a real change; a pending task joins the sweep, a finished one leaves it.
     */
    publish(userId: string, externalTaskId: string, task: WireTask) {
      const key = recordKey(userId, externalTaskId);
      if (isTerminalStatus(task.task_status as never)) pending.delete(key);
      else if (!pending.has(key)) {
        pending.set(key, { userId, externalTaskId, changedAt: Date.now(), since: Date.now() });
      }
      void hub
        .publish(userId, task)
        .then((event) => {
          const entry = pending.get(key);
          if (event && entry) entry.changedAt = Date.now();
        })
        .catch(() => {});
    },

    /** The vendor's callback (`deadline`: when its body must have arrived); see `callback.ts`. */
    callback: receiver.receive,

    /**
     * The user's stream (`null`: the shared space's, every task), ended when `signal` fires (the
     * connection's own under `toNodeHandler`, else the request's); 429 past the per-user bound.
     */
    async events(
      request: Request,
      userId: string | null,
      signal: ClientSignal = request.signal,
    ): Promise<EventStreamReply | PushAnswer> {
      if (request.method !== 'GET')
        return { status: 405, code: 1202, message: 'Method not allowed: use GET.' };
      const stream = await hub.stream(userId, request.headers.get('last-event-id'), signal);
      return stream ?? { status: 429, code: 1302, message: 'Too many open event streams.' };
    },

    close: () => (clearInterval(sweep), hub.close()),
  };
}

/** The task of a successful answer (the vendor's envelope around one task), as streams send it. */
export function taskOfReply(reply: { status: number; body: string }): WireTask | undefined {
  const found = envelopeTasks(reply, withoutNulls);
  // Parsed again for its output: streams send the task's known fields only.
  return found && !found.list ? (z.parse(wireTaskSchema, found.tasks[0]) as WireTask) : undefined;
}
