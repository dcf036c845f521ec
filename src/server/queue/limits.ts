/**
 * The proxy's limits: the account's parallel tasks and each user's plan, the UTC-aligned windows they
 * count in, and the 429 answers (2001–2003) a create gets past them.
 */
import type { Admission, QueueLimitName, QueueRefusal } from '../core/queueStore';

/** A limit's window, aligned to UTC: an hour, a day from 00:00 UTC, a week from Monday, a month from the 1st. */
export type LimitWindow = 'hour' | 'day' | 'week' | 'month';

/** One user's limits (a plan). */
export interface UserLimits {
  /** This user's tasks at the vendor at once. Defaults to no limit. */
  parallel?: number;
  /** This user's tasks waiting in the queue at most; the next create gets 429, code 2003. Defaults to `20`. */
  queued?: number;
  /** Creates per window; past it, 429 with code 2001 until the window resets. Defaults to no limit. */
  tasks?: { max: number; window: LimitWindow };
  /**
   * Vendor units per window (a pending task counts at the account's recent average, else 1, until the
   * vendor's `final_unit_deduction` settles it); past it, 429 with code 2002. Defaults to no limit.
   */
  units?: { max: number; window: LimitWindow };
}

/** `limits` of `createKlingAudioProxy`: one account, many users. */
export interface KlingProxyLimits {
  account?: {
    /**
     * Tasks at the vendor at once, across every user and instance. `'auto'`: no cap until the vendor
     * answers 1303, then what was in flight, raised by one after every 20 clean sends. Defaults to `'auto'`.
     */
    parallel?: number | 'auto';
  };
  /** Every user's plan, or a function giving each user's (e.g. from your billing). Defaults to `{}`. */
  user?: UserLimits | ((userId: string) => UserLimits | Promise<UserLimits>);
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** Where the window holding `now` starts and ends (ms since the epoch, UTC). */
export function windowBounds(window: LimitWindow, now: number): { start: number; end: number } {
  const date = new Date(now);
  const y = date.getUTCFullYear();
  const m = date.getUTCMonth();
  switch (window) {
    case 'hour': {
      const start = Math.floor(now / HOUR) * HOUR;
      return { start, end: start + HOUR };
    }
    case 'day': {
      const start = Date.UTC(y, m, date.getUTCDate());
      return { start, end: start + DAY };
    }
    case 'week': {
      // ISO weeks start on Monday.
      const start = Date.UTC(y, m, date.getUTCDate()) - ((date.getUTCDay() + 6) % 7) * DAY;
      return { start, end: start + 7 * DAY };
    }
    case 'month':
      return { start: Date.UTC(y, m, 1), end: Date.UTC(y, m + 1, 1) };
  }
}

/** The default number of tasks a user may have waiting. */
export const DEFAULT_QUEUED = 20;

/** Checks a plan once, so a mistake in the app's function is a clear error, not a silent "no limit". */
function checkPlan(plan: UserLimits): UserLimits {
  const whole = (value: unknown, min: number) => Number.isInteger(value) && (value as number) >= min;
  const windows = ['hour', 'day', 'week', 'month'];
  if (plan.parallel !== undefined && !whole(plan.parallel, 1))
    throw new TypeError('limits: `parallel` must be a whole number ≥ 1.');
  if (plan.queued !== undefined && !whole(plan.queued, 0))
    throw new TypeError('limits: `queued` must be a whole number ≥ 0.');
  for (const name of ['tasks', 'units'] as const) {
    const limit = plan[name];
    if (limit === undefined) continue;
    const maxOk = name === 'tasks' ? whole(limit.max, 0) : Number.isFinite(limit.max) && limit.max >= 0;
    if (!maxOk || !windows.includes(limit.window)) {
      throw new TypeError(`limits: \`${name}\` must be { max, window: 'hour' | 'day' | 'week' | 'month' }.`);
    }
  }
  return plan;
}

/** The user's plan, from the option (a plan, a function, or none). */
export async function planFor(limits: KlingProxyLimits, userId: string): Promise<UserLimits> {
  const { user } = limits;
  return checkPlan((typeof user === 'function' ? await user(userId) : user) ?? {});
}

/** The plan as the store checks it at `now`, pending units counted at `estimate`. */
export function toAdmission(plan: UserLimits, now: number, estimate: number): Admission {
  const admission: Admission = { queued: plan.queued ?? DEFAULT_QUEUED };
  if (plan.parallel !== undefined) admission.parallel = plan.parallel;
  if (plan.tasks)
    admission.tasks = { max: plan.tasks.max, since: windowBounds(plan.tasks.window, now).start };
  if (plan.units) {
    admission.units = { max: plan.units.max, since: windowBounds(plan.units.window, now).start, estimate };
  }
  return admission;
}

const REFUSALS: Record<QueueLimitName, { code: number; message: string }> = {
  tasks: { code: 2001, message: 'The task quota of this window is used.' },
  units: { code: 2002, message: 'The unit quota of this window is used.' },
  queued: { code: 2003, message: 'Too many tasks are waiting in the queue.' },
};

/** The 429 a refused create gets: its code, `Retry-After` (2001/2002) and `data: { limit, max, used, resets_at }`. */
export function refusalReply(refusal: QueueRefusal, plan: UserLimits, now: number) {
  const { code, message } = REFUSALS[refusal.limit];
  const window = refusal.limit === 'queued' ? undefined : plan[refusal.limit]?.window;
  const resetsAt = window ? windowBounds(window, now).end : undefined;
  const requestId = crypto.randomUUID();
  const headers: Record<string, string> = { 'x-request-id': requestId };
  if (resetsAt !== undefined)
    headers['retry-after'] = String(Math.max(1, Math.ceil((resetsAt - now) / 1000)));
  return {
    status: 429,
    body: JSON.stringify({
      code,
      message,
      request_id: requestId,
      data: { limit: refusal.limit, max: refusal.max, used: refusal.used, resets_at: resetsAt ?? null },
    }),
    headers,
    code,
    requestId,
  };
}
