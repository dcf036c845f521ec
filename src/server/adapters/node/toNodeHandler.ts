/**
 * Serves a Fetch handler from node:http, Express or Connect. With the entry's other Node-only module
 * (nodeTransport.ts, loaded from here and loading Node's modules at its first call), the only code that
 * needs Node; the proxy itself uses the Fetch API and WebCrypto only.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createNodeTransport } from './transport';
import { fail, replyHeaders, takeText, type Reply } from '../../http/reply';
import { NODE_BINDING, type NodeBinding } from '../../proxy/nodeBinding';
import type { ClientSignal } from '../../vendor/upstream';

type FetchHandler = (request: Request) => Response | Promise<Response>;

/** A request as Express or Connect hand it over: `originalUrl` keeps the mount path, `body` a parsed body. */
type NodeRequest = IncomingMessage & { originalUrl?: string; body?: unknown };

// A dot segment, plain or percent-encoded. The Fetch API's URL parser would resolve it and hand the
// handler a different path from the one asked for; this adapter is the last place that sees it.
const DOT_SEGMENT = /(?<=^|\/)(\.|%2e){1,2}(?=[/?#]|$)/gi;
// The methods the Fetch API refuses to put in a `Request`.
const FORBIDDEN_METHOD = /^(connect|trace|track)$/i;
// What a Host header may hold before the URL parser checks it: a name, an IPv4 or [IPv6] address, a port.
const HOST = /^[\w.\-[\]:]+$/;

/** The request target as a path the URL parser will not rewrite. */
function safeTarget(raw: string): string {
  // An absolute-form (`http://…`) or asterisk-form target becomes one opaque segment that matches no route.
  if (raw[0] !== '/') return `/${encodeURIComponent(raw)}`;
  const query = raw.indexOf('?');
  const path = query < 0 ? raw : raw.slice(0, query);
  // The URL parser reads `\` as `/`: kept as `%5C`, a backslash is a character of a segment, which no
  // route accepts. `%252E` survives parsing as is, so the handler sees a path it does not know and
  // answers it (and logs it) like any other.
  return path.replace(/\\/g, '%5C').replace(DOT_SEGMENT, '%252E') + (query < 0 ? '' : raw.slice(query));
}

let lastHost: string | undefined;
let lastOrigin: string | undefined;
/** `protocol://host` from the Host header, or `undefined` when it is not one the URL parser takes as is. */
function originOf(protocol: string, host: string | undefined): string | undefined {
  // HTTP/1.0 may leave Host out (node:http refuses an HTTP/1.1 request without one).
  if (!host) return `${protocol}://localhost`;
  const key = `${protocol}://${host}`;
  if (key === lastHost) return lastOrigin;
  let origin: string | undefined;
  try {
    // `256.256.256.256`, `a:99999` or `1.2.3.4.5` pass the character check but are no host.
    origin = HOST.test(host) ? new URL(key).origin : undefined;
  } catch {
    origin = undefined;
  }
  lastHost = key;
  lastOrigin = origin;
  return origin;
}

/**
 * The body as a web stream, and a way to drop what is left of it. Whatever the handler did not read (a
 * refused or oversized request) must still come off the wire, or a keep-alive connection stalls; and
 * destroying the request instead would reset the socket before the answer is written.
 */
function bodyStream(req: IncomingMessage): { stream: ReadableStream<Uint8Array>; discard: () => void } {
  let open = true;
  const discard = () => {
    open = false;
    req.resume();
  };
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      req.on('data', (chunk: Uint8Array) => {
        if (!open) return;
        controller.enqueue(chunk);
        if ((controller.desiredSize ?? 0) <= 0) req.pause();
      });
      req.on('end', () => open && controller.close());
      req.on('error', (error) => open && controller.error(error));
    },
    pull() {
      req.resume();
    },
    cancel: discard,
  });
  return { stream, discard };
}

/**
 * The client's leaving, for one request: listeners for the proxy's upstream calls, and an `AbortSignal`
 * only when something asks for one (the Request's `signal`). Node makes an AbortSignal in about the time
 * the rest of a lookup's own work takes, and `authorize` rarely reads it.
 */
class Departure implements ClientSignal {
  aborted = false;
  #listeners: (() => void)[] = [];
  #controller: AbortController | undefined;
  addEventListener(_type: 'abort', listener: () => void) {
    this.#listeners.push(listener);
  }
  removeEventListener(_type: 'abort', listener: () => void) {
    const index = this.#listeners.indexOf(listener);
    if (index >= 0) this.#listeners.splice(index, 1);
  }
  get signal(): AbortSignal {
    if (!this.#controller) {
      this.#controller = new AbortController();
      if (this.aborted) this.#controller.abort();
    }
    return this.#controller.signal;
  }
  leave() {
    if (this.aborted) return;
    this.aborted = true;
    this.#controller?.abort();
    for (const listener of this.#listeners.splice(0)) listener();
  }
}

/**
 * A `Request` whose `signal` is the connection's own, for the proxy's handler. A signal passed to the
 * `Request` constructor is followed through a new one (measured: three times the cost of the rest of the
 * Request); the proxy and the app's `authorize` only read `signal`. What the Fetch API copies from the
 * request itself (`new Request(request)`, `fetch(request)`) keeps the plain, unlinked signal; `clone()`
 * follows this one.
 */
class ConnectionRequest extends Request {
  readonly #departure: Departure;
  constructor(url: URL, init: RequestInit, departure: Departure) {
    super(url, init);
    this.#departure = departure;
  }
  override get signal(): AbortSignal {
    return this.#departure.signal;
  }
}

/** An event stream goes out as it comes, until either side ends it; a client that leaves cancels it. */
async function streamBody(body: ReadableStream<Uint8Array>, res: ServerResponse): Promise<void> {
  const reader = body.getReader();
  res.on('close', () => void reader.cancel().catch(() => {}));
  res.flushHeaders();
  for (;;) {
    const { done, value } = await reader.read();
    if (done || res.destroyed) break;
    res.write(value);
  }
  res.end();
}

function parsedBody(body: unknown): BodyInit | undefined {
  if (body === undefined || typeof body === 'string' || body instanceof Uint8Array) return body as BodyInit;
  return JSON.stringify(body);
}

/**
 * Adapts a Fetch handler (such as `createKlingAudioProxy(...)`) to `(req, res, next?)` for node:http,
 * Express and Connect. Mount it at the proxy's `basePath`, before any body parser:
 * `app.use('/api/kling', toNodeHandler(handler))`. If a parser has already consumed the body, its
 * `req.body` is sent on (re-serialised as JSON when it is an object), so the size cap applies to that.
 *
 * What cannot become a Fetch `Request` is answered here, in the vendor's envelope: a Host header that is no
 * host (400, code 1200) and the methods the Fetch API refuses, such as TRACE (405, code 1202). A failure of
 * the handler itself goes to `next(error)` when there is a `next`, else a 500 envelope (code 5000). When
 * the client goes away, the request's `signal` fires (the proxy then cancels lookups and lists). After a
 * 408 the connection is closed, since the rest of a trickled body would follow.
 *
 * Given the proxy's own handler, it writes the proxy's answers without a `Response` in between, and the
 * proxy then calls the vendor over node:http / node:https with keep-alive sockets, unless it was given a
 * `fetch` of its own.
 *
 * Give the server deadlines of its own, which cover what happens before the handler runs (the headers) and
 * requests to other routes: `http.createServer({ headersTimeout: 10_000, requestTimeout: 30_000 }, …)`.
 *
 * @example
 * http.createServer(toNodeHandler(createKlingAudioProxy({ apiKey, authorize }))).listen(3000);
 */
export function toNodeHandler(
  handler: FetchHandler,
): (req: IncomingMessage, res: ServerResponse, next?: (error?: unknown) => void) => void {
  // The proxy's own handler: its answers are written without a `Response` in between, and its upstream
  // calls go over node:http with keep-alive sockets (unless the app gave it a `fetch`).
  const binding = (handler as { [NODE_BINDING]?: NodeBinding })[NODE_BINDING];
  binding?.useTransport(createNodeTransport());
  return (req: NodeRequest, res, next) => {
    let discard: (() => void) | undefined;
    const gone = new Departure();
    res.on('close', () => {
      if (!res.writableFinished) gone.leave();
    });
    // After a 408 the rest of a trickled body would follow: the connection closes instead.
    const closing = (status: number) => status === 408 && !req.complete;
    /** A reply as its `Response` would go out: the same status, headers and text. */
    const write = ({ status, headers, body }: Reply) => {
      const head = replyHeaders(headers);
      if (closing(status)) head.connection = 'close';
      // Headers given to writeHead go out as they are: the length too, or the body would be chunked.
      if (req.method === 'HEAD') return void res.writeHead(status, head).end();
      head['content-length'] = String(Buffer.byteLength(body));
      res.writeHead(status, head).end(body);
    };
    const send = async (response: Response) => {
      response.headers.forEach((value, name) => {
        if (name !== 'set-cookie') res.setHeader(name, value);
      });
      const cookies = response.headers.getSetCookie();
      if (cookies.length) res.setHeader('set-cookie', cookies);
      res.statusCode = response.status;
      if (closing(response.status)) res.setHeader('connection', 'close');
      if (req.method === 'HEAD') return void res.end();
      if (response.body && /^text\/event-stream/i.test(response.headers.get('content-type') ?? '')) {
        return streamBody(response.body, res);
      }
      res.end(takeText(response) ?? Buffer.from(await response.arrayBuffer()));
    };
    void (async () => {
      const method = req.method ?? 'GET';
      const protocol = (req.socket as { encrypted?: boolean }).encrypted ? 'https' : 'http';
      const origin = originOf(protocol, req.headers.host);
      if (origin === undefined) return write(fail(400, 1200, 'The Host header is not a valid host name.'));
      if (FORBIDDEN_METHOD.test(method)) {
        return write(fail(405, 1202, 'Method not allowed: use GET, POST.', { allow: 'GET, POST' }));
      }
      let body: BodyInit | undefined;
      const parsed = method !== 'GET' && method !== 'HEAD' && req.readableEnded;
      if (method !== 'GET' && method !== 'HEAD') {
        // A body parser got here first: what it parsed is the body now, with its own length.
        if (parsed) body = parsedBody(req.body);
        else ({ stream: body, discard } = bodyStream(req));
      }
      // Pairs, not a `Headers`: the `Request` builds its own list from them.
      const headers: [string, string][] = [];
      for (const name in req.headers) {
        // HTTP/2 pseudo-headers (`:path`) are not header names the Fetch API accepts.
        if (name[0] === ':' || (parsed && (name === 'content-length' || name === 'transfer-encoding')))
          continue;
        const value = req.headers[name];
        if (typeof value === 'string') headers.push([name, value]);
        else if (value) for (const item of value) headers.push([name, item]);
      }
      let url: URL;
      let request: Request;
      try {
        url = new URL(`${origin}${safeTarget(req.originalUrl ?? req.url ?? '/')}`);
        // Node needs `duplex` for a streamed request body (a GET has none: the fewer fields, the faster).
        const init = (
          body === undefined ? { method, headers } : { method, headers, body, duplex: 'half' }
        ) as RequestInit;
        request = binding
          ? new ConnectionRequest(url, init, gone)
          : new Request(url, { ...init, signal: gone.signal });
      } catch {
        // node:http took it, the Fetch API does not: it is no request the handler could answer.
        return write(fail(400, 1200, 'The request could not be read.'));
      }
      if (!binding) return send(await handler(request));
      const answer = await binding.respond(request, url, gone);
      return answer instanceof Response ? send(answer) : write(answer);
    })()
      .catch((error: unknown) => {
        if (next) next(error);
        else if (res.headersSent) res.destroy();
        else write(fail(500, 5000, 'The proxy failed to handle the request.'));
      })
      .finally(() => discard?.());
  };
}
