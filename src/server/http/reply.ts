/**
 * What the proxy answers, in one place: the vendor's envelope for its own errors, and the headers every
 * answer carries (from the proxy or, checked, from the vendor). Fetch API only.
 */
import type { ClientSignal, UpstreamTransport } from '../vendor/upstream';

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

/**
 * Where `toNodeHandler` finds what a handler made by `createKlingAudioProxy` offers Node: the answer before
 * it becomes a `Response` (written to the socket as it is), and a way to hand the proxy a node:http
 * transport. A handler without it (one an app wrapped) is served through the Fetch API as usual.
 */
export const NODE_BINDING = Symbol('react-kling-audio: node binding');

export interface NodeBinding {
  /**
   * The handler's work for `request`, whose URL is `url` and `signal` its signal (or one that fires with
   * it): a reply, or a `Response` (a stream, a file).
   */
  respond(request: Request, url: URL, signal?: ClientSignal): Promise<Reply | Response>;
  /** Upstream calls go through `transport` from now on, unless the app passed its own `fetch`. */
  useTransport(transport: UpstreamTransport): void;
}
