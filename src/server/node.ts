/**
 * Serves a Fetch handler from node:http, Express or Connect. The only module of the server entry that
 * needs Node; the proxy itself uses the Fetch API and WebCrypto only.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

type FetchHandler = (request: Request) => Response | Promise<Response>;

/** A request as Express or Connect hand it over: `originalUrl` keeps the mount path, `body` a parsed body. */
type NodeRequest = IncomingMessage & { originalUrl?: string; body?: unknown };

// A dot segment, plain or percent-encoded. The Fetch API's URL parser would resolve it and hand the
// handler a different path from the one asked for; this adapter is the last place that sees it.
const DOT_SEGMENT = /(?<=^|[/\\])(\.|%2e){1,2}(?=[/\\?#]|$)/gi;

/** The request target as a path the URL parser will not rewrite. */
function safeTarget(raw: string): string {
  // An absolute-form (`http://…`) or asterisk-form target becomes one opaque segment that matches no route.
  if (raw[0] !== '/') return `/${encodeURIComponent(raw)}`;
  const query = raw.indexOf('?');
  const path = query < 0 ? raw : raw.slice(0, query);
  // `%252E` survives parsing as is, so the handler sees a path it does not know and answers it (and
  // logs it) like any other.
  return path.replace(DOT_SEGMENT, '%252E') + (query < 0 ? '' : raw.slice(query));
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
 * A failure of the handler itself goes to `next(error)` when there is a `next`, else a bare 500.
 *
 * @example
 * http.createServer(toNodeHandler(createKlingAudioProxy({ apiKey, authorize }))).listen(3000);
 */
export function toNodeHandler(
  handler: FetchHandler,
): (req: IncomingMessage, res: ServerResponse, next?: (error?: unknown) => void) => void {
  return (req: NodeRequest, res, next) => {
    let discard: (() => void) | undefined;
    void (async () => {
      const method = req.method ?? 'GET';
      // Only a plain host name is used for the URL's origin; anything stranger becomes localhost.
      const host = /^[\w.-]+(:\d+)?$/.test(req.headers.host ?? '') ? req.headers.host : 'localhost';
      const protocol = (req.socket as { encrypted?: boolean }).encrypted ? 'https' : 'http';
      const headers = new Headers();
      for (const [name, value] of Object.entries(req.headers)) {
        // HTTP/2 pseudo-headers (`:path`) are not header names the Fetch API accepts.
        if (name[0] === ':') continue;
        for (const item of Array.isArray(value) ? value : [value])
          if (item !== undefined) headers.append(name, item);
      }
      let body: BodyInit | undefined;
      if (method !== 'GET' && method !== 'HEAD') {
        if (req.readableEnded) {
          // A body parser got here first: what it parsed is the body now, with its own length.
          body = parsedBody(req.body);
          headers.delete('content-length');
          headers.delete('transfer-encoding');
        } else {
          ({ stream: body, discard } = bodyStream(req));
        }
      }
      const request = new Request(`${protocol}://${host}${safeTarget(req.originalUrl ?? req.url ?? '/')}`, {
        method,
        headers,
        body,
        // Node needs this for a streamed request body.
        duplex: 'half',
      } as RequestInit);

      const response = await handler(request);
      res.statusCode = response.status;
      response.headers.forEach((value, name) => {
        if (name !== 'set-cookie') res.setHeader(name, value);
      });
      const cookies = response.headers.getSetCookie();
      if (cookies.length) res.setHeader('set-cookie', cookies);
      if (response.body && /^text\/event-stream/i.test(response.headers.get('content-type') ?? '')) {
        return streamBody(response.body, res);
      }
      res.end(method === 'HEAD' ? undefined : Buffer.from(await response.arrayBuffer()));
    })()
      .catch((error: unknown) => {
        if (next) next(error);
        else if (res.headersSent) res.destroy();
        else res.writeHead(500).end();
      })
      .finally(() => discard?.());
  };
}
