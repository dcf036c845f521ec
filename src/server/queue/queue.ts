/**
 * The fair queue in front of the account's parallel limit, and the users' limits. The store is the queue
 * (see `KlingQueueStore`): this module decides when to look at it. A create is admitted (or refused with
 * 2001–2003) and recorded as `queued`, then the dispatch sends what the account has room for: on the
 * create's own request, when a slot frees (a task seen ending, here or by another instance through the
 * store's notifications), and on a slow safety tick. Nothing here polls in a tight loop.
 */
import type { WireTask } from '../../api/schemas';
import { isTerminalStatus } from '../../api/schemas';
import { canQueue, type KlingQueueingTaskStore, type KlingQueueStore } from '../core/queueStore';
import type { KlingTaskRecord, KlingTaskStore } from '../core/taskStore';
import { succeed, type Reply } from '../http/reply';
import {
  DEFAULT_QUEUED,
  planFor,
  refusalReply,
  toAdmission,
  windowBounds,
  type KlingProxyLimits,
} from './limits';

/** An answer as the proxy sends it. */
export type QueueReply = Reply;

export interface TaskQueueContext {
  store: KlingQueueingTaskStore;
  limits: KlingProxyLimits;
  /** The vendor's external id for a (user, browser external id). */
  vendorExternalId: (userId: string, externalTaskId: string) => Promise<string>;
  /** Sends the record's create to the vendor: the answer, and the task in it when it is one. */
  send: (record: KlingTaskRecord) => Promise<{ reply: QueueReply; task?: WireTask }>;
  /** Asks the vendor for the record's task by its derived external id (a send whose answer was lost). */
  lookUp: (record: KlingTaskRecord) => Promise<WireTask | undefined>;
  /** Refreshes a record's task from the vendor (the safety tick's check of tasks nobody asks about). */
  refresh: (record: KlingTaskRecord) => Promise<unknown>;
  /** A record as a create answers it. */
  answer: (record: KlingTaskRecord) => QueueReply;
  /** A create that exists already (the same browser external id): answered as a get answers it. */
  existing: (record: KlingTaskRecord) => Promise<QueueReply>;
  /** Keeps background work alive where the host would stop it. */
  waitUntil?: (work: Promise<unknown>) => void;
  /** How long a send may take before another instance may take the task over. */
  claimMs: number;
  /** The slow safety tick, in ms. Defaults to `5000`. */
  tickMs?: number;
}

/** A 1303 lowers the learned limit to what was in flight; this many clean sends raise it by one. */
const RAISE_AFTER = 20;
// A send that failed without an answer (network, 5xx): tried again after this long (the vendor refuses a
// second task with the same external id, so a send that did arrive is found, not repeated).
const RESEND_AFTER_MS = 2000;
// Tasks at the vendor whose record nobody refreshed for this long are checked by the safety tick.
const STALE_MS = 10_000;

const taskInfo = (task: WireTask | undefined) =>
  (task?.task_info ?? {}) as NonNullable<WireTask['task_info']> & { queue_position?: number };

/** The task a waiting record answers: the proxy's id, `queued`, and its place in line. */
export function queuedTask(
  record: Pick<KlingTaskRecord, 'taskId' | 'createdAt'>,
  position: number,
  now: number,
): WireTask {
  return {
    task_id: record.taskId!,
    task_status: 'queued',
    task_status_msg: '',
    task_info: { queue_position: position } as WireTask['task_info'],
    created_at: record.createdAt,
    updated_at: now,
  };
}

/** A waiting record's own failure (a send the vendor refused for good): the vendor's reason. */
function failedTask(record: KlingTaskRecord, message: string, now: number): WireTask {
  return {
    task_id: record.taskId!,
    task_status: 'failed',
    task_status_msg: message,
    created_at: record.createdAt,
    updated_at: now,
  };
}

function messageOf(reply: QueueReply): string {
  try {
    const message = (JSON.parse(reply.body) as { message?: unknown }).message;
    if (typeof message === 'string' && message) return message;
  } catch {
    // Not the vendor's envelope.
  }
  return `The audio service refused the task (HTTP ${reply.status}).`;
}

export type TaskQueue = ReturnType<typeof createTaskQueue>;

/** The account as `readKlingAccount` answers it. */
export interface KlingAccountState {
  /** Tasks at the vendor now (being sent included), across every user and instance. */
  running: number;
  /** Tasks waiting in the queue. */
  waiting: number;
  /** The parallel limit in force (`undefined`: none yet), and whether it was learned from 1303. */
  limit: { max: number | undefined; learned: boolean };
  /** Units of tasks created today (UTC), pending ones at the estimate. */
  units: number;
}

/** The account's parallel limit as configured: a number, or `'auto'`. Throws on anything else. */
function accountParallel(limits: KlingProxyLimits): number | 'auto' {
  const parallel = limits.account?.parallel ?? 'auto';
  if (parallel !== 'auto' && !(Number.isInteger(parallel) && parallel >= 1)) {
    throw new TypeError("limits: `account.parallel` must be a whole number ≥ 1 or 'auto'.");
  }
  return parallel;
}

async function accountState(queue: KlingQueueStore, parallel: number | 'auto'): Promise<KlingAccountState> {
  const now = Date.now();
  const figures = await queue.account(windowBounds('day', now).start, now);
  const max = parallel === 'auto' ? (await queue.learnedLimit())?.limit : parallel;
  return {
    running: figures.running,
    waiting: figures.waiting,
    limit: { max, learned: parallel === 'auto' && max !== undefined },
    units: Math.round(figures.units * 1000) / 1000,
  };
}

/**
 * The account as every proxy instance on `store` shares it, for an app's admin page or metrics: tasks at
 * the vendor and waiting, the parallel limit in force (and whether it was learned from 1303), and the
 * units of today's tasks (UTC; pending ones at the recent average).
 *
 * @example
 * const account = await readKlingAccount({ store, limits });
 * metrics.gauge('kling.waiting', account.waiting);
 */
export async function readKlingAccount({
  store,
  limits = {},
}: {
  store: KlingTaskStore;
  limits?: KlingProxyLimits;
}): Promise<KlingAccountState> {
  if (!canQueue(store)) throw new TypeError('readKlingAccount: this store has no queue.');
  return accountState(store.queue, accountParallel(limits));
}

export function createTaskQueue(context: TaskQueueContext) {
  const { store, limits } = context;
  const queue = store.queue;
  const parallel = accountParallel(limits);

  let running: Promise<void> | undefined;
  let again = false;
  let dirty = false;
  let lastDispatch = 0;
  let timer: ReturnType<typeof setInterval> | undefined;
  let unsubscribe: (() => void) | undefined;

  async function estimate(): Promise<number> {
    return (await queue.account(windowBounds('day', Date.now()).start, Date.now())).averageUnits ?? 1;
  }

  async function currentLimit(): Promise<number | undefined> {
    if (parallel !== 'auto') return parallel;
    return (await queue.learnedLimit())?.limit;
  }

  /** Sends one claimed record; answers whether the dispatch may go on (false after a 1303). */
  async function sendOne(record: KlingTaskRecord): Promise<boolean> {
    const { userId, externalTaskId } = record;
    let outcome: Awaited<ReturnType<TaskQueueContext['send']>>;
    try {
      outcome = await context.send(record);
    } catch {
      outcome = { reply: { status: 0, body: '', code: undefined, requestId: undefined } };
    }
    let task = outcome.task;
    const { reply } = outcome;
    // 1201 on a body we validated: the vendor has this external id already (an earlier answer was lost).
    if (!task && reply.code === 1201) task = await context.lookUp(record).catch(() => undefined);
    const now = Date.now();
    if (task) {
      await store.updateTask(userId, externalTaskId, {
        task,
        vendorTaskId: task.task_id,
        sentAt: now,
        claimedUntil: null,
      });
      if (parallel === 'auto') {
        const learned = await queue.learnedLimit();
        if (learned) {
          const cleanSends = learned.cleanSends + 1;
          await queue.setLearnedLimit(
            cleanSends >= RAISE_AFTER
              ? { limit: learned.limit + 1, cleanSends: 0 }
              : { limit: learned.limit, cleanSends },
          );
        }
      }
      return true;
    }
    if (reply.code === 1303) {
      // The account is full: back in line (its place kept), and with 'auto' the limit is what is in flight.
      await store.updateTask(userId, externalTaskId, { claimedUntil: null });
      if (parallel === 'auto') {
        const { running: inFlight } = await queue.account(now, now);
        await queue.setLearnedLimit({ limit: Math.max(1, inFlight), cleanSends: 0 });
      }
      return false;
    }
    if (reply.status === 0 || reply.status >= 500 || reply.status === 429) {
      // No answer, or a passing one: the task stays in line and is sent again shortly.
      await store.updateTask(userId, externalTaskId, { claimedUntil: now + RESEND_AFTER_MS });
      return true;
    }
    // Refused for good (policy, parameters, the account itself): the task ends, as the vendor says why.
    await store.updateTask(userId, externalTaskId, {
      task: failedTask(record, messageOf(reply), now),
      claimedUntil: null,
    });
    return true;
  }

  /** Writes each waiting record's place in line where it changed (push announces each change). */
  async function refreshPositions(): Promise<void> {
    const now = Date.now();
    for (const { record, position } of await queue.waiting(now)) {
      if (taskInfo(record.task).queue_position === position) continue;
      await store.updateTask(record.userId, record.externalTaskId, {
        task: queuedTask(record, position, now),
      });
    }
  }

  async function round(): Promise<void> {
    let sent = 0;
    const sends: Promise<boolean>[] = [];
    let full = false;
    while (!full) {
      const now = Date.now();
      const limit = await currentLimit();
      const record = await queue.claimNext({ limit, now, claimUntil: now + context.claimMs });
      if (!record) break;
      sent++;
      // Sends run side by side; a 1303 on any stops taking more.
      sends.push(sendOne(record).then((goOn) => ((full ||= !goOn), goOn)));
      // Without a known limit each send must be seen through before the next: a 1303 is how we learn it.
      if (limit === undefined) await sends[sends.length - 1];
    }
    await Promise.all(sends);
    if (sent > 0 || dirty) {
      dirty = false;
      await refreshPositions();
      if (sent > 0) await queue.notify?.();
    }
  }

  /** Sends what the account has room for. One dispatch at a time per process; a call during one runs it again. */
  function dispatch(): Promise<void> {
    lastDispatch = Date.now();
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      do {
        again = false;
        await round();
      } while (again);
    })().finally(() => {
      running = undefined;
    });
    return running;
  }

  /** A dispatch in the background: kept alive by `waitUntil` where the host offers it. */
  function dispatchSoon(): void {
    if (closed) return;
    const work = dispatch().catch(() => {});
    context.waitUntil?.(work);
  }

  /** The safety tick: a dispatch, and a look at tasks at the vendor nobody has asked about lately. */
  async function tick(): Promise<void> {
    const now = Date.now();
    for (const record of await queue.stale(now - STALE_MS, 8)) {
      await context.refresh(record).catch(() => {});
    }
    await dispatch();
  }

  let closed = false;
  function start(): void {
    if (timer || closed) return;
    timer = setInterval(() => void tick().catch(() => {}), context.tickMs ?? 5000);
    // Never what keeps a process alive.
    (timer as { unref?: () => void }).unref?.();
    unsubscribe = queue.subscribe?.(() => dispatchSoon());
  }

  return {
    /** POST create with limits on: admitted and recorded as `queued`, then sent if the account has room. */
    async create(
      userId: string,
      input: { prompt: string; duration: number; externalTaskId?: string },
    ): Promise<QueueReply> {
      start();
      const now = Date.now();
      const plan = await planFor(limits, userId);
      const externalTaskId = input.externalTaskId ?? crypto.randomUUID();
      const taskId = `rka_${crypto.randomUUID().replaceAll('-', '')}`;
      const result = await queue.enqueue(
        {
          userId,
          externalTaskId,
          vendorExternalTaskId: await context.vendorExternalId(userId, externalTaskId),
          prompt: input.prompt,
          duration: input.duration,
          createdAt: now,
          queueId: taskId,
          task: queuedTask({ taskId, createdAt: now }, 0, now),
        },
        toAdmission(plan, now, await estimate()),
      );
      if ('refused' in result) return refusalReply(result.refused, plan, now);
      if (!result.created) return context.existing(result.record);
      dirty = true;
      await queue.notify?.();
      await dispatch();
      let record = (await store.findTask(userId, externalTaskId)) ?? result.record;
      // Sent before the browser heard of it: the task is known by the vendor's id from the start (its
      // `rka_` id still finds it).
      if (record.vendorTaskId && record.taskId === record.queueId) {
        record = (await store.updateTask(userId, externalTaskId, { taskId: record.vendorTaskId })) ?? record;
      }
      return context.answer(record);
    },

    /** `GET {basePath}/usage`: the user's figures against their plan. */
    async usage(userId: string): Promise<QueueReply> {
      const now = Date.now();
      const plan = await planFor(limits, userId);
      const today = windowBounds('day', now);
      const tasksWindow = plan.tasks ? windowBounds(plan.tasks.window, now) : undefined;
      const unitsWindow = plan.units ? windowBounds(plan.units.window, now) : undefined;
      const figures = await queue.usage(
        userId,
        { tasks: (tasksWindow ?? today).start, units: (unitsWindow ?? today).start },
        await estimate(),
        now,
      );
      const quota = (used: number, limit: typeof plan.tasks, window: typeof tasksWindow) => ({
        used: Math.round(used * 1000) / 1000,
        ...(limit && window && { max: limit.max, resets_at: window.end, window: limit.window }),
      });
      return succeed({
        tasks: quota(figures.tasks, plan.tasks, tasksWindow),
        units: quota(figures.units, plan.units, unitsWindow),
        parallel: { running: figures.running, ...(plan.parallel !== undefined && { max: plan.parallel }) },
        queued: { count: figures.queued, max: plan.queued ?? DEFAULT_QUEUED },
      });
    },

    /** A record changed (any instance's update seen here): a task that ended frees a slot. */
    changed(record: KlingTaskRecord): void {
      if (record.sentAt !== undefined && isTerminalStatus(record.status)) {
        dirty = true;
        dispatchSoon();
      }
    },

    /** A record left the line (deleted): the places behind it move up. */
    removed(): void {
      dirty = true;
      dispatchSoon();
    },

    /**
     * On every request: hosts without long-lived processes have no tick, so requests drive the dispatch
     * (at most once a second).
     */
    poke(): void {
      start();
      if (Date.now() - lastDispatch >= 1000) dispatchSoon();
    },

    dispatch,

    /** The account as every instance shares it. */
    account: (): Promise<KlingAccountState> => accountState(queue, parallel),

    /** Stops the tick and the notifications, then waits for a dispatch under way. */
    async close(): Promise<void> {
      closed = true;
      clearInterval(timer);
      timer = undefined;
      unsubscribe?.();
      await running?.catch(() => {});
    },
  };
}
