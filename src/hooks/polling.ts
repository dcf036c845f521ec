/**
 * The polling policy, in one place: cadence, backoff, jitter, Retry-After and the overall deadline. A
 * task is polled by exactly one timer per QueryClient, however many components watch it: react-query's
 * `refetchInterval` runs per observer, so N watchers would poll N times.
 */
import { hashKey, type QueryClient, type QueryKey } from '@tanstack/react-query';
import { KlingApiError } from '../api';
import { isLiveOnPush, onPushChange } from './taskEvents';

export interface PollingOptions {
  /** First delay between two polls, in ms. Defaults to `1000`. */
  intervalMs: number;
  /** Longest delay between two polls, in ms. Defaults to `5000`. */
  maxIntervalMs: number;
  /** Factor applied to the delay after each poll. Defaults to `1.5`. */
  backoff: number;
  /** Random spread of each delay, as a fraction (0.2 = ±20 %), so clients do not poll in step. Defaults to `0.2`. */
  jitter: number;
  /** How long to keep polling before giving up with a `timeout` error. Defaults to `600_000` (10 minutes). */
  maxWaitMs: number;
}

export const defaultPollingOptions: PollingOptions = {
  intervalMs: 1000,
  maxIntervalMs: 5000,
  backoff: 1.5,
  jitter: 0.2,
  maxWaitMs: 600_000,
};

export const POLLING_FIELDS = ['intervalMs', 'maxIntervalMs', 'backoff', 'jitter', 'maxWaitMs'] as const;

/**
 * The options in force: the defaults, then each layer in turn. `undefined` means "the default" (a key set
 * to `undefined` does not erase the layer below), and `Infinity` stays `Infinity`.
 */
export function resolvePollingOptions(...layers: (Partial<PollingOptions> | undefined)[]): PollingOptions {
  const out = { ...defaultPollingOptions };
  for (const layer of layers)
    for (const key of POLLING_FIELDS) if (layer?.[key] !== undefined) out[key] = layer[key]!;
  return out;
}

const hidden = () => typeof document !== 'undefined' && document.visibilityState === 'hidden';

/** The delay before poll number `attempt` (0-based). A server's `Retry-After` is a floor, never shortened. */
export function nextPollDelay(
  attempt: number,
  options: PollingOptions,
  retryAfterMs?: number,
  random: () => number = Math.random,
): number {
  const base = Math.min(options.maxIntervalMs, options.intervalMs * options.backoff ** attempt);
  const jittered = base * (1 + options.jitter * (random() * 2 - 1));
  return Math.max(Math.round(jittered), retryAfterMs ?? 0);
}

interface PollerConfig<TData> {
  /** True while the data says there is more to wait for. */
  shouldPoll: (data: TData) => boolean;
  /**
   * True for data that push does not bring, so it is polled even while the stream is live: a finished
   * task whose kept copy is being made (the copy changes its URLs, not its state). Defaults to none.
   */
  pollOnPush?: (data: TData) => boolean;
  options: PollingOptions;
  /**
   * News from elsewhere (a list page holding the task, a push) postpones the next poll by the longest
   * interval: whoever brought the news keeps bringing it, so one task on screen costs one request per
   * interval. A list holds other tasks too, so it never yields.
   */
  yieldToNews?: boolean;
}

interface Poller {
  watchers: number;
  config: PollerConfig<never>;
  stop: () => void;
}

const pollers = new WeakMap<QueryClient, Map<string, Poller>>();

/**
 * Starts (or joins) the one poller of a query. Returns the function that leaves it; the last to leave
 * stops it.
 */
export function watchQuery<TData>(
  queryClient: QueryClient,
  queryKey: QueryKey,
  config: PollerConfig<TData>,
): () => void {
  let byKey = pollers.get(queryClient);
  if (!byKey) pollers.set(queryClient, (byKey = new Map()));
  const hash = hashKey(queryKey);
  let poller = byKey.get(hash);
  if (poller) {
    poller.config = config as PollerConfig<never>;
  } else {
    poller = { watchers: 0, config: config as PollerConfig<never>, stop: () => {} };
    byKey.set(hash, poller);
    poller.stop = startPoller(queryClient, queryKey, () => byKey.get(hash)!.config as PollerConfig<TData>);
  }
  poller.watchers++;
  const joined = poller;
  return () => {
    if (--joined.watchers > 0) return;
    joined.stop();
    if (byKey.get(hash) === joined) byKey.delete(hash);
  };
}

function startPoller<TData>(
  queryClient: QueryClient,
  queryKey: QueryKey,
  getConfig: () => PollerConfig<TData>,
): () => void {
  const cache = queryClient.getQueryCache();
  const hash = hashKey(queryKey);
  let startedAt = Date.now();
  let attempt = 0;
  let expired = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  // A poll came due while the tab was hidden.
  let due = false;

  const find = () => cache.find<TData, unknown>({ queryKey, exact: true });

  const giveUp = () => {
    expired = true;
    const query = find();
    if (!query) return;
    const error = new KlingApiError({
      kind: 'timeout',
      message: 'Stopped waiting for the task: it took longer than expected.',
      retryable: false,
    });
    // Keep the last data: the task id and its last known status stay available beside the error.
    query.setState({
      status: 'error',
      error,
      errorUpdateCount: query.state.errorUpdateCount + 1,
      errorUpdatedAt: Date.now(),
      fetchStatus: 'idle',
    });
  };

  const schedule = (afterNews = false) => {
    if (stopped || timer !== undefined) return;
    const query = find();
    const state = query?.state;
    // Push brings this query's changes while its stream is live: no poll until it drops.
    if (
      isLiveOnPush(queryClient) &&
      !(state?.data !== undefined && getConfig().pollOnPush?.(state.data as TData))
    )
      return;
    // The first fetch is the query's own (on mount); the poller only takes over once something settled.
    if (!state || state.fetchStatus === 'fetching' || state.status === 'pending') return;
    const { options, shouldPoll } = getConfig();
    if (state.status === 'error') {
      const error = state.error;
      if (!KlingApiError.is(error) || !error.retryable) return;
    } else if (!shouldPoll(state.data as TData)) {
      return;
    }
    const remaining = startedAt + options.maxWaitMs - Date.now();
    if (remaining <= 0) return giveUp();
    const retryAfterMs =
      state.status === 'error' && KlingApiError.is(state.error) ? state.error.retryAfterMs : undefined;
    const delay = afterNews
      ? // Past the latest the bringer of the news can poll again (its longest, jittered interval).
        Math.ceil(options.maxIntervalMs * (1 + options.jitter)) + options.intervalMs
      : nextPollDelay(attempt, options, retryAfterMs);
    timer = setTimeout(
      () => {
        timer = undefined;
        if (stopped) return;
        if (delay >= remaining) return giveUp();
        // A hidden tab polls nobody's screen: wait for the page to be shown, then poll at once.
        if (hidden()) {
          due = true;
          return;
        }
        poll();
      },
      Math.min(delay, remaining),
    );
  };

  const poll = () => {
    due = false;
    attempt++;
    // Errors land in the query's state; the cache event below schedules the next poll.
    find()
      ?.fetch()
      .catch(() => {});
  };

  const onVisibility = () => {
    if (due && !stopped && !hidden()) poll();
  };
  if (typeof document !== 'undefined') document.addEventListener('visibilitychange', onVisibility);

  const unsubscribe = cache.subscribe((event) => {
    if (event.query.queryHash !== hash || event.type !== 'updated') return;
    if (event.action.type !== 'success' && event.action.type !== 'error') return;
    if (expired) {
      // Someone fetched again after we gave up (a "try again" button): wait afresh.
      expired = false;
      startedAt = Date.now();
      attempt = 0;
    }
    // Fresh news from elsewhere (a list page that holds this task, a refetch, a push) while a poll waits:
    // that poll is not needed yet.
    if (timer !== undefined || due) {
      if (!getConfig().yieldToNews) return;
      clearTimeout(timer);
      timer = undefined;
      due = false;
      return schedule(true);
    }
    schedule();
  });

  const offPush = onPushChange(queryClient, () => {
    clearTimeout(timer);
    timer = undefined;
    // The stream dropped: the next poll comes within one (first) interval.
    attempt = 0;
    schedule();
  });

  function stop() {
    stopped = true;
    clearTimeout(timer);
    timer = undefined;
    unsubscribe();
    if (typeof document !== 'undefined') document.removeEventListener('visibilitychange', onVisibility);
    offPush();
  }

  schedule();
  return stop;
}
