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

/**
 * Every business code in the vendor's error reference. 1003/1004 are not retryable for a browser: the
 * proxy re-signs its token once on them; a browser cannot fix its own credential.
 */
export const KLING_ERROR_CODES = {
  1000: {
    httpStatus: 401,
    meaning: 'authentication failed',
    retryable: false,
    message: 'The server could not sign in to the audio service. Please contact the site owner.',
  },
  1001: {
    httpStatus: 401,
    meaning: 'Authorization header empty',
    retryable: false,
    message: 'The server could not sign in to the audio service. Please contact the site owner.',
  },
  1002: {
    httpStatus: 401,
    meaning: 'Authorization invalid',
    retryable: false,
    message: 'The server could not sign in to the audio service. Please contact the site owner.',
  },
  1003: {
    httpStatus: 401,
    meaning: 'token not yet valid',
    retryable: false,
    message:
      'The server’s clock or credentials are out of step with the audio service. Please try again in a minute.',
  },
  1004: {
    httpStatus: 401,
    meaning: 'token expired',
    retryable: false,
    message: 'The server’s sign-in to the audio service expired. Please try again.',
  },
  1100: {
    httpStatus: 429,
    meaning: 'account exception',
    retryable: false,
    message: 'The audio service account has a problem. Please contact the site owner.',
  },
  1101: {
    httpStatus: 429,
    meaning: 'account in arrears',
    retryable: false,
    message: 'The audio service account is out of credit. Please contact the site owner.',
  },
  1102: {
    httpStatus: 429,
    meaning: 'resource pack used up or expired',
    retryable: false,
    message: 'The audio generation allowance is used up. Please contact the site owner.',
  },
  1103: {
    httpStatus: 403,
    meaning: 'no permission for this API or model',
    retryable: false,
    message: 'This account is not allowed to generate audio. Please contact the site owner.',
  },
  1200: {
    httpStatus: 400,
    meaning: 'invalid request parameters',
    retryable: false,
    message: 'The request was not accepted. Check the prompt and duration.',
  },
  1201: {
    httpStatus: 400,
    meaning: 'invalid parameter (key or value)',
    retryable: false,
    message: 'Some settings were not accepted. Check the prompt and duration.',
  },
  1202: {
    httpStatus: 404,
    meaning: 'invalid method',
    retryable: false,
    message: 'The audio service does not support this request.',
  },
  1203: {
    httpStatus: 404,
    meaning: 'resource not found',
    retryable: false,
    message: 'That audio task could not be found.',
  },
  1300: {
    httpStatus: 400,
    meaning: 'platform policy triggered',
    retryable: false,
    message: 'This request is not allowed by the audio service’s policy.',
  },
  1301: {
    httpStatus: 400,
    meaning: 'content safety policy triggered',
    retryable: false,
    message: 'The prompt was blocked by content safety rules. Try describing the sound differently.',
  },
  1302: {
    httpStatus: 429,
    meaning: 'requests too fast',
    retryable: true,
    message: 'Too many requests right now. Please wait a moment and try again.',
  },
  1303: {
    httpStatus: 429,
    meaning: 'concurrency over the resource pack limit',
    retryable: true,
    message: 'Too many sounds are being generated at once. Please wait for one to finish and try again.',
  },
  1304: {
    httpStatus: 429,
    meaning: 'IP whitelist policy',
    retryable: false,
    message: 'The server is not allowed to reach the audio service. Please contact the site owner.',
  },
  5000: {
    httpStatus: 500,
    meaning: 'internal server error',
    retryable: true,
    message: 'The audio service had a problem. Please try again.',
  },
  5001: {
    httpStatus: 503,
    meaning: 'temporarily unavailable',
    retryable: true,
    message: 'The audio service is down for maintenance. Please try again later.',
  },
  5002: {
    httpStatus: 504,
    meaning: 'internal timeout',
    retryable: true,
    message: 'The audio service took too long. Please try again.',
  },
} as const satisfies Record<number, KlingErrorInfo>;

export type KlingErrorCode = keyof typeof KLING_ERROR_CODES;

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
  const info = getErrorInfo(code);
  if (info) return info.retryable;
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
    super(
      options.message ?? getErrorInfo(options.code)?.message ?? KIND_MESSAGES[options.kind],
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
    getErrorInfo(error.code)?.message ??
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
