import { describe, expect, it } from 'vitest';
import { createKlingAudioClient, KlingApiError, type AudioTask } from '../src';
import {
  CONTENT_SAFETY_REASON,
  createMockKlingBackend,
  manyMockTaskSeeds,
  MOCK_TASK_IDS,
  mockTaskSeeds,
  type MockKlingBackendOptions,
} from '../src/mocks';
import { server } from './server';
import { transports, type Connect } from './transports';

const ORIGIN = 'http://app.test';
const BASE = `${ORIGIN}/api/kling`;
const TASKS = `${BASE}/v1/audio/text-to-audio`;
const T0 = 1_722_769_557_708;

function setup(connect: Connect, options: Partial<MockKlingBackendOptions> = {}) {
  let clock = T0;
  const backend = createMockKlingBackend({
    baseUrl: '/api/kling',
    timing: { submittedMs: 1000, processingMs: 3000 },
    now: () => clock,
    ...options,
  });
  const fetch = connect(backend);
  const client = createKlingAudioClient({ baseUrl: BASE, fetch });
  async function call(method: string, url: string, body?: unknown) {
    const response = await fetch(url, {
      method,
      headers: body === undefined ? undefined : { 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await response.text();
    let json: { code: number; message: string; request_id: string; data?: unknown } | undefined;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: response.status, headers: response.headers, text, json };
  }
  const advance = (ms: number) => {
    clock += ms;
  };
  return { backend, client, fetch, call, advance, now: () => clock };
}

async function failure(promise: Promise<unknown>): Promise<KlingApiError> {
  const error = await promise.then(
    () => {
      throw new Error('expected the call to fail');
    },
    (e: unknown) => e,
  );
  expect(KlingApiError.is(error)).toBe(true);
  return error as KlingApiError;
}

describe.each(transports)('through $name', ({ connect }) => {
  describe('create and poll', () => {
    it('answers a create with the vendor shape, then moves the task submitted → processing → succeed', async () => {
      const { call, client, advance } = setup(connect);
      const created = await call('POST', TASKS, {
        prompt: ' Fireworks over a harbour ',
        duration: 5.5,
        external_task_id: 'order-1',
        callback_url: '',
      });
      expect(created.status).toBe(200);
      expect(created.headers.get('content-type')).toMatch(/^application\/json/);
      expect(created.json).toEqual({
        code: 0,
        message: 'SUCCEED',
        request_id: expect.any(String),
        data: {
          task_id: expect.stringMatching(/^\d{18}$/),
          task_info: { external_task_id: 'order-1' },
          task_status: 'submitted',
          created_at: T0,
          updated_at: T0,
        },
      });
      const taskId = (created.json!.data as { task_id: string }).task_id;

      const seen: AudioTask[] = [await client.getTask({ taskId })];
      advance(999);
      seen.push(await client.getTask({ taskId }));
      advance(1);
      seen.push(await client.getTask({ taskId }));
      advance(2999);
      seen.push(await client.getTask({ taskId }));
      advance(1);
      seen.push(await client.getTask({ taskId }));
      expect(seen.map((task) => [task.status, task.updatedAt - T0])).toEqual([
        ['submitted', 0],
        ['submitted', 0],
        ['processing', 1000],
        ['processing', 1000],
        ['succeed', 4000],
      ]);
      expect(seen.at(-1)).toEqual({
        taskId,
        externalTaskId: 'order-1',
        status: 'succeed',
        audios: [
          {
            id: expect.any(String),
            mp3Url: `${ORIGIN}/api/kling/mock-audio/${taskId}.mp3`,
            wavUrl: `${ORIGIN}/api/kling/mock-audio/${taskId}.wav`,
            mp3Duration: 5.564, // whole MP3 frames plus the encoder delay (see mp3Duration)
            wavDuration: 5.5,
          },
        ],
        unitsDeducted: '0.25',
        createdAt: T0,
        updatedAt: T0 + 4000,
      });

      // The wire keeps the vendor's documented string durations.
      const raw = await call('GET', `${TASKS}/${taskId}`);
      expect(raw.json!.data).toMatchObject({
        task_status: 'succeed',
        task_status_msg: '',
        final_unit_deduction: '0.25',
        task_result: { audios: [{ duration_mp3: '5.564', duration_wav: '5.5' }] },
      });
    });

    it('creates through the real client and keeps the trimmed prompt on the stored task', async () => {
      const { client, backend } = setup(connect);
      const task = await client.createTask({ prompt: '  Rain on a tin roof ', duration: 3 });
      expect(task).toMatchObject({ status: 'submitted', audios: [], createdAt: T0 });
      expect(task.externalTaskId).toBeUndefined();
      expect(backend.tasks).toEqual([
        expect.objectContaining({
          taskId: task.taskId,
          status: 'submitted',
          request: { prompt: 'Rain on a tin roof', duration: 3 },
        }),
      ]);
    });

    it('finds a task by external id in the path and with ?external_task_id=', async () => {
      const { call, client } = setup(connect);
      const created = await client.createTask({
        prompt: 'A bell',
        duration: 3,
        externalTaskId: 'order-42:retry.1',
      });

      const byPath = await client.getTask({ externalTaskId: 'order-42:retry.1' });
      expect(byPath.taskId).toBe(created.taskId);

      const byQuery = await call(
        'GET',
        `${TASKS}?external_task_id=${encodeURIComponent('order-42:retry.1')}`,
      );
      expect(byQuery.status).toBe(200);
      expect(byQuery.json!.data).toMatchObject({
        task_id: created.taskId,
        task_info: { external_task_id: 'order-42:retry.1' },
      });

      const missing = await call('GET', `${TASKS}?external_task_id=nope`);
      expect([missing.status, missing.json!.code]).toEqual([404, 1203]);
    });

    it('refuses a second task with the same external id and stores only one', async () => {
      const { call, backend } = setup(connect);
      const body = { prompt: 'Knock knock', duration: 3, external_task_id: 'same' };
      expect((await call('POST', TASKS, body)).status).toBe(200);
      const again = await call('POST', TASKS, { ...body, prompt: 'Something else' });
      expect(again.status).toBe(400);
      expect(again.json).toMatchObject({ code: 1201, message: 'external_task_id already exists' });
      expect(backend.tasks).toHaveLength(1);
    });

    it.each([
      ['a 201-character prompt', { prompt: 'x'.repeat(201), duration: 3 }, /prompt: .*200 characters/],
      ['a duration of 2.9', { prompt: 'Rain', duration: 2.9 }, /duration: .*at least 3/],
      ['a duration of 3.25', { prompt: 'Rain', duration: 3.25 }, /duration: .*one decimal place/],
      ['a duration of 10.1', { prompt: 'Rain', duration: 10.1 }, /duration: .*at most 10/],
      ['a blank prompt', { prompt: '   ', duration: 3 }, /prompt: Describe the sound/],
      ['a duration given as a string', { prompt: 'Rain', duration: '3' }, /duration: /],
      [
        'a callback_url that is not http(s)',
        { prompt: 'Rain', duration: 3, callback_url: 'ftp://x' },
        /callback_url: /,
      ],
      ['a body that is not JSON', '{"prompt": "Rain",', /JSON/],
    ])('answers 400 / 1201 with a useful message for %s, storing nothing', async (_, body, message) => {
      const { call, backend } = setup(connect);
      const answer = await call('POST', TASKS, body);
      expect(answer.status).toBe(400);
      expect(answer.json!.code).toBe(1201);
      expect(answer.json!.message).toMatch(message);
      expect(backend.tasks).toEqual([]);
    });

    it('accepts the boundaries: 200 characters, 3.0 and 10.0 seconds', async () => {
      const { call, backend } = setup(connect);
      for (const body of [
        { prompt: 'y'.repeat(200), duration: 3.0 },
        { prompt: 'Rain', duration: 10.0 },
        { prompt: 'Rain', duration: 3.3 },
      ]) {
        expect((await call('POST', TASKS, body)).status).toBe(200);
      }
      expect(backend.tasks).toHaveLength(3);
    });

    it('answers unknown ids with 404 / 1203, other methods with 1202, and unknown paths with a 404 envelope', async () => {
      const { call, client } = setup(connect);
      const error = await failure(client.getTask({ taskId: '123' }));
      expect([error.kind, error.httpStatus, error.code]).toEqual(['api', 404, 1203]);

      const put = await call('PUT', TASKS, { prompt: 'x', duration: 3 });
      expect([put.status, put.json!.code]).toEqual([404, 1202]);
      const putOne = await call('PUT', `${TASKS}/123`);
      expect([putOne.status, putOne.json!.code]).toEqual([404, 1202]);
      // The proxy's history routes: an unknown id is not found.
      const del = await call('DELETE', `${TASKS}/123`);
      expect([del.status, del.json!.code]).toEqual([404, 1203]);
      const unknown = await call('GET', `${BASE}/v1/videos/text2video`);
      expect(unknown.status).toBe(404);
      expect(unknown.json!.code).toBe(1203);
    });
  });

  describe('list', () => {
    it('pages newest first and checks the bounds', async () => {
      const { client, advance, call } = setup(connect);
      const created: string[] = [];
      for (let i = 0; i < 7; i++) {
        created.push((await client.createTask({ prompt: `Sound ${i}`, duration: 3 })).taskId);
        advance(10);
      }
      const newest = [...created].reverse();
      expect((await client.listTasks()).map((t) => t.taskId)).toEqual(newest);
      expect((await client.listTasks({ pageNum: 1, pageSize: 3 })).map((t) => t.taskId)).toEqual(
        newest.slice(0, 3),
      );
      expect((await client.listTasks({ pageNum: 3, pageSize: 3 })).map((t) => t.taskId)).toEqual(
        newest.slice(6),
      );
      expect(await client.listTasks({ pageNum: 4, pageSize: 3 })).toEqual([]);

      for (const query of [
        'pageNum=0',
        'pageNum=1001',
        'pageSize=0',
        'pageSize=501',
        'pageNum=1.5',
        'pageSize=abc',
      ]) {
        const answer = await call('GET', `${TASKS}?${query}`);
        expect([query, answer.status, answer.json!.code]).toEqual([query, 400, 1201]);
      }
      for (const query of ['pageNum=1000', 'pageSize=500', 'pageNum=1&pageSize=1']) {
        expect((await call('GET', `${TASKS}?${query}`)).status).toBe(200);
      }
    });

    it('defaults to 30 per page', async () => {
      const { call } = setup(connect, { seed: manyMockTaskSeeds(31) });
      const first = await call('GET', TASKS);
      expect((first.json!.data as unknown[]).length).toBe(30);
      const second = await call('GET', `${TASKS}?pageNum=2`);
      expect(second.json!.data).toEqual([
        expect.objectContaining({ task_id: manyMockTaskSeeds(31)[30]!.taskId }),
      ]);
    });
  });

  describe('scenarios', () => {
    it('answers creates with a vendor error, its HTTP status and Retry-After, `times` times', async () => {
      const { call, client, backend } = setup(connect, {
        scenario: { createError: { code: 1303, retryAfterSeconds: 2, times: 1 } },
      });
      const limited = await call('POST', TASKS, { prompt: 'Rain', duration: 3 });
      expect(limited.status).toBe(429);
      expect(limited.headers.get('Retry-After')).toBe('2');
      expect(limited.json).toMatchObject({ code: 1303, message: 'concurrency over the resource pack limit' });
      expect(backend.tasks).toEqual([]);

      await expect(client.createTask({ prompt: 'Rain', duration: 3 })).resolves.toMatchObject({
        status: 'submitted',
      });
      expect(backend.tasks).toHaveLength(1);

      backend.setScenario({ createError: { code: 1102, message: 'no units left' } });
      const error = await failure(client.createTask({ prompt: 'Rain', duration: 3 }));
      expect([error.httpStatus, error.code, error.retryable, error.retryAfterMs]).toEqual([
        429,
        1102,
        false,
        undefined,
      ]);
      expect((await call('POST', TASKS, { prompt: 'Rain', duration: 3 })).json!.message).toBe(
        'no units left',
      );
    });

    it('lets a vendor error go through the real client with its retry hint', async () => {
      const { client } = setup(connect, { scenario: { createError: { code: 1302, retryAfterSeconds: 3 } } });
      const error = await failure(client.createTask({ prompt: 'Rain', duration: 3 }));
      expect(error).toMatchObject({
        kind: 'api',
        code: 1302,
        httpStatus: 429,
        retryable: true,
        retryAfterMs: 3000,
      });
    });

    it('answers polls and lists with their own errors, and an explicit httpStatus wins', async () => {
      const { client, backend, call } = setup(connect);
      const task = await client.createTask({ prompt: 'Rain', duration: 3, externalTaskId: 'e1' });
      backend.setScenario({
        pollError: { code: 5000, times: 2 },
        listError: { code: 5001, retryAfterSeconds: 30 },
      });

      expect(await failure(client.getTask({ taskId: task.taskId }))).toMatchObject({
        httpStatus: 500,
        code: 5000,
      });
      const byQuery = await call('GET', `${TASKS}?external_task_id=e1`);
      expect([byQuery.status, byQuery.json!.code]).toEqual([500, 5000]);
      await expect(client.getTask({ taskId: task.taskId })).resolves.toMatchObject({ taskId: task.taskId });

      const list = await call('GET', TASKS);
      expect([list.status, list.headers.get('retry-after'), list.json!.code]).toEqual([503, '30', 5001]);

      backend.setScenario({ listError: { code: 1303, httpStatus: 503 } });
      expect((await call('GET', TASKS)).status).toBe(503);
    });

    it('sends a body no client can read: an HTML page, then a truncated envelope, and stores nothing', async () => {
      const { call, client, backend } = setup(connect, { scenario: { malformed: 'create' } });
      const html = await call('POST', TASKS, { prompt: 'Rain', duration: 3 });
      expect([html.status, html.headers.get('content-type')]).toEqual([200, 'text/html']);
      expect(html.text).toMatch(/^<!DOCTYPE html>/);
      const error = await failure(client.createTask({ prompt: 'Rain', duration: 3 }));
      expect([error.kind, error.httpStatus]).toEqual(['invalid-response', 200]);
      expect(backend.tasks).toEqual([]);

      backend.setScenario({ malformed: undefined });
      const task = await client.createTask({ prompt: 'Rain', duration: 3 });
      backend.setScenario({ malformed: 'poll' });
      expect((await failure(client.getTask({ taskId: task.taskId }))).kind).toBe('invalid-response');
      await expect(client.listTasks()).resolves.toHaveLength(1);
      backend.setScenario({ malformed: 'all' });
      expect((await failure(client.listTasks())).kind).toBe('invalid-response');
    });

    it('stores the task, then drops the connection; a lookup by external id finds exactly that one task', async () => {
      const { client, backend } = setup(connect, { scenario: { dropAfterStore: 1 } });
      const error = await failure(
        client.createTask({ prompt: 'Rain', duration: 3, externalTaskId: 'ambiguous' }),
      );
      expect(error.kind).toBe('network');
      expect(backend.tasks).toEqual([
        expect.objectContaining({ externalTaskId: 'ambiguous', status: 'submitted' }),
      ]);
      const found = await client.getTask({ externalTaskId: 'ambiguous' });
      expect(found.taskId).toBe(backend.tasks[0]!.taskId);

      // Used up: the next create answers normally.
      await expect(client.createTask({ prompt: 'Wind', duration: 3 })).resolves.toMatchObject({
        status: 'submitted',
      });
      expect(backend.tasks).toHaveLength(2);
    });

    it('fails tasks with the scenario’s reason, or for the word "forbidden"', async () => {
      const { client, backend, advance } = setup(connect);
      const forbidden = await client.createTask({ prompt: 'A Forbidden sound', duration: 3 });
      const fine = await client.createTask({ prompt: 'A forbiddenness', duration: 3 });
      backend.setScenario({
        failTasks: (prompt) => (prompt.includes('dog') ? 'No dogs, sorry.' : undefined),
      });
      const dog = await client.createTask({ prompt: 'A dog barking', duration: 3 });
      const cat = await client.createTask({ prompt: 'A cat purring', duration: 3 });
      backend.setScenario({ failTasks: true });
      const any = await client.createTask({ prompt: 'Birdsong', duration: 3 });

      advance(2000);
      expect((await client.getTask({ taskId: dog.taskId })).status).toBe('processing');
      advance(2000);
      const results = await Promise.all(
        [forbidden, fine, dog, cat, any].map((task) => client.getTask({ taskId: task.taskId })),
      );
      expect(results.map((task) => [task.status, task.statusMessage, task.audios.length])).toEqual([
        ['failed', CONTENT_SAFETY_REASON, 0],
        ['succeed', undefined, 1],
        ['failed', 'No dogs, sorry.', 0],
        ['succeed', undefined, 1],
        ['failed', CONTENT_SAFETY_REASON, 0],
      ]);
      expect(results[0]!.unitsDeducted).toBe('0');
    });

    it('answers slowly with slowMs, after the work is done (a timed-out create still stored its task)', async () => {
      const { backend, fetch } = setup(connect, { scenario: { slowMs: 60_000 } });
      const client = createKlingAudioClient({ baseUrl: BASE, fetch, timeoutMs: 50 });
      const error = await failure(client.createTask({ prompt: 'Rain', duration: 3, externalTaskId: 'slow' }));
      expect(error.kind).toBe('timeout');
      expect(backend.tasks.map((task) => task.externalTaskId)).toEqual(['slow']);
      backend.setScenario({ slowMs: 0 });
      await expect(client.getTask({ externalTaskId: 'slow' })).resolves.toMatchObject({
        status: 'submitted',
      });
    });
  });

  it('delays every API answer by latencyMs, not the audio files', async () => {
    const { backend, fetch, advance } = setup(connect, {
      latencyMs: 60_000,
      seed: [{ prompt: 'A bell', duration: 3, taskId: '700000000000000001' }],
    });
    const client = createKlingAudioClient({ baseUrl: BASE, fetch, timeoutMs: 50 });
    expect((await failure(client.listTasks())).kind).toBe('timeout');
    advance(60_000);
    const wav = await fetch(`${BASE}/mock-audio/700000000000000001.wav`, {
      signal: AbortSignal.timeout(2_000),
    });
    expect(wav.status).toBe(200);
    expect(backend.requests).toHaveLength(1);
  });

  it('records the API requests it receives, and reset() forgets tasks, requests and scenario changes', async () => {
    const { client, backend } = setup(connect, {
      seed: [{ prompt: 'Seeded bell', duration: 4, externalTaskId: 'seeded' }],
      scenario: { listError: { code: 1302, times: 1 } },
    });
    await client.createTask({ prompt: 'Rain', duration: 3, externalTaskId: 'r1' });
    await client.getTask({ externalTaskId: 'seeded' });
    await failure(client.listTasks({ pageSize: 5 }));
    expect(backend.requests).toEqual([
      { method: 'POST', url: TASKS, body: { prompt: 'Rain', duration: 3, external_task_id: 'r1' } },
      { method: 'GET', url: `${TASKS}/seeded` },
      { method: 'GET', url: `${TASKS}?pageNum=1&pageSize=5` },
    ]);
    backend.setScenario({ createError: { code: 5000 } });
    expect(backend.tasks).toHaveLength(2);

    backend.reset();
    expect(backend.requests).toEqual([]);
    expect(backend.tasks.map((task) => task.externalTaskId)).toEqual(['seeded']);
    // The initial scenario is back (with its count restarted) and the later change is gone.
    await failure(client.listTasks());
    await expect(client.listTasks()).resolves.toHaveLength(1);
    await expect(client.createTask({ prompt: 'Rain', duration: 3 })).resolves.toBeDefined();
  });
});

describe('msw and .fetch give the same answers', () => {
  async function script(connect: Connect) {
    const { call, advance } = setup(connect, { seed: mockTaskSeeds });
    const ids = new Map<string, string>();
    // Task ids and request ids are random: name them by order of appearance.
    const normalise = (text: string) =>
      text
        .replace(/"request_id":"[^"]+"/g, '"request_id":"…"')
        .replace(/\b(7[0-9]{17})([0-9]*)\b/g, (_, id: string, suffix: string) => {
          if (!ids.has(id)) ids.set(id, `task${ids.size}`);
          return ids.get(id)! + suffix;
        });
    const answers: unknown[] = [];
    const record = async (method: string, url: string, body?: unknown) => {
      const answer = await call(method, url, body);
      answers.push([answer.status, answer.headers.get('retry-after'), normalise(answer.text)]);
      return answer;
    };
    const created = await record('POST', TASKS, { prompt: 'Fireworks', duration: 3, external_task_id: 'x' });
    const taskId = (created.json!.data as { task_id: string }).task_id;
    await record('POST', TASKS, { prompt: 'Fireworks', duration: 3, external_task_id: 'x' });
    await record('POST', TASKS, { prompt: 'x'.repeat(201), duration: 3.25 });
    await record('GET', `${TASKS}/${taskId}`);
    advance(1500);
    await record('GET', `${TASKS}/x`);
    advance(5000);
    await record('GET', `${TASKS}?external_task_id=x`);
    await record('GET', `${TASKS}?pageNum=1&pageSize=4`);
    await record('GET', `${TASKS}?pageNum=0`);
    await record('GET', `${TASKS}/${MOCK_TASK_IDS.failed}`);
    await record('PATCH', `${TASKS}/${taskId}`);
    return answers;
  }

  it('for the same sequence of requests', async () => {
    const [viaMsw, viaFetch] = [await script(transports[0]!.connect), await script(transports[1]!.connect)];
    expect(viaMsw).toHaveLength(10);
    expect(viaFetch).toEqual(viaMsw);
  });
});

describe('.fetch only', () => {
  it('rejects with TypeError("fetch failed") for a dropped connection, as Node’s fetch does', async () => {
    const backend = createMockKlingBackend({ baseUrl: '/api/kling', scenario: { dropAfterStore: true } });
    const request = () =>
      new Request(TASKS, { method: 'POST', body: JSON.stringify({ prompt: 'Rain', duration: 3 }) });
    await expect(backend.fetch(request())).rejects.toThrow(new TypeError('fetch failed'));
    await expect(backend.fetch(request())).rejects.toThrow(TypeError);
    expect(backend.tasks).toHaveLength(2);
  });

  it('answers paths outside baseUrl with a 404 envelope; an absolute baseUrl matches its own origin only', async () => {
    const backend = createMockKlingBackend({ baseUrl: 'http://upstream.test/kling/' });
    const outside = await backend.fetch(new Request('http://upstream.test/other'));
    expect(outside.status).toBe(404);
    expect(await outside.json()).toMatchObject({ code: 1203 });
    const otherOrigin = await backend.fetch(new Request('http://else.test/kling/v1/audio/text-to-audio'));
    expect(otherOrigin.status).toBe(404);
    const prefixOnly = await backend.fetch(
      new Request('http://upstream.test/klingon/v1/audio/text-to-audio'),
    );
    expect(prefixOnly.status).toBe(404);
    const inside = await backend.fetch(new Request('http://upstream.test/kling/v1/audio/text-to-audio'));
    expect([inside.status, (await inside.json()).data]).toEqual([200, []]);
  });

  it("kills a task's links once its clock is 30 days past the creation, as the vendor purges them", async () => {
    const { client, fetch, advance } = setup(transports[1]!.connect);
    const { taskId } = await client.createTask({ prompt: 'Rain', duration: 3 });
    advance(5_000);
    const [audio] = (await client.getTask({ taskId })).audios;
    expect((await fetch(audio!.wavUrl)).status).toBe(200);
    advance(30 * 86_400_000 - 5_001);
    expect((await fetch(audio!.mp3Url)).status).toBe(200);
    advance(1);
    for (const url of [audio!.mp3Url, audio!.wavUrl]) {
      const dead = await fetch(url);
      expect([dead.status, await dead.text()]).toEqual([403, expect.stringContaining('Request has expired')]);
    }
    // The task itself is still there, succeeded, with the same (dead) URLs.
    expect((await client.getTask({ taskId })).audios[0]).toEqual(audio);
  });

  it('uses a default clock with realistic timings', async () => {
    const backend = createMockKlingBackend({ baseUrl: '/api/kling' });
    const client = createKlingAudioClient({
      baseUrl: BASE,
      fetch: (input, init) => backend.fetch(new Request(input, init)),
    });
    const task = await client.createTask({ prompt: 'Rain', duration: 3 });
    expect(Math.abs(task.createdAt - Date.now())).toBeLessThan(5_000);
    // 1.5 s in `submitted` by default: a poll right away still sees it there.
    expect((await client.getTask({ taskId: task.taskId })).status).toBe('submitted');
  });
});

describe('msw handlers', () => {
  it('leave requests outside baseUrl to other handlers (unhandled requests still error)', async () => {
    const backend = createMockKlingBackend({ baseUrl: '/api/kling' });
    server.use(...backend.handlers);
    await expect(fetch(`${ORIGIN}/api/klingon/v1/audio/text-to-audio`)).rejects.toThrow();
    const inside = await fetch(`${ORIGIN}/api/kling/v1/audio/text-to-audio`);
    expect(inside.status).toBe(200);
  });
});

describe('seeds', () => {
  it('give frozen statuses, default ages (first seed newest) and external ids', async () => {
    const clock = T0;
    const backend = createMockKlingBackend({ baseUrl: '/api/kling', now: () => clock, seed: mockTaskSeeds });
    const tasks = backend.tasks;
    expect(tasks.map((task) => task.taskId)).toEqual(mockTaskSeeds.map((seed) => seed.taskId));
    expect(tasks.map((task) => task.createdAt)).toEqual(
      mockTaskSeeds.map((_, index) => T0 - (index + 1) * 60_000),
    );
    expect(tasks.find((task) => task.taskId === MOCK_TASK_IDS.pending)!.status).toBe('processing');
    expect(tasks.find((task) => task.taskId === MOCK_TASK_IDS.failed)).toMatchObject({
      status: 'failed',
      statusMessage: CONTENT_SAFETY_REASON,
    });
    expect(tasks.find((task) => task.externalTaskId === 'demo-laser')!.status).toBe('succeed');
    expect(tasks.filter((task) => task.status === 'succeed')).toHaveLength(6);
    // Without a request to resolve against, relative audio URLs use http://localhost/ (or location).
    expect(tasks.find((task) => task.taskId === MOCK_TASK_IDS.rain)!.audios[0]!.wavUrl).toMatch(
      /^http:\/\/localhost(:\d+)?\/api\/kling\/mock-audio\/760000000000000002\.wav$/,
    );
  });

  it('advance from an explicit createdAt when no status is given', () => {
    let clock = T0;
    const backend = createMockKlingBackend({
      baseUrl: '/api/kling',
      now: () => clock,
      seed: [{ prompt: 'Rain', duration: 3, createdAt: T0 }],
    });
    expect(backend.tasks[0]!.status).toBe('submitted');
    clock += 1500;
    expect(backend.tasks[0]!.status).toBe('processing');
    clock += 4000;
    expect(backend.tasks[0]!.status).toBe('succeed');
  });
});
