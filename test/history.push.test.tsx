/**
 * A second tab hears of a delete and an edit by push: two providers (two tabs, each its own cache) on the
 * real proxy with push on, its records in memory, the mock vendor upstream. The second tab's list requests
 * are held once its stream is live, so whatever it learns afterwards came over the stream.
 */
import { render, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { http } from 'msw';
import { describe, expect, it } from 'vitest';
import {
  createKlingAudioClient,
  KlingAudioProvider,
  useAudioTaskList,
  useDeleteAudioTask,
  useUpdateAudioTask,
} from '../src';
import { isLiveOnPush } from '../src/hooks/taskEvents';
import { createMockKlingBackend } from '../src/mocks';
import { createKlingAudioProxy } from '../src/server';
import { createTestQueryClient, FAST_POLLING } from './render';
import { server } from './server';

const VENDOR = 'http://vendor.test';
const BASE = 'http://localhost/api/kling';

function usePushedHistory() {
  const backend = createMockKlingBackend({
    baseUrl: VENDOR,
    // Pending the whole test: a list with a pending task keeps each tab's stream open.
    timing: { submittedMs: 600_000, processingMs: 600_000 },
  });
  const proxy = createKlingAudioProxy({
    apiKey: 'key',
    upstream: VENDOR,
    authorize: () => 'alice',
    callbackUrl: BASE,
    fetch: (input, init) => backend.fetch(new Request(input, init)),
  });
  const held = { b: false };
  server.use(
    http.all(/\/api\/kling\//, ({ request }) => {
      const isList = request.method === 'GET' && new URL(request.url).searchParams.has('pageNum');
      // Tab B's pages, once held, never answer: its list can change only by push.
      if (held.b && isList && request.headers.get('x-tab') === 'b') return new Promise<Response>(() => {});
      return proxy(request);
    }),
  );
  const client = (tab: string) => createKlingAudioClient({ baseUrl: BASE, headers: { 'x-tab': tab } });
  return { held, client };
}

function Tab({ name }: { name: string }) {
  const { tasks } = useAudioTaskList({ pageSize: 10 });
  const remove = useDeleteAudioTask();
  const update = useUpdateAudioTask();
  return (
    <section aria-label={`Tab ${name}`}>
      <ul>
        {tasks.map((task) => (
          <li key={task.taskId} data-starred={task.starred ? '' : undefined}>
            {task.title ?? task.request?.prompt}
            <button type="button" onClick={() => remove.mutate(task.taskId)}>
              Delete {task.request?.prompt}
            </button>
            <button
              type="button"
              onClick={() => update.mutate({ taskId: task.taskId, title: 'Renamed', starred: true })}
            >
              Rename {task.request?.prompt}
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
}

describe('history by push', () => {
  it('a second tab sees a delete and an edit made in the first, over its event stream', async () => {
    const { held, client } = usePushedHistory();
    await client('setup').createTask({ prompt: 'Keep me', duration: 3 });
    await client('setup').createTask({ prompt: 'Delete me', duration: 3 });
    const a = createTestQueryClient();
    const b = createTestQueryClient();
    render(
      <>
        <KlingAudioProvider client={client('a')} queryClient={a} polling={FAST_POLLING} storage={null}>
          <Tab name="A" />
        </KlingAudioProvider>
        <KlingAudioProvider client={client('b')} queryClient={b} polling={FAST_POLLING} storage={null}>
          <Tab name="B" />
        </KlingAudioProvider>
      </>,
    );
    const tab = (name: string) => screen.getByRole('region', { name: `Tab ${name}` });
    const items = (name: string) =>
      within(tab(name))
        .queryAllByRole('listitem')
        .map((li) => li.firstChild?.textContent);
    await waitFor(() => expect(items('B')).toEqual(['Delete me', 'Keep me']));
    await waitFor(() => expect(isLiveOnPush(b)).toBe(true));
    held.b = true;

    const user = userEvent.setup();
    await user.click(within(tab('A')).getByRole('button', { name: 'Delete Delete me' }));
    await waitFor(() => expect(items('A')).toEqual(['Keep me']));
    await waitFor(() => expect(items('B')).toEqual(['Keep me']));

    await user.click(within(tab('A')).getByRole('button', { name: 'Rename Keep me' }));
    await waitFor(() => expect(items('B')).toEqual(['Renamed']));
    expect(within(tab('B')).getByRole('listitem')).toHaveAttribute('data-starred');
  });
});
