import { QueryClientProvider, useQueryClient, useSuspenseQuery } from '@tanstack/react-query';
import { act, render, screen, waitFor } from '@testing-library/react';
import { Suspense, useState } from 'react';
import { http, HttpResponse } from 'msw';
import { describe, expect, it } from 'vitest';
import {
  audioTaskKeys,
  audioTaskQueryOptions,
  createKlingAudioClient,
  getUserMessage,
  KlingAudioProvider,
  useAudioTask,
  useAudioTaskList,
  useCreateAudioTask,
  usePendingAudioTasks,
  type AudioTask,
  type AudioTaskRef,
  type CreateAudioTaskInput,
  type UseAudioTaskOptions,
} from '../src';
import type { MockKlingBackend } from '../src/mocks';
import { server } from './server';
import {
  BASE_URL,
  createMemoryStorage,
  createTestQueryClient,
  FAST_POLLING,
  renderWithProvider,
  useMockBackend,
} from './render';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const apiRequests = (backend: MockKlingBackend, method: string, match: (url: URL) => boolean = () => true) =>
  backend.requests.filter((r) => r.method === method && match(new URL(r.url, 'http://localhost')));
const pollsOf = (backend: MockKlingBackend, id: string) =>
  apiRequests(backend, 'GET', (url) => url.pathname.endsWith(`/text-to-audio/${encodeURIComponent(id)}`))
    .length;
const posts = (backend: MockKlingBackend) => apiRequests(backend, 'POST').length;

/** Creates a task straight through the backend (no hooks), as another device would. */
async function createDirect(backend: MockKlingBackend, body: Record<string, unknown>): Promise<string> {
  const response = await backend.fetch(
    new Request(`http://localhost${BASE_URL}/v1/audio/text-to-audio`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    }),
  );
  const json = (await response.json()) as { data: { task_id: string } };
  return json.data.task_id;
}

function TaskStatus({
  taskRef,
  label = 'task',
  options,
}: {
  taskRef: AudioTaskRef | null;
  label?: string;
  options?: UseAudioTaskOptions;
}) {
  const { task, taskStatus, audios, isPolling, error } = useAudioTask(taskRef, options);
  return (
    <p data-testid={label}>
      {taskStatus ?? 'none'}|{task?.taskId ?? ''}|{audios.length}|{isPolling ? 'polling' : 'idle'}|
      {error ? `${error.kind}:${error.code ?? ''}` : ''}|{task?.statusMessage ?? ''}|
      {task?.request?.prompt ?? ''}
    </p>
  );
}

function CreateAndWatch({
  input,
  onTask,
}: {
  input: CreateAudioTaskInput;
  onTask?: (task: AudioTask) => void;
}) {
  const create = useCreateAudioTask({ mutation: { onSuccess: onTask } });
  const [taskId, setTaskId] = useState<string | null>(null);
  return (
    <div>
      <button onClick={() => create.mutate(input, { onSuccess: (task) => setTaskId(task.taskId) })}>
        create
      </button>
      <p data-testid="mutation">
        {create.status}|
        {create.error
          ? `${create.error.kind}:${create.error.code ?? ''}:${getUserMessage(create.error)}`
          : ''}
      </p>
      <TaskStatus taskRef={taskId} />
    </div>
  );
}

const text = (id: string) => screen.getByTestId(id).textContent ?? '';

describe('useCreateAudioTask + useAudioTask', () => {
  it('creates, polls through submitted and processing to succeed, then makes no more requests', async () => {
    // The vendor's clock moves only when the test says: on a loaded machine a poll can come late, and a
    // task that moved on by wall time would skip the status this test waits to see.
    let clock = Date.now();
    const backend = useMockBackend({ now: () => clock });
    const { queryClient } = renderWithProvider(
      <CreateAndWatch input={{ prompt: ' Rain on a tin roof ', duration: 4.5 }} />,
    );
    act(() => screen.getByText('create').click());

    await waitFor(() => expect(text('task')).toMatch(/^submitted\|/));
    clock += 50;
    await waitFor(() => expect(text('task')).toMatch(/^processing\|/));
    clock += 100;
    await waitFor(() => expect(text('task')).toMatch(/^succeed\|.+\|1\|idle\|\|\|Rain on a tin roof$/));
    const taskId = backend.tasks[0]!.taskId;
    expect(posts(backend)).toBe(1);
    const polls = pollsOf(backend, taskId);
    expect(polls).toBeGreaterThanOrEqual(2);

    await sleep(300);
    expect(pollsOf(backend, taskId)).toBe(polls);

    const cached = queryClient.getQueryData<AudioTask>(audioTaskKeys.task(taskId));
    expect(cached).toMatchObject({
      status: 'succeed',
      request: { prompt: 'Rain on a tin roof', duration: 4.5 },
    });
    expect(cached?.audios[0]?.wavUrl).toMatch(/^http:\/\/.+\.wav$/);
    expect(cached?.externalTaskId).toMatch(/^[0-9a-f-]{32,36}$/);
  });

  it('sends one poll per interval for a task however many components watch it', async () => {
    const backend = useMockBackend({ timing: { submittedMs: 200, processingMs: 400 } });
    const [a, b] = await Promise.all([
      createDirect(backend, { prompt: 'bells', duration: 3 }),
      createDirect(backend, { prompt: 'rain', duration: 3 }),
    ]);

    function Watchers() {
      const [count, setCount] = useState(1);
      return (
        <>
          <button onClick={() => setCount((n) => n + 1)}>more</button>
          {Array.from({ length: count }, (_, i) => (
            <TaskStatus key={i} taskRef={a!} label={`a${i}`} />
          ))}
          <TaskStatus taskRef={{ taskId: b! }} label="b" />
        </>
      );
    }
    renderWithProvider(<Watchers />);
    // Three more watchers of A join while it is pending, staggered.
    for (let i = 0; i < 3; i++) {
      await sleep(70);
      act(() => screen.getByText('more').click());
    }
    await waitFor(() => expect(text('a3')).toMatch(/^succeed/), { timeout: 3000 });
    await waitFor(() => expect(text('b')).toMatch(/^succeed/), { timeout: 3000 });
    await sleep(200);

    const pollsA = pollsOf(backend, a!);
    const pollsB = pollsOf(backend, b!);
    // Same timing, same policy: four watchers cost what one does (±1 for where the intervals fall).
    expect(pollsB).toBeGreaterThanOrEqual(3);
    expect(Math.abs(pollsA - pollsB)).toBeLessThanOrEqual(1);
    expect(['a0', 'a1', 'a2', 'a3'].map(text).every((t) => t === text('a0'))).toBe(true);
  });

  it('waits at least Retry-After before the next poll', async () => {
    const backend = useMockBackend({ timing: { submittedMs: 0, processingMs: 0 } });
    const taskId = await createDirect(backend, { prompt: 'wind', duration: 3 });
    backend.setScenario({ pollError: { code: 1303, retryAfterSeconds: 1, times: 1 } });
    const times: number[] = [];
    server.events.on('request:start', ({ request }) => {
      if (request.method === 'GET' && request.url.includes(taskId)) times.push(performance.now());
    });

    renderWithProvider(<TaskStatus taskRef={taskId} />);
    await waitFor(() => expect(text('task')).toMatch(/^none\|\|0\|polling\|api:1303/));
    await waitFor(() => expect(text('task')).toMatch(/^succeed/), { timeout: 3000 });
    server.events.removeAllListeners();

    expect(times).toHaveLength(2);
    expect(times[1]! - times[0]!).toBeGreaterThanOrEqual(990);
  });

  it('gives up after maxWaitMs with a timeout error, keeps the task and stops polling', async () => {
    const backend = useMockBackend({ timing: { submittedMs: 60_000, processingMs: 60_000 } });
    const taskId = await createDirect(backend, { prompt: 'thunder', duration: 3 });
    renderWithProvider(<TaskStatus taskRef={taskId} options={{ maxWaitMs: 250 }} />);

    await waitFor(() => expect(text('task')).toBe(`submitted|${taskId}|0|idle|timeout:||`), {
      timeout: 2000,
    });
    const polls = pollsOf(backend, taskId);
    expect(polls).toBeGreaterThanOrEqual(2);
    await sleep(200);
    expect(pollsOf(backend, taskId)).toBe(polls);
  });

  it('shows a failed task’s reason as data, not as an error', async () => {
    const backend = useMockBackend({ scenario: { failTasks: () => 'Content risk control triggered' } });
    renderWithProvider(<CreateAndWatch input={{ prompt: 'a forbidden noise', duration: 3 }} />);
    act(() => screen.getByText('create').click());
    await waitFor(() =>
      expect(text('task')).toMatch(/^failed\|.+\|0\|idle\|\|Content risk control triggered\|/),
    );
    expect(backend.tasks[0]?.status).toBe('failed');
  });

  it('after a dropped create, looks the task up by its external id: exactly one task exists', async () => {
    const backend = useMockBackend({ scenario: { dropAfterStore: 1 } });
    renderWithProvider(<CreateAndWatch input={{ prompt: 'door knock', duration: 3 }} />);
    act(() => screen.getByText('create').click());
    await waitFor(() => expect(text('mutation')).toBe('success|'));
    expect(backend.tasks).toHaveLength(1);
    expect(posts(backend)).toBe(1);
    const externalId = backend.tasks[0]!.externalTaskId!;
    expect(pollsOf(backend, externalId)).toBe(1);
    await waitFor(() => expect(text('task')).toMatch(/^succeed/));
  });

  it('sends exactly one POST on a 1201 and shows the vendor’s code in plain words', async () => {
    const backend = useMockBackend({ scenario: { createError: { code: 1201 } } });
    renderWithProvider(<CreateAndWatch input={{ prompt: 'rain', duration: 3 }} />);
    act(() => screen.getByText('create').click());
    await waitFor(() => expect(text('mutation')).toMatch(/^error\|api:1201:Some settings were not accepted/));
    await sleep(100);
    expect(posts(backend)).toBe(1);
    expect(backend.tasks).toHaveLength(0);
  });

  it.each([1000, 1102, 1301])('does not retry code %i', async (code) => {
    const backend = useMockBackend({ scenario: { createError: { code } } });
    renderWithProvider(<CreateAndWatch input={{ prompt: 'rain', duration: 3 }} />);
    act(() => screen.getByText('create').click());
    await waitFor(() => expect(text('mutation')).toMatch(new RegExp(`^error\\|api:${code}:`)));
    await sleep(100);
    expect(posts(backend)).toBe(1);
  });

  it('retries a 1303 after its Retry-After, creating one task', async () => {
    const backend = useMockBackend({
      scenario: { createError: { code: 1303, retryAfterSeconds: 0.2, times: 1 } },
    });
    renderWithProvider(<CreateAndWatch input={{ prompt: 'rain', duration: 3 }} />);
    act(() => screen.getByText('create').click());
    await waitFor(() => expect(text('mutation')).toBe('success|'));
    expect(posts(backend)).toBe(2);
    expect(backend.tasks).toHaveLength(1);
  });

  it('does not send a create for input the shared schema refuses', async () => {
    const backend = useMockBackend();
    renderWithProvider(<CreateAndWatch input={{ prompt: 'x'.repeat(201), duration: 3 }} />);
    act(() => screen.getByText('create').click());
    await waitFor(() => expect(text('mutation')).toMatch(/^error\|validation::prompt/));
    expect(posts(backend)).toBe(0);
  });

  it('keeps polling through a network drop and recovers', async () => {
    const backend = useMockBackend({ timing: { submittedMs: 0, processingMs: 0 } });
    const taskId = await createDirect(backend, { prompt: 'wind', duration: 3 });
    server.use(
      http.get(`${BASE_URL}/v1/audio/text-to-audio/:id`, () => HttpResponse.error(), { once: true }),
    );
    renderWithProvider(<TaskStatus taskRef={taskId} />);
    await waitFor(() => expect(text('task')).toMatch(/^none\|\|0\|polling\|network:/));
    await waitFor(() => expect(text('task')).toMatch(/^succeed\|.+\|1\|idle\|\|/));
  });

  it('stops polling on an unreadable answer instead of hammering the server', async () => {
    const backend = useMockBackend({ timing: { submittedMs: 0, processingMs: 100 } });
    const taskId = await createDirect(backend, { prompt: 'wind', duration: 3 });
    backend.setScenario({ malformed: 'poll' });
    renderWithProvider(<TaskStatus taskRef={taskId} />);
    await waitFor(() => expect(text('task')).toMatch(/\|idle\|invalid-response/));
    const polls = pollsOf(backend, taskId);
    await sleep(150);
    expect(pollsOf(backend, taskId)).toBe(polls);
  });
});

describe('useAudioTaskList', () => {
  function List({ pageSize = 2, initialPage = 1 }: { pageSize?: number; initialPage?: number }) {
    const [pageNum, setPageNum] = useState(initialPage);
    const { tasks, hasNextPage, hasPreviousPage, isPlaceholderData, error, status } = useAudioTaskList({
      pageNum,
      pageSize,
    });
    return (
      <div>
        <p data-testid="list">
          {status}|{tasks.map((t) => t.request?.prompt ?? t.taskId).join(',')}|{hasPreviousPage ? 'prev' : ''}
          |{hasNextPage ? 'next' : ''}|{isPlaceholderData ? 'placeholder' : ''}|{error?.kind ?? ''}
        </p>
        <button onClick={() => setPageNum((n) => n + 1)}>next</button>
        <button onClick={() => setPageNum((n) => n - 1)}>prev</button>
      </div>
    );
  }

  const seed = (n: number) =>
    Array.from({ length: n }, (_, i) => ({
      prompt: `sound ${i + 1}`,
      duration: 3,
      status: 'succeed' as const,
      createdAt: Date.UTC(2026, 10, 1) + i * 60_000,
      taskId: `seed-${i + 1}`,
    }));

  it.each([
    { pageNum: 0, pageSize: 2 },
    { pageNum: 1001, pageSize: 2 },
    { pageNum: 1, pageSize: 0 },
    { pageNum: 1, pageSize: 501 },
  ])('sends no request for out-of-bounds %j', async (params) => {
    const backend = useMockBackend();
    function Bad() {
      const { error, status } = useAudioTaskList(params);
      return (
        <p data-testid="bad">
          {status}|{error?.kind}
        </p>
      );
    }
    renderWithProvider(<Bad />);
    await waitFor(() => expect(text('bad')).toBe('error|validation'));
    expect(backend.requests).toHaveLength(0);
  });

  it('shows a page, prefetches the next, keeps the previous page on screen while paging', async () => {
    const backend = useMockBackend({ seed: seed(5), latencyMs: 50 });
    const listRequests = () =>
      apiRequests(backend, 'GET', (url) => url.pathname.endsWith('/text-to-audio')).map(
        (r) => new URL(r.url, 'http://localhost').search,
      );
    const { queryClient } = renderWithProvider(<List />);
    await waitFor(() => expect(text('list')).toBe('success|seed-5,seed-4||next||'));
    // The next page is asked for before anyone pages to it.
    await waitFor(() => expect(listRequests()).toEqual(['?pageNum=1&pageSize=2', '?pageNum=2&pageSize=2']));
    await waitFor(() =>
      expect(queryClient.getQueryData(audioTaskKeys.list({ pageNum: 2, pageSize: 2 }))).toHaveLength(2),
    );

    act(() => screen.getByText('next').click());
    // Page 2 comes from the prefetch: no new request for it, and page 3 is prefetched in turn.
    expect(text('list')).toBe('success|seed-3,seed-2|prev|next||');
    await waitFor(() => expect(listRequests()).toHaveLength(3));
    expect(listRequests()[2]).toBe('?pageNum=3&pageSize=2');

    act(() => screen.getByText('next').click());
    await waitFor(() => expect(text('list')).toBe('success|seed-1|prev|||'));
    expect(listRequests()).toHaveLength(3);
  });

  it('keeps the previous page while a page that was not prefetched loads', async () => {
    useMockBackend({ seed: seed(5), latencyMs: 100 });
    function Jump() {
      const [pageNum, setPageNum] = useState(1);
      const { tasks, isPlaceholderData } = useAudioTaskList({ pageNum, pageSize: 1 });
      return (
        <>
          <p data-testid="jump">
            {tasks.map((t) => t.taskId).join(',')}|{isPlaceholderData ? 'placeholder' : ''}
          </p>
          <button onClick={() => setPageNum(4)}>jump</button>
        </>
      );
    }
    renderWithProvider(<Jump />);
    await waitFor(() => expect(text('jump')).toBe('seed-5|'));
    act(() => screen.getByText('jump').click());
    expect(text('jump')).toBe('seed-5|placeholder');
    await waitFor(() => expect(text('jump')).toBe('seed-2|'));
  });

  it('refreshes while a task on the page is pending, and a create refreshes it', async () => {
    // The vendor's clock moves only when the test says, so the task is surely pending when the refreshes
    // are counted (on a loaded machine it could otherwise finish before the first count).
    let clock = Date.now();
    const backend = useMockBackend({ now: () => clock, timing: { submittedMs: 50, processingMs: 100 } });
    function Both() {
      return (
        <>
          <CreateAndWatch input={{ prompt: 'gong', duration: 3 }} />
          <List pageSize={10} />
        </>
      );
    }
    renderWithProvider(<Both />);
    await waitFor(() => expect(text('list')).toBe('success|||||'));
    act(() => screen.getByText('create').click());
    await waitFor(() => expect(text('list')).toBe('success|gong||||'));
    const before = apiRequests(backend, 'GET', (url) => url.pathname.endsWith('/text-to-audio')).length;
    clock += 200;
    await waitFor(() => expect(backend.tasks[0]?.status).toBe('succeed'));
    await waitFor(() =>
      expect(
        apiRequests(backend, 'GET', (url) => url.pathname.endsWith('/text-to-audio')).length,
      ).toBeGreaterThan(before),
    );
    // Once every task on the page is finished, the list stops refreshing.
    await sleep(200);
    const settled = apiRequests(backend, 'GET', (url) => url.pathname.endsWith('/text-to-audio')).length;
    await sleep(200);
    expect(apiRequests(backend, 'GET', (url) => url.pathname.endsWith('/text-to-audio')).length).toBe(
      settled,
    );
  });
});

describe('pending tasks and the provider', () => {
  function Pending() {
    const pending = usePendingAudioTasks();
    // What a UI does on load: pick up the newest pending task and keep showing it once it finishes.
    const [resumed] = useState(pending[0]);
    return (
      <>
        <p data-testid="pending">{pending.join(',')}</p>
        {resumed ? <TaskStatus taskRef={resumed} /> : null}
      </>
    );
  }

  it('resumes a pending task after a remount with a fresh QueryClient', async () => {
    const backend = useMockBackend({ timing: { submittedMs: 300, processingMs: 300 } });
    const storage = createMemoryStorage();
    const first = renderWithProvider(<CreateAndWatch input={{ prompt: 'crackling fire', duration: 6 }} />, {
      storage,
    });
    act(() => screen.getByText('create').click());
    await waitFor(() => expect(text('task')).toMatch(/^submitted/));
    const taskId = backend.tasks[0]!.taskId;
    first.unmount();

    // A reload: new QueryClient, same storage.
    renderWithProvider(<Pending />, { storage, queryClient: createTestQueryClient() });
    expect(text('pending')).toBe(taskId);
    await waitFor(
      () =>
        expect(text('task')).toMatch(new RegExp(`^succeed\\|${taskId}\\|1\\|idle\\|\\|\\|crackling fire$`)),
      {
        timeout: 3000,
      },
    );
    await waitFor(() => expect(text('pending')).toBe(''));
    expect(JSON.parse(storage.getItem('rka:pending')!)).toEqual([]);
  });

  it('works without a QueryClientProvider, and uses the app’s one when there is one', async () => {
    const backend = useMockBackend({ timing: { submittedMs: 0, processingMs: 0 } });
    const taskId = await createDirect(backend, { prompt: 'rain', duration: 3 });
    const own = render(
      <KlingAudioProvider baseUrl={BASE_URL} storage={null}>
        <TaskStatus taskRef={taskId} />
      </KlingAudioProvider>,
    );
    await waitFor(() => expect(text('task')).toMatch(/^succeed/));
    own.unmount();

    const appClient = createTestQueryClient();
    function Probe() {
      return <p data-testid="same">{useQueryClient() === appClient ? 'same' : 'other'}</p>;
    }
    render(
      <QueryClientProvider client={appClient}>
        <KlingAudioProvider baseUrl={BASE_URL} storage={null} polling={FAST_POLLING}>
          <Probe />
          <TaskStatus taskRef={taskId} />
        </KlingAudioProvider>
      </QueryClientProvider>,
    );
    expect(text('same')).toBe('same');
    await waitFor(() =>
      expect(appClient.getQueryData<AudioTask>(audioTaskKeys.task(taskId))?.status).toBe('succeed'),
    );
  });

  it('audioTaskQueryOptions works with useSuspenseQuery and prefetching', async () => {
    const backend = useMockBackend({ timing: { submittedMs: 0, processingMs: 0 } });
    const taskId = await createDirect(backend, { prompt: 'rain', duration: 3 });
    const client = createKlingAudioClient({ baseUrl: BASE_URL });
    const queryClient = createTestQueryClient();
    await queryClient.prefetchQuery(audioTaskQueryOptions(client, taskId));
    const requestsAfterPrefetch = backend.requests.length;

    function Suspended() {
      const { data } = useSuspenseQuery(audioTaskQueryOptions(client, { taskId }));
      return <p data-testid="suspended">{data.status}</p>;
    }
    render(
      <QueryClientProvider client={queryClient}>
        <Suspense fallback={<p>loading</p>}>
          <Suspended />
        </Suspense>
      </QueryClientProvider>,
    );
    expect(text('suspended')).toBe('succeed');
    // A finished task is fresh forever: the prefetched answer is used as is.
    expect(backend.requests.length).toBe(requestsAfterPrefetch);
  });
});
