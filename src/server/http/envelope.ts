/**
 * The vendor's envelope, read in one place: what counts as one (the upstream gate), the `data` of a
 * successful answer, and the task or tasks it carries (records, push and keeping all read answers so).
 */
import * as z from 'zod/mini';
import { wireTaskSchema, type WireTask } from '../../api/schemas';

/** The vendor's envelope: `code` 0 is success; `data` is read on its own with the schema of the call. */
export interface Envelope {
  code: number;
  message?: unknown;
  request_id?: unknown;
  data?: unknown;
}

/** A JSON object with an integer `code` and, when present, a string `message` and `request_id`. */
export function isEnvelope(value: unknown): value is Envelope {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const { code, message, request_id: requestId } = value as Record<string, unknown>;
  return (
    Number.isInteger(code) &&
    (message == null || typeof message === 'string') &&
    (requestId == null || typeof requestId === 'string')
  );
}

type Reviver = (key: string, value: unknown) => unknown;

/** The envelope of a 200 answer with `code` 0, or `undefined` (another status or code, not JSON, not one). */
export function successEnvelope(
  answer: { status: number; body: string },
  reviver?: Reviver,
): Envelope | undefined {
  if (answer.status !== 200) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(answer.body, reviver);
  } catch {
    return undefined;
  }
  return isEnvelope(value) && value.code === 0 ? value : undefined;
}

/**
 * The task or tasks a successful answer carries: `data` is one task, or a list whose every item has the
 * task's shape. The vendor's objects themselves (unknown keys kept), or `undefined` for anything else.
 */
export function envelopeTasks(
  answer: { status: number; body: string },
  reviver?: Reviver,
): { envelope: Envelope; tasks: WireTask[]; list: boolean } | undefined {
  const envelope = successEnvelope(answer, reviver);
  if (!envelope?.data) return undefined;
  const list = Array.isArray(envelope.data);
  const tasks = (list ? envelope.data : [envelope.data]) as unknown[];
  if (!tasks.every((task) => z.safeParse(wireTaskSchema, task).success)) return undefined;
  return { envelope, tasks: tasks as WireTask[], list };
}
