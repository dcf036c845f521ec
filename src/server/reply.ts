/**
 * What the proxy answers, in one place: the vendor's envelope for its own errors, and the headers every
 * answer carries (from the proxy or, checked, from the vendor). Fetch API only.
 */

/** An answer before it becomes a `Response`: the body is always JSON text the proxy wrote or checked. */
export interface Reply {
  status: number;
  body: string;
  headers?: Record<string, string>;
  /** The vendor's business code (or the proxy's own, from the same table), for `onResponse`. */
  code: number | undefined;
  requestId: string | undefined;
}

/** An answer the proxy makes itself, in the vendor's envelope with a fresh request id. */
export function fail(status: number, code: number, message: string, headers?: Record<string, string>): Reply {
  const requestId = crypto.randomUUID();
  return {
    status,
    body: JSON.stringify({ code, message, request_id: requestId, data: null }),
    headers: { 'x-request-id': requestId, ...headers },
    code,
    requestId,
  };
}

/**
 * The `Response` for a reply. Every answer is JSON the proxy wrote or re-serialised itself, never cached,
 * and `nosniff`: a browser must not read any of it as a page of the app's origin.
 */
export function toResponse({ status, body, headers }: Reply): Response {
  return new Response(body, {
    status,
    headers: {
      'content-type': 'application/json',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      ...headers,
    },
  });
}
