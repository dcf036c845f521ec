import { act, screen, waitFor } from '@testing-library/react';
import { Profiler, useState } from 'react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  AudioTaskList,
  useAudioTask,
  useAudioTaskList,
  useCreateAudioTask,
  usePendingAudioTasks,
  type CreateAudioTaskInput,
  type UseAudioTaskOptions,
} from '../src';
import type { MockKlingBackend } from '../src/mocks';
import {
  BASE_URL,
  createMemoryStorage,
  keepPlayersOffscreen,
  renderWithProvider,
  useMockBackend,
} from './render';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const text = (id: string) => screen.getByTestId(id).textContent;
const gets = (backend: MockKlingBackend, match: (url: URL) => boolean) =>
  backend.requests.filter((r) => r.method === 'GET' && match(new URL(r.url, 'http://localhost'))).length;
const pollsOf = (backend: MockKlingBackend, id: string) =>
  gets(backend, (url) => url.pathname.endsWith(`/text-to-audio/${encodeURIComponent(id)}`));
const listGets = (backend: MockKlingBackend) => gets(backend, (url) => url.searchParams.has('pageNum'));
const posts = (backend: MockKlingBackend) => backend.requests.filter((r) => r.method === 'POST').length;

async function createDirect(backend: MockKlingBackend, body: Record<string, unknown>): Promise<string> {
  const response = await backend.fetch(
    new Request(`http://localhost${BASE_URL}/v1/audio/text-to-audio`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    }),
  );
  return ((await response.json()) as { data: { task_id: string } }).data.task_id;
}

function Watch({ id, options }: { id: string | null; options?: UseAudioTaskOptions }) {
  const { taskStatus, error } = useAudioTask(id, options);
  return (
    <p data-testid="task">
      {taskStatus ?? 'none'}|{error ? `${error.kind}:${error.code ?? ''}` : ''}
    </p>
  );
}

const SLOW = { timing: { submittedMs: 60_000, processingMs: 60_000 } };

afterEach(() => vi.unstubAllGlobals());

describe('a re-submit never bills twice', () => {
  function Create({ input, retries = 0 }: { input: CreateAudioTaskInput; retries?: number }) {
    const create = useCreateAudioTask({ retries });
    return (
      <>
        <button onClick={() => create.mutate(input)}>create</button>
        <p data-testid="mutation">
          {create.status}|{create.error?.kind ?? ''}|{create.data?.taskId ?? ''}
        </p>
      </>
    );
  }

  it('after a final "could not reach the server", Generate again finds the first task', async () => {
    const backend = useMockBackend({ scenario: { dropAfterStore: true } });
    renderWithProvider(<Create input={{ prompt: 'door knock', duration: 3 }} />);
    act(() => screen.getByText('create').click());
    await waitFor(() => expect(text('mutation')).toBe('error|network|'));
    expect(backend.tasks).toHaveLength(1);

    backend.setScenario({ dropAfterStore: false });
    act(() => screen.getByText('create').click());
    await waitFor(() => expect(text('mutation')).toMatch(/^success\|\|.+/));
    expect(backend.tasks).toHaveLength(1);
    expect(posts(backend)).toBe(1);
    expect(text('mutation')).toBe(`success||${backend.tasks[0]!.taskId}`);
  });

  it('another input after a certain failure is a new submission with a new id', async () => {
    const backend = useMockBackend({ scenario: { createError: { code: 1201, times: 1 } } });
    function Two() {
      const create = useCreateAudioTask({ retries: 0 });
      return (
        <>
          <button onClick={() => create.mutate({ prompt: 'rain', duration: 3 })}>a</button>
          <button onClick={() => create.mutate({ prompt: 'wind', duration: 3 })}>b</button>
          <p data-testid="mutation">{create.status}</p>
        </>
      );
    }
    renderWithProvider(<Two />);
    act(() => screen.getByText('a').click());
    await waitFor(() => expect(text('mutation')).toBe('error'));
    act(() => screen.getByText('b').click());
    await waitFor(() => expect(text('mutation')).toBe('success'));
    act(() => screen.getByText('a').click());
    await waitFor(() => expect(backend.tasks).toHaveLength(2));
    const ids = backend.requests
      .filter((r) => r.method === 'POST')
      .map((r) => (r.body as { external_task_id: string }).external_task_id);
    expect(new Set(ids).size).toBe(3);
  });
});

describe('polling options by value', () => {
  it('maxWaitMs: Infinity waits for ever instead of timing out at once', async () => {
    const backend = useMockBackend(SLOW);
    const taskId = await createDirect(backend, { prompt: 'thunder', duration: 3 });
    renderWithProvider(<Watch id={taskId} options={{ maxWaitMs: Infinity }} />);
    await waitFor(() => expect(pollsOf(backend, taskId)).toBeGreaterThanOrEqual(3));
    expect(text('task')).toBe('submitted|');
  });

  it('an `undefined` override means the default, not back-to-back polls', async () => {
    const backend = useMockBackend(SLOW);
    const taskId = await createDirect(backend, { prompt: 'thunder', duration: 3 });
    renderWithProvider(<Watch id={taskId} options={{ polling: { intervalMs: undefined } }} />, {
      polling: { intervalMs: 150, maxIntervalMs: 150, jitter: 0 },
    });
    await waitFor(() => expect(pollsOf(backend, taskId)).toBeGreaterThanOrEqual(2));
    await sleep(200);
    // One poll per 150 ms: back to back (`setTimeout(NaN)`) would be dozens by now.
    expect(pollsOf(backend, taskId)).toBeLessThanOrEqual(4);
  });

  it('the hook’s own polling.maxWaitMs holds', async () => {
    const backend = useMockBackend(SLOW);
    const taskId = await createDirect(backend, { prompt: 'thunder', duration: 3 });
    renderWithProvider(<Watch id={taskId} options={{ polling: { maxWaitMs: 150 } }} />);
    await waitFor(() => expect(text('task')).toBe('submitted|timeout:'));
  });
});

describe('pending ids', () => {
  it('a pending id whose task no longer exists (1203) is settled, not resumed on every reload', async () => {
    useMockBackend();
    const storage = createMemoryStorage();
    storage.setItem('rka:pending', JSON.stringify(['gone-1']));
    function Resume() {
      const pending = usePendingAudioTasks();
      const [resumed] = useState(pending[0] ?? null);
      return (
        <>
          <p data-testid="pending">{pending.join(',')}</p>
          <Watch id={resumed} />
        </>
      );
    }
    renderWithProvider(<Resume />, { storage });
    expect(text('pending')).toBe('gone-1');
    await waitFor(() => expect(text('task')).toBe('none|api:1203'));
    await waitFor(() => expect(text('pending')).toBe(''));
    expect(JSON.parse(storage.getItem('rka:pending')!)).toEqual([]);
  });
});

describe('renders', () => {
  it('a watcher that reads `task` does not re-render on polls whose answer did not change', async () => {
    const backend = useMockBackend(SLOW);
    const taskId = await createDirect(backend, { prompt: 'thunder', duration: 3 });
    let renders = 0;
    function Reader() {
      const { task } = useAudioTask(taskId);
      return <p data-testid="task">{task?.status ?? 'none'}</p>;
    }
    renderWithProvider(
      <Profiler id="watcher" onRender={() => renders++}>
        <Reader />
      </Profiler>,
    );
    await waitFor(() => expect(text('task')).toBe('submitted'));
    const settled = renders;
    const polls = pollsOf(backend, taskId);
    await waitFor(() => expect(pollsOf(backend, taskId)).toBeGreaterThanOrEqual(polls + 4));
    await sleep(30);
    expect(renders).toBe(settled);
  });

  it('a history page with a pending task does not re-render on its unchanged polls', async () => {
    keepPlayersOffscreen();
    const backend = useMockBackend({
      seed: [{ taskId: 'frozen', prompt: 'rain', duration: 3, status: 'submitted' }],
    });
    let renders = 0;
    renderWithProvider(
      <Profiler id="list" onRender={() => renders++}>
        <AudioTaskList />
      </Profiler>,
    );
    await waitFor(() => expect(listGets(backend)).toBeGreaterThanOrEqual(2));
    await sleep(50);
    const settled = renders;
    const polls = listGets(backend);
    await waitFor(() => expect(listGets(backend)).toBeGreaterThanOrEqual(polls + 4));
    await sleep(30);
    // Only the pending row's elapsed-time clock may tick (once a second).
    expect(renders - settled).toBeLessThanOrEqual(1);
  });
});

describe('hidden tabs', () => {
  function setVisibility(state: 'hidden' | 'visible') {
    Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => state });
    document.dispatchEvent(new Event('visibilitychange'));
  }
  afterEach(() => setVisibility('visible'));

  it('makes no request while hidden, and polls at once when shown again', async () => {
    const backend = useMockBackend(SLOW);
    const taskId = await createDirect(backend, { prompt: 'thunder', duration: 3 });
    renderWithProvider(<Watch id={taskId} />);
    await waitFor(() => expect(pollsOf(backend, taskId)).toBeGreaterThanOrEqual(2));
    act(() => setVisibility('hidden'));
    await sleep(100);
    const hidden = pollsOf(backend, taskId);
    await sleep(300);
    expect(pollsOf(backend, taskId)).toBe(hidden);
    act(() => setVisibility('visible'));
    await waitFor(() => expect(pollsOf(backend, taskId)).toBeGreaterThan(hidden));
  });
});

describe('one pending task on screen, one request per interval', () => {
  it('a task on a list page and watched on its own is fetched by one poller, and both show the news', async () => {
    const backend = useMockBackend({ timing: { submittedMs: 600, processingMs: 60_000 } });
    const taskId = await createDirect(backend, { prompt: 'thunder', duration: 3 });
    function Both() {
      const { tasks } = useAudioTaskList({ pageSize: 5 });
      return (
        <>
          <p data-testid="list">{tasks.map((task) => task.status).join(',')}</p>
          {tasks.length > 0 && <Watch id={taskId} />}
        </>
      );
    }
    renderWithProvider(<Both />);
    await waitFor(() => expect(text('task')).toBe('submitted|'));
    const start = { list: listGets(backend), task: pollsOf(backend, taskId) };
    await waitFor(() => expect(text('task')).toBe('processing|'), { timeout: 2000 });
    expect(text('list')).toBe('processing');
    await sleep(400);
    const list = listGets(backend) - start.list;
    const task = pollsOf(backend, taskId) - start.task;
    expect(list).toBeGreaterThanOrEqual(5);
    // Before: the task poller fetched it too, every interval.
    expect(task).toBeLessThanOrEqual(1);
  });
});

describe('a busy service', () => {
  function Create() {
    const create = useCreateAudioTask({ retries: 2 });
    return (
      <>
        <button onClick={() => create.mutate({ prompt: 'rain', duration: 3 })}>create</button>
        <button onClick={create.cancel}>cancel</button>
        <p data-testid="mutation">
          {create.status}|{create.error ? `${create.error.kind}:${create.error.code ?? ''}` : ''}|
          {create.retryAt ? 'waiting' : ''}
        </p>
      </>
    );
  }

  it('a Retry-After past the cap fails at once instead of holding the form for ten minutes', async () => {
    const backend = useMockBackend({ scenario: { createError: { code: 1303, retryAfterSeconds: 600 } } });
    renderWithProvider(<Create />);
    act(() => screen.getByText('create').click());
    await waitFor(() => expect(text('mutation')).toBe('error|api:1303|'));
    expect(posts(backend)).toBe(1);
  });

  it('shows the wait, and cancel stops it without another request', async () => {
    const backend = useMockBackend({ scenario: { createError: { code: 1303, retryAfterSeconds: 30 } } });
    renderWithProvider(<Create />);
    act(() => screen.getByText('create').click());
    await waitFor(() => expect(text('mutation')).toBe('pending||waiting'));
    act(() => screen.getByText('cancel').click());
    await waitFor(() => expect(text('mutation')).toBe('error|aborted:|'));
    await sleep(50);
    expect(posts(backend)).toBe(1);
    expect(backend.tasks).toHaveLength(0);
  });
});
