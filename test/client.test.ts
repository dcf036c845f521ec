import { http, HttpResponse } from 'msw';
import { describe, expect, it } from 'vitest';
import {
  createAudioTaskInputSchema,
  createKlingAudioClient,
  getUserMessage,
  KlingApiError,
  type KlingApiErrorKind,
} from '../src';
// The vendor's whole table (HTTP status, meaning) is server- and mock-side: not in the main entry.
import { KLING_ERROR_CODES } from '../src/api/errors';
import { server } from './server';

const BASE = 'http://proxy.test/api/kling';
const TASKS = `${BASE}/v1/audio/text-to-audio`;

const wireTask = (overrides: Record<string, unknown> = {}) => ({
  task_id: 'task_1',
  task_status: 'succeed',
  task_status_msg: '',
  task_info: { external_task_id: 'ext_1' },
  task_result: {
    audios: [
      {
        id: 'audio_1',
        url_mp3: 'https://cdn.example.com/a.mp3',
        url_wav: 'https://cdn.example.com/a.wav',
        duration_mp3: '3.0',
        duration_wav: '3.02',
      },
    ],
  },
  final_unit_deduction: '1',
  created_at: 1722769557708,
  updated_at: 1722769560000,
  ...overrides,
});

const ok = (data: unknown, init?: ResponseInit) =>
  HttpResponse.json({ code: 0, message: 'SUCCEED', request_id: 'req_1', data }, init);

async function failure(promise: Promise<unknown>): Promise<KlingApiError> {
  const error = await promise.then(
    () => {
      throw new Error('expected the call to fail');
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(KlingApiError);
  expect(KlingApiError.is(error)).toBe(true);
  return error as KlingApiError;
}

const client = createKlingAudioClient({ baseUrl: `${BASE}/` });

describe('createTask', () => {
  it('POSTs the vendor body to {baseUrl}/v1/audio/text-to-audio and maps the answer', async () => {
    const seen: { url: string; method: string; body: unknown; contentType: string | null }[] = [];
    server.use(
      http.post(TASKS, async ({ request }) => {
        seen.push({
          url: request.url,
          method: request.method,
          body: await request.json(),
          contentType: request.headers.get('content-type'),
        });
        return ok({
          task_id: 'task_9',
          task_info: { external_task_id: 'mine' },
          task_status: 'submitted',
          created_at: 1,
          updated_at: 2,
        });
      }),
    );
    const task = await client.createTask({
      prompt: '  Fireworks over a harbour  ',
      duration: 3.5,
      externalTaskId: 'mine',
      callbackUrl: 'https://app.example.com/hook',
    });
    expect(seen).toEqual([
      {
        url: TASKS,
        method: 'POST',
        body: {
          prompt: 'Fireworks over a harbour',
          duration: 3.5,
          external_task_id: 'mine',
          callback_url: 'https://app.example.com/hook',
        },
        contentType: 'application/json',
      },
    ]);
    expect(task).toEqual({
      taskId: 'task_9',
      externalTaskId: 'mine',
      status: 'submitted',
      audios: [],
      createdAt: 1,
      updatedAt: 2,
    });
  });

  it.each([
    [{ prompt: 'x'.repeat(201), duration: 5 }, 'prompt'],
    [{ prompt: '   ', duration: 5 }, 'prompt'],
    [{ prompt: 'rain', duration: 2.9 }, 'duration'],
    [{ prompt: 'rain', duration: 10.1 }, 'duration'],
    [{ prompt: 'rain', duration: 3.25 }, 'duration'],
    [{ prompt: 'rain', duration: Number.NaN }, 'duration'],
  ])('refuses %j before sending anything', async (input, field) => {
    let requests = 0;
    server.use(http.post(TASKS, () => void requests++));
    const error = await failure(client.createTask(input));
    expect(error.kind).toBe('validation');
    expect(error.retryable).toBe(false);
    expect(error.message).toContain(field);
    expect(requests).toBe(0);
  });

  it('sends headers from an async function with every request', async () => {
    const seen: (string | null)[] = [];
    server.use(
      http.post(TASKS, ({ request }) => {
        seen.push(request.headers.get('x-session'));
        return ok(wireTask({ task_status: 'submitted', task_result: undefined }));
      }),
    );
    let n = 0;
    const authed = createKlingAudioClient({
      baseUrl: BASE,
      headers: async () => ({ 'X-Session': `s${++n}` }),
    });
    await authed.createTask({ prompt: 'rain', duration: 3 });
    await authed.createTask({ prompt: 'rain', duration: 3 });
    expect(seen).toEqual(['s1', 's2']);
  });
});

describe('getTask', () => {
  it('GETs by task id and maps a finished task', async () => {
    const urls: string[] = [];
    server.use(
      http.get(`${TASKS}/:id`, ({ request }) => {
        urls.push(request.url);
        return ok(wireTask());
      }),
    );
    const task = await client.getTask({ taskId: 'task_1' });
    expect(urls).toEqual([`${TASKS}/task_1`]);
    expect(task).toEqual({
      taskId: 'task_1',
      externalTaskId: 'ext_1',
      status: 'succeed',
      audios: [
        {
          id: 'audio_1',
          mp3Url: 'https://cdn.example.com/a.mp3',
          wavUrl: 'https://cdn.example.com/a.wav',
          mp3Duration: 3,
          wavDuration: 3.02,
        },
      ],
      unitsDeducted: '1',
      createdAt: 1722769557708,
      updatedAt: 1722769560000,
    });
  });

  it('GETs by external id in the path form, encoded', async () => {
    const urls: string[] = [];
    server.use(
      http.get(`${TASKS}/:id`, ({ request }) => {
        urls.push(request.url);
        return ok(wireTask());
      }),
    );
    await client.getTask({ externalTaskId: 'my id/1' });
    expect(urls).toEqual([`${TASKS}/my%20id%2F1`]);
  });

  it('by external id, asks in the query form too before saying "not found"', async () => {
    const urls: string[] = [];
    const notFound = () => HttpResponse.json({ code: 1203, message: 'not found' }, { status: 404 });
    server.use(
      http.get(`${TASKS}/:id`, ({ request }) => (urls.push(request.url), notFound())),
      http.get(TASKS, ({ request }) => {
        urls.push(request.url);
        return new URL(request.url).searchParams.get('external_task_id') === 'ext_1'
          ? ok(wireTask())
          : notFound();
      }),
    );
    expect((await client.getTask({ externalTaskId: 'ext_1' })).taskId).toBe('task_1');
    expect(urls).toEqual([`${TASKS}/ext_1`, `${TASKS}?external_task_id=ext_1`]);

    const error = await failure(client.getTask({ externalTaskId: 'ext_2' }));
    expect(error.code).toBe(1203);
    // A task id is only ever looked up by path; another task in a list answer is no match.
    urls.length = 0;
    await failure(client.getTask({ taskId: 'ext_1' }));
    expect(urls).toEqual([`${TASKS}/ext_1`]);
    server.use(http.get(TASKS, () => ok([wireTask({ task_info: { external_task_id: 'other' } })])));
    expect((await failure(client.getTask({ externalTaskId: 'ext_3' }))).code).toBe(1203);
  });

  it('parses leniently: numeric durations, audio_id, unknown keys, an unknown status', async () => {
    server.use(
      http.get(`${TASKS}/:id`, () =>
        ok({
          ...wireTask({
            task_status: 'queued_for_gpu',
            task_result: {
              audios: [
                {
                  audio_id: 77,
                  url_mp3: 'http://cdn.example.com/a.mp3',
                  url_wav: 'http://cdn.example.com/a.wav',
                  duration_mp3: 4.5,
                  duration_wav: 4.5,
                  surprise: true,
                },
              ],
            },
          }),
          new_field: { nested: 1 },
        }),
      ),
    );
    const task = await client.getTask({ taskId: 'task_1' });
    expect(task.status).toBe('processing');
    expect(task.audios[0]).toEqual({
      id: '77',
      mp3Url: 'http://cdn.example.com/a.mp3',
      wavUrl: 'http://cdn.example.com/a.wav',
      mp3Duration: 4.5,
      wavDuration: 4.5,
    });
  });

  it("maps the proxy's kept: true to GeneratedAudio.kept, and nothing else to it", async () => {
    const audio = (kept: unknown) => ({
      id: `audio_${String(kept)}`,
      url_mp3: 'https://app.example.com/api/kling/files/task_1/a.mp3',
      url_wav: 'https://app.example.com/api/kling/files/task_1/a.wav',
      duration_mp3: '3',
      duration_wav: '3',
      ...(kept !== undefined && { kept }),
    });
    server.use(
      http.get(`${TASKS}/:id`, () =>
        ok(
          wireTask({ task_result: { audios: [audio(true), audio(undefined), audio('true'), audio(false)] } }),
        ),
      ),
    );
    const task = await client.getTask({ taskId: 'task_1' });
    expect(task.audios.map((item) => item.kept)).toEqual([true, undefined, undefined, undefined]);
    expect(task.audios[1]).not.toHaveProperty('kept');
  });

  it('returns a failed task as data with its reason', async () => {
    server.use(
      http.get(`${TASKS}/:id`, () =>
        ok(wireTask({ task_status: 'failed', task_status_msg: 'Content risk control', task_result: null })),
      ),
    );
    const task = await client.getTask({ taskId: 'task_1' });
    expect(task).toMatchObject({ status: 'failed', statusMessage: 'Content risk control', audios: [] });
  });

  it('refuses an empty id without a request', async () => {
    const error = await failure(client.getTask({ taskId: '' }));
    expect(error.kind).toBe('validation');
  });
});

describe('listTasks', () => {
  it('GETs a page with pageNum and pageSize and maps every task', async () => {
    const urls: string[] = [];
    server.use(
      http.get(TASKS, ({ request }) => {
        urls.push(request.url);
        return ok([
          wireTask({ task_id: 'b' }),
          wireTask({ task_id: 'a', task_status: 'processing', task_result: {} }),
        ]);
      }),
    );
    const tasks = await client.listTasks({ pageNum: 2, pageSize: 10 });
    expect(urls).toEqual([`${TASKS}?pageNum=2&pageSize=10`]);
    expect(tasks.map((t) => [t.taskId, t.status, t.audios.length])).toEqual([
      ['b', 'succeed', 1],
      ['a', 'processing', 0],
    ]);
  });

  it('uses the vendor defaults (1, 30)', async () => {
    const urls: string[] = [];
    server.use(http.get(TASKS, ({ request }) => (urls.push(request.url), ok([]))));
    expect(await client.listTasks()).toEqual([]);
    expect(urls).toEqual([`${TASKS}?pageNum=1&pageSize=30`]);
  });

  it.each([{ pageNum: 0 }, { pageNum: 1001 }, { pageSize: 0 }, { pageSize: 501 }, { pageNum: 1.5 }])(
    'refuses out-of-range %j without a request',
    async (params) => {
      let requests = 0;
      server.use(http.get(TASKS, () => void requests++));
      const error = await failure(client.listTasks(params));
      expect(error.kind).toBe('validation');
      expect(requests).toBe(0);
    },
  );
});

describe('vendor error codes', () => {
  const codes = Object.entries(KLING_ERROR_CODES).map(([code, info]) => [Number(code), info] as const);

  it('covers every code in the facts file', () => {
    expect(codes.map(([code]) => code)).toEqual([
      1000, 1001, 1002, 1003, 1004, 1100, 1101, 1102, 1103, 1200, 1201, 1202, 1203, 1300, 1301, 1302, 1303,
      1304, 5000, 5001, 5002,
    ]);
  });

  it.each(codes)(
    'code %i becomes an api error with the table’s status and retryable flag',
    async (code, info) => {
      server.use(
        http.get(`${TASKS}/:id`, () =>
          HttpResponse.json(
            { code, message: 'vendor says no', request_id: `req_${code}`, data: null },
            { status: info.httpStatus, headers: code === 1303 ? { 'Retry-After': '2' } : {} },
          ),
        ),
      );
      const error = await failure(client.getTask({ taskId: 't' }));
      expect(error).toMatchObject({
        kind: 'api',
        code,
        httpStatus: info.httpStatus,
        requestId: `req_${code}`,
        retryable: info.retryable,
        message: `Kling API error ${code}: vendor says no`,
      });
      expect(getUserMessage(error)).toBe(info.message);
      expect(error.retryAfterMs).toBe(code === 1303 ? 2000 : undefined);
    },
  );

  it('treats 1302, 1303 and 5000–5002 as retryable and auth/account/parameter/policy codes as not', () => {
    const retryable = codes.filter(([, info]) => info.retryable).map(([code]) => code);
    expect(retryable).toEqual([1302, 1303, 5000, 5001, 5002]);
  });

  it('an error code in an HTTP 200 answer is still an error', async () => {
    server.use(http.post(TASKS, () => HttpResponse.json({ code: 1301, message: 'policy', request_id: 'r' })));
    const error = await failure(client.createTask({ prompt: 'rain', duration: 3 }));
    expect(error).toMatchObject({ kind: 'api', code: 1301, httpStatus: 200, retryable: false });
  });
});

describe('malformed answers', () => {
  const cases: [string, () => Response, Partial<Record<'kind' | 'httpStatus' | 'retryable', unknown>>][] = [
    [
      'a gateway’s HTML 502',
      () =>
        new HttpResponse('<html><body>502 Bad Gateway</body></html>', {
          status: 502,
          headers: { 'Content-Type': 'text/html' },
        }),
      { kind: 'api', httpStatus: 502, retryable: true },
    ],
    [
      'an HTML 429 without an envelope',
      () => new HttpResponse('<h1>slow down</h1>', { status: 429 }),
      { kind: 'api', httpStatus: 429, retryable: true },
    ],
    [
      'an HTML 404',
      () => new HttpResponse('<h1>not here</h1>', { status: 404 }),
      { kind: 'api', httpStatus: 404, retryable: false },
    ],
    [
      'an HTML 200',
      () => new HttpResponse('<html></html>', { status: 200 }),
      { kind: 'invalid-response', httpStatus: 200, retryable: false },
    ],
    [
      'an empty body',
      () => new HttpResponse('', { status: 200 }),
      { kind: 'invalid-response', retryable: false },
    ],
    [
      'a truncated body',
      () => new HttpResponse('{"code":0,"message":"ok","data":{"task_id":"t', { status: 200 }),
      { kind: 'invalid-response' },
    ],
    ['JSON that is not an envelope', () => HttpResponse.json([1, 2, 3]), { kind: 'invalid-response' }],
    [
      'a code of the wrong type',
      () => HttpResponse.json({ code: '0', data: wireTask() }),
      { kind: 'invalid-response' },
    ],
    [
      'missing data',
      () => HttpResponse.json({ code: 0, message: 'ok', request_id: 'r' }),
      { kind: 'invalid-response' },
    ],
    ['null data', () => ok(null), { kind: 'invalid-response' }],
    ['a task id of the wrong type', () => ok(wireTask({ task_id: 12 })), { kind: 'invalid-response' }],
    ['created_at as a string', () => ok(wireTask({ created_at: 'yesterday' })), { kind: 'invalid-response' }],
    [
      'a duration that is not a number',
      () =>
        ok(
          wireTask({
            task_result: { audios: [{ ...wireTask().task_result.audios[0], duration_wav: 'long' }] },
          }),
        ),
      { kind: 'invalid-response' },
    ],
  ];

  it.each(cases)('%s becomes a typed error', async (_name, respond, expected) => {
    server.use(http.get(`${TASKS}/:id`, respond));
    const error = await failure(client.getTask({ taskId: 't' }));
    expect(error).toMatchObject(expected);
    expect(error.message).not.toMatch(/ZodError|TypeError|Unexpected token/);
  });

  it.each([
    ['a javascript: URL', { url_mp3: 'javascript:alert(1)' }],
    ['a data: URL', { url_mp3: 'data:audio/mpeg;base64,AAAA' }],
    ['a relative URL', { url_mp3: '/a.mp3' }],
    ['a purged (null) link', { url_mp3: null }],
    ['an empty link', { url_mp3: '' }],
  ])('%s never reaches src: the audio is kept without that link', async (_name, patch) => {
    const audio = { ...wireTask().task_result.audios[0], ...patch };
    server.use(http.get(`${TASKS}/:id`, () => ok(wireTask({ task_result: { audios: [audio] } }))));
    const task = await client.getTask({ taskId: 't' });
    expect(task.audios).toEqual([
      expect.objectContaining({ mp3Url: '', wavUrl: 'https://cdn.example.com/a.wav' }),
    ]);
  });

  it('one unreadable task does not break a page: the others show, a purged audio stays unplayable', async () => {
    const purged = { ...wireTask().task_result.audios[0], url_wav: null, url_mp3: '' };
    server.use(
      http.get(TASKS, () =>
        ok([
          wireTask({ task_id: 'a' }),
          { task_id: 'x' },
          wireTask({ task_id: 'b', task_result: { audios: [purged] } }),
        ]),
      ),
    );
    const tasks = await client.listTasks();
    expect(tasks.map((task) => task.taskId)).toEqual(['a', 'b']);
    expect(tasks[1]!.audios[0]).toMatchObject({ mp3Url: '', wavUrl: '', mp3Duration: 3 });
  });

  it('a page none of whose tasks can be read is invalid', async () => {
    server.use(http.get(TASKS, () => ok([{ task_id: 'x' }, 12])));
    expect((await failure(client.listTasks())).kind).toBe('invalid-response');
  });
});

describe('transport failures', () => {
  const expectKind = async (promise: Promise<unknown>, kind: KlingApiErrorKind, retryable: boolean) => {
    const error = await failure(promise);
    expect(error.kind).toBe(kind);
    expect(error.retryable).toBe(retryable);
  };

  it('a network failure is a retryable network error', async () => {
    server.use(http.get(`${TASKS}/:id`, () => HttpResponse.error()));
    await expectKind(client.getTask({ taskId: 't' }), 'network', true);
  });

  it('a fetch that throws a TypeError is a network error', async () => {
    const broken = createKlingAudioClient({
      baseUrl: BASE,
      fetch: () => Promise.reject(new TypeError('Failed to fetch')),
    });
    await expectKind(broken.listTasks(), 'network', true);
  });

  it('a body that breaks off midway is a network error', async () => {
    const broken = createKlingAudioClient({
      baseUrl: BASE,
      fetch: async () =>
        new Response(
          new ReadableStream({
            start(controller) {
              controller.enqueue(new TextEncoder().encode('{"code":0,'));
              controller.error(new TypeError('terminated'));
            },
          }),
        ),
    });
    await expectKind(broken.getTask({ taskId: 't' }), 'network', true);
  });

  /** The caller aborts while the server is still answering: an `aborted` error, not the late answer. */
  const expectAbortDuringRequest = async () => {
    const later = new AbortController();
    server.use(
      http.get(`${TASKS}/:id`, async () => {
        later.abort();
        await new Promise((resolve) => setTimeout(resolve, 50));
        return ok(wireTask());
      }),
    );
    await expectKind(client.getTask({ taskId: 't' }, { signal: later.signal }), 'aborted', false);
  };

  it('the caller’s abort is an aborted error, before or during the request', async () => {
    const controller = new AbortController();
    controller.abort();
    await expectKind(client.getTask({ taskId: 't' }, { signal: controller.signal }), 'aborted', false);

    await expectAbortDuringRequest();
  });

  it('without AbortSignal.any (Safari < 17.4, Firefox < 124) every failure is still a KlingApiError', async () => {
    const any = AbortSignal.any;
    // @ts-expect-error: an older browser
    delete AbortSignal.any;
    try {
      server.use(http.get(`${TASKS}/:id`, () => HttpResponse.error()));
      await expectKind(
        client.getTask({ taskId: 't' }, { signal: new AbortController().signal }),
        'network',
        true,
      );
      server.use(http.get(`${TASKS}/:id`, () => ok(wireTask())));
      expect((await client.getTask({ taskId: 't' }, { signal: new AbortController().signal })).taskId).toBe(
        'task_1',
      );
      await expectAbortDuringRequest();
    } finally {
      AbortSignal.any = any;
    }
  });

  it('no answer within timeoutMs is a retryable timeout', async () => {
    const slow = createKlingAudioClient({ baseUrl: BASE, timeoutMs: 20 });
    server.use(
      http.get(`${TASKS}/:id`, async () => {
        await new Promise((resolve) => setTimeout(resolve, 500));
        return ok(wireTask());
      }),
    );
    await expectKind(slow.getTask({ taskId: 't' }), 'timeout', true);
  });
});

describe('KlingApiError.is', () => {
  it('recognises an error from a second copy of the package by its brand, and nothing else', () => {
    const foreign = Object.assign(new Error('x'), { [Symbol.for('react-kling-audio.KlingApiError')]: true });
    expect(KlingApiError.is(foreign)).toBe(true);
    expect(KlingApiError.is(new Error('x'))).toBe(false);
    expect(KlingApiError.is(null)).toBe(false);
    expect(KlingApiError.is({ kind: 'api' })).toBe(false);
  });
});

describe('createAudioTaskInputSchema', () => {
  it('accepts the bounds and one decimal place', () => {
    for (const duration of [3, 3.1, 5.5, 9.9, 10]) {
      expect(createAudioTaskInputSchema.safeParse({ prompt: 'a', duration }).success).toBe(true);
    }
    expect(createAudioTaskInputSchema.safeParse({ prompt: 'a'.repeat(200), duration: 3 }).success).toBe(true);
  });
});

describe('externalTaskId', () => {
  it('accepts URL-safe ids and refuses ones the proxy could not look up, without a request', async () => {
    expect(
      createAudioTaskInputSchema.safeParse({ prompt: 'a', duration: 3, externalTaskId: 'order-42:retry.1' })
        .success,
    ).toBe(true);
    let requests = 0;
    server.use(http.post(TASKS, () => void requests++));
    for (const externalTaskId of ['a/b', 'with space', '', 'x'.repeat(257), '../x', '.', '..', '...']) {
      const error = await failure(client.createTask({ prompt: 'rain', duration: 3, externalTaskId }));
      expect(error.kind).toBe('validation');
    }
    expect(requests).toBe(0);
  });
});

describe('createAudioTaskInputSchema reasons', () => {
  it.each([
    [{ prompt: '   ', duration: 5 }, 'prompt-empty'],
    [{ prompt: 'x'.repeat(201), duration: 5 }, 'prompt-too-long'],
    [{ prompt: 'rain', duration: 2.9 }, 'duration-too-short'],
    [{ prompt: 'rain', duration: 10.1 }, 'duration-too-long'],
    [{ prompt: 'rain', duration: 3.25 }, 'duration-precision'],
    [{ prompt: 'rain', duration: 3, externalTaskId: 'a b' }, 'external-id'],
    [{ prompt: 'rain', duration: 3, callbackUrl: 'ftp://x' }, 'callback-url'],
  ])('says why %j is refused: %s', (input, reason) => {
    const result = createAudioTaskInputSchema.safeParse(input);
    expect(result.success).toBe(false);
    expect(
      result.error?.issues.map((issue) => (issue as { params?: { reason?: string } }).params?.reason),
    ).toEqual([reason]);
  });
});
