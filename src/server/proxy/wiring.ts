/**
 * The composition root: the features (records, push, keeping) built from the options and wired to each
 * other through the store and small functions, never by importing each other.
 */
import { TEXT_TO_AUDIO_PATH } from '../../api/client';
import { toWireCreateRequest } from '../../api/schemas';
import { canQueue } from '../core/queueStore';
import {
  observeTaskUpdates,
  SHARED_SPACE,
  type KlingTaskRecord,
  type KlingTaskStore,
} from '../core/taskStore';
import { fail, succeed } from '../http/reply';
import { createTaskQueue, type TaskQueue } from '../queue/queue';
import { keepingFor, observeSucceeded } from '../keep/keeping';
import type { CallbackRef } from '../push/callbacks';
import { createPushRoutes, taskOfReply, type PushTaskRef } from '../push/push';
import { createTaskRecordCache } from '../records/recordCache';
import {
  answeredTask,
  createRecordOperations,
  createVendorExternalIds,
  type CreatesInFlight,
  type RecordForward,
} from '../records/records';
import { createMemoryTaskEventLog } from '../storage/memory/eventLog';
import { createMemoryTaskStore } from '../storage/memory/taskStore';
import { createUpstream, type UpstreamContext } from '../vendor/upstream';
import type { KlingAudioProxyOptions, ResolvedProxyOptions } from './options';
import { createLimiter } from './rateLimit';

export type ProxyWiring = ReturnType<typeof wire>;

/** How many tasks created without records (`store: false`) are remembered for their callbacks. */
const CREATED_KEPT = 10_000;

/** A `Map` that forgets its oldest entry once it holds more than `max`. */
function boundedMap<K, V>(max: number): Map<K, V> {
  const map = new Map<K, V>();
  const set = map.set.bind(map);
  map.set = (key, value) => {
    map.delete(key);
    set(key, value);
    if (map.size > max) map.delete(map.keys().next().value!);
    return map;
  };
  return map;
}

// The per-token callback limit: a task sends a few callbacks (each change, and the vendor's retries).
const CALLBACK_WINDOW_MS = 60_000;
const CALLBACKS_PER_WINDOW = 20;

/**
 * A record as its callbacks name it: by the vendor's task id. A task that waited in the queue has its own
 * id (`rka_…`), and none of the vendor's until its send is written down.
 */
function calledBack(record: KlingTaskRecord): PushTaskRef {
  const waited = record.queueId !== undefined && record.taskId === record.queueId;
  return { ...record, taskId: record.vendorTaskId ?? (waited ? undefined : record.taskId) };
}

/** The task a callback token names: in the store, or (`store: false`) among this instance's creates. */
async function findCalledBack(
  store: KlingTaskStore | false,
  created: Map<string, { taskId?: string }>,
  ref: CallbackRef,
): Promise<PushTaskRef | undefined> {
  if ('vendorExternalTaskId' in ref) {
    const record = store ? await store.findTaskByVendorExternalId?.(ref.vendorExternalTaskId) : undefined;
    return record && record.userId !== SHARED_SPACE ? calledBack(record) : undefined;
  }
  const { userId, externalTaskId } = ref;
  if (!store) {
    const task = userId === SHARED_SPACE ? created.get(externalTaskId) : undefined;
    return task && { ...task, userId, externalTaskId, vendorExternalTaskId: externalTaskId };
  }
  const record = await store.findTask(userId, externalTaskId);
  return record && record.externalTaskId === externalTaskId ? calledBack(record) : undefined;
}

/** Builds what every request of one proxy shares. */
export function wire(options: KlingAudioProxyOptions, resolved: ResolvedProxyOptions) {
  const { accessKey, secretKey, apiKey } = options;
  const { upstream, basePath, timeoutMs } = resolved;
  const limit = options.rateLimit && createLimiter(options.rateLimit);
  // The proxy's own secret: callback tokens are sealed and vendor external ids keyed with it.
  const proxySecret = (options.callbackSecret ?? secretKey ?? apiKey)!;
  // The vendor's external ids, keyed with that secret (records and the queue derive them alike).
  const vendorIds = createVendorExternalIds(proxySecret);
  const baseStore = options.store ?? createMemoryTaskStore();
  // Kept files are linked on the proxy's public origin when it is known: behind a load balancer that ends
  // TLS, the request's own origin is the internal one (http://10.0.0.7:3000), which no browser can use.
  const publicOrigin = options.callbackUrl ? new URL(options.callbackUrl).origin : undefined;
  const keptOrigin = (url: URL) => publicOrigin ?? url.origin;
  const keeping = keepingFor(options.keepAudio, baseStore, options.store !== undefined, basePath);
  // With keeping on, every change that leaves a record succeeded starts keeping its files.
  const keptStore = keeping && baseStore ? observeSucceeded(baseStore, keeping) : baseStore;

  const { forward, useTransport } = createUpstream({
    apiKey,
    accessKey,
    secretKey,
    fetch: options.fetch,
    timeoutMs,
  });

  // Push: every change to a record goes through the store's `updateTask`, so that is where it is announced.
  const pushedStore: KlingTaskStore | false =
    keptStore && options.callbackUrl
      ? observeTaskUpdates(keptStore, (record) => {
          if (record.task) push?.publish(record.userId, record.externalTaskId, answeredTask(record));
        })
      : keptStore;
  // The queue: a task seen ending (by anyone's lookup, a list, a callback) frees a slot for the next one.
  const store: KlingTaskStore | false =
    pushedStore && options.limits
      ? observeTaskUpdates(pushedStore, (record) => queue?.changed(record))
      : pushedStore;
  // Creates in flight in this process, shared by every request's record operations (a second tab waits).
  const inFlight: CreatesInFlight = new Map();
  // What this process lately read or wrote of the records, so polls of a pending task skip the database.
  const cache = createTaskRecordCache();
  /** The record operations, made once (each takes the request's `forward`); none without a store. */
  const records =
    store === false
      ? undefined
      : createRecordOperations({
          store,
          fail,
          timeoutMs,
          inFlight,
          cache,
          vendorExternalId: vendorIds,
          callbackUrl: options.callbackUrl
            ? (record): Promise<string> =>
                push!.callbackUrlFor(record.userId, record.externalTaskId, record.vendorExternalTaskId)
            : undefined,
        });
  /** Vendor calls under the text-to-audio path within one request's budget and signal. */
  const forwardFor =
    (context: UpstreamContext): RecordForward =>
    (method, path, body) =>
      forward(method, upstream + TEXT_TO_AUDIO_PATH + path, body, context);
  const queue = options.limits && store && records ? queueFor(store, records) : undefined;
  function queueFor(queueStore: KlingTaskStore, operations: NonNullable<typeof records>): TaskQueue {
    if (!canQueue(queueStore)) {
      throw new TypeError(
        'createKlingAudioProxy: `limits` need a store with a queue (memory, PGlite, PostgreSQL).',
      );
    }
    // Sends and lookups of the queue belong to no browser's request: the proxy's own budget each.
    const own = () => forwardFor({ deadline: Date.now() + timeoutMs });
    const taskOf = async (record: KlingTaskRecord, path: string, body?: string) => {
      const reply = await own()(body === undefined ? 'GET' : 'POST', path, body);
      return { reply, task: taskOfReply(reply) };
    };
    return createTaskQueue({
      store: queueStore,
      limits: options.limits!,
      vendorExternalId: vendorIds,
      send: async (record) => {
        const body = toWireCreateRequest({
          prompt: record.prompt,
          duration: record.duration,
          externalTaskId: record.vendorExternalTaskId,
        });
        if (push) {
          body.callback_url = await push.callbackUrlFor(
            record.userId,
            record.externalTaskId,
            record.vendorExternalTaskId,
          );
        }
        return taskOf(record, '', JSON.stringify(body));
      },
      lookUp: async (record) =>
        (await taskOf(record, `/${encodeURIComponent(record.vendorExternalTaskId)}`)).task,
      refresh: (record) => operations.getTask(own(), record.userId, record.externalTaskId),
      answer: (record) => succeed(answeredTask(record)),
      existing: async (record) =>
        (await operations.getTask(own(), record.userId, record.externalTaskId)) ??
        fail(404, 1203, 'Task not found.'),
      waitUntil: options.waitUntil,
      claimMs: timeoutMs * 2 + 1000,
    });
  }

  // Without records (`store: false`, the shared space only), the tasks this instance created, for callbacks:
  // the newest `CREATED_KEPT` only (a callback comes within minutes of its create, not after thousands more).
  const created = boundedMap<string, { taskId?: string }>(CREATED_KEPT);
  const push: ReturnType<typeof createPushRoutes> | undefined = options.callbackUrl
    ? createPushRoutes({
        callbackUrl: options.callbackUrl,
        secret: `callbacks:${proxySecret}`,
        // On a database store, the log defaults to that database: instances sharing the store then share
        // their streams' events without an option to forget.
        events:
          options.events ?? (baseStore ? baseStore.eventLog?.() : undefined) ?? createMemoryTaskEventLog(),
        waitUntil: options.waitUntil,
        ...options.eventStream,
        webhookSecret: options.webhookSecret,
        // A token calling more often than a task changes is not the vendor's retry: 429 past this.
        limitCallback: createLimiter({
          windowMs: CALLBACK_WINDOW_MS,
          max: CALLBACKS_PER_WINDOW,
          key: (request) => new URL(request.url).pathname,
        }),
        // Each event's task as a get answers it: with its kept copies' URLs once they are kept. With push
        // on, the public origin is `callbackUrl`'s, the same for every stream.
        present: keeping
          ? async (owner, task) => (await keeping.present(owner, [task], publicOrigin!))[0]!
          : undefined,
        findsByVendorId: Boolean(store && store.findTaskByVendorExternalId),
        find: (ref) => findCalledBack(store, created, ref),
        refresh: async (userId, externalTaskId): Promise<unknown> => {
          // A callback has no browser behind it: the proxy's own budget, nothing to cancel it.
          const context: UpstreamContext = { deadline: Date.now() + timeoutMs };
          if (records) return records.getTask(forwardFor(context), userId, externalTaskId);
          const reply = await forward(
            'GET',
            `${upstream}${TEXT_TO_AUDIO_PATH}/${encodeURIComponent(externalTaskId)}`,
            undefined,
            context,
          );
          const task = taskOfReply(reply);
          if (task) push!.publish(SHARED_SPACE, externalTaskId, task);
        },
      })
    : undefined;

  /** The user `authorize` names: their id, `SHARED_SPACE` for `true`, `undefined` for a refusal. */
  async function identify(request: Request): Promise<string | undefined> {
    try {
      const who = await options.authorize(request);
      if (who === true) return SHARED_SPACE;
      if (typeof who === 'string' && who !== '') return who;
    } catch {
      // Fails closed: an error in the app's check is a refusal.
    }
    return undefined;
  }

  let warned = options.store !== undefined;
  /** Says once, at the first request, what records kept in one process's memory cost the users. */
  const warnIfInMemory = () => {
    if (warned) return;
    warned = true;
    console.warn(
      'react-kling-audio: task records are kept in this process’s memory (no `store` given). A restart forgets every user’s history, and with several instances or on serverless a task created on one instance is a 404 and missing from the list on another. Pass `store: createPostgresTaskStore(db)` (PGlite for one machine, a pg Pool for several).',
    );
  };

  return {
    ...resolved,
    options,
    limit,
    store,
    keeping,
    push,
    forward,
    useTransport,
    records,
    queue,
    forwardFor,
    created,
    keptOrigin,
    identify,
    warnIfInMemory,
  };
}
