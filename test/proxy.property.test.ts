// @vitest-environment node
/**
 * Property-based: thousands of generated requests (methods, raw and encoded paths, hosts, queries,
 * headers, bodies) and upstream answers, through the Fetch handler and through a real node:http server
 * (toNodeHandler) on loopback. For each one: forwarded only when valid, and then to one of the three
 * upstream URL shapes; no browser credential upstream; no secret or token in any answer; no bare 500;
 * every proxy error an envelope with nosniff. The counts are printed for the issue's note.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseWireCreateRequest, toWireCreateRequest } from '../src/api/schemas';
import { createKlingAudioProxy, toNodeHandler, type KlingAudioProxyOptions } from '../src/server';
import { exchange, type RawAnswer } from './rawHttp';

// Taken before msw patches the global fetch (test/setup.ts starts it in beforeAll).
const realFetch = globalThis.fetch;

const RUNS = 1000;
const ACCESS_KEY = 'ak_property_access_key';
const SECRET_KEY = 'sk_property_SECRET_a1b2c3d4';
const API_KEY = 'apikey_property_SECRET_5e6f7a8b9c';
const BROWSER = 'BROWSER_CREDENTIAL_7f3a';
const PREFIX = '/api/kling/v1/audio/text-to-audio';
const VENDOR = '/v1/audio/text-to-audio';
// The three upstream URL shapes, and nothing else.
const UPSTREAM_SHAPES = [
  /^\/v1\/audio\/text-to-audio$/,
  /^\/v1\/audio\/text-to-audio\/[\w.~%-]+$/,
  /^\/v1\/audio\/text-to-audio\?external_task_id=[\w.~%-]+$/,
  /^\/v1\/audio\/text-to-audio\?pageNum=\d{1,4}&pageSize=\d{1,3}$/,
];

// ---------------------------------------------------------------------------------------------
// The loopback upstream: answers as told for the case being run (one case at a time).

interface Received {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}
type UpstreamAnswer =
  | { kind: 'vendor' }
  | { kind: 'envelope'; status: number; envelope: Record<string, unknown> }
  | { kind: 'raw'; status: number; type: string; body: string }
  | { kind: 'echo'; status: number }
  | { kind: 'reset' };

let received: Received[] = [];
let answerWith: UpstreamAnswer = { kind: 'vendor' };
const tokensSeen = new Set<string>();

const vendorTask = (id: string) => ({
  task_id: id,
  task_status: 'processing',
  task_info: { external_task_id: 'ext-1' },
  created_at: 1722769557708,
  updated_at: 1722769557708,
});

const upstream: Server = createServer(async (req, res) => {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  received.push({
    method: req.method ?? '',
    url: req.url ?? '',
    headers: req.headers,
    body: Buffer.concat(chunks).toString('utf8'),
  });
  const token = (req.headers.authorization ?? '').replace(/^Bearer /, '');
  tokensSeen.add(token);
  const reply = answerWith;
  if (reply.kind === 'reset') return void req.socket.destroy();
  const json = (status: number, value: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(value));
  };
  if (reply.kind === 'vendor') {
    const id = (req.url ?? '').split(/[/?]/)[4] ?? '';
    const data = req.method === 'POST' ? vendorTask('1') : id ? vendorTask(id) : [vendorTask('2')];
    return json(200, { code: 0, message: 'SUCCEED', request_id: 'up-ok', data }, { 'x-request-id': 'up-ok' });
  }
  if (reply.kind === 'envelope') return json(reply.status, reply.envelope);
  if (reply.kind === 'echo') {
    return json(
      reply.status,
      { code: 0, message: `you sent ${req.headers.authorization}`, request_id: token, data: { token } },
      { 'x-request-id': token },
    );
  }
  res.writeHead(reply.status, { 'content-type': reply.type });
  res.end(reply.body);
});

// ---------------------------------------------------------------------------------------------
// The proxies: a key pair and an API key, each as a Fetch handler and behind node:http.

const authorize = (request: Request) => request.headers.get('x-user') === 'ok';
type Credential = 'keyPair' | 'apiKey';
const handlers = {} as Record<Credential, (request: Request) => Promise<Response>>;
const ports = {} as Record<Credential, number>;
const servers: Server[] = [];

beforeAll(async () => {
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  const base: Partial<KlingAudioProxyOptions> = {
    upstream: `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`,
    authorize,
    fetch: realFetch,
    timeoutMs: 5000,
    // The pass-through: every request's upstream shape follows from the request alone. The records path
    // (derived external ids, lookups before a retried create) has its own suites (test/records*.test.ts).
    store: false,
  };
  const credentials = {
    keyPair: { accessKey: ACCESS_KEY, secretKey: SECRET_KEY },
    apiKey: { apiKey: API_KEY },
  };
  for (const kind of ['keyPair', 'apiKey'] as const) {
    handlers[kind] = createKlingAudioProxy({ ...base, ...credentials[kind] } as KlingAudioProxyOptions);
    const server = createServer(
      { headersTimeout: 5000, requestTimeout: 10_000 },
      toNodeHandler(handlers[kind]),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    ports[kind] = (server.address() as AddressInfo).port;
    servers.push(server);
  }
});

afterAll(async () => {
  for (const server of [...servers, upstream]) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

// ---------------------------------------------------------------------------------------------
// Generators.

const validIds = [
  '786412301234',
  '1',
  'order-42:retry.1',
  '3f2c9a4e-1b7d-4c55-9e8a-0d6f1a2b3c4d',
  'a~b_c.d',
  'x'.repeat(256),
];
const nastySegments = [
  '.',
  '..',
  '...',
  '%2e',
  '%2E%2e',
  '.%2E',
  '%2e.',
  '%2e%2e%2e',
  'a%2Fb',
  'a%2fb',
  '%5C',
  'a%5Cb',
  '%00',
  '%',
  '%zz',
  '%25',
  '%252e%252e',
  'a%20b',
  'http:',
  'http:%2F%2Fevil.com',
  '@evil.com',
  'a;b',
  'a,b',
  "a'b",
  '(x)',
  'x'.repeat(257),
  '%C3%A9',
  '%F0%9F%8E%B5',
  '*',
  '$',
  '!',
  '+',
  'a=b',
  'a&b',
  '~',
  '-',
  '_',
];
const urlChar = fc.constantFrom(..."abcXYZ019-._~!$&'()*+,;=:@/%\\?".split(''));
const segment = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...validIds) },
  { weight: 3, arbitrary: fc.constantFrom(...nastySegments) },
  { weight: 2, arbitrary: fc.string({ unit: urlChar, minLength: 1, maxLength: 12 }) },
  {
    weight: 1,
    arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 6 }).map(encodeURIComponent),
  },
);
const basePaths = [
  '/api/kling',
  '/api/kling',
  '/api/kling',
  '/api//kling',
  '/API/kling',
  '/api/kling/.',
  '/api/kling/..',
  '/api/kling/%2e',
  '/other',
  '',
  '//evil.com/api/kling',
  '/api\\kling',
  '/api/kling/x/..',
];
const middles = [
  VENDOR,
  VENDOR,
  VENDOR,
  VENDOR,
  '/v1/audio/TEXT-TO-AUDIO',
  '/v1/audio/text-to-audiox',
  '/v1/audio/video-to-audio',
  '/v1/audio/tts',
  '/v1/audio/./text-to-audio',
  '/v1/../v1/audio/text-to-audio',
  '/v1/audio\\text-to-audio',
  '/v1//audio/text-to-audio',
  '',
];
const tails = fc.oneof(
  { weight: 3, arbitrary: fc.constant('') },
  { weight: 6, arbitrary: segment.map((s) => `/${s}`) },
  { weight: 1, arbitrary: fc.constantFrom('/', '//', '\\', '/\\') },
  { weight: 1, arbitrary: fc.tuple(segment, segment).map(([a, b]) => `/${a}/${b}`) },
  { weight: 1, arbitrary: segment.map((s) => `\\${s}`) },
  { weight: 1, arbitrary: segment.map((s) => `/${s}/`) },
);
const numberValue = fc.oneof(
  fc.integer({ min: -2, max: 1002 }).map(String),
  fc.constantFrom(
    '',
    '1.5',
    '1e3',
    'abc',
    '99999999999999999999',
    '0x10',
    '%205',
    '5%20',
    '%35',
    '+5',
    '07',
    '500',
    '1000',
  ),
);
const queryPair = fc.oneof(
  fc.tuple(fc.constant('pageNum'), numberValue),
  fc.tuple(fc.constant('pageSize'), numberValue),
  fc.tuple(fc.constant('external_task_id'), segment),
  fc.tuple(
    fc.constantFrom('url', 'callback_url', 'target', 'a'),
    fc.constantFrom('http://evil.test', '1', '../x'),
  ),
);
const query = fc.oneof(
  { weight: 2, arbitrary: fc.constant('') },
  {
    weight: 3,
    arbitrary: fc
      .array(queryPair, { minLength: 1, maxLength: 3 })
      .map((pairs) => `?${pairs.map(([k, v]) => `${k}=${v}`).join('&')}`),
  },
);
const fuzzedTarget = fc
  .tuple(fc.constantFrom(...basePaths), fc.constantFrom(...middles), tails, query)
  .map((parts) => parts.join(''))
  // Node's own parser refuses a target that is not origin-form (`?x`, `\\x`: a bare 400 before any
  // handler runs), so such targets are sent under `/`.
  .map((joined) => (joined[0] === '/' ? joined : `/${joined}`));
// Well-formed requests in earnest too, so "forwarded" is tried as often as "refused".
const plainTarget = fc.oneof(
  fc.constant(PREFIX),
  fc.constantFrom(...validIds).map((id) => `${PREFIX}/${encodeURIComponent(id)}`),
  fc
    .tuple(fc.integer({ min: 0, max: 1001 }), fc.integer({ min: 0, max: 501 }))
    .map(([n, size]) => `${PREFIX}?pageNum=${n}&pageSize=${size}`),
  fc.constantFrom(...validIds).map((id) => `${PREFIX}?external_task_id=${encodeURIComponent(id)}`),
);
const target = fc.oneof({ weight: 1, arbitrary: fuzzedTarget }, { weight: 2, arbitrary: plainTarget });

const duration = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 30, max: 100 }).map((tenths) => tenths / 10) },
  fc.constantFrom(3, 10, 5, 5.5, 3.3, 0.1 * 33, 9.99999999, 2.9, 10.1, 3.25, 7.000000001, -1, 0, 1e9),
  fc.double({ min: 2, max: 11, noNaN: true }),
  fc.constantFrom('5', null, true),
);
const prompt = fc.oneof(
  fc.string({ unit: 'grapheme', minLength: 0, maxLength: 210 }),
  fc.constantFrom('Rain on a tin roof', '  Thunder  ', '', '   ', '!', 'x'.repeat(200), 'x'.repeat(201)),
);
const createBody = fc.oneof(
  {
    weight: 6,
    arbitrary: fc
      .record(
        {
          prompt,
          duration,
          external_task_id: fc.option(fc.oneof(fc.constantFrom(...validIds), segment, fc.constant('')), {
            nil: undefined,
          }),
          callback_url: fc.option(
            fc.constantFrom('', 'https://app.test/cb', 'javascript:alert(1)', 'ftp://x'),
            { nil: undefined },
          ),
        },
        { requiredKeys: ['prompt', 'duration'] },
      )
      .map((body) => JSON.stringify(body)),
  },
  { weight: 1, arbitrary: fc.json() },
  { weight: 1, arbitrary: fc.string({ maxLength: 40 }) },
  {
    weight: 1,
    arbitrary: fc.constant(JSON.stringify({ prompt: 'x', duration: 5, filler: 'y'.repeat(17_000) })),
  },
);
const contentType = fc.constantFrom(
  'application/json',
  'application/json',
  'Application/JSON; charset=utf-8',
  'text/plain',
  'application/x-www-form-urlencoded',
  'application/jsonp',
  undefined,
);
const browserHeaders = fc.record({
  cookie: fc.option(fc.constant(`session=${BROWSER}`), { nil: undefined }),
  authorization: fc.option(fc.constant(`Bearer ${BROWSER}`), { nil: undefined }),
  'x-api-key': fc.option(fc.constant(BROWSER), { nil: undefined }),
  'x-forwarded-for': fc.option(fc.constant('203.0.113.9'), { nil: undefined }),
  'proxy-authorization': fc.option(fc.constant(`Basic ${BROWSER}`), { nil: undefined }),
});
const validHosts = [
  'app.test',
  'app.test:8080',
  'localhost',
  '127.0.0.1:3000',
  '[::1]:3000',
  'APP.test',
  'a_b.test',
];
const invalidHosts = [
  '256.256.256.256',
  '1.2.3.4.5',
  '999999999999',
  'a:99999',
  'app.test:65536',
  'a b',
  'x/y',
  'u@h',
  'a:b',
  '[::1',
  'h?x',
  'h#x',
  'evil.test\\x',
];

interface Case {
  credential: Credential;
  method: string;
  target: string;
  host: string;
  headers: Record<string, string>;
  body: string | undefined;
}

const fetchMethods = [
  'GET',
  'GET',
  'GET',
  'POST',
  'POST',
  'POST',
  'PUT',
  'DELETE',
  'PATCH',
  'HEAD',
  'OPTIONS',
  'PROPFIND',
  'X-CUSTOM',
];
// node:http's parser refuses a method it does not know (X-CUSTOM) before any handler runs, and takes
// TRACE and PURGE, which the Fetch API's `Request` refuses or never sees.
const nodeMethods = [...fetchMethods.filter((method) => method !== 'X-CUSTOM'), 'TRACE', 'PURGE'];

const requestCase = (methods: string[], hosts: fc.Arbitrary<string>) =>
  fc
    .record({
      credential: fc.constantFrom<Credential>('keyPair', 'apiKey'),
      method: fc.constantFrom(...methods),
      target,
      host: hosts,
      authorized: fc.oneof(
        { weight: 9, arbitrary: fc.constant(true) },
        { weight: 1, arbitrary: fc.constant(false) },
      ),
      type: contentType,
      browser: browserHeaders,
      body: createBody,
    })
    .map(({ authorized, type, browser, body, ...rest }): Case => {
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(browser)) if (value !== undefined) headers[name] = value;
      if (authorized) headers['x-user'] = 'ok';
      if (type) headers['content-type'] = type;
      return { ...rest, headers, body: rest.method === 'GET' || rest.method === 'HEAD' ? undefined : body };
    });

// ---------------------------------------------------------------------------------------------
// The model: what the contract says should happen, written from DESIGN.md, not from the proxy's code.

type Expected =
  { forward: { method: string; url: string; body?: string } } | { status: number; code: number };

const isId = (value: string) => /^[\w.:~-]{1,256}$/.test(value) && !/^\.+$/.test(value);
const decodeOnce = (value: string) => {
  try {
    return decodeURIComponent(value);
  } catch {
    return undefined;
  }
};

function model(testCase: Case, path: string, searchParams: URLSearchParams): Expected {
  const { method, headers, body } = testCase;
  const refuse = (status: number, code: number): Expected => ({ status, code });
  if (!path.startsWith(PREFIX)) return refuse(404, 1203);
  const rest = path.slice(PREFIX.length);
  let route: Expected;
  if (rest === '') {
    if (method !== 'GET' && method !== 'POST') return refuse(405, 1202);
    const external = searchParams.get('external_task_id');
    if (method === 'GET' && external !== null && !isId(external)) return refuse(404, 1203);
    route = { forward: { method, url: '' } };
  } else {
    const id = rest[0] === '/' && !rest.slice(1).includes('/') ? decodeOnce(rest.slice(1)) : undefined;
    if (id === undefined || !isId(id)) return refuse(404, 1203);
    // The history's delete and edit: the user's records, which this proxy (`store: false`) has none of.
    if (method === 'DELETE' || method === 'PATCH') {
      return headers['x-user'] === 'ok' ? refuse(405, 1202) : refuse(401, 1000);
    }
    if (method !== 'GET') return refuse(405, 1202);
    return headers['x-user'] === 'ok'
      ? { forward: { method: 'GET', url: `${VENDOR}/${encodeURIComponent(id)}` } }
      : refuse(401, 1000);
  }
  if (headers['x-user'] !== 'ok') return refuse(401, 1000);
  void route;
  if (method === 'GET') {
    const external = searchParams.get('external_task_id');
    if (external !== null)
      return { forward: { method, url: `${VENDOR}?external_task_id=${encodeURIComponent(external)}` } };
    const page = (name: string, fallback: number, max: number) => {
      const value = searchParams.get(name);
      if (value === null) return fallback;
      return /^\d{1,9}$/.test(value) && Number(value) >= 1 && Number(value) <= max
        ? Number(value)
        : undefined;
    };
    const pageNum = page('pageNum', 1, 1000);
    const pageSize = page('pageSize', 30, 500);
    if (pageNum === undefined || pageSize === undefined) return refuse(400, 1201);
    return { forward: { method, url: `${VENDOR}?pageNum=${pageNum}&pageSize=${pageSize}` } };
  }
  if (!/^application\/json\s*(;|$)/i.test(headers['content-type'] ?? '')) return refuse(415, 1200);
  const text = body ?? '';
  if (Buffer.byteLength(text) > 16_384) return refuse(413, 1200);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return refuse(400, 1200);
  }
  // Valid means valid by the one shared input schema (DESIGN: the form, the client and the proxy use it).
  const input = parseWireCreateRequest(json);
  if (!input.success) return refuse(400, 1201);
  // The vendor's callbacks are the server's to direct (DESIGN: a browser-sent callback_url is 400 / 1201).
  if (input.data.callbackUrl) return refuse(400, 1201);
  return { forward: { method: 'POST', url: VENDOR, body: JSON.stringify(toWireCreateRequest(input.data)) } };
}

/** What node:http adds: the adapter's own refusals, and the raw target rules (no `\`, no dot segments). */
function nodeModel(testCase: Case): Expected {
  const { host, method, target: raw } = testCase;
  if (!validHosts.includes(host)) return { status: 400, code: 1200 };
  if (method === 'TRACE') return { status: 405, code: 1202 };
  const path = raw.split('?')[0]!;
  // Not origin-form (`?x`, `\\x`): one opaque segment that matches nothing.
  if (path[0] !== '/') return { status: 404, code: 1203 };
  if (path.includes('\\') || path.split('/').some((s) => /^(\.|%2e){1,2}$/i.test(s))) {
    return { status: 404, code: 1203 };
  }
  const url = new URL(`http://app.test${raw}`);
  return model(testCase, url.pathname, url.searchParams);
}

function fetchModel(testCase: Case): Expected {
  const url = new URL(`http://app.test${testCase.target}`);
  return model(testCase, url.pathname, url.searchParams);
}

// ---------------------------------------------------------------------------------------------
// Sending a case, and the checks every answer must pass.

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

async function viaFetch(testCase: Case): Promise<Answer> {
  const response = await handlers[testCase.credential](
    new Request(`http://${testCase.host}${testCase.target}`, {
      method: testCase.method,
      headers: testCase.headers,
      body: testCase.body,
    }),
  );
  return {
    status: response.status,
    headers: Object.fromEntries(response.headers),
    body: await response.text(),
  };
}

async function viaNode(testCase: Case): Promise<Answer> {
  const body = Buffer.from(testCase.body ?? '');
  const head =
    `${testCase.method} ${testCase.target} HTTP/1.1\r\nHost: ${testCase.host}\r\n` +
    Object.entries(testCase.headers)
      .map(([name, value]) => `${name}: ${value}\r\n`)
      .join('') +
    (testCase.body === undefined ? '' : `Content-Length: ${body.length}\r\n`) +
    'Connection: close\r\n\r\n';
  const answer: RawAnswer = await exchange(
    ports[testCase.credential],
    Buffer.concat([Buffer.from(head), body]),
  );
  return answer;
}

const secrets = () => [SECRET_KEY, ACCESS_KEY, API_KEY, ...[...tokensSeen].filter((t) => t.length > 20)];

/** The checks every answer passes, whatever was asked: returns the problems found. */
function checkAnswer(testCase: Case, answer: Answer): string[] {
  const problems: string[] = [];
  const everything = JSON.stringify(answer);
  for (const secret of secrets())
    if (everything.includes(secret)) problems.push('a secret or token in the answer');
  if (answer.headers['x-content-type-options'] !== 'nosniff') problems.push('no nosniff');
  if (!/^application\/json/.test(answer.headers['content-type'] ?? ''))
    problems.push(`content-type ${answer.headers['content-type']}`);
  if (answer.status < 200 || answer.status > 599) problems.push(`status ${answer.status}`);
  if (testCase.method === 'HEAD') return problems;
  let json: Record<string, unknown> | undefined;
  try {
    json = JSON.parse(answer.body);
  } catch {
    problems.push(`body is not JSON (a bare ${answer.status})`);
    return problems;
  }
  if (!json || !Number.isInteger(json.code) || typeof json.message !== 'string' || !('request_id' in json)) {
    problems.push('body is not an envelope');
  }
  return problems;
}

function checkUpstream(): string[] {
  const problems: string[] = [];
  for (const request of received) {
    if (!UPSTREAM_SHAPES.some((shape) => shape.test(request.url)))
      problems.push(`upstream URL ${request.url}`);
    if (JSON.stringify(request.headers).includes(BROWSER) || request.body.includes(BROWSER)) {
      problems.push('a browser credential upstream');
    }
    if (request.headers.cookie !== undefined || request.headers['x-forwarded-for'] !== undefined) {
      problems.push('browser headers upstream');
    }
    if (
      !/^Bearer (apikey_property_SECRET_5e6f7a8b9c|[\w-]+\.[\w-]+\.[\w-]+)$/.test(
        request.headers.authorization ?? '',
      )
    ) {
      problems.push('no vendor credential upstream');
    }
  }
  return problems;
}

interface Counts {
  tried: number;
  forwarded: number;
  refused: number;
  violations: number;
}

function report(name: string, counts: Counts) {
  console.log(
    `[proxy property] ${name}: tried ${counts.tried}, forwarded ${counts.forwarded}, refused ${counts.refused}, violations ${counts.violations}`,
  );
}

// ---------------------------------------------------------------------------------------------

describe.each([
  ['the Fetch handler', viaFetch, fetchModel, requestCase(fetchMethods, fc.constant('app.test'))],
  [
    'a node:http server (toNodeHandler)',
    viaNode,
    nodeModel,
    requestCase(
      nodeMethods,
      fc.oneof(
        { weight: 4, arbitrary: fc.constantFrom(...validHosts) },
        { weight: 1, arbitrary: fc.constantFrom(...invalidHosts) },
      ),
    ),
  ],
] as const)('through %s', (name, send, expected, cases) => {
  it(`${RUNS} generated requests: forwarded only when valid, to one of the three shapes, never a credential out or a bare 500`, async () => {
    const counts: Counts = { tried: 0, forwarded: 0, refused: 0, violations: 0 };
    await fc.assert(
      fc.asyncProperty(cases, async (testCase) => {
        received = [];
        answerWith = { kind: 'vendor' };
        counts.tried++;
        const answer = await send(testCase);
        const want = expected(testCase);
        const problems = [...checkAnswer(testCase, answer), ...checkUpstream()];
        if ('forward' in want) {
          counts.forwarded++;
          const [sent] = received;
          if (received.length !== 1) problems.push(`${received.length} upstream requests`);
          else if (sent!.method !== want.forward.method || sent!.url !== want.forward.url) {
            problems.push(
              `forwarded ${sent!.method} ${sent!.url}, expected ${want.forward.method} ${want.forward.url}`,
            );
          } else if (want.forward.body !== undefined && sent!.body !== want.forward.body) {
            problems.push(`forwarded body ${sent!.body}, expected ${want.forward.body}`);
          }
          if (answer.status !== 200) problems.push(`status ${answer.status} for a forwarded request`);
        } else {
          counts.refused++;
          if (received.length) problems.push(`forwarded ${received[0]!.url} though it should be refused`);
          if (answer.status !== want.status)
            problems.push(`status ${answer.status}, expected ${want.status}`);
          if (testCase.method !== 'HEAD') {
            const json = JSON.parse(answer.body || 'null');
            if (json?.code !== want.code || json?.data !== null) problems.push(`envelope ${answer.body}`);
            if (answer.headers['x-request-id'] !== json?.request_id)
              problems.push('x-request-id is not the request id');
          }
        }
        if (problems.length) {
          counts.violations++;
          throw new Error(
            `${problems.join('; ')}\n${JSON.stringify(testCase)}\n${JSON.stringify(answer).slice(0, 500)}`,
          );
        }
      }),
      { numRuns: RUNS, endOnFailure: true },
    );
    report(`requests via ${name}`, counts);
    expect(counts.tried).toBeGreaterThanOrEqual(RUNS);
    // The generators must exercise both outcomes in earnest.
    // About 10–15 % are well-formed and authorized (random per run): at least 5 % must be.
    expect(counts.forwarded).toBeGreaterThan(RUNS / 20);
    expect(counts.refused).toBeGreaterThan(RUNS / 10);
  }, 120_000);

  const envelopeStatus = fc.constantFrom(200, 201, 400, 401, 403, 404, 429, 500, 502, 503, 504);
  const upstreamAnswer: fc.Arbitrary<UpstreamAnswer> = fc.oneof(
    fc.constant<UpstreamAnswer>({ kind: 'vendor' }),
    fc.record({
      kind: fc.constant('envelope' as const),
      status: envelopeStatus,
      envelope: fc.record({
        code: fc.constantFrom(0, 1000, 1003, 1004, 1102, 1201, 1203, 1301, 1303, 5000, 5001),
        message: fc.string({ maxLength: 30 }),
        request_id: fc.string({ maxLength: 20 }),
        data: fc.oneof(
          fc.constant(null),
          fc.constant(vendorTask('9')),
          fc.json().map((text) => JSON.parse(text)),
        ),
      }),
    }),
    fc.record({
      kind: fc.constant('raw' as const),
      status: fc.constantFrom(200, 200, 502, 503, 600, 700, 999, 301, 302, 304, 204),
      type: fc.constantFrom('text/html', 'application/json', 'text/plain'),
      body: fc.oneof(
        fc.constantFrom(
          '<html><h1>502 Bad Gateway</h1></html>',
          '',
          'null',
          '[]',
          '{"code":"0"}',
          '{"code":1.5}',
          '{"message":"x"}',
        ),
        // Cut-off envelopes: any strict prefix of a real one.
        fc
          .integer({ min: 0, max: 80 })
          .map((n) =>
            JSON.stringify({ code: 0, message: 'SUCCEED', request_id: 'r', data: vendorTask('5') }).slice(
              0,
              n,
            ),
          ),
        fc.json(),
      ),
    }),
    fc.record({ kind: fc.constant('echo' as const), status: fc.constantFrom(200, 401, 500) }),
    fc.constant<UpstreamAnswer>({ kind: 'reset' }),
  );
  const validRequest = fc
    .record({
      credential: fc.constantFrom<Credential>('keyPair', 'apiKey'),
      route: fc.constantFrom('get', 'list', 'create'),
    })
    .map(({ credential, route }): Case => ({
      credential,
      method: route === 'create' ? 'POST' : 'GET',
      target:
        route === 'get'
          ? `${PREFIX}/786412301234`
          : route === 'list'
            ? `${PREFIX}?pageNum=1&pageSize=30`
            : PREFIX,
      host: 'app.test',
      headers: { 'x-user': 'ok', 'content-type': 'application/json', cookie: `session=${BROWSER}` },
      body: route === 'create' ? JSON.stringify({ prompt: 'Rain', duration: 5 }) : undefined,
    }));

  it(`${RUNS} generated upstream answers: the vendor's envelope or the proxy's own 502, never anything else`, async () => {
    const counts: Counts = { tried: 0, forwarded: 0, refused: 0, violations: 0 };
    let passed = 0;
    await fc.assert(
      fc.asyncProperty(validRequest, upstreamAnswer, async (testCase, upstreamReply) => {
        received = [];
        answerWith = upstreamReply;
        counts.tried++;
        const answer = await send(testCase);
        const problems = [...checkAnswer(testCase, answer), ...checkUpstream()];
        counts.forwarded += received.length ? 1 : 0;
        const json = JSON.parse(answer.body || 'null');
        // What the browser may see: a well-formed envelope with a 2xx/4xx/5xx status, as the vendor sent it.
        const passes =
          upstreamReply.kind === 'vendor' ||
          upstreamReply.kind === 'echo' ||
          upstreamReply.kind === 'envelope' ||
          (upstreamReply.kind === 'raw' &&
            // 204 and 304 carry no body, so no envelope.
            ((upstreamReply.status >= 200 && upstreamReply.status < 300 && upstreamReply.status !== 204) ||
              (upstreamReply.status >= 400 && upstreamReply.status < 600)) &&
            isEnvelopeText(upstreamReply.body));
        if (passes) {
          passed++;
          const status = upstreamReply.kind === 'vendor' ? 200 : (upstreamReply as { status: number }).status;
          if (answer.status !== status) problems.push(`status ${answer.status}, upstream said ${status}`);
          if (upstreamReply.kind === 'envelope') {
            if (JSON.stringify(json) !== JSON.stringify(upstreamReply.envelope))
              problems.push('the envelope changed');
            const retried =
              testCase.credential === 'keyPair' &&
              [1003, 1004].includes(upstreamReply.envelope.code as number);
            if (received.length !== (retried ? 2 : 1)) problems.push(`${received.length} upstream requests`);
          }
          if (upstreamReply.kind === 'echo' && json?.request_id !== '[redacted]')
            problems.push('echo not redacted');
        } else {
          counts.refused++;
          if (answer.status !== 502 || json?.code !== 5000 || json?.data !== null) {
            problems.push(`expected the proxy's own 502, got ${answer.status} ${answer.body.slice(0, 200)}`);
          }
        }
        if (problems.length) {
          counts.violations++;
          throw new Error(
            `${problems.join('; ')}\n${JSON.stringify([testCase, upstreamReply])}\n${JSON.stringify(answer).slice(0, 500)}`,
          );
        }
      }),
      { numRuns: RUNS, endOnFailure: true },
    );
    report(`upstream answers via ${name} (refused = replaced by the proxy's 502)`, counts);
    expect(counts.tried).toBeGreaterThanOrEqual(RUNS);
    expect(passed).toBeGreaterThan(RUNS / 10);
    expect(counts.refused).toBeGreaterThan(RUNS / 10);
  }, 120_000);
});

/** A well-formed vendor envelope, as DESIGN's error rule reads it. */
function isEnvelopeText(text: string): boolean {
  try {
    const value = JSON.parse(text);
    return (
      typeof value === 'object' &&
      value !== null &&
      !Array.isArray(value) &&
      Number.isInteger(value.code) &&
      (value.message == null || typeof value.message === 'string') &&
      (value.request_id == null || typeof value.request_id === 'string')
    );
  } catch {
    return false;
  }
}
