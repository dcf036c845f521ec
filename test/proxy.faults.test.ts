// @vitest-environment node
/**
 * The proxy against a broken upstream and hostile clients, for real: a loopback upstream that is down,
 * slow, answers HTML, cuts off, resets, redirects, floods or sends status 600, and clients that trickle,
 * stall or leave. Every wait is bounded; everything runs on 127.0.0.1. Each suite runs twice: with the
 * Fetch API as the upstream transport (an app's own `fetch`), and with the node:http transport that
 * `toNodeHandler` gives a proxy created without one.
 */
import {
  createServer,
  type IncomingMessage,
  type Server,
  type ServerOptions,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { http, HttpResponse } from 'msw';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  createKlingAudioProxy,
  toNodeHandler,
  type KlingAudioProxyOptions,
  type KlingProxyResponseInfo,
} from '../src/server';
import { exchange, open, parseAnswer, type RawAnswer } from './rawHttp';
import { server as msw } from './server';

// Taken before msw patches the global fetch (test/setup.ts starts it in beforeAll): the proxy speaks to
// the loopback upstream directly, so an abort reaches the real socket.
const realFetch = globalThis.fetch;

const ACCESS_KEY = 'ak_faults_access_key';
const SECRET_KEY = 'sk_faults_SECRET_0f1e2d3c';
const TASK_PATH = '/api/kling/v1/audio/text-to-audio';

interface Seen {
  method: string;
  url: string;
  /** Header names as sent, in lower case. */
  names: string[];
  authorization: string;
  body: string;
  /** True once the proxy closed the request before the upstream had answered it. */
  abandoned: boolean;
  /** True once the upstream's answer was written in full. */
  answered: boolean;
}
let seen: Seen[] = [];
type Behaviour = (req: IncomingMessage, res: ServerResponse, record: Seen) => void | Promise<void>;
let behave: Behaviour;

const task = { task_id: '786412301234', task_status: 'submitted', created_at: 1, updated_at: 1 };
const vendorOk: Behaviour = (_req, res) => {
  res.writeHead(200, { 'content-type': 'application/json', 'x-request-id': 'up-1' });
  res.end(JSON.stringify({ code: 0, message: 'SUCCEED', request_id: 'up-1', data: task }));
};

const upstream: Server = createServer(async (req, res) => {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const record: Seen = {
    method: req.method ?? '',
    url: req.url ?? '',
    names: req.rawHeaders.filter((_, i) => i % 2 === 0).map((name) => name.toLowerCase()),
    authorization: req.headers.authorization ?? '',
    body: Buffer.concat(chunks).toString('utf8'),
    abandoned: false,
    answered: false,
  };
  seen.push(record);
  res.on('close', () => {
    if (!res.writableFinished) record.abandoned = true;
  });
  res.on('finish', () => (record.answered = true));
  await behave(req, res, record);
});
let UPSTREAM = '';
// Connections the upstream accepted: keep-alive shows as fewer connections than requests.
let connections = 0;
upstream.on('connection', () => void connections++);

const servers: Server[] = [];
let responses: KlingProxyResponseInfo[] = [];

// The two upstream transports: `fetch` passed in the options, or none (then toNodeHandler's node:http).
const TRANSPORTS = [
  { name: 'upstream over fetch', fetch: realFetch as typeof fetch | undefined },
  { name: 'upstream over node:http', fetch: undefined },
];
let upstreamFetch: typeof fetch | undefined = realFetch;
// msw/node (test/setup.ts) sees node:http calls as it sees an app's: the node:http suites talk to the
// loopback upstream's real sockets with it off.
const pauseMsw = () => msw.close();
const resumeMsw = () => msw.listen({ onUnhandledRequest: 'error' });

/** The proxy behind a real node:http server on a free port, with the server settings the README gives. */
async function serve(options: Partial<KlingAudioProxyOptions> = {}, serverOptions: ServerOptions = {}) {
  const handler = createKlingAudioProxy({
    accessKey: ACCESS_KEY,
    secretKey: SECRET_KEY,
    upstream: UPSTREAM,
    authorize: () => true,
    fetch: upstreamFetch,
    onResponse: (info) => void responses.push(info),
    ...options,
  } as KlingAudioProxyOptions);
  const server = createServer(
    { headersTimeout: 10_000, requestTimeout: 30_000, ...serverOptions },
    toNodeHandler(handler),
  );
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

const getText = (path = `${TASK_PATH}/786412301234`) =>
  `GET ${path} HTTP/1.1\r\nHost: app.test\r\nConnection: close\r\n\r\n`;
const postText = (body: string, extra = '') =>
  `POST ${TASK_PATH} HTTP/1.1\r\nHost: app.test\r\nContent-Type: application/json\r\n` +
  `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n${extra}\r\n${body}`;
const validBody = JSON.stringify({ prompt: 'Rain on a tin roof', duration: 5 });

function expectOwnError(answer: RawAnswer, status: number, code: number) {
  expect(answer.status).toBe(status);
  expect(answer.headers['content-type']).toBe('application/json');
  expect(answer.headers['x-content-type-options']).toBe('nosniff');
  const json = JSON.parse(answer.body);
  expect(json).toEqual({ code, message: expect.any(String), request_id: expect.any(String), data: null });
  expect(answer.headers['x-request-id']).toBe(json.request_id);
  return json as { message: string };
}

beforeAll(async () => {
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  UPSTREAM = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
});

afterEach(async () => {
  seen = [];
  connections = 0;
  responses = [];
  behave = vendorOk;
  upstream.closeAllConnections();
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

afterAll(async () => {
  upstream.closeAllConnections();
  await new Promise((resolve) => upstream.close(resolve));
});

behave = vendorOk;

for (const transport of TRANSPORTS) {
  describe(transport.name, () => {
    beforeAll(() => {
      upstreamFetch = transport.fetch;
      if (!transport.fetch) pauseMsw();
    });
    afterAll(() => {
      if (!transport.fetch) resumeMsw();
    });

    describe('upstream faults', () => {
      it('down: 502 code 5000', async () => {
        const closed = createServer();
        await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
        const { port: deadPort } = closed.address() as AddressInfo;
        await new Promise((resolve) => closed.close(resolve));
        const port = await serve({ upstream: `http://127.0.0.1:${deadPort}` });
        const json = expectOwnError(await exchange(port, getText()), 502, 5000);
        expect(json.message).toMatch(/could not reach/i);
      });

      it('slow: 504 code 5002 at timeoutMs, and the upstream request is closed', async () => {
        behave = () => {}; // never answers
        const port = await serve({ timeoutMs: 300 });
        const json = expectOwnError(await exchange(port, getText()), 504, 5002);
        expect(json.message).toMatch(/300 ms/);
        await vi.waitFor(() => expect(seen[0]?.abandoned).toBe(true), { timeout: 3000 });
      });

      it.each([
        [
          'a gateway HTML 502',
          502,
          'text/html',
          '<html><body><h1>502 Bad Gateway</h1><script>x()</script></body></html>',
        ],
        [
          'a 200 with cut-off JSON',
          200,
          'application/json',
          '{"code":0,"message":"SUCCEED","data":{"task_id":"78',
        ],
        ['a 200 that is JSON but no envelope', 200, 'application/json', '[{"task_id":"1"}]'],
        ['an envelope whose code is a string', 200, 'application/json', '{"code":"0","data":null}'],
        ['an empty 200', 200, 'application/json', ''],
        ['a 200 in another encoding', 200, 'application/json', Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x7d])],
        ['status 600 with an envelope', 600, 'application/json', '{"code":0,"message":"ok","data":null}'],
        ['status 999', 999, 'application/json', '{"code":0,"data":null}'],
        ['status 304', 304, 'application/json', ''],
        ['status 204', 204, 'application/json', ''],
      ])('%s: the proxy’s own 502 code 5000, never the upstream’s bytes', async (_, status, type, body) => {
        behave = (_req, res) => {
          res.writeHead(status, { 'content-type': type });
          res.end(body);
        };
        const port = await serve();
        const answer = await exchange(port, getText());
        const json = expectOwnError(answer, 502, 5000);
        expect(json.message).toMatch(/could not be used/);
        expect(answer.body).not.toMatch(/html|script|task_id/i);
        expect(responses[0]).toMatchObject({ status: 502, code: 5000 });
      });

      it('cut off mid-body (fewer bytes than Content-Length, then the socket closes): 502', async () => {
        behave = (_req, res) => {
          res.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' });
          res.write('{"code":0,"message":"SUCCEED","data":{');
          setTimeout(() => res.socket?.destroy(), 20);
        };
        const port = await serve();
        const json = expectOwnError(await exchange(port, getText()), 502, 5000);
        expect(json.message).toMatch(/cut off/);
      });

      it('reset before answering: 502', async () => {
        behave = (req) => void req.socket.resetAndDestroy();
        const port = await serve();
        expectOwnError(await exchange(port, getText()), 502, 5000);
      });

      it('redirect: 502, and the credential never goes to the new location', async () => {
        behave = (req, res) => {
          if (req.url === '/elsewhere') return vendorOk(req, res, seen.at(-1)!);
          res.writeHead(307, { location: `${UPSTREAM}/elsewhere` });
          res.end();
        };
        const port = await serve();
        expectOwnError(await exchange(port, getText()), 502, 5000);
        expect(seen.map((request) => request.url)).toEqual(['/v1/audio/text-to-audio/786412301234']);
      });

      it('huge, without a length (an endless stream): 502 before timeoutMs, and the stream is dropped', async () => {
        let written = 0;
        behave = (_req, res) => {
          res.writeHead(200, { 'content-type': 'application/json' });
          const chunk = Buffer.alloc(64 * 1024, 0x20);
          const pump = () => {
            while (!res.destroyed && res.write(chunk)) written += chunk.length;
            if (!res.destroyed) res.once('drain', pump);
          };
          res.write('{"code":0,"data":"');
          pump();
        };
        const port = await serve({ timeoutMs: 20_000 });
        const json = expectOwnError(await exchange(port, getText()), 502, 5000);
        expect(json.message).toMatch(/could not be used/);
        await vi.waitFor(() => expect(seen[0]?.abandoned).toBe(true), { timeout: 5000 });
        // 4 MiB read, plus what socket buffers held: far from the 30 MB a gateway might send.
        expect(written).toBeLessThan(16 * 2 ** 20);
      });

      it('huge, with a declared 30 MB length: 502 without reading it', async () => {
        behave = (_req, res) => {
          res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(30 * 2 ** 20) });
          res.write('{"code":0,"data":"');
        };
        const port = await serve({ timeoutMs: 20_000 });
        expectOwnError(await exchange(port, getText()), 502, 5000);
      });

      it('a 500-row list (about 0.3 MB) still passes', async () => {
        const rows = Array.from({ length: 500 }, (_, i) => ({
          ...task,
          task_id: String(786412300000 + i),
          task_status: 'succeed',
          task_status_msg: 'ok',
          task_result: {
            audios: [
              {
                id: `a-${i}`,
                url_mp3: `https://cdn.klingai.com/bs2/upload-kling-api/${i}/audio.mp3?x-oss-signature=${'s'.repeat(200)}`,
                url_wav: `https://cdn.klingai.com/bs2/upload-kling-api/${i}/audio.wav?x-oss-signature=${'s'.repeat(200)}`,
                duration_mp3: '5.0',
                duration_wav: '5.0',
              },
            ],
          },
        }));
        behave = (_req, res) => {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ code: 0, message: 'SUCCEED', request_id: 'up-list', data: rows }));
        };
        const port = await serve();
        const answer = await exchange(port, getText(`${TASK_PATH}?pageNum=1&pageSize=500`));
        expect(answer.status).toBe(200);
        expect(answer.body.length).toBeGreaterThan(250_000);
        expect(JSON.parse(answer.body).data).toHaveLength(500);
      });

      it('an echoing gateway: the key, the token and its signature never reach the browser or the log', async () => {
        for (const credentials of [
          { accessKey: ACCESS_KEY, secretKey: SECRET_KEY },
          { accessKey: undefined, secretKey: undefined, apiKey: 'apikey_FAULTS_echo_0123456789' },
        ]) {
          behave = (req, res) => {
            const token = (req.headers.authorization ?? '').replace(/^Bearer /, '');
            const signature = token.split('.')[2] ?? token;
            res.writeHead(200, {
              'content-type': 'application/json',
              'x-request-id': token,
              'retry-after': token,
            });
            res.end(
              JSON.stringify({
                code: 0,
                message: `echo ${req.headers.authorization}`,
                request_id: token,
                data: {
                  ...task,
                  task_status_msg: `sig=${signature} iss=${credentials.accessKey}`,
                  [token]: token,
                },
              }),
            );
          };
          const port = await serve(credentials as Partial<KlingAudioProxyOptions>);
          const answer = await exchange(port, getText());
          const token = seen.at(-1)!.authorization.replace(/^Bearer /, '');
          expect(token.length).toBeGreaterThan(20);
          expect(answer.status).toBe(200);
          const everything = JSON.stringify([answer, responses]);
          for (const secret of [
            token,
            token.split('.')[2],
            // The access key only where the proxy knows it (an API-key proxy has none).
            credentials.accessKey,
            SECRET_KEY,
            'apikey_FAULTS_echo_0123456789',
          ]) {
            if (secret) expect(everything).not.toContain(secret);
          }
          const json = JSON.parse(answer.body);
          expect(json.data.task_id).toBe('786412301234');
          expect(json.message).toBe('echo Bearer [redacted]');
          expect(json.request_id).toBe('[redacted]');
          expect(answer.headers['x-request-id']).toBeUndefined();
          expect(responses.at(-1)!.requestId).toBe('[redacted]');
        }
      });
    });

    describe('the request budget', () => {
      it('timeoutMs covers a late 1004 and its retry together: 504, never 2 × timeoutMs', async () => {
        behave = (_req, res, record) => {
          // The first answer (a 1004) comes at 60% of the budget; the retry's would come 70% later.
          const first = seen.indexOf(record) === 0;
          setTimeout(
            () => {
              if (res.destroyed) return;
              res.writeHead(first ? 401 : 200, { 'content-type': 'application/json' });
              res.end(
                JSON.stringify(
                  first
                    ? { code: 1004, message: 'token expired', request_id: 'up-1004', data: null }
                    : { code: 0, message: 'SUCCEED', request_id: 'up-2', data: task },
                ),
              );
            },
            first ? 240 : 280,
          );
        };
        const port = await serve({ timeoutMs: 400 });
        expectOwnError(await exchange(port, getText()), 504, 5002);
        expect(seen).toHaveLength(2);
        await vi.waitFor(() => expect(seen[1]!.abandoned).toBe(true), { timeout: 3000 });
      });
    });

    describe('slow and vanishing clients', () => {
      it('a trickled create body: 408 code 1200 at timeoutMs, then the connection is closed', async () => {
        const port = await serve({ timeoutMs: 300 });
        const connection = await open(port);
        const body = validBody;
        connection.socket.write(postText(body).slice(0, -body.length));
        let sent = 0;
        const trickle = setInterval(() => {
          if (sent < body.length && !connection.isClosed()) connection.socket.write(body[sent++]!);
        }, 50);
        try {
          await vi.waitFor(() => expect(connection.isClosed()).toBe(true), { timeout: 5000 });
        } finally {
          clearInterval(trickle);
        }
        expect(sent).toBeLessThan(body.length);
        expectOwnError(parseAnswer(connection.data())!, 408, 1200);
        expect(seen).toHaveLength(0);
      });

      it('200 stalled connections are all closed by the deadlines, and the server keeps serving', async () => {
        const port = await serve(
          { timeoutMs: 400 },
          { headersTimeout: 500, requestTimeout: 1000, connectionsCheckingInterval: 100 },
        );
        const stalled = await Promise.all(
          Array.from({ length: 200 }, async (_, i) => {
            const connection = await open(port);
            // Half stall in their headers (node:http's headersTimeout), half in a create's body (the proxy's budget).
            connection.socket.write(
              i % 2 ? postText(validBody).slice(0, -5) : `GET ${TASK_PATH}/1 HTTP/1.1\r\nHost: app`,
            );
            return connection;
          }),
        );
        const fresh = await exchange(port, getText());
        expect(fresh.status).toBe(200);
        await vi.waitFor(() => expect(stalled.filter((c) => !c.isClosed())).toHaveLength(0), {
          timeout: 10_000,
          interval: 100,
        });
        const bodyStalled = stalled.filter((_, i) => i % 2).map((c) => parseAnswer(c.data()));
        for (const answer of bodyStalled) expectOwnError(answer!, 408, 1200);
        // Only the fresh lookup reached the upstream.
        expect(seen).toHaveLength(1);
      }, 20_000);

      it('a client that leaves cancels a lookup upstream', async () => {
        behave = () => {}; // never answers
        const port = await serve({ timeoutMs: 20_000 });
        const connection = await open(port);
        connection.socket.write(getText());
        await vi.waitFor(() => expect(seen).toHaveLength(1), { timeout: 3000 });
        connection.socket.destroy();
        await vi.waitFor(() => expect(seen[0]!.abandoned).toBe(true), { timeout: 3000 });
        await vi.waitFor(() => expect(responses).toHaveLength(1), { timeout: 3000 });
        expect(responses[0]).toMatchObject({ route: 'getTask', status: 499 });
      });

      it('a client that leaves cancels a list upstream', async () => {
        behave = () => {};
        const port = await serve({ timeoutMs: 20_000 });
        const connection = await open(port);
        connection.socket.write(getText(`${TASK_PATH}?pageNum=1&pageSize=30`));
        await vi.waitFor(() => expect(seen).toHaveLength(1), { timeout: 3000 });
        connection.socket.destroy();
        await vi.waitFor(() => expect(seen[0]!.abandoned).toBe(true), { timeout: 3000 });
      });

      it('a client that leaves does not cancel a create: it runs to completion', async () => {
        behave = (req, res, record) => void setTimeout(() => vendorOk(req, res, record), 300);
        const port = await serve({ timeoutMs: 20_000 });
        const connection = await open(port);
        connection.socket.write(postText(validBody));
        await vi.waitFor(() => expect(seen).toHaveLength(1), { timeout: 3000 });
        connection.socket.destroy();
        await vi.waitFor(() => expect(responses).toHaveLength(1), { timeout: 3000 });
        expect(seen[0]).toMatchObject({ method: 'POST', answered: true, abandoned: false });
        // The records give every create an external id, so a retry finds it: the rest is the body sent.
        expect(JSON.parse(seen[0]!.body)).toMatchObject(JSON.parse(validBody));
        expect(responses[0]).toMatchObject({ route: 'createTask', status: 200, code: 0, requestId: 'up-1' });
      });

      it('aborted Fetch requests: a lookup is cancelled, a create is not', async () => {
        behave = (req, res, record) => void setTimeout(() => vendorOk(req, res, record), 300);
        const handler = createKlingAudioProxy({
          accessKey: ACCESS_KEY,
          secretKey: SECRET_KEY,
          upstream: UPSTREAM,
          authorize: () => true,
          fetch: realFetch,
        });
        const lookup = new AbortController();
        const looked = handler(new Request(`http://app.test${TASK_PATH}/1`, { signal: lookup.signal }));
        const create = new AbortController();
        const created = handler(
          new Request(`http://app.test${TASK_PATH}`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: validBody,
            signal: create.signal,
          }),
        );
        await vi.waitFor(() => expect(seen).toHaveLength(2), { timeout: 3000 });
        lookup.abort();
        create.abort();
        expect((await looked).status).toBe(499);
        expect((await created).status).toBe(200);
        const byMethod = Object.fromEntries(seen.map((record) => [record.method, record]));
        await vi.waitFor(() => expect(byMethod.GET!.abandoned).toBe(true), { timeout: 3000 });
        expect(byMethod.POST).toMatchObject({ answered: true, abandoned: false });
      });
    });
  });
}

describe('the node:http transport (toNodeHandler, no `fetch` given)', () => {
  beforeAll(() => {
    upstreamFetch = undefined;
    pauseMsw();
  });
  afterAll(resumeMsw);

  const getKeepAlive = (path = `${TASK_PATH}/786412301234`) =>
    `GET ${path} HTTP/1.1\r\nHost: app.test\r\n\r\n`;

  it('sends the vendor only its own headers, whatever the browser sent', async () => {
    const port = await serve();
    const extra =
      'Cookie: session=abc\r\nAuthorization: Bearer users-own\r\nX-Forwarded-For: 203.0.113.9\r\n' +
      'User-Agent: browser/1.0\r\nAccept-Encoding: zstd\r\n';
    expect((await exchange(port, postText(validBody, extra))).status).toBe(200);
    expect((await exchange(port, getText().replace('\r\n\r\n', `\r\n${extra}\r\n`))).status).toBe(200);
    const own = [
      'host',
      'connection',
      'accept',
      'content-type',
      'authorization',
      'accept-encoding',
      'user-agent',
    ];
    expect([...seen[0]!.names].sort()).toEqual([...own, 'content-length'].sort());
    expect([...seen[1]!.names].sort()).toEqual([...own].sort());
    for (const record of seen) expect(record.authorization).toMatch(/^Bearer [\w-]+\.[\w-]+\.[\w-]+$/);
    expect(JSON.stringify(seen)).not.toMatch(/session=abc|users-own|203\.0\.113|browser\/1\.0|zstd/);
  });

  it('keeps its upstream connections alive: 20 lookups in a row open one', async () => {
    const port = await serve();
    const connection = await open(port);
    for (let i = 0; i < 20; i++) {
      const before = connection.data().length;
      connection.socket.write(getKeepAlive());
      await vi.waitFor(() => expect(connection.data().slice(before)).toMatch(/"request_id":"up-1"/), {
        timeout: 3000,
        interval: 5,
      });
    }
    connection.socket.destroy();
    expect(seen).toHaveLength(20);
    expect(connections).toBe(1);
  });

  it('opens a new connection after an upstream one is cut, and never reuses the cut one', async () => {
    let count = 0;
    behave = (req, res, record) => {
      // The second answer is cut off mid-body: that socket must not go back to the pool.
      if (++count === 2) {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' });
        res.write('{"code":0');
        return void setTimeout(() => res.socket?.destroy(), 20);
      }
      vendorOk(req, res, record);
    };
    const port = await serve();
    expect((await exchange(port, getText())).status).toBe(200);
    expectOwnError(await exchange(port, getText()), 502, 5000);
    expect((await exchange(port, getText())).status).toBe(200);
    expect(connections).toBe(2);
  });

  it('reads a gzip answer as fetch would, and refuses one that inflates past 4 MiB', async () => {
    let body = Buffer.from(JSON.stringify({ code: 0, message: 'SUCCEED', request_id: 'up-gz', data: task }));
    behave = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
      res.end(gzipSync(body));
    };
    const port = await serve();
    const answer = await exchange(port, getText());
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toMatchObject({ code: 0, request_id: 'up-gz', data: task });
    // About 5 KB on the wire, 5 MiB once inflated.
    body = Buffer.from(`{"code":0,"data":"${' '.repeat(5 * 2 ** 20)}"}`);
    expectOwnError(await exchange(port, getText()), 502, 5000);
  });

  it('hands `authorize` a Request whose signal fires when the client leaves', async () => {
    behave = () => {}; // never answers
    let asked: Request | undefined;
    const port = await serve({
      timeoutMs: 20_000,
      authorize: (request) => {
        asked = request;
        return true;
      },
    });
    const connection = await open(port);
    connection.socket.write(getText());
    await vi.waitFor(() => expect(seen).toHaveLength(1), { timeout: 3000 });
    expect(asked).toBeInstanceOf(Request);
    expect(asked!.signal.aborted).toBe(false);
    const fired = new Promise((resolve) => asked!.signal.addEventListener('abort', resolve));
    connection.socket.destroy();
    await fired;
    expect(asked!.signal.aborted).toBe(true);
    await vi.waitFor(() => expect(seen[0]!.abandoned).toBe(true), { timeout: 3000 });
  });

  it("is seen by msw/node like any node:http call, so an app's tests can fake the vendor with it", async () => {
    resumeMsw();
    try {
      msw.use(
        http.get('http://vendor.test/*', () =>
          HttpResponse.json({ code: 0, message: 'SUCCEED', request_id: 'from-msw', data: task }),
        ),
      );
      const port = await serve({ upstream: 'http://vendor.test' });
      const answer = await exchange(port, getText());
      expect(JSON.parse(answer.body)).toMatchObject({ code: 0, request_id: 'from-msw', data: task });
    } finally {
      msw.resetHandlers();
      pauseMsw();
    }
  });

  it('leaves a `fetch` the app passed in charge, under toNodeHandler too', async () => {
    const calls: string[] = [];
    const port = await serve({
      fetch: async (input) => {
        calls.push(String(input));
        return Response.json({ code: 0, message: 'SUCCEED', request_id: 'fake', data: task });
      },
    });
    const answer = await exchange(port, getText());
    expect(JSON.parse(answer.body)).toMatchObject({ request_id: 'fake' });
    expect(calls).toEqual([`${UPSTREAM}/v1/audio/text-to-audio/786412301234`]);
    expect(seen).toEqual([]);
  });
});
