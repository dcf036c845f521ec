import { act, renderHook, waitFor } from '@testing-library/react';
import { http, HttpResponse } from 'msw';
import type { ReactNode } from 'react';
import { describe, expect, it } from 'vitest';
import {
  createKlingAudioClient,
  KlingAudioProvider,
  KlingApiError,
  useAudioTask,
  useAudioTaskList,
  useCreateAudioTakes,
  useDeleteAudioTask,
  useUpdateAudioTask,
} from '../src';
import { mockTaskSeeds, MOCK_TASK_IDS } from '../src/mocks';
import { BASE_URL, createTestQueryClient, FAST_POLLING, useMockBackend } from './render';
import { server } from './server';

const TASKS_URL = `*${BASE_URL}/v1/audio/text-to-audio`;
const finished = mockTaskSeeds.filter((seed) => seed.status === undefined);

function wrapper() {
  const queryClient = createTestQueryClient();
  const Wrapper = ({ children }: { children: ReactNode }) => (
    <KlingAudioProvider baseUrl={BASE_URL} polling={FAST_POLLING} storage={null} queryClient={queryClient}>
      {children}
    </KlingAudioProvider>
  );
  return { wrapper: Wrapper, queryClient };
}

/** A response the test lets go when it wants: the optimistic state can be looked at before the answer. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { open, opened };
}

describe('client: delete, update and list filters', () => {
  it('sends DELETE and PATCH to the task path and reads the edited task', async () => {
    const backend = useMockBackend({ seed: finished });
    const client = createKlingAudioClient({ baseUrl: BASE_URL });
    const task = await client.updateTask(MOCK_TASK_IDS.rain, { title: '  Tin roof  ', starred: true });
    expect(task).toMatchObject({ taskId: MOCK_TASK_IDS.rain, title: 'Tin roof', starred: true });
    expect(backend.requests.at(-1)).toMatchObject({
      method: 'PATCH',
      body: { title: 'Tin roof', starred: true },
    });
    expect(new URL(backend.requests.at(-1)!.url).pathname).toBe(
      `${BASE_URL}/v1/audio/text-to-audio/${MOCK_TASK_IDS.rain}`,
    );
    // An empty title removes it.
    expect((await client.updateTask(MOCK_TASK_IDS.rain, { title: '' })).title).toBeUndefined();
    expect(backend.requests.at(-1)!.body).toEqual({ title: null });

    await client.deleteTask(MOCK_TASK_IDS.rain);
    expect(backend.requests.at(-1)!.method).toBe('DELETE');
    expect(backend.tasks.map((t) => t.taskId)).not.toContain(MOCK_TASK_IDS.rain);
    await expect(client.deleteTask(MOCK_TASK_IDS.rain)).rejects.toMatchObject({ code: 1203 });
  });

  it('refuses bad edits, ids and filters before any request', async () => {
    const backend = useMockBackend({ seed: finished });
    const client = createKlingAudioClient({ baseUrl: BASE_URL });
    const refused = async (promise: Promise<unknown>) => {
      const error = await promise.catch((e: unknown) => e);
      expect(KlingApiError.is(error) && error.kind).toBe('validation');
    };
    await refused(client.updateTask(MOCK_TASK_IDS.rain, { title: 'x'.repeat(101) }));
    await refused(client.updateTask(MOCK_TASK_IDS.rain, { starred: 'yes' as unknown as boolean }));
    await refused(client.deleteTask('../usage'));
    await refused(client.deleteTask(''));
    await refused(client.listTasks({ query: 'x'.repeat(201) }));
    await refused(client.listTasks({ status: 'done' as never }));
    expect(backend.requests).toHaveLength(0);
  });

  it('sends q, starred and status, and the filters are data whatever their characters', async () => {
    const backend = useMockBackend({
      seed: [
        { prompt: '100% rain_drops "quoted" \\ slash 🌧️', duration: 3 },
        { prompt: '100 percent rain drops', duration: 3, starred: true },
        { prompt: 'A dog barking', duration: 3, title: 'Rain-free dog' },
      ],
    });
    const client = createKlingAudioClient({ baseUrl: BASE_URL });
    const prompts = async (params: Parameters<typeof client.listTasks>[0]) =>
      (await client.listTasks(params)).map(
        (t) => backend.tasks.find((b) => b.taskId === t.taskId)!.request!.prompt,
      );

    expect(await prompts({ query: '100%' })).toEqual(['100% rain_drops "quoted" \\ slash 🌧️']);
    expect(await prompts({ query: 'rain_' })).toEqual(['100% rain_drops "quoted" \\ slash 🌧️']);
    expect(await prompts({ query: '"QUOTED" \\' })).toEqual(['100% rain_drops "quoted" \\ slash 🌧️']);
    expect(await prompts({ query: '🌧️' })).toEqual(['100% rain_drops "quoted" \\ slash 🌧️']);
    expect(await prompts({ query: 'x'.repeat(200) })).toEqual([]);
    // The title counts as much as the prompt.
    expect(await prompts({ query: 'rain' })).toHaveLength(3);
    expect(await prompts({ query: 'rain', starred: true })).toEqual(['100 percent rain drops']);
    const sent = new URL(backend.requests.at(-1)!.url).searchParams;
    expect(Object.fromEntries(sent)).toEqual({ pageNum: '1', pageSize: '30', q: 'rain', starred: 'true' });
    await client.listTasks({ status: 'failed' });
    expect(new URL(backend.requests.at(-1)!.url).searchParams.get('status')).toBe('failed');
  });
});

describe('useUpdateAudioTask', () => {
  it('shows the star at once in the list and the task, and takes it back when the server answers 500', async () => {
    useMockBackend({ seed: finished });
    const { wrapper: Wrapper } = wrapper();
    const answer = gate();
    server.use(
      http.patch(`${TASKS_URL}/:id`, async () => {
        await answer.opened;
        return HttpResponse.json({ code: 5000, message: 'internal error' }, { status: 500 });
      }),
    );
    const { result } = renderHook(
      () => ({
        list: useAudioTaskList({ pageSize: 10 }),
        task: useAudioTask(MOCK_TASK_IDS.bell),
        update: useUpdateAudioTask(),
      }),
      { wrapper: Wrapper },
    );
    await waitFor(() => expect(result.current.list.tasks).toHaveLength(finished.length));
    await waitFor(() => expect(result.current.task.task?.status).toBe('succeed'));
    const bell = () => result.current.list.tasks.find((t) => t.taskId === MOCK_TASK_IDS.bell)!;
    expect(bell().starred).toBeUndefined();

    act(() => result.current.update.mutate({ taskId: MOCK_TASK_IDS.bell, starred: true, title: 'Bell' }));
    await waitFor(() => expect(bell()).toMatchObject({ starred: true, title: 'Bell' }));
    expect(result.current.task.task).toMatchObject({ starred: true, title: 'Bell' });

    answer.open();
    await waitFor(() => expect(result.current.update.isError).toBe(true));
    expect(bell().starred).toBeUndefined();
    expect(bell().title).toBeUndefined();
    expect(result.current.task.task?.starred).toBeUndefined();
    expect(result.current.task.task?.title).toBeUndefined();
    expect(result.current.update.error?.httpStatus).toBe(500);
  });

  it('keeps the server’s answer, and a starred-only page drops a task that loses its star', async () => {
    const backend = useMockBackend({
      seed: finished.map((seed) => ({ ...seed, starred: seed.taskId === MOCK_TASK_IDS.rain })),
    });
    const { wrapper: Wrapper } = wrapper();
    const { result } = renderHook(
      () => ({ starred: useAudioTaskList({ starred: true }), update: useUpdateAudioTask() }),
      { wrapper: Wrapper },
    );
    await waitFor(() =>
      expect(result.current.starred.tasks.map((t) => t.taskId)).toEqual([MOCK_TASK_IDS.rain]),
    );
    act(() => result.current.update.mutate({ taskId: MOCK_TASK_IDS.rain, starred: false }));
    await waitFor(() => expect(result.current.starred.tasks).toEqual([]));
    await waitFor(() => expect(result.current.update.isSuccess).toBe(true));
    expect(backend.tasks.find((t) => t.taskId === MOCK_TASK_IDS.rain)!.starred).toBeUndefined();
  });
});

describe('useDeleteAudioTask', () => {
  it('takes the task off every page at once and puts it back where it was on an error', async () => {
    const backend = useMockBackend({ seed: finished });
    const { wrapper: Wrapper } = wrapper();
    const answer = gate();
    server.use(
      http.delete(`${TASKS_URL}/:id`, async () => {
        await answer.opened;
        return HttpResponse.json({ code: 5000, message: 'internal error' }, { status: 500 });
      }),
    );
    const { result } = renderHook(
      () => ({ list: useAudioTaskList({ pageSize: 10 }), remove: useDeleteAudioTask() }),
      { wrapper: Wrapper },
    );
    await waitFor(() => expect(result.current.list.tasks).toHaveLength(finished.length));
    const before = result.current.list.tasks.map((t) => t.taskId);

    act(() => result.current.remove.mutate(MOCK_TASK_IDS.bell));
    await waitFor(() =>
      expect(result.current.list.tasks.map((t) => t.taskId)).toEqual(
        before.filter((id) => id !== MOCK_TASK_IDS.bell),
      ),
    );
    answer.open();
    await waitFor(() => expect(result.current.remove.isError).toBe(true));
    await waitFor(() => expect(result.current.list.tasks.map((t) => t.taskId)).toEqual(before));
    expect(backend.tasks.map((t) => t.taskId)).toContain(MOCK_TASK_IDS.bell);
  });

  it('deletes on the server and the page refills from it', async () => {
    const backend = useMockBackend({ seed: finished });
    const { wrapper: Wrapper } = wrapper();
    const { result } = renderHook(
      () => ({ list: useAudioTaskList({ pageSize: 2 }), remove: useDeleteAudioTask() }),
      { wrapper: Wrapper },
    );
    await waitFor(() => expect(result.current.list.tasks).toHaveLength(2));
    const [first, second] = result.current.list.tasks.map((t) => t.taskId);
    act(() => result.current.remove.mutate(first!));
    await waitFor(() => expect(result.current.remove.isSuccess).toBe(true));
    await waitFor(() =>
      expect(result.current.list.tasks.map((t) => t.taskId)).toEqual([second, backend.tasks[1]!.taskId]),
    );
    expect(backend.tasks.map((t) => t.taskId)).not.toContain(first);
    expect(backend.requests.filter((r) => r.method === 'DELETE')).toHaveLength(1);
  });
});

describe('useCreateAudioTakes', () => {
  it('makes exactly count tasks, one group, each with its own external id, even after a dropped answer', async () => {
    const backend = useMockBackend({ scenario: { dropAfterStore: 1 } });
    const { wrapper: Wrapper } = wrapper();
    const { result } = renderHook(() => useCreateAudioTakes(), { wrapper: Wrapper });
    act(() => result.current.mutate({ prompt: '  Door creak  ', duration: 3, count: 3 }));
    await waitFor(() => expect(result.current.isSuccess).toBe(true));

    const takes = result.current.data!;
    expect(takes).toHaveLength(3);
    expect(backend.tasks).toHaveLength(3);
    expect(new Set(backend.tasks.map((t) => t.taskId))).toEqual(new Set(takes.map((t) => t.taskId)));
    const groups = new Set(backend.tasks.map((t) => t.groupId));
    expect(groups.size).toBe(1);
    expect([...groups][0]).toEqual(expect.any(String));
    expect(new Set(backend.tasks.map((t) => t.externalTaskId)).size).toBe(3);
    expect(takes.every((t) => t.request?.prompt === 'Door creak' && t.groupId === [...groups][0])).toBe(true);
    const creates = backend.requests.filter((r) => r.method === 'POST');
    expect(creates).toHaveLength(3);
    expect(creates.every((r) => (r.body as { group_id?: string }).group_id === [...groups][0])).toBe(true);
  });

  it('refuses a count outside 2–4 and a bad prompt before any request', async () => {
    const backend = useMockBackend();
    const { wrapper: Wrapper } = wrapper();
    const { result } = renderHook(() => useCreateAudioTakes(), { wrapper: Wrapper });
    for (const input of [
      { prompt: 'Door', duration: 3, count: 5 },
      { prompt: 'Door', duration: 3, count: 1 },
      { prompt: 'Door', duration: 3, count: 2.5 },
      { prompt: ' ', duration: 3, count: 2 },
    ]) {
      await act(() => result.current.mutateAsync(input).catch(() => {}));
      await waitFor(() => expect(result.current.error?.kind).toBe('validation'));
    }
    expect(backend.requests).toHaveLength(0);
  });

  it('a second press after a failed take makes only the missing one', async () => {
    const backend = useMockBackend({ scenario: { createError: { code: 1201, times: 1 } } });
    const { wrapper: Wrapper } = wrapper();
    const { result } = renderHook(() => useCreateAudioTakes(), { wrapper: Wrapper });
    const input = { prompt: 'Door creak', duration: 3, count: 2 };
    await act(() => result.current.mutateAsync(input).catch(() => {}));
    expect(result.current.isError).toBe(true);
    expect(backend.tasks).toHaveLength(1);
    await act(() => result.current.mutateAsync(input));
    expect(backend.tasks).toHaveLength(2);
    expect(new Set(backend.tasks.map((t) => t.groupId)).size).toBe(1);
  });
});
