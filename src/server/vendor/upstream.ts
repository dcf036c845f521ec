/**
 * The proxy's one way to the vendor: the credential (API key, or a cached JWT), one request's time budget,
 * and the check of every answer before any of it reaches a browser. The calls themselves go through a
 * transport: the Fetch API by default (every runtime), or node:http with keep-alive sockets once the proxy
 * is served by `toNodeHandler` (nodeTransport.ts). Every check of the answer stays here, whichever it is.
 */
import { TOKEN_RETRY_CODES } from '../../api/errors';
import { isEnvelope } from '../http/envelope';
import { fail, type Reply } from '../http/reply';
import { signKlingToken } from './token';

export interface UpstreamOptions {
  apiKey?: string;
  accessKey?: string;
  secretKey?: string;
  fetch?: typeof fetch;
  /** The whole request's budget, used in the 504's message. */
  timeoutMs: number;
}

/**
 * What upstream calls need of the signal that the browser went away: an `AbortSignal` has it, and so has
 * `toNodeHandler`'s lighter stand-in (making an AbortSignal costs more than a whole upstream call's own work).
 */
export interface ClientSignal {
  readonly aborted: boolean;
  addEventListener(type: 'abort', listener: () => void): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

/** What one browser request gives its upstream calls. */
export interface UpstreamContext {
  /** `Date.now()` by which the whole request must be answered, every attempt included. */
  deadline: number;
  /** Fires when the browser goes away (the browser request's own signal). */
  signal?: ClientSignal;
}

/** One call to the vendor, as `forward` hands it to a transport. */
export interface UpstreamCall {
  method: string;
  url: string;
  /** Every header sent, built from scratch by `forward` (the transport adds only Host and framing). */
  headers: Record<string, string>;
  body: string | undefined;
  /** How long the call may take, the answer's body included; then it fails with `'late'`. */
  timeoutMs: number;
  /** When this fires, the call is dropped and fails with `'gone'`. */
  signal: ClientSignal | undefined;
}

/** The vendor's answer: status and headers, the body not read yet. */
export interface UpstreamAnswer {
  status: number;
  headers: { get(name: string): string | null };
  /** The body up to `max` bytes, or `null` once it is larger (then the rest is not read). */
  read(max: number): Promise<Uint8Array | null>;
  /** Drops the body unread. */
  discard(): void;
}

/**
 * Makes calls to the vendor without following redirects, and fails with an `UpstreamFailure`. Every call
 * it answers ends in `read` or `discard`.
 */
export type UpstreamTransport = (call: UpstreamCall) => Promise<UpstreamAnswer>;

/**
 * Why a call failed: nothing answered (`unreachable`), the answer was cut off (`cut`), the call's time ran
 * out (`late`) or its signal fired (`gone`).
 */
export class UpstreamFailure extends Error {
  constructor(readonly reason: 'unreachable' | 'cut' | 'late' | 'gone') {
    super(reason);
  }
}

/**
 * Largest upstream answer read, in bytes. A 500-row list is about 0.3 MB: 4 MiB leaves room for long
 * status messages and future fields, and stops a broken or hostile gateway from filling the server's memory.
 */
export const MAX_UPSTREAM_BYTES = 4 * 1024 * 1024;

// Re-sign when less than this is left of the token's 30 minutes, so a token never expires in flight.
const REFRESH_MS = 5 * 60_000;
// Only these upstream headers reach the browser, and only with plain values: never Set-Cookie, never
// anything about the upstream. The content type is the proxy's own: it re-serialises every answer.
const PASSED_HEADERS = ['retry-after', 'x-request-id'];
const PLAIN_HEADER = /^[\w .,:/+=-]{1,200}$/;
// Shorter "secrets" are test placeholders; scrubbing them would mangle ordinary words in an answer.
const MIN_SECRET_LENGTH = 8;
const REDACTED = '[redacted]';
// Tokens scrubbed from answers: the last few signed (each with its signature on its own), enough for
// the ones a gateway may still echo.
const MAX_TOKENS = 12;

/** Reads a body up to `max` bytes, or `null` once it is larger (then the rest is not read). */
async function readCapped(response: Response, max: number): Promise<Uint8Array | null> {
  if (Number(response.headers.get('content-length')) > max) {
    void response.body?.cancel().catch(() => {});
    return null;
  }
  const reader = response.body?.getReader();
  if (!reader) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      void reader.cancel().catch(() => {});
      return null;
    }
    chunks.push(value);
  }
  let bytes = chunks[0] ?? new Uint8Array(0);
  if (chunks.length > 1) {
    bytes = new Uint8Array(size);
    let offset = 0;
    for (const chunk of chunks) {
      bytes.set(chunk, offset);
      offset += chunk.byteLength;
    }
  }
  return bytes;
}

/** UTF-8 text, or `null` for bytes that are not UTF-8. */
function decode(bytes: Uint8Array | null): string | null {
  if (bytes === null) return null;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return null;
  }
}

/** The Fetch API as a transport: `redirect: 'error'`, `cache: 'no-store'`, one abort for both limits. */
export function fetchTransport(getFetch: () => typeof fetch): UpstreamTransport {
  return async ({ method, url, headers, body, timeoutMs, signal }) => {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), timeoutMs);
    const cancel = () => controller.abort();
    signal?.addEventListener('abort', cancel);
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', cancel);
    };
    const failure = (answered: boolean) =>
      new UpstreamFailure(
        signal?.aborted ? 'gone' : controller.signal.aborted ? 'late' : answered ? 'cut' : 'unreachable',
      );
    let response: Response;
    try {
      response = await getFetch()(url, {
        method,
        headers,
        body,
        cache: 'no-store',
        // A redirect would carry the credential somewhere not configured: refuse it.
        redirect: 'error',
        signal: controller.signal,
      });
    } catch {
      done();
      throw failure(false);
    }
    return {
      status: response.status,
      headers: response.headers,
      async read(max) {
        try {
          return await readCapped(response, max);
        } catch {
          throw failure(true);
        } finally {
          done();
        }
      },
      discard() {
        done();
        void response.body?.cancel().catch(() => {});
      },
    };
  };
}

export function createUpstream(options: UpstreamOptions) {
  const { apiKey, accessKey, secretKey, timeoutMs } = options;
  // The global fetch is looked up at each call, as an app or a test may replace it after this.
  let transport = fetchTransport(() => options.fetch ?? fetch);

  // Every string that must never reach a browser or a log, JSON-escaped as it would appear in an answer:
  // the credentials, always, and the last tokens signed with them (with their signatures on their own).
  // Only the tokens are bounded: each signing adds two, and a bound over all would push the keys out.
  const escaped = (values: (string | undefined)[]) =>
    values
      .filter((value): value is string => (value?.length ?? 0) >= MIN_SECRET_LENGTH)
      .map((value) => JSON.stringify(value).slice(1, -1));
  const credentials = escaped([apiKey, accessKey, secretKey]);
  let tokens: string[] = [];
  let secrets = credentials;
  const rememberToken = (signed: string) => {
    tokens = [...escaped([signed, signed.slice(signed.lastIndexOf('.') + 1)]), ...tokens].slice(
      0,
      MAX_TOKENS,
    );
    secrets = [...new Set([...credentials, ...tokens])];
  };

  let token: { value: Promise<string>; expires: number } | undefined;
  /** The vendor credential: the API key, or the cached token (a new one when `fresh` or close to expiry). */
  const credential = (fresh: boolean): Promise<string> => {
    if (apiKey) return Promise.resolve(apiKey);
    const now = Date.now();
    if (fresh || !token || token.expires - now < REFRESH_MS) {
      const value = signKlingToken({ accessKey: accessKey!, secretKey: secretKey!, now });
      token = { value, expires: now + 1_800_000 };
      void value.then(rememberToken);
    }
    return token.value;
  };

  const late = () => fail(504, 5002, `The audio service did not answer within ${timeoutMs} ms.`);
  // Nobody reads this answer; 499 (nginx's "client closed request") tells the app's log what happened.
  const gone = () => fail(499, 5000, 'The client closed the request.');
  const unusable = () => fail(502, 5000, 'The audio service sent an answer that could not be used.');

  /**
   * The upstream answer as the browser may see it. Whatever is not a well-formed vendor envelope with a
   * status of 200–299 or 400–599 (an HTML error page, cut-off JSON, a redirect, a status like 600) becomes
   * the proxy's own 502; a credential or token inside an envelope (an echoing gateway) is replaced.
   */
  function check(status: number, text: string | null, headers: UpstreamAnswer['headers']): Reply {
    if (text === null) return unusable();
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      return unusable();
    }
    if (!isEnvelope(value)) return unusable();
    // Re-serialised, so the browser gets JSON the proxy has read, with no escape hiding a secret.
    let body = JSON.stringify(value);
    if (secrets.some((secret) => body.includes(secret))) {
      for (const secret of secrets) body = body.split(secret).join(REDACTED);
      try {
        value = JSON.parse(body);
      } catch {
        return unusable();
      }
      if (!isEnvelope(value)) return unusable();
    }
    const passed: Record<string, string> = {};
    for (const name of PASSED_HEADERS) {
      const header = headers.get(name);
      if (header && PLAIN_HEADER.test(header) && !secrets.some((secret) => header.includes(secret)))
        passed[name] = header;
    }
    const requestId = value.request_id;
    return {
      status,
      body,
      headers: passed,
      code: value.code,
      requestId: typeof requestId === 'string' ? requestId : passed['x-request-id'],
    };
  }

  /**
   * Calls the vendor within the request's budget. A lookup or a list is cancelled when the browser goes
   * away; a create runs to completion, so the vendor's answer is complete and a retry finds the task.
   */
  async function forward(
    method: string,
    target: string,
    body: string | undefined,
    { deadline, signal }: UpstreamContext,
  ): Promise<Reply> {
    const client = method === 'GET' ? signal : undefined;
    let previous: Reply | undefined;
    for (let attempt = 0; ; attempt++) {
      if (client?.aborted) return gone();
      const left = deadline - Date.now();
      // The retry's time is what the first attempt left: the vendor's own answer beats a 504.
      if (left <= 0) return previous ?? late();
      const authorization = `Bearer ${await credential(attempt > 0)}`;
      let reply: Reply;
      try {
        const answer = await transport({
          method,
          url: target,
          // Built from scratch: nothing of the browser's request (cookies, its Authorization, hop-by-hop
          // or X-Forwarded-* headers) reaches the vendor.
          headers: {
            accept: 'application/json',
            'content-type': 'application/json',
            authorization,
          },
          body,
          timeoutMs: left,
          signal: client,
        });
        const { status } = answer;
        if (status < 200 || status > 599 || (status >= 300 && status < 400)) {
          answer.discard();
          reply = unusable();
        } else {
          reply = check(status, decode(await answer.read(MAX_UPSTREAM_BYTES)), answer.headers);
        }
      } catch (error) {
        if (client?.aborted) return gone();
        const reason = error instanceof UpstreamFailure ? error.reason : 'unreachable';
        if (reason === 'late') return late();
        if (reason === 'gone') return gone();
        return reason === 'cut'
          ? fail(502, 5000, 'The audio service’s answer was cut off.')
          : fail(502, 5000, 'Could not reach the audio service.');
      }
      // 1003/1004: the vendor refused the token before doing anything, so one retry with a fresh token
      // cannot create a second task. An API key cannot be refreshed.
      if (!apiKey && attempt === 0 && reply.code !== undefined && TOKEN_RETRY_CODES.includes(reply.code)) {
        previous = reply;
        continue;
      }
      return reply;
    }
  }

  /**
   * Where calls go from now on: `toNodeHandler` gives a node:http transport. A `fetch` passed in the
   * options is the app's choice (a test's fake vendor, an instrumented client) and always wins.
   */
  const useTransport = (next: UpstreamTransport) => {
    if (!options.fetch) transport = next;
  };

  return { forward, useTransport };
}
