/**
 * `POST {basePath}/callbacks/{token}`: the vendor's callback, a hint only. The token names the task; the
 * body is read within a size and time bound (413 / 408), checked against the vendor's signature when the
 * app has its secret (401), and then the task is read again from the vendor in the background: at most
 * one read per task at a time (callbacks arriving meanwhile make one more read afterwards, not one each).
 */
import { parseWireTaskBody, withoutNulls } from '../../api/schemas';
import { recordKey } from '../core/keys';
import { readBody } from '../http/body';
import { fail, succeed, type Reply } from '../http/reply';
import type { CallbackRef, CallbackTokens } from './callbacks';
import type { WebhookVerifier } from './webhook';

/** Largest callback body read: a task with its audios and billing is a few KiB. */
export const MAX_CALLBACK_BYTES = 65_536;

/** The proxy's knowledge of one task, for a callback about it. */
export interface PushTaskRef {
  /** Whose task it is (`''`: the shared space). */
  userId: string;
  /** The browser's external id (the record's key). */
  externalTaskId: string;
  /** The vendor's task id, once known: a callback about another task id is refused. */
  taskId?: string;
  /** The external id the vendor got: a callback naming another one is refused. */
  vendorExternalTaskId: string;
}

export interface CallbackReceiverOptions {
  tokens: CallbackTokens;
  /** The task a token names; `undefined` when the proxy created no such task. */
  find: (ref: CallbackRef) => Promise<PushTaskRef | undefined>;
  /** Reads the task from the vendor again and keeps it. */
  refresh: (userId: string, externalTaskId: string) => Promise<unknown>;
  /** The vendor's signing secret(s) checked, when the app gave them. */
  webhook?: WebhookVerifier;
  /** Seconds to wait before this token may call again (the per-token limit), or 0. */
  limit?: (request: Request) => Promise<number>;
  /** Keeps background work alive after the answer (serverless hosts). */
  waitUntil?: (work: Promise<unknown>) => void;
}

/** What a callback body says about its task, in either of the vendor's shapes; `undefined` for neither. */
export function callbackHint(body: unknown): { taskId?: string; externalId?: string } | undefined {
  const legacy = parseWireTaskBody(body);
  // Some gateways wrap it in the vendor's envelope.
  if (!legacy.success && typeof body === 'object' && body !== null && !('id' in body) && 'data' in body)
    body = (body as { data: unknown }).data;
  if (legacy.success) {
    return { taskId: legacy.data.task_id, externalId: legacy.data.task_info?.external_task_id };
  }
  // The newer shape: `{ id, status, message, external_id, outputs: [...], billing: [...] }`.
  const task = body as { id?: unknown; status?: unknown; external_id?: unknown; outputs?: unknown };
  if (typeof body !== 'object' || body === null || typeof task.id !== 'string' || !task.id) return undefined;
  if (typeof task.status !== 'string') return undefined;
  if (task.outputs !== undefined && !Array.isArray(task.outputs)) return undefined;
  const externalId = typeof task.external_id === 'string' && task.external_id ? task.external_id : undefined;
  return { taskId: task.id, externalId };
}

export function createCallbackReceiver(options: CallbackReceiverOptions) {
  const { tokens, webhook } = options;
  // One vendor read per task at a time: callbacks that arrive during it ask for one more, afterwards.
  const reading = new Map<string, { again: boolean; done?: Promise<void> }>();
  function refreshOnce(userId: string, externalTaskId: string): Promise<void> {
    const key = recordKey(userId, externalTaskId);
    const current = reading.get(key);
    if (current) {
      current.again = true;
      return current.done!;
    }
    const entry: { again: boolean; done?: Promise<void> } = { again: true };
    reading.set(key, entry);
    entry.done = (async () => {
      try {
        while (entry.again) {
          entry.again = false;
          await options.refresh(userId, externalTaskId);
        }
      } catch {
        // A hint that could not be checked changes nothing; the next callback or poll tries again.
      } finally {
        reading.delete(key);
      }
    })();
    return entry.done;
  }

  return {
    /** Answers one callback (`deadline`: when its body must have arrived). */
    async receive(request: Request, token: string, deadline: number): Promise<Reply> {
      if (request.method !== 'POST')
        return fail(405, 1202, 'Method not allowed: use POST.', { allow: 'POST' });
      const sealed = await tokens.verify(token);
      // A token we never made: 404, and nothing read.
      if (!sealed) return fail(404, 1203, 'Not found.');
      const wait = options.limit ? await options.limit(request) : 0;
      if (wait) {
        return fail(429, 1302, `Too many callbacks for this task: try again in ${wait} s.`, {
          'retry-after': `${wait}`,
        });
      }
      let text: string | Reply;
      try {
        text = await readBody(request, MAX_CALLBACK_BYTES, deadline);
      } catch {
        return fail(400, 1200, 'The callback body is not valid UTF-8.');
      }
      if (typeof text !== 'string') return text;
      const signed = webhook ? await webhook.check(request.headers, text) : undefined;
      if (signed && !signed.ok) {
        // The same delivery again (a vendor retry): already handled, nothing read again.
        if (signed.repeat) return succeed(null);
        return fail(401, 1000, signed.message);
      }
      const task = await options.find(sealed);
      // A token for a task that does not exist: 404, and nothing changes.
      if (!task) return fail(404, 1203, 'Not found.');
      let body: unknown;
      try {
        body = JSON.parse(text, withoutNulls);
      } catch {
        return fail(400, 1200, 'The callback body is not valid JSON.');
      }
      const hint = callbackHint(body);
      if (!hint) return fail(400, 1201, 'The callback body is not a task.');
      // A token is bound to one task: a body about another one is refused and changes nothing.
      if (
        (task.taskId !== undefined && hint.taskId !== task.taskId) ||
        (hint.externalId && hint.externalId !== task.vendorExternalTaskId)
      ) {
        return fail(400, 1201, 'The callback is not about the task of its URL.');
      }
      if (signed?.ok) webhook!.accepted(signed.id);
      // Answered now, checked afterwards: the vendor retries slow answers, and the body is only a hint.
      const work = refreshOnce(task.userId, task.externalTaskId);
      options.waitUntil?.(work);
      return succeed(null);
    },
  };
}
