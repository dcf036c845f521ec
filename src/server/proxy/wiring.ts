/**
 * The composition root: the features (records, push, keeping) built from the options and wired to each
 * other through the store and small functions, never by importing each other.
 */
import { TEXT_TO_AUDIO_PATH } from '../../api/client';
import { observeTaskUpdates, SHARED_SPACE, type KlingTaskStore } from '../core/taskStore';
import { fail } from '../http/reply';
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

// The per-token callback limit: a task sends a few callbacks (each change, and the vendor's retries).
const CALLBACK_WINDOW_MS = 60_000;
const CALLBACKS_PER_WINDOW = 20;

/** The task a callback token names: in the store, or (`store: false`) among this instance's creates. */
async function findCalledBack(
  store: KlingTaskStore | false,
  created: Map<string, { taskId?: string }>,
  ref: CallbackRef,
): Promise<PushTaskRef | undefined> {
  if ('vendorExternalTaskId' in ref) {
    const record = store ? await store.findTaskByVendorExternalId?.(ref.vendorExternalTaskId) : undefined;
    return record && record.userId !== SHARED_SPACE ? record : undefined;
  }
  const { userId, externalTaskId } = ref;
  if (!store) {
    const task = userId === SHARED_SPACE ? created.get(externalTaskId) : undefined;
    return task && { ...task, userId, externalTaskId, vendorExternalTaskId: externalTaskId };
  }
  const record = await store.findTask(userId, externalTaskId);
  return record && record.externalTaskId === externalTaskId ? record : undefined;
}

/** Builds what every request of one proxy shares. */
export function wire(options: KlingAudioProxyOptions, resolved: ResolvedProxyOptions) {
  const { accessKey, secretKey, apiKey } = options;
  const { upstream, basePath, timeoutMs } = resolved;
  const limit = options.rateLimit && createLimiter(options.rateLimit);
  // The proxy's own secret: callback tokens are sealed and vendor external ids keyed with it.
  const proxySecret = (options.callbackSecret ?? secretKey ?? apiKey)!;
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
  const store: KlingTaskStore | false =
    keptStore && options.callbackUrl
      ? observeTaskUpdates(keptStore, (record) => {
          if (record.task) push?.publish(record.userId, record.externalTaskId, answeredTask(record));
        })
      : keptStore;
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
          vendorExternalId: createVendorExternalIds(proxySecret),
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
  // Without records (`store: false`, the shared space only), the tasks this instance created, for callbacks.
  const created = new Map<string, { taskId?: string }>();
  const push: ReturnType<typeof createPushRoutes> | undefined = options.callbackUrl
    ? createPushRoutes({
        callbackUrl: options.callbackUrl,
        secret: `callbacks:${proxySecret}`,
        events: options.events ?? createMemoryTaskEventLog(),
        waitUntil: options.waitUntil,
        ...options.eventStream,
        webhookSecret: options.webhookSecret,
        // A token calling more often than a task changes is not the vendor's retry: 429 past this.
        limitCallback: createLimiter({
          windowMs: CALLBACK_WINDOW_MS,
          max: CALLBACKS_PER_WINDOW,
          key: (request) => new URL(request.url).pathname,
        }),
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
  /** Says once, at the first request, that records kept in memory will not survive a restart. */
  const warnIfInMemory = () => {
    if (warned) return;
    warned = true;
    console.warn(
      'react-kling-audio: task records are kept in memory and will not survive a restart; pass `store: createPostgresTaskStore(db)` to keep them.',
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
    forwardFor,
    created,
    keptOrigin,
    identify,
    warnIfInMemory,
  };
}
