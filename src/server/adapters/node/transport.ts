/**
 * The upstream transport `toNodeHandler` gives its proxy: node:http / node:https with keep-alive sockets.
 * In `npm run bench`, a pass-through on node:http serves more than twice the requests of the same on
 * Node 20's global fetch. It only moves bytes; every check of the answer stays in upstream.ts. Node's
 * modules are loaded at the first call, so the server entry still loads on runtimes that have none.
 */
import {
  UpstreamFailure,
  type UpstreamAnswer,
  type UpstreamCall,
  type UpstreamTransport,
} from '../../vendor/upstream';

// Loaded at the first call (no module of the entry but node.ts names a built-in statically), and typed
// from that.
const loadModules = () => Promise.all([import('node:http'), import('node:https'), import('node:zlib')]);
type Modules = Awaited<ReturnType<typeof loadModules>>;
type IncomingMessage = InstanceType<Modules[0]['IncomingMessage']>;

interface Node {
  // The modules' own objects, and `request` read from them at each call: what patches them (msw/node in an
  // app's tests, an APM agent) sees these calls as it sees any other.
  http: Pick<Modules[0], 'request'>;
  https: Pick<Modules[1], 'request'>;
  zlib: Modules[2];
  agent: InstanceType<Modules[0]['Agent']>;
  secureAgent: InstanceType<Modules[1]['Agent']>;
}

// Idle sockets are closed after this long unless the vendor announces its own `Keep-Alive: timeout`
// (Node then closes them a second before it): a socket the server has just closed is never reused.
const IDLE_MS = 4_000;

/**
 * The body with its content coding undone (an unknown coding is left as is, and fails the JSON check).
 * Throws a `RangeError` past `max` decoded bytes, another error for bytes that are not what they claim.
 */
function decoded(node: Node, encoding: string | undefined, bytes: Buffer, max: number): Buffer {
  // The cap applies to the decoded JSON too: a small gzip bomb is as unusable as a large answer.
  const limits = { maxOutputLength: max };
  switch (encoding?.trim().toLowerCase()) {
    case undefined:
    case '':
    case 'identity':
      return bytes;
    case 'gzip':
    case 'x-gzip':
      return node.zlib.gunzipSync(bytes, limits);
    case 'deflate':
      // Servers send both zlib-wrapped and raw deflate under this name; the wrapper starts with 0x78.
      return bytes[0] === 0x78
        ? node.zlib.inflateSync(bytes, limits)
        : node.zlib.inflateRawSync(bytes, limits);
    case 'br':
      return node.zlib.brotliDecompressSync(bytes, limits);
    default:
      return bytes;
  }
}

function send(node: Node, { method, url, headers, body, timeoutMs, signal }: UpstreamCall) {
  return new Promise<UpstreamAnswer>((resolve, reject) => {
    const target = new URL(url);
    const secure = target.protocol === 'https:';
    let answer: IncomingMessage | undefined;
    let ended = false;
    // Where a failure goes: the call's promise until there is an answer, then the body's reader.
    let failTo = reject;
    let why: UpstreamFailure['reason'] | undefined;
    const end = () => {
      ended = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onGone);
    };
    const failed = (reason: UpstreamFailure['reason']) => {
      if (ended) return;
      end();
      failTo(new UpstreamFailure(why ?? reason));
    };
    /** Drops the call: destroying the request closes its socket, which never goes back to the pool. */
    const drop = (reason?: UpstreamFailure['reason']) => {
      why ??= reason;
      req.destroy();
      if (reason) failed(reason);
    };
    const onGone = () => drop('gone');
    const timer = setTimeout(() => drop('late'), timeoutMs);
    signal?.addEventListener('abort', onGone);

    const sent: Record<string, string> = { ...headers };
    // The proxy undoes these itself (`decoded`), as fetch would.
    sent['accept-encoding'] = 'gzip, deflate, br';
    sent['user-agent'] = 'react-kling-audio';
    if (body !== undefined) sent['content-length'] = String(Buffer.byteLength(body));
    const { hostname } = target;
    // node:http follows no redirect: a 3xx is an answer like any other, refused by the status check.
    const req = (secure ? node.https : node.http).request({
      // An [IPv6] literal goes to the socket without its brackets.
      host: hostname[0] === '[' ? hostname.slice(1, -1) : hostname,
      port: target.port,
      path: target.pathname + target.search,
      method,
      headers: sent,
      // The https agent checks the certificate against `host`, as fetch does.
      agent: secure ? node.secureAgent : node.agent,
    });
    req.on('error', () => failed(answer ? 'cut' : 'unreachable'));
    req.on('response', (res: IncomingMessage) => {
      answer = res;
      res.on('error', () => failed('cut'));
      res.on('close', () => !res.complete && failed('cut'));
      resolve({
        status: res.statusCode ?? 0,
        headers: {
          get: (name) => {
            const value = res.headers[name];
            return value === undefined ? null : Array.isArray(value) ? value.join(', ') : value;
          },
        },
        read: (max) =>
          new Promise<Uint8Array | null>((done, fail) => {
            failTo = fail;
            if (ended) return fail(new UpstreamFailure(why ?? 'cut'));
            const tooLarge = () => {
              drop();
              end();
              done(null);
            };
            if (Number(res.headers['content-length']) > max) return tooLarge();
            const chunks: Buffer[] = [];
            let size = 0;
            res.on('data', (chunk: Buffer) => {
              if (ended) return;
              size += chunk.byteLength;
              if (size > max) return tooLarge();
              chunks.push(chunk);
            });
            res.on('end', () => {
              if (ended) return;
              end();
              try {
                done(decoded(node, res.headers['content-encoding'], Buffer.concat(chunks, size), max));
              } catch (error) {
                // Past the cap once decoded, or not the encoding it claims.
                if (error instanceof RangeError) done(null);
                else fail(new UpstreamFailure('cut'));
              }
            });
          }),
        discard: () => {
          drop();
          end();
        },
      });
    });
    req.end(body);
  });
}

let modules: Promise<Modules> | undefined;

/** A transport with its own keep-alive sockets (one pool for http, one for https). */
export function createNodeTransport(): UpstreamTransport {
  let node: Node | undefined;
  const load = async () => {
    modules ??= loadModules();
    const [http, https, zlib] = await modules;
    return (node ??= {
      http: http.default ?? http,
      https: https.default ?? https,
      zlib,
      agent: new http.Agent({ keepAlive: true, timeout: IDLE_MS }),
      secureAgent: new https.Agent({ keepAlive: true, timeout: IDLE_MS }),
    });
  };
  return (call) => (node ? send(node, call) : load().then((loaded) => send(loaded, call)));
}
