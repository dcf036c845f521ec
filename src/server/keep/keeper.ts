/**
 * Keeps a copy of each result file before the vendor deletes it (30 days after creation). Two parts:
 * `fetchAudioFile`, one guarded download (https only, public addresses only and connected to the address
 * that was checked, no redirects, audio only, size and time capped), and `createKeepQueue`, which runs
 * such jobs in the background with bounded concurrency and retries, so nothing ever waits for them.
 */
import { isIpLiteral, isPublicAddress } from './address';

/** One resolved address of a host name. */
export interface KeepAddress {
  address: string;
  family: 4 | 6;
}

/** Resolves a host name to every address it has (as `dns.promises.lookup(host, { all: true })` does). */
export type KeepLookup = (hostname: string) => Promise<readonly KeepAddress[]>;

/**
 * Sends one GET. `init.address` is the address that passed the check: a transport must connect to it
 * (not resolve the name again), or a DNS answer that changes between the check and the connection could
 * reach an inside address.
 */
export type KeepTransport = (
  url: string,
  init: { signal: AbortSignal; headers: Record<string, string>; address: string; family: 4 | 6 },
) => Promise<Response>;

export interface FetchAudioFileOptions {
  /**
   * For tests and demos only: a transport instead of the built-in one (Node's `https`, connected to the
   * checked address). Every check still runs before it is called; with a plain `fetch` here the name is
   * resolved again, so only use one that honours `init.address`, or one that never leaves the process.
   * Defaults to the built-in transport.
   */
  fetch?: KeepTransport;
  /**
   * For tests and demos only: how host names are resolved (e.g. a fake CDN name mapped to a public
   * address, with `fetch` reaching it on loopback). The answer is still checked. Defaults to
   * `dns.promises.lookup` with `all: true`.
   */
  lookup?: KeepLookup;
  /** Largest file kept, in bytes; a larger one is refused. Defaults to `16_777_216` (16 MiB). */
  maxBytes?: number;
  /** How long one download may take, body included. Defaults to `30_000` ms. */
  timeoutMs?: number;
  /** Aborts the download. Defaults to none. */
  signal?: AbortSignal;
  /**
   * For tests and demos only: result URLs on these origins (e.g. a local mock's `http://localhost:5173`)
   * skip the https and public-address checks; the redirect, type, size and time limits still apply.
   * Pair it with `fetch`: the built-in transport speaks https only. Defaults to none.
   */
  trustedOrigins?: readonly string[];
}

/** Why a file was not kept. Refusals (`retryable: false`) are about the URL itself and never change. */
export type KeepFailureReason =
  | 'not-https'
  | 'private-address'
  | 'unresolvable'
  | 'redirect'
  | 'not-audio'
  | 'too-large'
  | 'http-status'
  | 'timeout'
  | 'network';

const RETRYABLE: readonly KeepFailureReason[] = ['unresolvable', 'http-status', 'timeout', 'network'];

export class KeepError extends Error {
  readonly reason: KeepFailureReason;
  /** `true` when trying again later may work (a network fault, a timeout, a 5xx); `false` for a refusal. */
  readonly retryable: boolean;
  constructor(reason: KeepFailureReason, message: string, retryable = RETRYABLE.includes(reason)) {
    super(message);
    this.name = 'KeepError';
    this.reason = reason;
    this.retryable = retryable;
  }
}

/** A downloaded file: its bytes and its media type (lowercase, without parameters). */
export interface FetchedAudioFile {
  bytes: Uint8Array;
  contentType: string;
}

async function defaultLookup(hostname: string): Promise<readonly KeepAddress[]> {
  const { lookup } = await import('node:dns/promises');
  const answers = await lookup(hostname, { all: true, verbatim: true });
  return answers.map(({ address, family }) => ({ address, family: family === 6 ? 6 : 4 }));
}

/** Node's `https`, connected to the checked address only (TLS still verifies the certificate for the name). */
const defaultTransport: KeepTransport = async (url, { signal, headers, address, family }) => {
  const [{ request }, { Readable }] = await Promise.all([import('node:https'), import('node:stream')]);
  return new Promise<Response>((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'GET',
        headers,
        signal,
        agent: false,
        // Every connection this request makes goes to `address`: there is no second resolution. With
        // `autoSelectFamily` (Node 20's default) the callback takes a list.
        lookup: (_host, options, callback) =>
          (options as { all?: boolean }).all
            ? (callback as (error: null, list: KeepAddress[]) => void)(null, [{ address, family }])
            : callback(null, address, family),
      },
      (res) => {
        const responseHeaders = new Headers();
        for (const [name, value] of Object.entries(res.headers)) {
          for (const item of Array.isArray(value) ? value : [value]) {
            if (item !== undefined) responseHeaders.append(name, item);
          }
        }
        const status = res.statusCode ?? 502;
        const empty = status === 204 || status === 205 || status === 304 || status < 200;
        if (empty) res.resume();
        resolve(
          new Response(empty ? null : (Readable.toWeb(res) as ReadableStream<Uint8Array>), {
            status: status < 200 || status > 599 ? 502 : status,
            headers: responseHeaders,
          }),
        );
      },
    );
    req.on('error', reject);
    req.end();
  });
};

/** The host's checked address: the literal itself, or the first resolved one when none of them is inside. */
async function checkedAddress(hostname: string, lookup: KeepLookup): Promise<KeepAddress> {
  if (isIpLiteral(hostname)) {
    const address = hostname.replace(/^\[(.*)\]$/, '$1');
    if (!isPublicAddress(address)) throw new KeepError('private-address', `${hostname} is not public`);
    return { address, family: address.includes(':') ? 6 : 4 };
  }
  let answers: readonly KeepAddress[];
  try {
    answers = await lookup(hostname);
  } catch {
    throw new KeepError('unresolvable', `${hostname} could not be resolved`);
  }
  if (answers.length === 0) throw new KeepError('unresolvable', `${hostname} has no address`);
  // One inside address is enough to refuse: a name that mixes them is a rebinding attempt or a mistake.
  const inside = answers.find(({ address }) => !isPublicAddress(address));
  if (inside) throw new KeepError('private-address', `${hostname} resolves to ${inside.address}`);
  return answers[0]!;
}

/** The media type without parameters, lowercase. */
const mediaType = (header: string | null) => (header ?? '').split(';')[0]!.trim().toLowerCase();

/**
 * Whether a link is one the keeper would fetch at all: https without credentials, or an origin the app
 * trusts (`trustedOrigins`). Anything else is refused before any lookup, and never announced as coming.
 */
export function isKeepableUrl(url: unknown, trustedOrigins?: readonly string[]): boolean {
  if (typeof url !== 'string') return false;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  if (trustedOrigins?.includes(parsed.origin)) return true;
  return parsed.protocol === 'https:' && !parsed.username && !parsed.password;
}

/**
 * Downloads one result file, or throws a `KeepError` saying why not. Checks, in order: the URL is
 * https (no credentials in it); its host is, or resolves only to, public addresses, and the connection
 * goes to the checked one; the answer is a 200 (a redirect is refused, not followed); its content type
 * is `audio/*`; its body fits `maxBytes` (a declared larger length is refused before reading).
 */
export async function fetchAudioFile(
  url: string,
  options: FetchAudioFileOptions = {},
): Promise<FetchedAudioFile> {
  const maxBytes = options.maxBytes ?? 16_777_216;
  const timeoutMs = options.timeoutMs ?? 30_000;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new KeepError('not-https', 'not a URL');
  }
  const trusted = options.trustedOrigins?.includes(parsed.origin) ?? false;
  if (!isKeepableUrl(url, options.trustedOrigins)) {
    throw new KeepError('not-https', `only https URLs are kept (got ${parsed.protocol})`);
  }
  const { address, family } = trusted
    ? { address: parsed.hostname, family: 4 as const }
    : await checkedAddress(parsed.hostname, options.lookup ?? defaultLookup);

  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
  let response: Response;
  try {
    response = await (options.fetch ?? defaultTransport)(parsed.href, {
      signal,
      headers: { accept: 'audio/*' },
      address,
      family,
    });
  } catch {
    throw timeout.aborted
      ? new KeepError('timeout', `no answer within ${timeoutMs} ms`)
      : new KeepError('network', 'the file could not be fetched');
  }
  const drop = () => void response.body?.cancel().catch(() => {});
  if (response.status >= 300 && response.status < 400) {
    drop();
    throw new KeepError('redirect', `redirects are not followed (HTTP ${response.status})`);
  }
  if (response.status !== 200) {
    drop();
    // A gone file will not come back; anything else (5xx, 429, a CDN hiccup) may.
    throw new KeepError('http-status', `HTTP ${response.status}`, ![403, 404, 410].includes(response.status));
  }
  const contentType = mediaType(response.headers.get('content-type'));
  if (!/^audio\/[\w.+-]+$/.test(contentType)) {
    drop();
    throw new KeepError('not-audio', `not audio (${contentType || 'no content type'})`);
  }
  if (Number(response.headers.get('content-length')) > maxBytes) {
    drop();
    throw new KeepError('too-large', `larger than ${maxBytes} bytes`);
  }

  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    const reader = response.body?.getReader();
    for (;;) {
      const next = reader && (await reader.read());
      if (!next || next.done) break;
      size += next.value.byteLength;
      if (size > maxBytes) {
        void reader.cancel().catch(() => {});
        throw new KeepError('too-large', `larger than ${maxBytes} bytes`);
      }
      chunks.push(next.value);
    }
  } catch (error) {
    if (error instanceof KeepError) throw error;
    throw timeout.aborted
      ? new KeepError('timeout', `not read within ${timeoutMs} ms`)
      : new KeepError('network', 'the download broke off');
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return { bytes, contentType };
}

export interface KeepQueueOptions {
  /** Jobs running at once. Defaults to `2`. */
  concurrency?: number;
  /** Extra attempts after a retryable failure, with exponential backoff. Defaults to `3`. */
  retries?: number;
  /** The first backoff; each next one doubles, ±20 % jitter. Defaults to `1_000` ms. */
  backoffMs?: number;
  /**
   * After a job has failed for good (retries used up, or refused), the same key is not tried again for
   * this long; the next `add` after it starts afresh. Defaults to `600_000` ms (10 minutes).
   */
  retryLaterMs?: number;
  /** Told about each job that failed for good. Its errors are ignored. Defaults to none. */
  onFailure?: (key: string, error: unknown) => void;
}

/** How long a given-up task waits before a read may queue it again, unless `retryLaterMs` says otherwise. */
export const RETRY_LATER_MS = 600_000;

export interface KeepQueue {
  /**
   * Runs `job` in the background unless a job with this key is queued, running, waiting to retry, or
   * failed less than `retryLaterMs` ago. Never throws and never waits.
   */
  add(key: string, job: () => Promise<void>): void;
  /** Resolves once nothing is queued, running or waiting to retry (for tests, benchmarks and shutdown). */
  idle(): Promise<void>;
  /**
   * Takes no more jobs and drops those not running (queued or waiting to retry: a later `add` on another
   * queue starts them afresh); resolves once the running ones have ended.
   */
  close(): Promise<void>;
}

const MAX_FAILED = 10_000;

/** A background queue for keep jobs: deduplicated by key, bounded concurrency, retries with backoff. */
export function createKeepQueue(options: KeepQueueOptions = {}): KeepQueue {
  const concurrency = Math.max(1, options.concurrency ?? 2);
  const retries = options.retries ?? 3;
  const backoffMs = options.backoffMs ?? 1_000;
  const retryLaterMs = options.retryLaterMs ?? RETRY_LATER_MS;
  const waiting: { key: string; job: () => Promise<void>; attempt: number }[] = [];
  // Keys queued, running or waiting to retry.
  const busy = new Set<string>();
  const failedAt = new Map<string, number>();
  let running = 0;
  const timers = new Set<ReturnType<typeof setTimeout>>();
  let closed = false;
  let idlers: (() => void)[] = [];

  const settle = () => {
    if (running || waiting.length || timers.size) return;
    const done = idlers;
    idlers = [];
    done.forEach((resolve) => resolve());
  };

  const idle = () =>
    new Promise<void>((resolve) => {
      idlers.push(resolve);
      settle();
    });

  const pump = () => {
    while (running < concurrency && waiting.length) {
      const item = waiting.shift()!;
      running++;
      item
        .job()
        .then(
          () => busy.delete(item.key),
          (error: unknown) => {
            const retryable = !(error instanceof KeepError) || error.retryable;
            if (retryable && item.attempt < retries && !closed) {
              const delay = backoffMs * 2 ** item.attempt * (0.8 + Math.random() * 0.4);
              const timer = setTimeout(() => {
                timers.delete(timer);
                waiting.push({ ...item, attempt: item.attempt + 1 });
                pump();
              }, delay);
              timers.add(timer);
              // A pending retry must not keep a Node process alive on its own.
              (timer as { unref?: () => void }).unref?.();
              return;
            }
            busy.delete(item.key);
            failedAt.set(item.key, Date.now());
            // Bounded memory: the oldest failures are forgotten first (and simply tried again).
            if (failedAt.size > MAX_FAILED) failedAt.delete(failedAt.keys().next().value!);
            try {
              options.onFailure?.(item.key, error);
            } catch {
              // A logging hook must not break the queue.
            }
          },
        )
        .finally(() => {
          running--;
          pump();
          settle();
        });
    }
  };

  return {
    add(key, job) {
      if (closed || busy.has(key)) return;
      const failed = failedAt.get(key);
      if (failed !== undefined && Date.now() - failed < retryLaterMs) return;
      failedAt.delete(key);
      busy.add(key);
      waiting.push({ key, job, attempt: 0 });
      pump();
    },
    idle,
    close() {
      closed = true;
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      for (const item of waiting.splice(0)) busy.delete(item.key);
      return idle();
    },
  };
}
