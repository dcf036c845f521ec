/**
 * The three operations on the proxy's records: create exactly once, get and list a user's own tasks.
 * `createKlingAudioProxy` calls these after `authorize`; the vendor is reached only through `forward`.
 */
import type * as z from 'zod/mini';
import {
  isTerminalStatus,
  toWireCreateRequest,
  type createAudioTaskInputSchema,
  type WireTask,
} from '../../api/schemas';
import { recordKey as key } from '../core/keys';
import type { TaskRecordCache } from './recordCache';
import {
  SHARED_SPACE,
  type KlingTaskListFilter,
  type KlingTaskRecord,
  type KlingTaskStore,
} from '../core/taskStore';
import { base64url } from '../core/base64';
import { envelopeTasks, successEnvelope } from '../http/envelope';
import { succeed, type Reply } from '../http/reply';
import type { UpstreamContext } from '../vendor/upstream';

/** An answer as the proxy sends it. */
export type RecordReply = Reply;

/**
 * Calls the vendor for one request (its budget and signal): a path under the vendor's text-to-audio path
 * (`''`, `/{id}`, `?query`). Each operation takes it as its first argument.
 */
export type RecordForward = (
  method: 'GET' | 'POST',
  path: string,
  body: string | undefined,
) => Promise<RecordReply>;

/** What the record operations of one proxy share. */
export interface RecordContext {
  store: KlingTaskStore;
  fail: (status: number, code: number, message: string) => RecordReply;
  /** The upstream time bound: a create claimed longer ago than this (twice, for the token retry) is over. */
  timeoutMs: number;
  /** Creates in flight, shared across the operations made for each request of one proxy. */
  inFlight?: CreatesInFlight;
  /** The `callback_url` a create of this record carries (push), or none. */
  callbackUrl?: (record: KlingTaskRecord) => Promise<string>;
  /** The records this proxy lately read or wrote, shared like `inFlight`: lookups try it before the store. */
  cache?: TaskRecordCache;
  /** The vendor's external id of a new record (`createVendorExternalIds`). Defaults to the unkeyed one. */
  vendorExternalId?: (userId: string, externalTaskId: string) => Promise<string>;
}

/** Creates a process is making, by user and external id: a second tab's request waits for the first. */
export type CreatesInFlight = Map<string, Promise<unknown>>;

type CreateInput = z.output<typeof createAudioTaskInputSchema>;

// Pending records refreshed from the vendor at once while answering a list.
const REFRESH_CONCURRENCY = 8;
// How often a request waiting on another instance's create looks at the record again: soon at first,
// then less and less often (one wait per task however many requests wait on it).
const SETTLE_POLL_MS = 100;
const SETTLE_POLL_MAX_MS = 2000;

/** How long a request may wait for another's create, and its client's signal (it stops when either ends). */
export type RecordWait = Pick<UpstreamContext, 'deadline' | 'signal'>;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The vendor's external id for a user's browser external id, as it was derived before it was keyed: an
 * unkeyed hash of the pair. Records made then keep the id they were given (it is stored); new ones get
 * `createVendorExternalIds`'s.
 */
export async function vendorExternalId(userId: string, externalTaskId: string): Promise<string> {
  if (userId === SHARED_SPACE) return externalTaskId;
  const bytes = new TextEncoder().encode(JSON.stringify([userId, externalTaskId]));
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
  return `rka-${base64url(digest)}`;
}

// Domain separation: the same secret also seals callback tokens and signs the vendor's JWTs.
const VENDOR_ID_PURPOSE = 'react-kling-audio vendor external id v1\n';

/**
 * The vendor's external ids, keyed with the proxy's secret: an HMAC of (user, browser external id), so two
 * users' ids never meet at the vendor, the same pair always gives the same id (a retry after a restart
 * finds it), and nobody who sees the vendor's ids can confirm a guessed user id without the secret.
 * The shared space keeps the browser's id, as before records existed.
 */
export function createVendorExternalIds(secret: string) {
  const encoder = new TextEncoder();
  const key = crypto.subtle.importKey(
    'raw',
    encoder.encode(VENDOR_ID_PURPOSE + secret),
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['sign'],
  );
  return async (userId: string, externalTaskId: string): Promise<string> => {
    if (userId === SHARED_SPACE) return externalTaskId;
    const pair = encoder.encode(JSON.stringify([userId, externalTaskId]));
    return `rka-${base64url(new Uint8Array(await crypto.subtle.sign('HMAC', await key, pair)))}`;
  };
}

/**
 * True when two JSON values are equal, whatever the order of their keys: a record read back from jsonb
 * has its keys in PostgreSQL's order, not the vendor's, so comparing texts would see a change every time.
 */
function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const left = a as Record<string, unknown>;
  const right = b as Record<string, unknown>;
  const keys = Object.keys(left);
  if (keys.length !== Object.keys(right).length) return false;
  return keys.every((key) => Object.hasOwn(right, key) && sameJson(left[key], right[key]));
}

/** The vendor's task from a successful answer, or `undefined` for an error or a body that does not parse. */
function parseTask(reply: RecordReply): WireTask | undefined {
  const found = envelopeTasks(reply);
  return found && !found.list ? found.tasks[0] : undefined;
}

/** The task as the browser gets it: the vendor's object, with the browser's external id and the prompt. */
export function answeredTask(record: KlingTaskRecord): WireTask {
  const task = record.task!;
  // A task that waited in the queue keeps the id it was answered with (`rka_…`); the vendor's rides along.
  const vendorTaskId = record.vendorTaskId ?? task.task_id;
  const taskId = record.taskId ?? task.task_id;
  return {
    ...task,
    task_id: taskId,
    task_info: {
      ...task.task_info,
      external_task_id: record.externalTaskId,
      prompt: record.prompt,
      duration: String(record.duration),
      ...(vendorTaskId !== taskId && record.status !== 'queued' && { vendor_task_id: vendorTaskId }),
      ...(record.title && { title: record.title }),
      starred: record.starred === true,
      ...(record.groupId && { group_id: record.groupId }),
    } as WireTask['task_info'],
    // An edit is a change too: what compares states (the event log, the browser's cache) sees it as newer.
    updated_at: Math.max(task.updated_at, record.editedAt ?? 0),
  };
}

/**
 * What a deleted task's streams hear: the task as last answered, marked `task_info.deleted`, newer than
 * any state before it.
 */
export function deletedTask(record: KlingTaskRecord, now = Date.now()): WireTask | undefined {
  if (!record.task) return undefined;
  const task = answeredTask(record);
  return {
    ...task,
    task_info: { ...task.task_info, deleted: true } as WireTask['task_info'],
    updated_at: Math.max(now, task.updated_at + 1),
  };
}

/** Still waiting in the proxy's queue: the vendor has not heard of it, so there is nothing to ask it. */
const isWaiting = (record: KlingTaskRecord) => record.status === 'queued';

const ok = (data: unknown, from?: RecordReply): RecordReply => succeed(data, from);

const notFound = (context: RecordContext) => context.fail(404, 1203, 'Task not found.');

/** Runs `work` over `items`, at most `limit` at a time, in order of the answers. */
async function mapLimited<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>) {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** The record operations of one proxy, sharing its in-flight creates. */
export type RecordOperations = ReturnType<typeof createRecordOperations>;

/** The record operations of one proxy, made once: each takes the request's `forward`. */
export function createRecordOperations(context: RecordContext) {
  const { store, cache } = context;
  // Every record the store answers or writes is what the cache learns from, and nothing else.
  const known = <T extends KlingTaskRecord | undefined>(record: T): T => {
    if (record) cache?.remember(record);
    return record;
  };
  const inFlight: CreatesInFlight = context.inFlight ?? new Map();
  const claimMs = () => context.timeoutMs * 2 + 1000;
  const vendorIdOf = context.vendorExternalId ?? vendorExternalId;

  /** Asks the vendor for the record's task and keeps the answer; the vendor's error reply if it failed. */
  async function refresh(
    forward: RecordForward,
    record: KlingTaskRecord,
  ): Promise<KlingTaskRecord | RecordReply> {
    const vendorId = record.vendorTaskId ?? record.taskId;
    const path = vendorId
      ? `/${encodeURIComponent(vendorId)}`
      : `/${encodeURIComponent(record.vendorExternalTaskId)}`;
    const reply = await forward('GET', path, undefined);
    const task = parseTask(reply);
    if (!task) return reply;
    // Most polls of a pending task change nothing: no write then (and nothing for a watcher to hear).
    if (vendorId === task.task_id && sameJson(record.task, task)) return record;
    const updated = await store.updateTask(record.userId, record.externalTaskId, {
      // A task that waited keeps its own id; the vendor's is `vendorTaskId`.
      taskId: record.taskId ?? task.task_id,
      task,
    });
    return known(updated) ?? record;
  }

  // Waits on other instances' creates, one per (user, external id) however many requests wait on it.
  const waits = new Map<string, { waiters: number; stopped: boolean; done: Promise<KlingTaskRecord> }>();

  /** Reads the record until it has a task or its claim ran out, looking less and less often. */
  function sharedWait(record: KlingTaskRecord) {
    const id = key(record.userId, record.externalTaskId);
    const existing = waits.get(id);
    // A wait everyone left is ending: a newcomer starts its own.
    if (existing && !existing.stopped) return existing;
    const wait = { waiters: 0, stopped: false, done: Promise.resolve(record) };
    wait.done = (async () => {
      let current = record;
      let delay = SETTLE_POLL_MS;
      try {
        while (!wait.stopped && !current.taskId && (current.claimedUntil ?? 0) > Date.now()) {
          await sleep(Math.min(delay, current.claimedUntil! - Date.now()));
          delay = Math.min(delay * 2, SETTLE_POLL_MAX_MS);
          // Everyone waiting left (deadline or client gone): nobody needs the next read.
          if (wait.stopped) break;
          current = known(await store.findTask(current.userId, current.externalTaskId)) ?? current;
        }
        return current;
      } finally {
        if (waits.get(id) === wait) waits.delete(id);
      }
    })();
    waits.set(id, wait);
    return wait;
  }

  /** The shared wait's record, or `undefined` once this request's deadline passed or its client left. */
  function waitForOther(record: KlingTaskRecord, until: RecordWait): Promise<KlingTaskRecord | undefined> {
    const wait = sharedWait(record);
    wait.waiters++;
    return new Promise((resolve) => {
      let settled = false;
      const finish = (result: KlingTaskRecord | undefined) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        until.signal?.removeEventListener('abort', onAbort);
        if (--wait.waiters === 0 && result === undefined) wait.stopped = true;
        resolve(result);
      };
      const onAbort = () => finish(undefined);
      const timer = setTimeout(onAbort, Math.max(0, until.deadline - Date.now()));
      if (until.signal?.aborted) return finish(undefined);
      until.signal?.addEventListener('abort', onAbort);
      wait.done.then(finish, () => finish(undefined));
    });
  }

  /**
   * The record once no create is in flight for it: with its vendor task if the vendor has one (asked by
   * the derived external id when the create's answer was lost), without when nobody made it; `undefined`
   * when `until` ran out (its deadline, or its client left) while another instance was creating it.
   */
  async function settle(
    forward: RecordForward,
    record: KlingTaskRecord,
    until: RecordWait,
  ): Promise<KlingTaskRecord | undefined> {
    let current = record;
    for (;;) {
      if (current.taskId) return current;
      const pending = inFlight.get(key(current.userId, current.externalTaskId));
      if (pending) await pending.catch(() => {});
      // Another instance's create: wait for its answer or for its claim to run out.
      else if (current.claimedUntil !== undefined && current.claimedUntil > Date.now()) {
        const seen = await waitForOther(current, until);
        if (!seen) return undefined;
        current = seen;
        if (current.taskId || (current.claimedUntil ?? 0) <= Date.now()) break;
        continue;
      } else break;
      current = known(await store.findTask(current.userId, current.externalTaskId)) ?? current;
    }
    if (current.taskId) return current;
    // Nobody is creating it: the vendor may still have it, if an earlier answer was dropped.
    const found = await refresh(forward, current);
    return 'userId' in found ? found : current;
  }

  /** The answer when a request stopped waiting for another's create: its client left, or its time ran out. */
  const stoppedWaiting = (until: RecordWait): RecordReply =>
    until.signal?.aborted
      ? context.fail(499, 5000, 'The client closed the request.')
      : context.fail(504, 5002, 'The task is still being created by another request: try again.');

  /** The default wait of an operation given none: the proxy's own budget. */
  const budget = (): RecordWait => ({ deadline: Date.now() + context.timeoutMs });

  /** A record's task as a get answers it: from the record once finished, else refreshed from the vendor. */
  async function answer(
    forward: RecordForward,
    record: KlingTaskRecord,
    remembered = false,
  ): Promise<RecordReply> {
    if (!record.task) return notFound(context);
    if (isTerminalStatus(record.status)) return ok(answeredTask(record));
    if (isWaiting(record)) {
      // The queue moves it on (here or on another instance): the store knows, not this proxy's memory.
      const stored = remembered ? known(await store.findTask(record.userId, record.externalTaskId)) : record;
      if (stored && !isWaiting(stored)) return answer(forward, stored);
      return ok(answeredTask(stored ?? record));
    }
    const refreshed = await refresh(forward, record);
    if ('userId' in refreshed) return ok(answeredTask(refreshed));
    // The vendor failed, and the record came from this proxy's memory: another instance may have seen
    // the task end meanwhile, and a finished record is a better answer than the vendor's error.
    if (remembered) {
      const stored = known(await store.findTask(record.userId, record.taskId!));
      if (stored && stored.taskId === record.taskId && isTerminalStatus(stored.status))
        return answer(forward, stored);
    }
    return refreshed;
  }

  async function createAtVendor(
    forward: RecordForward,
    record: KlingTaskRecord,
    input: CreateInput,
  ): Promise<RecordReply> {
    const body = toWireCreateRequest({ ...input, externalTaskId: record.vendorExternalTaskId });
    if (context.callbackUrl) body.callback_url = await context.callbackUrl(record);
    else delete body.callback_url;
    const reply = await forward('POST', '', JSON.stringify(body));
    const created = parseTask(reply);
    let task = created;
    // 1201 on a create we validated: the vendor already has this external id (an answer lost earlier).
    if (!task && reply.code === 1201) {
      const found = await refresh(forward, record);
      if ('userId' in found && found.task) task = found.task;
    }
    const updated = known(
      await store.updateTask(
        record.userId,
        record.externalTaskId,
        task ? { taskId: task.task_id, task, claimedUntil: null } : { claimedUntil: null },
      ),
    );
    if (!task || !updated?.task) return reply;
    return ok(answeredTask(updated), created ? reply : undefined);
  }

  return {
    /** POST create: writes the record, then calls the vendor once per (user, external id). */
    async createTask(
      forward: RecordForward,
      userId: string,
      input: CreateInput,
      until: RecordWait = budget(),
    ): Promise<RecordReply> {
      const externalTaskId = input.externalTaskId ?? crypto.randomUUID();
      const id = key(userId, externalTaskId);
      for (let attempt = 0; attempt < 3; attempt++) {
        const now = Date.now();
        const claim = await store.claimTask({
          userId,
          externalTaskId,
          vendorExternalTaskId: await vendorIdOf(userId, externalTaskId),
          prompt: input.prompt,
          duration: input.duration,
          // Recorded, never forwarded: the vendor's body is built from the input without it.
          groupId: input.groupId,
          claimedUntil: now + claimMs(),
          createdAt: now,
        });
        let record = claim.record;
        if (!claim.created) {
          // The same external id with another prompt or duration is not a retry but another sound: the
          // record (and its bill) is of the first one, so this one is refused rather than answered.
          if (record.prompt !== input.prompt || record.duration !== input.duration) {
            return context.fail(
              409,
              1201,
              'This external_task_id was already used for another prompt or duration: use a new one.',
            );
          }
          // The same create again (another tab, or a retry after a dropped answer): the task that exists.
          const settled = await settle(forward, record, until);
          if (!settled) return stoppedWaiting(until);
          record = settled;
          if (record.task) return answer(forward, record);
          // Nobody made it and nobody is making it: take the create over, unless another request just did.
          const taken = await store.updateTask(
            userId,
            externalTaskId,
            { claimedUntil: Date.now() + claimMs() },
            { ifClaimedUntil: record.claimedUntil ?? null },
          );
          if (!taken) continue;
          record = taken;
        }
        const creating = createAtVendor(forward, record, input);
        inFlight.set(id, creating);
        try {
          return await creating;
        } finally {
          inFlight.delete(id);
        }
      }
      return context.fail(409, 1201, 'This task is being created by another request: try again.');
    },

    /** GET one task by its id or the browser's external id: the user's own record only. */
    async getTask(
      forward: RecordForward,
      userId: string,
      id: string,
      until: RecordWait = budget(),
    ): Promise<RecordReply | undefined> {
      // A pending task's poll: from this proxy's memory when it may be trusted, else from the store.
      const remembered = cache?.get(userId, id);
      const record = remembered ?? known(await store.findTask(userId, id));
      if (!record) return undefined;
      const settled = await settle(forward, record, until);
      if (!settled) return stoppedWaiting(until);
      return settled.task ? answer(forward, settled, settled === remembered) : notFound(context);
    },

    /** GET a page of the user's records, newest first, pending ones refreshed from the vendor. */
    async listTasks(
      forward: RecordForward,
      userId: string,
      page: { pageNum: number; pageSize: number },
      filter?: KlingTaskListFilter,
    ): Promise<RecordReply> {
      const records = (await store.listTasks(userId, page, filter)).map(known);
      const tasks = await mapLimited(records, REFRESH_CONCURRENCY, async (record) => {
        if (isTerminalStatus(record.status) || isWaiting(record)) return answeredTask(record);
        const refreshed = await refresh(forward, record);
        // A refresh that failed leaves the last known state on the page rather than failing the page.
        return answeredTask('userId' in refreshed ? refreshed : record);
      });
      return ok(tasks);
    },

    /**
     * PATCH one of the user's tasks (by its id or the browser's external id): a new name and/or star.
     * Answers it as a get does; `undefined` when the user has no such task.
     */
    async updateTask(
      forward: RecordForward,
      userId: string,
      id: string,
      changes: { title?: string | null; starred?: boolean },
    ): Promise<RecordReply | undefined> {
      const record = await store.findTask(userId, id);
      if (!record) return undefined;
      const updated = known(await store.updateTask(userId, record.externalTaskId, changes));
      if (!updated) return undefined;
      return updated.task ? answer(forward, updated) : notFound(context);
    },

    /**
     * DELETE one of the user's tasks: the record goes (a queued task is then never sent), and its kept
     * files with it. Answers the record as it was; `undefined` when the user has no such task.
     */
    async deleteTask(userId: string, id: string): Promise<KlingTaskRecord | undefined> {
      const record = await store.findTask(userId, id);
      if (!record) return undefined;
      const removed = await store.deleteTask!(userId, record.externalTaskId);
      if (!removed) return undefined;
      if (removed.taskId) {
        cache?.forget(userId, removed.taskId);
        await store.files?.deleteFiles?.(userId, removed.taskId);
      }
      return removed;
    },

    /** The shared space's list: the vendor's page, with the prompts of the tasks this proxy made. */
    async enrichList(reply: RecordReply): Promise<RecordReply> {
      const data = successEnvelope(reply)?.data;
      // Read item by item below: one unreadable task must not hide a whole page.
      if (!Array.isArray(data)) return reply;
      const tasks = data as WireTask[];
      const records = await store.findTasks(
        SHARED_SPACE,
        tasks.map((task) => task.task_id),
      );
      if (records.length === 0) return reply;
      const byId = new Map(records.map((record) => [record.taskId, record]));
      return ok(
        tasks.map((task) => {
          const record = byId.get(task.task_id);
          return record ? answeredTask({ ...record, task }) : task;
        }),
        reply,
      );
    },
  };
}
