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

/** A successful answer in the vendor's envelope: `from`'s request id and headers when it answers one. */
export function succeed(
  data: unknown,
  from?: Pick<Reply, 'headers' | 'requestId'>,
  message = 'SUCCEED',
): Reply {
  const requestId = from?.requestId ?? crypto.randomUUID();
  return {
    status: 200,
    body: JSON.stringify({ code: 0, message, request_id: requestId, data }),
    headers: { ...from?.headers, 'x-request-id': requestId },
    code: 0,
    requestId,
  };
}

/**
 * The headers of a reply. Every answer is JSON the proxy wrote or re-serialised itself, never cached, and
 * `nosniff`: a browser must not read any of it as a page of the app's origin.
 */
export const replyHeaders = (headers: Reply['headers']): Record<string, string> => ({
  'content-type': 'application/json',
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  ...headers,
});

/** The `Response` for a reply. */
export function toResponse({ status, body, headers }: Reply): Response {
  const response = new Response(body, { status, headers: replyHeaders(headers) });
  texts.set(response, body);
  return response;
}

// The text of each answer the proxy made, so `toNodeHandler` can write it without reading the body stream
// back (measured here: reading it costs about as much again as making the Response). Anything else, such
// as a Response an app rebuilt, is read as usual.
const texts = new WeakMap<Response, string>();

/** The text of a `Response` made by `toResponse` and not yet read, or `undefined`. */
export function takeText(response: Response): string | undefined {
  const text = response.bodyUsed ? undefined : texts.get(response);
  texts.delete(response);
  return text;
}
