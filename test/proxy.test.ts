// @vitest-environment node
import { createHmac } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { http, passthrough } from 'msw';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  createKlingAudioProxy,
  signKlingToken,
  toNodeHandler,
  type KlingAudioProxyOptions,
  type KlingProxyResponseInfo,
} from '../src/server';
import { server as msw } from './server';

const ACCESS_KEY = 'ak_test_access';
const SECRET_KEY = 'sk_TOP-SECRET_9f8e7d6c5b4a';
const API_KEY = 'apikey_TOP-SECRET_0123456789';
const APP = 'http://app.test';
const TASKS = `${APP}/api/kling/v1/audio/text-to-audio`;

// ---------------------------------------------------------------------------------------------
// Everything any test shows the outside world, scanned for credentials at the end.

const outputs: string[] = [];
const tokensSeen = new Set<string>();
const record = (value: unknown) => outputs.push(typeof value === 'string' ? value : JSON.stringify(value));

// ---------------------------------------------------------------------------------------------
// A real upstream on 127.0.0.1 that checks the credential as the vendor does and records every request.

interface Received {
  method: string;
  path: string;
  query: Record<string, string>;
  rawUrl: string;
  headers: IncomingHttpHeaders;
  body: string;
  token: string;
  claims?: { iss: string; exp: number; nbf: number };
}
interface UpstreamReply {
  status?: number;
  headers?: Record<string, string | string[]>;
  body?: unknown;
  raw?: string;
  delayMs?: number;
}

let received: Received[] = [];
let script: ((request: Received) => UpstreamReply | undefined)[] = [];

const readAll = async (req: IncomingMessage) => {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
};

/** The vendor's check: signature, `iss`, `exp` (1004 when past) and `nbf` (1003 when ahead). */
function checkCredential(token: string): { code?: number; claims?: Received['claims'] } {
  if (token === API_KEY) return {};
  const [header, payload, signature] = token.split('.');
  if (!header || !payload || !signature) return { code: 1002 };
  const expected = createHmac('sha256', SECRET_KEY).update(`${header}.${payload}`).digest('base64url');
  if (signature !== expected) return { code: 1002 };
  const head = JSON.parse(Buffer.from(header, 'base64url').toString());
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
  if (head.alg !== 'HS256' || head.typ !== 'JWT' || claims.iss !== ACCESS_KEY) return { code: 1002 };
  // Signed together: exp = t + 1800 and nbf = t - 5 for the same signing second t.
  if (claims.exp - claims.nbf !== 1805) return { code: 1002 };
  const now = Math.floor(Date.now() / 1000);
  if (claims.exp <= now) return { code: 1004, claims };
  if (claims.nbf > now) return { code: 1003, claims };
  return { claims };
}

const wireTask = (taskId = '786412301234', external = '') => ({
  task_id: taskId,
  task_status: 'submitted',
  task_info: { external_task_id: external },
  created_at: 1722769557708,
  updated_at: 1722769557708,
});

let upstreamCount = 0;
function vendorAnswer(request: Received): UpstreamReply {
  const requestId = `up-${++upstreamCount}`;
  const ok = (data: unknown) => ({
    headers: { 'x-request-id': requestId },
    body: { code: 0, message: 'SUCCEED', request_id: requestId, data },
  });
  if (request.method === 'POST') {
    const body = JSON.parse(request.body);
    return ok(wireTask('786412301234', body.external_task_id ?? ''));
  }
  const id = request.path.split('/')[4];
  if (id) return ok(wireTask(decodeURIComponent(id)));
  if (request.query.external_task_id) return ok(wireTask('786412301234', request.query.external_task_id));
  return ok([wireTask()]);
}

const upstream: Server = createServer(async (req, res) => {
  const url = new URL(req.url ?? '/', 'http://upstream');
  const token = (req.headers.authorization ?? '').replace(/^Bearer /, '');
  tokensSeen.add(token);
  const request: Received = {
    method: req.method ?? '',
    path: url.pathname,
    query: Object.fromEntries(url.searchParams),
    rawUrl: req.url ?? '',
    headers: req.headers,
    body: await readAll(req),
    token,
  };
  const check = checkCredential(token);
  request.claims = check.claims;
  received.push(request);
  const reply: UpstreamReply = check.code
    ? { status: 401, body: { code: check.code, message: 'auth', request_id: 'up-auth', data: null } }
    : (script.shift()?.(request) ?? vendorAnswer(request));
  if (reply.delayMs) await new Promise((resolve) => setTimeout(resolve, reply.delayMs));
  if (res.destroyed) return;
  res.writeHead(reply.status ?? 200, { 'content-type': 'application/json', ...reply.headers });
  res.end(reply.raw ?? JSON.stringify(reply.body));
});

let UPSTREAM = '';
const consoleCalls: unknown[][] = [];

beforeAll(async () => {
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  UPSTREAM = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
  for (const method of ['log', 'info', 'warn', 'error', 'debug'] as const) {
    vi.spyOn(console, method).mockImplementation((...args: unknown[]) => void consoleCalls.push(args));
  }
});

beforeEach(() => {
  received = [];
  script = [];
  // msw/node intercepts fetch and node:http in this process; real network for loopback only.
  msw.use(http.all(/^http:\/\/127\.0\.0\.1:\d+\//, () => passthrough()));
});

afterEach(() => {
  vi.useRealTimers();
});

afterAll(async () => {
  upstream.closeAllConnections();
  await new Promise((resolve) => upstream.close(resolve));
  vi.restoreAllMocks();
});

// ---------------------------------------------------------------------------------------------
// Helpers.

const logs: unknown[] = [];

function proxy(options: Partial<KlingAudioProxyOptions> = {}) {
  const credentials = 'apiKey' in options ? {} : { accessKey: ACCESS_KEY, secretKey: SECRET_KEY };
  return createKlingAudioProxy({
    ...credentials,
    upstream: UPSTREAM,
    authorize: () => true,
    // These tests are about forwarding; the records (the default store) are tested in records.test.ts.
    store: false,
    onRequest: (info) => void logs.push(info),
    onResponse: (info) => void logs.push(info),
    ...options,
  } as KlingAudioProxyOptions);
}

interface Answer {
  status: number;
  headers: Headers;
  text: string;
  json: { code: number; message: string; request_id: string; data: unknown };
}

async function answer(response: Response | Promise<Response>): Promise<Answer> {
  const res = await response;
  const text = await res.text();
  record(text);
  record([...res.headers]);
  let json: Answer['json'];
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined as never;
  }
  return { status: res.status, headers: res.headers, text, json };
}

const post = (body: unknown, init: RequestInit = {}) =>
  new Request(TASKS, {
    method: 'POST',
    ...init,
    headers: { 'content-type': 'application/json', ...init.headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });

const get = (pathAndQuery: string, init?: RequestInit) => new Request(`${APP}${pathAndQuery}`, init);

const validBody = { prompt: 'Rain on a tin roof', duration: 5 };

function expectOwnEnvelope(res: Answer, status: number, code: number) {
  expect(res.status).toBe(status);
  expect(res.json).toEqual({ code, message: expect.any(String), request_id: expect.any(String), data: null });
  expect(res.json.message.length).toBeGreaterThan(3);
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  expect(res.headers.get('x-content-type-options')).toBe('nosniff');
  expect(res.headers.get('x-request-id')).toBe(res.json.request_id);
}

const decodeClaims = (token: string) =>
  JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as {
    iss: string;
    exp: number;
    nbf: number;
  };

// ---------------------------------------------------------------------------------------------

describe('createKlingAudioProxy options', () => {
  it('throws without authorize: there is no permissive default', () => {
    expect(() =>
      createKlingAudioProxy({ accessKey: ACCESS_KEY, secretKey: SECRET_KEY } as KlingAudioProxyOptions),
    ).toThrow(/authorize/);
  });

  it.each([
    ['no credential', {}],
    ['an access key without its secret', { accessKey: ACCESS_KEY }],
    ['a secret without its access key', { secretKey: SECRET_KEY }],
    ['empty strings from an unset environment', { accessKey: '', secretKey: '', apiKey: '' }],
    ['both kinds at once', { accessKey: ACCESS_KEY, secretKey: SECRET_KEY, apiKey: API_KEY }],
  ])('throws on %s, naming no secret', (_, credentials) => {
    let error: unknown;
    try {
      createKlingAudioProxy({ ...credentials, authorize: () => true });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(TypeError);
    record(String(error));
    expect(String(error)).toMatch(/accessKey.*secretKey.*apiKey/);
  });

  it('throws on an upstream that is not an http(s) URL', () => {
    expect(() => proxy({ upstream: 'file:///etc' })).toThrow(/upstream/);
    expect(() => proxy({ upstream: 'api.klingai.com' })).toThrow(/upstream/);
  });
});

describe('signKlingToken', () => {
  it('signs an HS256 JWT the vendor accepts: iss, exp = now + 1800, nbf = now - 5', async () => {
    const now = Date.UTC(2025, 0, 1, 12, 0, 0, 700);
    const token = await signKlingToken({ accessKey: ACCESS_KEY, secretKey: SECRET_KEY, now });
    const [header, payload, signature] = token.split('.');
    expect(JSON.parse(Buffer.from(header!, 'base64url').toString())).toEqual({ alg: 'HS256', typ: 'JWT' });
    const seconds = Math.floor(now / 1000);
    expect(decodeClaims(token)).toEqual({ iss: ACCESS_KEY, exp: seconds + 1800, nbf: seconds - 5 });
    expect(signature).toBe(
      createHmac('sha256', SECRET_KEY).update(`${header}.${payload}`).digest('base64url'),
    );
    expect(token).not.toMatch(/[=+/]/);
  });

  it('takes the lifetime in seconds', async () => {
    const token = await signKlingToken({ accessKey: 'a', secretKey: 'b', now: 10_000, ttlSeconds: 60 });
    expect(decodeClaims(token)).toEqual({ iss: 'a', exp: 70, nbf: 5 });
  });
});

describe('forwarding the three routes', () => {
  it('POST create: the validated, normalised body goes upstream with a fresh JWT', async () => {
    const res = await answer(
      proxy()(
        post({
          prompt: '  Rain on a tin roof  ',
          duration: 5,
          external_task_id: 'order-42',
          callback_url: '',
        }),
      ),
    );
    expect(res.status).toBe(200);
    expect(received).toHaveLength(1);
    const [sent] = received;
    expect(sent).toMatchObject({ method: 'POST', path: '/v1/audio/text-to-audio', query: {} });
    expect(JSON.parse(sent!.body)).toEqual({
      prompt: 'Rain on a tin roof',
      duration: 5,
      external_task_id: 'order-42',
    });
    expect(sent!.headers['content-type']).toBe('application/json');
    expect(sent!.headers.accept).toBe('application/json');
    expect(sent!.headers.authorization).toMatch(/^Bearer [\w-]+\.[\w-]+\.[\w-]+$/);
    const now = Math.floor(Date.now() / 1000);
    expect(sent!.claims!.iss).toBe(ACCESS_KEY);
    expect(Math.abs(sent!.claims!.exp - now - 1800)).toBeLessThanOrEqual(2);
    expect(sent!.claims!.nbf).toBeLessThanOrEqual(now);
    // The vendor's answer, byte for byte.
    expect(res.json).toEqual({
      code: 0,
      message: 'SUCCEED',
      request_id: res.headers.get('x-request-id'),
      data: wireTask('786412301234', 'order-42'),
    });
  });

  it('GET one task by its id in the path: the fixed path plus the id, no query', async () => {
    const res = await answer(
      proxy()(get('/api/kling/v1/audio/text-to-audio/786412301234?pageNum=2&url=http://evil.test')),
    );
    expect(res.status).toBe(200);
    expect(received).toHaveLength(1);
    expect(received[0]).toMatchObject({
      method: 'GET',
      rawUrl: '/v1/audio/text-to-audio/786412301234',
      body: '',
    });
    expect((res.json.data as { task_id: string }).task_id).toBe('786412301234');
  });

  it('GET one task by external id, in the path or as ?external_task_id=', async () => {
    const handler = proxy();
    await answer(handler(get('/api/kling/v1/audio/text-to-audio/order-42%3Aretry.1')));
    const res = await answer(
      handler(get('/api/kling/v1/audio/text-to-audio?external_task_id=order-42:retry.1&pageSize=9')),
    );
    expect(received.map((r) => r.rawUrl)).toEqual([
      '/v1/audio/text-to-audio/order-42%3Aretry.1',
      '/v1/audio/text-to-audio?external_task_id=order-42%3Aretry.1',
    ]);
    expect((res.json.data as { task_info: unknown }).task_info).toEqual({
      external_task_id: 'order-42:retry.1',
    });
  });

  it('GET the list: only pageNum and pageSize go upstream, defaults filled in', async () => {
    const handler = proxy();
    const res = await answer(
      handler(
        get('/api/kling/v1/audio/text-to-audio?pageSize=50&pageNum=2&callback_url=x&target=http://evil'),
      ),
    );
    await answer(handler(get('/api/kling/v1/audio/text-to-audio')));
    expect(res.status).toBe(200);
    expect(Array.isArray(res.json.data)).toBe(true);
    expect(received.map((r) => r.rawUrl)).toEqual([
      '/v1/audio/text-to-audio?pageNum=2&pageSize=50',
      '/v1/audio/text-to-audio?pageNum=1&pageSize=30',
    ]);
  });

  it.each([
    'pageNum=0',
    'pageNum=1001',
    'pageSize=0',
    'pageSize=501',
    'pageNum=-1',
    'pageNum=1.5',
    'pageNum=abc',
    'pageSize=',
    'pageNum=1e3',
    'pageNum=99999999999999999999',
  ])('refuses list bounds outside 1-1000 / 1-500 (%s): 400 code 1201, nothing upstream', async (query) => {
    const res = await answer(proxy()(get(`/api/kling/v1/audio/text-to-audio?${query}`)));
    expectOwnEnvelope(res, 400, 1201);
    expect(res.json.message).toMatch(/pageNum.*1.*1000.*pageSize.*1.*500/);
    expect(received).toHaveLength(0);
  });

  it('accepts the bounds themselves', async () => {
    await answer(proxy()(get('/api/kling/v1/audio/text-to-audio?pageNum=1000&pageSize=500')));
    await answer(proxy()(get('/api/kling/v1/audio/text-to-audio?pageNum=1&pageSize=1')));
    expect(received.map((r) => r.query)).toEqual([
      { pageNum: '1000', pageSize: '500' },
      { pageNum: '1', pageSize: '1' },
    ]);
  });

  it('serves a custom basePath and an upstream with a path prefix', async () => {
    const handler = proxy({ basePath: '/kling/', upstream: `${UPSTREAM}/gateway/` });
    const res = await answer(handler(get('/kling/v1/audio/text-to-audio/1')));
    expect(res.status).toBe(200);
    expect(received[0]!.rawUrl).toBe('/gateway/v1/audio/text-to-audio/1');
    expectOwnEnvelope(await answer(handler(get('/api/kling/v1/audio/text-to-audio/1'))), 404, 1203);
    expect(received).toHaveLength(1);
  });
});

describe('credentials', () => {
  it('API key mode sends the key as is, and does not retry a 1004', async () => {
    const handler = proxy({ apiKey: API_KEY });
    await answer(handler(get('/api/kling/v1/audio/text-to-audio/1')));
    expect(received[0]!.headers.authorization).toBe(`Bearer ${API_KEY}`);

    script.push(() => ({
      status: 401,
      body: { code: 1004, message: 'expired', request_id: 'up-x', data: null },
    }));
    const res = await answer(handler(get('/api/kling/v1/audio/text-to-audio/1')));
    expect(res.status).toBe(401);
    expect(res.json.code).toBe(1004);
    expect(received).toHaveLength(2);
  });

  it('caches the token across requests and re-signs when less than 5 minutes are left', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const t0 = Date.UTC(2025, 5, 1, 8, 0, 0);
    vi.setSystemTime(t0);
    const handler = proxy();
    await answer(handler(get('/api/kling/v1/audio/text-to-audio/1')));
    vi.setSystemTime(t0 + 60_000);
    await answer(handler(get('/api/kling/v1/audio/text-to-audio?pageNum=1')));
    await answer(handler(post(validBody)));
    vi.setSystemTime(t0 + 24 * 60_000); // 6 minutes left: still cached
    await answer(handler(get('/api/kling/v1/audio/text-to-audio/1')));
    vi.setSystemTime(t0 + 26 * 60_000); // 4 minutes left: a new token
    await answer(handler(get('/api/kling/v1/audio/text-to-audio/1')));

    const tokens = received.map((r) => r.token);
    expect(new Set(tokens.slice(0, 4)).size).toBe(1);
    expect(tokens[4]).not.toBe(tokens[0]);
    expect(received[0]!.claims!.exp).toBe(t0 / 1000 + 1800);
    expect(received[4]!.claims!.exp).toBe(t0 / 1000 + 26 * 60 + 1800);
    // Every request was accepted by the verifying upstream.
    expect(received.every((r) => r.claims)).toBe(true);
  });

  it('re-signs once and retries once on 1004, then keeps the new token', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const t0 = Date.UTC(2025, 5, 1, 8, 0, 0);
    vi.setSystemTime(t0);
    const handler = proxy();
    script.push(() => {
      vi.setSystemTime(t0 + 3000); // the vendor's clock says the token is stale
      return {
        status: 401,
        body: { code: 1004, message: 'token expired', request_id: 'up-1004', data: null },
      };
    });
    const res = await answer(handler(get('/api/kling/v1/audio/text-to-audio/1')));
    expect(res.status).toBe(200);
    expect(received).toHaveLength(2);
    expect(received[1]!.token).not.toBe(received[0]!.token);
    expect(received[1]!.claims!.exp).toBe(t0 / 1000 + 3 + 1800);

    await answer(handler(get('/api/kling/v1/audio/text-to-audio/2')));
    expect(received[2]!.token).toBe(received[1]!.token);
  });

  it('retries a create refused with 1003 once, with the same body, and passes a second refusal through', async () => {
    const handler = proxy();
    const refuse = (code: number) => () => ({
      status: 401,
      body: { code, message: 'token', request_id: `up-${code}`, data: null },
    });
    script.push(refuse(1003));
    const created = await answer(handler(post(validBody)));
    expect(created.status).toBe(200);
    expect(received.map((r) => [r.method, JSON.parse(r.body)])).toEqual([
      ['POST', validBody],
      ['POST', validBody],
    ]);

    received = [];
    script.push(refuse(1004), refuse(1004));
    const res = await answer(handler(post(validBody)));
    expect(res.status).toBe(401);
    expect(res.json).toEqual({ code: 1004, message: 'token', request_id: 'up-1004', data: null });
    expect(received).toHaveLength(2);
  });

  it('does not retry other auth codes', async () => {
    script.push(() => ({ status: 401, body: { code: 1002, message: 'bad', request_id: 'r', data: null } }));
    const res = await answer(proxy()(get('/api/kling/v1/audio/text-to-audio/1')));
    expect(res.json.code).toBe(1002);
    expect(received).toHaveLength(1);
  });
});

describe('authorize', () => {
  it.each([
    ['false', () => false],
    ['a rejected promise', () => Promise.reject(new Error(`db down ${SECRET_KEY}`))],
    [
      'a throw',
      () => {
        throw new Error('boom');
      },
    ],
    ['an empty user id', () => ''],
    ['a truthy non-boolean', () => 1 as unknown as boolean],
  ])('answers 401 (code 1000) on %s and sends nothing upstream', async (_, authorize) => {
    const handler = proxy({ authorize });
    for (const request of [post(validBody), get('/api/kling/v1/audio/text-to-audio/1')]) {
      expectOwnEnvelope(await answer(handler(request)), 401, 1000);
    }
    expect(received).toHaveLength(0);
  });

  it('sees the browser request (its cookie) and may be async', async () => {
    const seen: string[] = [];
    const handler = proxy({
      authorize: async (request) => {
        seen.push(request.headers.get('cookie') ?? '');
        return request.headers.get('cookie') === 'session=ok';
      },
    });
    const denied = await answer(
      handler(get('/api/kling/v1/audio/text-to-audio/1', { headers: { cookie: 'x=1' } })),
    );
    const allowed = await answer(
      handler(get('/api/kling/v1/audio/text-to-audio/1', { headers: { cookie: 'session=ok' } })),
    );
    expect([denied.status, allowed.status]).toEqual([401, 200]);
    expect(seen).toEqual(['x=1', 'session=ok']);
    expect(received).toHaveLength(1);
  });
});

describe('paths', () => {
  const nasty = [
    '/api/kling/v1/audio/text-to-audio/..%2F..%2Fadmin',
    '/api/kling/v1/audio/text-to-audio/%2e%2e',
    '/api/kling/v1/audio/text-to-audio/a%2Fb',
    '/api/kling/v1/audio/text-to-audio/a%2fb',
    '/api/kling/v1/audio/text-to-audio/a%5Cb',
    // Ids of dots only: `.` and `..` would be dot segments in the vendor's URL.
    '/api/kling/v1/audio/text-to-audio/...',
    '/api/kling/v1/audio/text-to-audio/%2E%2E%2E',
    '/api/kling/v1/audio/text-to-audio?external_task_id=..',
    '/api/kling/v1/audio/text-to-audio?external_task_id=.',
    '/api/kling/v1/audio/text-to-audio?external_task_id=%2E%2E%2E%2E',
    '/api/kling//v1/audio/text-to-audio',
    '/api/kling/v1/audio/text-to-audio//evil.com',
    '/api/kling/v1/audio/text-to-audio/http:%2F%2Fevil.com',
    '/api/kling/v1/audio/text-to-audio/http://evil.com/x',
    '//evil.com/api/kling/v1/audio/text-to-audio',
    '/api/kling/v1/audio/text-to-audio/%252e%252e',
    '/api/kling/v1/audio/text-to-audio/%2E%2E%2F%2E%2E%2Fetc',
    '/api/kling/v1/audio/text-to-audio/%00',
    '/api/kling/v1/audio/text-to-audio/a%20b',
    '/api/kling/v1/audio/text-to-audio/1/2',
    '/api/kling/v1/audio/text-to-audio/',
    '/api/kling/v1/audio/text-to-audio/%',
    `/api/kling/v1/audio/text-to-audio/${'a'.repeat(257)}`,
    '/api/kling/v1/audio/text-to-audio?external_task_id=../admin',
    '/api/kling/v1/audio/text-to-audio?external_task_id=a%2Fb',
    '/api/kling/v1/audio/text-to-audio?external_task_id=',
    '/api/kling/v1/audio/text-to-audiox',
    '/api/kling/v1/audio/TEXT-TO-AUDIO',
    '/api/kling/v1/audio/video-to-audio',
    '/api/kling/v1/audio/tts',
    '/api/kling',
    '/api/klingv1/audio/text-to-audio',
    '/other/v1/audio/text-to-audio',
  ];

  it.each(nasty)('%s -> 404 envelope, nothing upstream', async (path) => {
    const handler = proxy();
    const requests = [get(path)];
    // A create takes no query, so POST is tried on the paths without one.
    if (!path.includes('?')) requests.push(new Request(`${APP}${path}`, { method: 'POST', body: '{}' }));
    for (const request of requests) {
      expectOwnEnvelope(await answer(handler(request)), 404, 1203);
    }
    expect(received).toHaveLength(0);
  });

  it.each([
    ['PUT', '/api/kling/v1/audio/text-to-audio', 'GET, POST'],
    ['DELETE', '/api/kling/v1/audio/text-to-audio', 'GET, POST'],
    ['PATCH', '/api/kling/v1/audio/text-to-audio', 'GET, POST'],
    ['HEAD', '/api/kling/v1/audio/text-to-audio', 'GET, POST'],
    ['OPTIONS', '/api/kling/v1/audio/text-to-audio', 'GET, POST'],
    ['POST', '/api/kling/v1/audio/text-to-audio/786', 'GET, DELETE, PATCH'],
    ['PUT', '/api/kling/v1/audio/text-to-audio/786', 'GET, DELETE, PATCH'],
  ])('%s %s -> 405 with Allow: %s, nothing upstream', async (method, path, allow) => {
    const res = await answer(proxy()(new Request(`${APP}${path}`, { method })));
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe(allow);
    if (method !== 'HEAD') expectOwnEnvelope(res, 405, 1202);
    expect(received).toHaveLength(0);
  });
});

describe('the create body', () => {
  it('answers 413 past maxBodyBytes', async () => {
    const res = await answer(proxy({ maxBodyBytes: 100 })(post({ prompt: 'x'.repeat(150), duration: 5 })));
    expectOwnEnvelope(res, 413, 1200);
    expect(res.json.message).toMatch(/100 bytes/);
    expect(received).toHaveLength(0);
  });

  it('refuses a declared Content-Length over the cap without reading the body', async () => {
    let pulled = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled++;
        controller.enqueue(new Uint8Array(1000).fill(0x20));
      },
    });
    const request = new Request(TASKS, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-length': '1000000' },
      body,
      duplex: 'half',
    } as RequestInit);
    expectOwnEnvelope(await answer(proxy({ maxBodyBytes: 4096 })(request)), 413, 1200);
    // A stream pulls once on its own to fill its queue; reading would have taken five.
    expect(pulled).toBeLessThanOrEqual(1);
  });

  it('answers 413 on a streamed body without a length, and stops reading it', async () => {
    let pulled = 0;
    const endless = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled++;
        controller.enqueue(new TextEncoder().encode(`{"prompt":"${'x'.repeat(1000)}`));
      },
    });
    const request = new Request(TASKS, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: endless,
      duplex: 'half',
    } as RequestInit);
    const res = await answer(proxy({ maxBodyBytes: 4096 })(request));
    expectOwnEnvelope(res, 413, 1200);
    expect(pulled).toBeLessThan(10);
    expect(received).toHaveLength(0);
  });

  it('uses 16 KiB by default', async () => {
    const handler = proxy();
    const filler = 'x'.repeat(16_384);
    expectOwnEnvelope(await answer(handler(post({ ...validBody, filler }))), 413, 1200);
    expect((await answer(handler(post({ ...validBody, filler: filler.slice(100) })))).status).toBe(200);
    expect(received).toHaveLength(1);
  });

  it.each(['{"prompt":', 'not json', '', '\u00ff\u00fe'])(
    'answers bad JSON (%j) with 400 code 1200',
    async (body) => {
      expectOwnEnvelope(await answer(proxy()(post(body))), 400, 1200);
      expect(received).toHaveLength(0);
    },
  );

  it('answers invalid UTF-8 with 400 code 1200', async () => {
    const request = new Request(TASKS, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: new Uint8Array([0x7b, 0x22, 0xc3, 0x28, 0x22, 0x7d]),
    });
    expectOwnEnvelope(await answer(proxy()(request)), 400, 1200);
  });

  it.each([undefined, 'text/plain', 'application/x-www-form-urlencoded', 'application/jsonp'])(
    'refuses a create whose Content-Type is %s (415, no cross-site form posts)',
    async (type) => {
      const headers: Record<string, string> = type ? { 'content-type': type } : {};
      const request = new Request(TASKS, { method: 'POST', headers, body: JSON.stringify(validBody) });
      if (!type) request.headers.delete('content-type');
      expectOwnEnvelope(await answer(proxy()(request)), 415, 1200);
      expect(received).toHaveLength(0);
    },
  );

  it('accepts application/json with a charset', async () => {
    const res = await answer(
      proxy()(post(validBody, { headers: { 'content-type': 'Application/JSON; charset=utf-8' } })),
    );
    expect(res.status).toBe(200);
  });

  it.each([
    [9.99999999, 10],
    [3.30000001, 3.3],
    [3.3, 3.3],
    [0.1 * 33, 3.3],
    [7.000000001, 7],
  ])('sends the vendor the duration %d with exactly one decimal: %d', async (duration, sent) => {
    const res = await answer(proxy()(post({ prompt: '!', duration })));
    expect(res.status).toBe(200);
    expect(received[0]!.body).toBe(JSON.stringify({ prompt: '!', duration: sent }));
  });

  it.each([
    [{ duration: 5 }, /prompt/],
    [{ prompt: '   ', duration: 5 }, /prompt: Describe the sound/],
    [{ prompt: 'x'.repeat(201), duration: 5 }, /prompt: Keep the prompt to 200/],
    [{ prompt: 'Rain', duration: 2.9 }, /duration: Duration must be at least 3/],
    [{ prompt: 'Rain', duration: 10.1 }, /duration: Duration must be at most 10/],
    [{ prompt: 'Rain', duration: 3.25 }, /duration: .*one decimal/],
    [{ prompt: 'Rain', duration: '5' }, /duration/],
    [{ prompt: 'Rain', duration: 5, callback_url: 'javascript:alert(1)' }, /callbackUrl/],
    [[1, 2], /prompt/],
    [null, /prompt/],
  ])('validates %j with the shared schema: 400 code 1201, nothing upstream', async (body, message) => {
    const res = await answer(proxy()(post(JSON.stringify(body))));
    expectOwnEnvelope(res, 400, 1201);
    expect(res.json.message).toMatch(message);
    expect(received).toHaveLength(0);
  });
});

describe('headers', () => {
  it('sends upstream only its own headers and the vendor credential', async () => {
    const res = await answer(
      proxy({ apiKey: API_KEY })(
        post(validBody, {
          headers: {
            authorization: 'Bearer users-own-session-token',
            cookie: 'session=abc; other=1',
            'x-forwarded-for': '203.0.113.9',
            'x-forwarded-host': 'evil.test',
            forwarded: 'for=203.0.113.9',
            'x-real-ip': '203.0.113.9',
            'x-custom': 'app-secret-header',
            origin: 'http://app.test',
            referer: 'http://app.test/page',
            'proxy-authorization': 'Basic xyz',
            te: 'trailers',
            'user-agent': 'browser/1.0',
          },
        }),
      ),
    );
    expect(res.status).toBe(200);
    const sent = received[0]!.headers;
    expect(sent.authorization).toBe(`Bearer ${API_KEY}`);
    for (const name of [
      'cookie',
      'x-forwarded-for',
      'x-forwarded-host',
      'forwarded',
      'x-real-ip',
      'x-custom',
      'origin',
      'referer',
      'proxy-authorization',
      'te',
    ]) {
      expect(sent[name], name).toBeUndefined();
    }
    expect(sent['user-agent']).not.toBe('browser/1.0');
    expect(JSON.stringify(sent)).not.toMatch(/users-own-session-token|session=abc|203\.0\.113|app-secret/);
  });

  it('passes the vendor status, envelope, Retry-After and request id through, and nothing else', async () => {
    const envelope = { code: 1303, message: 'concurrency limit', request_id: 'vendor-req-77', data: null };
    script.push(() => ({
      status: 429,
      headers: {
        'retry-after': '7',
        'x-request-id': 'vendor-req-77',
        'set-cookie': ['tracking=1; Path=/', 'sid=upstream; HttpOnly'],
        'x-upstream-internal': 'node-3',
        server: 'vendor-gw',
        'access-control-allow-origin': '*',
      },
      body: envelope,
    }));
    const res = await answer(proxy()(post(validBody)));
    expect(res.status).toBe(429);
    expect(JSON.parse(res.text)).toEqual(envelope);
    expect(res.headers.get('retry-after')).toBe('7');
    expect(res.headers.get('x-request-id')).toBe('vendor-req-77');
    expect(res.headers.get('set-cookie')).toBeNull();
    expect([...res.headers.keys()].sort()).toEqual([
      'cache-control',
      'content-type',
      'retry-after',
      'x-content-type-options',
      'x-request-id',
    ]);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
  });

  it.each([
    [400, 1301, 'content safety'],
    [403, 1103, 'no permission'],
    [404, 1203, 'not found'],
    [500, 5000, 'internal'],
    [503, 5001, 'maintenance'],
  ])('passes %i with code %i through', async (status, code, message) => {
    script.push(() => ({ status, body: { code, message, request_id: 'v-1', data: null } }));
    const res = await answer(proxy()(get('/api/kling/v1/audio/text-to-audio/1')));
    expect(res.status).toBe(status);
    expect(res.json).toEqual({ code, message, request_id: 'v-1', data: null });
  });

  it('answers a gateway HTML page with its own 502 envelope, never the page', async () => {
    script.push(() => ({
      status: 502,
      headers: { 'content-type': 'text/html' },
      raw: '<h1>Bad Gateway</h1><script>alert(document.cookie)</script>',
    }));
    const res = await answer(proxy()(get('/api/kling/v1/audio/text-to-audio/1')));
    expectOwnEnvelope(res, 502, 5000);
    expect(res.text).not.toMatch(/<h1>|<script>/);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('refuses to follow an upstream redirect (the credential would go with it)', async () => {
    script.push(() => ({ status: 302, headers: { location: `${UPSTREAM}/elsewhere` }, raw: '' }));
    const res = await answer(proxy()(get('/api/kling/v1/audio/text-to-audio/1')));
    expectOwnEnvelope(res, 502, 5000);
    expect(received).toHaveLength(1);
  });
});

describe('upstream failures', () => {
  it('answers 502 (code 5000) when the upstream is down', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const res = await answer(proxy({ upstream: `http://127.0.0.1:${port}` })(post(validBody)));
    expectOwnEnvelope(res, 502, 5000);
    expect(res.json.message).toMatch(/could not reach/i);
  });

  it('answers 504 (code 5002) when the upstream is slower than timeoutMs', async () => {
    script.push(() => ({ delayMs: 1500, body: { code: 0, message: 'late', request_id: 'r', data: [] } }));
    const res = await answer(proxy({ timeoutMs: 50 })(get('/api/kling/v1/audio/text-to-audio')));
    expectOwnEnvelope(res, 504, 5002);
    expect(res.json.message).toMatch(/50 ms/);
    expect(received).toHaveLength(1);
  });
});

describe('rate limit', () => {
  it('answers 429 code 1302 with Retry-After past max per key, per window', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const t0 = Date.UTC(2025, 5, 1, 8, 0, 0);
    vi.setSystemTime(t0);
    const handler = proxy({
      rateLimit: { windowMs: 60_000, max: 2, key: (request) => request.headers.get('x-user') ?? 'anon' },
    });
    const as = (user: string) => get('/api/kling/v1/audio/text-to-audio/1', { headers: { 'x-user': user } });
    expect((await answer(handler(as('ann')))).status).toBe(200);
    expect((await answer(handler(as('ann')))).status).toBe(200);
    vi.setSystemTime(t0 + 15_500);
    const limited = await answer(handler(as('ann')));
    expectOwnEnvelope(limited, 429, 1302);
    expect(limited.headers.get('retry-after')).toBe('45');
    expect((await answer(handler(as('bob')))).status).toBe(200);
    expect(received).toHaveLength(3);

    vi.setSystemTime(t0 + 60_000);
    expect((await answer(handler(as('ann')))).status).toBe(200);
    expect(received).toHaveLength(4);
  });

  it('runs after authorize, and keeps working with more keys than it remembers', async () => {
    const keys: string[] = [];
    const handler = proxy({
      authorize: (request) => request.headers.get('x-user') !== 'mallory',
      rateLimit: {
        windowMs: 60_000,
        max: 1,
        key: async (request) => (keys.push('k'), request.headers.get('x-user')!),
      },
    });
    const res = await answer(
      handler(get('/api/kling/v1/audio/text-to-audio/1', { headers: { 'x-user': 'mallory' } })),
    );
    expect(res.status).toBe(401);
    expect(keys).toHaveLength(0);

    const many = proxy({
      rateLimit: { windowMs: 60_000, max: 1, key: (request) => request.headers.get('x-user')! },
      fetch: async () => Response.json({ code: 0, message: 'ok', request_id: 'r', data: [] }),
    });
    for (let i = 0; i < 10_050; i++) {
      await many(get('/api/kling/v1/audio/text-to-audio', { headers: { 'x-user': `u${i}` } }));
    }
    // The newest keys are still limited, so the bounded map did not simply forget everything.
    const again = await answer(
      many(get('/api/kling/v1/audio/text-to-audio', { headers: { 'x-user': 'u10049' } })),
    );
    expect(again.status).toBe(429);
    // Ten thousand requests: a loaded machine needs more than the default 5 s.
  }, 60_000);

  it('answers 500 in the envelope when the key function throws, sending nothing upstream', async () => {
    const handler = proxy({
      rateLimit: {
        windowMs: 1000,
        max: 1,
        key: () => {
          throw new Error(`no user ${SECRET_KEY}`);
        },
      },
    });
    const res = await answer(handler(get('/api/kling/v1/audio/text-to-audio/1')));
    expectOwnEnvelope(res, 500, 5000);
    expect(received).toHaveLength(0);
  });
});

describe('logging hooks', () => {
  it('report method, route, path, status, code, request id and duration, and nothing secret', async () => {
    const events: unknown[] = [];
    const handler = proxy({
      onRequest: (i) => void events.push(['request', i]),
      onResponse: (i) => void events.push(['response', i]),
    });
    await handler(post(validBody));
    await handler(get('/api/kling/v1/audio/nope'));
    record(events);
    expect(events).toEqual([
      ['request', { method: 'POST', route: 'createTask', path: '/api/kling/v1/audio/text-to-audio' }],
      [
        'response',
        {
          method: 'POST',
          route: 'createTask',
          path: '/api/kling/v1/audio/text-to-audio',
          status: 200,
          code: 0,
          requestId: expect.stringMatching(/^up-/),
          durationMs: expect.any(Number),
        },
      ],
      ['request', { method: 'GET', route: null, path: '/api/kling/v1/audio/nope' }],
      [
        'response',
        expect.objectContaining({ route: null, status: 404, code: 1203, requestId: expect.any(String) }),
      ],
    ]);
    expect((events[1] as [string, KlingProxyResponseInfo])[1].durationMs).toBeGreaterThanOrEqual(0);
  });

  it('a throwing hook does not change the answer', async () => {
    const handler = proxy({
      onRequest: () => {
        throw new Error('logger down');
      },
      onResponse: () => {
        throw new Error('logger down');
      },
    });
    expect((await answer(handler(get('/api/kling/v1/audio/text-to-audio/1')))).status).toBe(200);
  });
});

// ---------------------------------------------------------------------------------------------
// The Node adapter behind a real node:http server.

/** Sends a request byte for byte over TCP, so no client normalises the target first. */
function raw(
  port: number,
  head: string,
  body = '',
  host = '127.0.0.1',
): Promise<{ status: number; headers: string; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let data = '';
    socket.on('data', (chunk) => (data += chunk.toString('utf8')));
    socket.on('end', () => {
      const [headers = '', ...rest] = data.split('\r\n\r\n');
      record(data);
      resolve({ status: Number(headers.split(' ')[1]), headers, body: rest.join('\r\n\r\n') });
    });
    socket.on('error', reject);
    socket.write(`${head}\r\nHost: ${host}\r\nConnection: close\r\n\r\n${body}`);
  });
}

describe('toNodeHandler', () => {
  let app: Server;
  let base = '';
  let port = 0;
  let mode: 'plain' | 'express-mounted' | 'express-parsed' = 'plain';

  beforeAll(async () => {
    const node = toNodeHandler(proxy({ maxBodyBytes: 2048 }));
    app = createServer(async (req, res) => {
      const express = req as IncomingMessage & { originalUrl?: string; body?: unknown };
      if (mode === 'express-mounted' && req.url?.startsWith('/api/kling')) {
        // What Express does for app.use('/api/kling', ...): the mount path moves to originalUrl.
        express.originalUrl = req.url;
        req.url = req.url.slice('/api/kling'.length) || '/';
      }
      if (mode === 'express-parsed' && req.method === 'POST') {
        // What express.json() leaves behind: the stream consumed, the parsed object on req.body.
        express.body = JSON.parse(await readAll(req));
      }
      node(req, res, (error) => {
        res.statusCode = 599;
        res.end(`next: ${String(error)}`);
      });
    });
    await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve));
    port = (app.address() as AddressInfo).port;
    base = `http://127.0.0.1:${port}`;
  });

  afterAll(async () => {
    app.closeAllConnections();
    await new Promise((resolve) => app.close(resolve));
  });

  beforeEach(() => {
    mode = 'plain';
  });

  it('forwards a POST body streamed from node:http and answers with the vendor response', async () => {
    const res = await answer(
      fetch(`${base}/api/kling/v1/audio/text-to-audio`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', cookie: 'session=abc', authorization: 'Bearer user' },
        body: JSON.stringify({ prompt: ' Thunder ', duration: 7.5, external_task_id: 'ext-9' }),
      }),
    );
    expect(res.status).toBe(200);
    expect(res.json.data).toEqual(wireTask('786412301234', 'ext-9'));
    expect(res.headers.get('x-request-id')).toBe(res.json.request_id);
    expect(received).toHaveLength(1);
    expect(JSON.parse(received[0]!.body)).toEqual({
      prompt: 'Thunder',
      duration: 7.5,
      external_task_id: 'ext-9',
    });
    expect(received[0]!.headers.cookie).toBeUndefined();
    expect(received[0]!.claims?.iss).toBe(ACCESS_KEY);
  });

  it('forwards the GETs and the proxy errors', async () => {
    const one = await answer(fetch(`${base}/api/kling/v1/audio/text-to-audio/42`));
    const list = await answer(fetch(`${base}/api/kling/v1/audio/text-to-audio?pageNum=3&pageSize=10`));
    const invalid = await answer(
      fetch(`${base}/api/kling/v1/audio/text-to-audio`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"prompt":""}',
      }),
    );
    const wrong = await answer(fetch(`${base}/api/kling/v1/audio/text-to-audio/42`, { method: 'PUT' }));
    expect([one.status, list.status, invalid.status, wrong.status]).toEqual([200, 200, 400, 405]);
    expect(invalid.json.code).toBe(1201);
    expect(wrong.headers.get('allow')).toBe('GET, DELETE, PATCH');
    expect(received.map((r) => r.rawUrl)).toEqual([
      '/v1/audio/text-to-audio/42',
      '/v1/audio/text-to-audio?pageNum=3&pageSize=10',
    ]);
  });

  it('answers 413 on an oversized chunked body and still delivers the answer', async () => {
    const chunk = 'x'.repeat(1000);
    const body = Array.from({ length: 5 }, () => `${(chunk.length + 2).toString(16)}\r\n"${chunk}"\r\n`).join(
      '',
    );
    const res = await raw(
      port,
      'POST /api/kling/v1/audio/text-to-audio HTTP/1.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked',
      `${body}0\r\n\r\n`,
    );
    expect(res.status).toBe(413);
    expect(JSON.parse(res.body)).toMatchObject({ code: 1200, data: null });
    expect(received).toHaveLength(0);
  });

  it('drains a body it did not read, so the keep-alive connection serves the next request', async () => {
    const socket = connect(port, '127.0.0.1');
    let data = '';
    socket.on('data', (chunk) => (data += chunk.toString('utf8')));
    // Pipelined answers follow each other without a line break.
    const answers = () => data.match(/HTTP\/1\.1 \d{3}/g) ?? [];
    const body = JSON.stringify({ prompt: 'x'.repeat(200_000), duration: 5 });
    // Refused before the body is read: an unknown path, then the size cap.
    for (const path of ['/api/kling/v1/audio/nope', '/api/kling/v1/audio/text-to-audio']) {
      socket.write(
        `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n` +
          `Content-Length: ${body.length}\r\n\r\n${body}`,
      );
    }
    socket.write('GET /api/kling/v1/audio/text-to-audio/5 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    await vi.waitFor(() => expect(answers()).toHaveLength(3), { timeout: 3000 });
    socket.destroy();
    record(data);
    expect(answers()).toEqual(['HTTP/1.1 404', 'HTTP/1.1 413', 'HTTP/1.1 200']);
    expect(received.map((r) => r.rawUrl)).toEqual(['/v1/audio/text-to-audio/5']);
  });

  it.each([
    '/api/kling/v1/audio/text-to-audio/../text-to-audio',
    '/api/kling/v1/audio/text-to-audio/x/../42',
    '/api/kling/v1/audio/text-to-audio/x/%2e%2e/42',
    '/api/kling/v1/audio/text-to-audio/x/.%2E/42',
    '/api/kling/v1/audio/text-to-audio/./42',
    '/api/kling/v1/../v1/audio/text-to-audio?pageNum=1',
    '/api/kling/v1/audio/text-to-audio/x\\..\\42',
    '//evil.com/api/kling/v1/audio/text-to-audio',
    'http://evil.com/api/kling/v1/audio/text-to-audio',
    '*',
  ])('refuses the raw target %s with 404 and nothing upstream', async (target) => {
    const res = await raw(port, `GET ${target} HTTP/1.1`);
    expect(res.status).toBe(404);
    expect(JSON.parse(res.body)).toMatchObject({ code: 1203, data: null });
    expect(received).toHaveLength(0);
  });

  it('keeps a raw backslash as %5C, so it matches no route (a Fetch handler gets it as / already)', async () => {
    for (const target of [
      '/api/kling/v1/audio/text-to-audio\\1',
      '/api/kling/v1/audio\\text-to-audio/1',
      '/api/kling/v1/audio/text-to-audio/1\\',
    ]) {
      const res = await raw(port, `GET ${target} HTTP/1.1`);
      expect(res.status, target).toBe(404);
      expect(JSON.parse(res.body)).toMatchObject({ code: 1203, data: null });
    }
    expect(received).toHaveLength(0);
    // In a Fetch handler the platform's URL parser has already read `\` as `/`, as browsers do.
    expect(new Request(`${TASKS}\\1`).url).toBe(`${TASKS}/1`);
  });

  it.each(['256.256.256.256', '1.2.3.4.5', '999999999999', 'a:99999', 'app.test:65536', 'a b', 'x/y', 'u@h'])(
    'answers a Host header that is no host (%s) with 400 code 1200, nothing upstream',
    async (host) => {
      const res = await raw(port, 'GET /api/kling/v1/audio/text-to-audio/1 HTTP/1.1', '', host);
      expect(res.status).toBe(400);
      expect(JSON.parse(res.body)).toEqual({
        code: 1200,
        message: expect.stringMatching(/Host/),
        request_id: expect.any(String),
        data: null,
      });
      expect(res.headers).toMatch(/x-content-type-options: nosniff/i);
      expect(received).toHaveLength(0);
    },
  );

  it.each(['app.test:8080', '[::1]:3000', 'localhost', 'APP.test'])('accepts the Host %s', async (host) => {
    const res = await raw(port, 'GET /api/kling/v1/audio/text-to-audio/1 HTTP/1.1', '', host);
    expect(res.status).toBe(200);
    expect(received).toHaveLength(1);
  });

  // node:http itself answers 400 to TRACK and hands CONNECT to its 'connect' event.
  it.each(['TRACE'])('answers %s (a method the Fetch API refuses) with a 405 envelope', async (method) => {
    const res = await raw(port, `${method} /api/kling/v1/audio/text-to-audio HTTP/1.1`);
    expect(res.status).toBe(405);
    expect(res.headers).toMatch(/allow: GET, POST/i);
    expect(JSON.parse(res.body)).toMatchObject({ code: 1202, data: null });
    expect(received).toHaveLength(0);
  });

  it('answers a failing handler with a 500 envelope when there is no next', async () => {
    const failing = toNodeHandler(() => Promise.reject(new Error(`handler broke ${SECRET_KEY}`)));
    const broken = createServer((req, res) => failing(req, res));
    await new Promise<void>((resolve) => broken.listen(0, '127.0.0.1', resolve));
    const res = await answer(fetch(`http://127.0.0.1:${(broken.address() as AddressInfo).port}/x`));
    expectOwnEnvelope(res, 500, 5000);
    broken.closeAllConnections();
    await new Promise((resolve) => broken.close(resolve));
  });

  it('works mounted by Express (originalUrl) and after a body parser (req.body)', async () => {
    mode = 'express-mounted';
    const one = await answer(fetch(`${base}/api/kling/v1/audio/text-to-audio/7`));
    mode = 'express-parsed';
    const created = await answer(
      fetch(`${base}/api/kling/v1/audio/text-to-audio`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ prompt: ' Wind ', duration: 3 }),
      }),
    );
    expect([one.status, created.status]).toEqual([200, 200]);
    expect(received[0]!.rawUrl).toBe('/v1/audio/text-to-audio/7');
    expect(JSON.parse(received[1]!.body)).toEqual({ prompt: 'Wind', duration: 3 });
  });

  it('hands a failing handler to next(error)', async () => {
    const failing = toNodeHandler(() => Promise.reject(new Error('handler broke')));
    const broken = createServer((req, res) =>
      failing(req, res, (error) => {
        res.statusCode = 599;
        res.end(`next: ${(error as Error).message}`);
      }),
    );
    await new Promise<void>((resolve) => broken.listen(0, '127.0.0.1', resolve));
    const res = await fetch(`http://127.0.0.1:${(broken.address() as AddressInfo).port}/x`);
    expect(res.status).toBe(599);
    expect(await res.text()).toBe('next: handler broke');
    broken.closeAllConnections();
    await new Promise((resolve) => broken.close(resolve));
  });
});

// ---------------------------------------------------------------------------------------------

describe('the edge-runtime contract', () => {
  it('only adapters/node imports Node built-ins', () => {
    const dir = new URL('../src/server/', import.meta.url);
    const offenders = readdirSync(dir, { recursive: true, encoding: 'utf8' })
      .filter((file) => file.endsWith('.ts') && !file.startsWith('adapters/node/'))
      .filter((file) =>
        /from ['"](node:|fs|http|crypto|stream|buffer)/.test(readFileSync(new URL(file, dir), 'utf8')),
      );
    expect(offenders).toEqual([]);
  });
});

describe('credentials never leak', () => {
  it('no response, log line or console call of this file holds the secret, the API key or a token', () => {
    const tokens = [...tokensSeen].filter((token) => token.length > 20);
    expect(tokens.length).toBeGreaterThan(3);
    expect(outputs.length).toBeGreaterThan(100);
    const haystack = [
      ...outputs,
      JSON.stringify(logs),
      ...consoleCalls.map((args) => args.map(String).join(' ')),
    ];
    for (const text of haystack) {
      expect(text).not.toContain(SECRET_KEY);
      expect(text).not.toContain(API_KEY);
      for (const token of tokens) expect(text).not.toContain(token);
    }
    expect(logs.length).toBeGreaterThan(50);
  });
});
