/**
 * The vendor's error table and the one error class every failure becomes. No React, server-safe.
 */

/** What went wrong, by layer. */
export type KlingApiErrorKind =
  | 'api' // the server answered with an error (a vendor code, or an HTTP error status)
  | 'network' // no answer: DNS, connection refused or reset
  | 'timeout' // no answer in time
  | 'invalid-response' // an answer we cannot read: HTML, truncated JSON, wrong shape, non-http URLs
  | 'validation' // the input was refused before anything was sent
  | 'aborted'; // the caller's AbortSignal fired

export interface KlingErrorInfo {
  /** The HTTP status the vendor answers with for this code. */
  httpStatus: number;
  /** The vendor's meaning, for logs. */
  meaning: string;
  /** Whether the same request may succeed later. */
  retryable: boolean;
  /** A plain-words message for the person using the app. */
  message: string;
}

/** Vendor codes after which the same request may succeed later. */
const RETRYABLE_CODES = [1302, 1303, 5000, 5001, 5002];

// One table of the vendor's codes, kept as two columns so that a browser bundle takes only the column it
// reads: the plain words (`getUserMessage`) here, the HTTP status and meaning (mocks and logs) below. Both
// are keyed by every code, so a code missing from one is a type error.
// 1003/1004 are not retryable for a browser: the proxy re-signs its token once on them; a browser cannot
// fix the server's credential.
const ERROR_WORDS = {
  // Also what the proxy answers when the app's own `authorize` says no: word it for both.
  1000: 'You are not allowed to use the audio service right now. Sign in again, or contact the site owner.',
  1001: 'The server could not sign in to the audio service. Please contact the site owner.',
  1002: 'The server could not sign in to the audio service. Please contact the site owner.',
  1003: 'The server’s clock or credentials are out of step with the audio service. Please try again in a minute.',
  1004: 'The server’s sign-in to the audio service expired. Please try again.',
  1100: 'The audio service account has a problem. Please contact the site owner.',
  1101: 'The audio service account is out of credit. Please contact the site owner.',
  1102: 'The audio generation allowance is used up. Please contact the site owner.',
  1103: 'This account is not allowed to generate audio. Please contact the site owner.',
  1200: 'The request was not accepted. Check the prompt and duration.',
  1201: 'Some settings were not accepted. Check the prompt and duration.',
  1202: 'The audio service does not support this request.',
  1203: 'That audio task could not be found.',
  1300: 'This request is not allowed by the audio service’s policy.',
  1301: 'The prompt was blocked by content safety rules. Try describing the sound differently.',
  1302: 'Too many requests right now. Please wait a moment and try again.',
  1303: 'Too many sounds are being generated at once. Please wait for one to finish and try again.',
  1304: 'The server is not allowed to reach the audio service. Please contact the site owner.',
  5000: 'The audio service had a problem. Please try again.',
  5001: 'The audio service is down for maintenance. Please try again later.',
  5002: 'The audio service took too long. Please try again.',
};

export type KlingErrorCode = keyof typeof ERROR_WORDS;

/** `[HTTP status the vendor answers with, the vendor's meaning]` of each code: for mocks and logs. */
const ERROR_WIRE: Record<KlingErrorCode, readonly [httpStatus: number, meaning: string]> = {
  1000: [401, 'authentication failed'],
  1001: [401, 'Authorization header empty'],
  1002: [401, 'Authorization invalid'],
  1003: [401, 'token not yet valid'],
  1004: [401, 'token expired'],
  1100: [429, 'account exception'],
  1101: [429, 'account in arrears'],
  1102: [429, 'resource pack used up or expired'],
  1103: [403, 'no permission for this API or model'],
  1200: [400, 'invalid request parameters'],
  1201: [400, 'invalid parameter (key or value)'],
  1202: [404, 'invalid method'],
  1203: [404, 'resource not found'],
  1300: [400, 'platform policy triggered'],
  1301: [400, 'content safety policy triggered'],
  1302: [429, 'requests too fast'],
  1303: [429, 'concurrency over the resource pack limit'],
  1304: [429, 'IP whitelist policy'],
  5000: [500, 'internal server error'],
  5001: [503, 'temporarily unavailable'],
  5002: [504, 'internal timeout'],
};

/**
 * Every business code in the vendor's error reference, with its HTTP status, meaning, whether a retry may
 * succeed (from `isRetryable`, the one rule) and a plain-words message for the person using the app. For
 * servers, mocks and logs: browser code reads the words alone (`getUserMessage`).
 */
export const KLING_ERROR_CODES: Readonly<Record<KlingErrorCode, KlingErrorInfo>> = /* @__PURE__ */ (() =>
  Object.fromEntries(
    Object.entries(ERROR_WIRE).map(([code, [httpStatus, meaning]]) => [
      code,
      {
        httpStatus,
        meaning,
        retryable: isRetryable('api', Number(code), httpStatus),
        message: ERROR_WORDS[Number(code) as KlingErrorCode],
      },
    ]),
  ) as Record<KlingErrorCode, KlingErrorInfo>)();

/** Codes on which a server holding a key pair should sign a fresh token and try once more. */
export const TOKEN_RETRY_CODES: readonly number[] = [1003, 1004];

/** Plain-words messages for failures that carry no vendor code. */
export const KIND_MESSAGES: Record<KlingErrorKind, string> = {
  api: 'The audio service answered with an error. Please try again.',
  network: 'Could not reach the server. Check your connection and try again.',
  timeout: 'The server took too long to answer. Please try again.',
  'invalid-response': 'The server sent an answer that could not be read. Please try again.',
  validation: 'Some settings are not valid.',
  aborted: 'The request was cancelled.',
};
type KlingErrorKind = KlingApiErrorKind;

/** The table's entry for a code, if the code is known. */
export function getErrorInfo(code: number | undefined): KlingErrorInfo | undefined {
  return code === undefined ? undefined : (KLING_ERROR_CODES as Record<number, KlingErrorInfo>)[code];
}

/**
 * Retryable: network faults, timeouts, codes 1302/1303 and 5000–5002, and any HTTP 5xx or 429 answer
 * whatever its body (a gateway's HTML 502 included).
 */
export function isRetryable(kind: KlingApiErrorKind, code?: number, httpStatus?: number): boolean {
  if (kind === 'network' || kind === 'timeout') return true;
  if (kind === 'aborted' || kind === 'validation') return false;
  if (code !== undefined && RETRYABLE_CODES.includes(code)) return true;
  // Any 5xx or 429 answer may succeed later, whatever its body says, unless a known code says otherwise
  // (1100–1102 and 1304 arrive as 429 but will not pass by waiting).
  if (code !== undefined && code >= 1000 && code < 2000) return false;
  return httpStatus !== undefined && (httpStatus >= 500 || httpStatus === 429);
}

const BRAND = Symbol.for('react-kling-audio.KlingApiError');

export interface KlingApiErrorOptions {
  kind: KlingApiErrorKind;
  message?: string;
  code?: number;
  httpStatus?: number;
  requestId?: string;
  /** Overrides the table/kind default. */
  retryable?: boolean;
  /** From a `Retry-After` header, in milliseconds. */
  retryAfterMs?: number;
  cause?: unknown;
}

/** Every failure of the client, the hooks and the proxy helpers. */
export class KlingApiError extends Error {
  override readonly name = 'KlingApiError';
  readonly kind: KlingApiErrorKind;
  /** The vendor's business code, where there is one. */
  readonly code: number | undefined;
  readonly httpStatus: number | undefined;
  readonly requestId: string | undefined;
  readonly retryable: boolean;
  /** How long the server asked us to wait before the next request, in milliseconds. */
  readonly retryAfterMs: number | undefined;
  // Assigned in the constructor: a computed class field keeps bundlers from dropping the class (and the
  // error table it reads) from bundles that never use it, such as the server entry.
  declare readonly [BRAND]: true;

  constructor(options: KlingApiErrorOptions) {
    // For developers and logs; people see `getUserMessage(error)`, which reads the error table.
    super(
      options.message ??
        (options.code === undefined
          ? `Kling request failed (${options.kind})`
          : `Kling API error ${options.code}`),
      options.cause === undefined ? undefined : { cause: options.cause },
    );
    this.kind = options.kind;
    this.code = options.code;
    this.httpStatus = options.httpStatus;
    this.requestId = options.requestId;
    this.retryable = options.retryable ?? isRetryable(options.kind, options.code, options.httpStatus);
    this.retryAfterMs = options.retryAfterMs;
    this[BRAND] = true;
  }

  /** True for a `KlingApiError`, including one thrown by a second copy of this package. */
  static is(value: unknown): value is KlingApiError {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[BRAND] === true;
  }
}

/**
 * A failure after which the request may or may not have reached the vendor: a create must look the task
 * up by its external id before it tries again.
 */
export function isAmbiguousFailure(error: unknown): boolean {
  if (!KlingApiError.is(error)) return false;
  if (error.kind === 'network' || error.kind === 'timeout') return true;
  return error.kind !== 'validation' && error.kind !== 'aborted' && (error.httpStatus ?? 0) >= 500;
}

/** The plain-words message to show a person for any error. */
export function getUserMessage(error: unknown): string {
  if (!KlingApiError.is(error)) return KIND_MESSAGES.api;
  return (
    (ERROR_WORDS as Record<number, string | undefined>)[error.code!] ??
    (error.kind === 'validation' ? error.message : KIND_MESSAGES[error.kind])
  );
}

/** Parses a `Retry-After` header (seconds or an HTTP date) into milliseconds. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
