// @vitest-environment node
import { dehydrate, HydrationBoundary, QueryClient } from '@tanstack/react-query';
import { renderToString } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import {
  audioTaskListQueryOptions,
  createKlingAudioClient,
  KlingAudioProvider,
  useAudioTask,
  useAudioTaskList,
  useCreateAudioTask,
  usePendingAudioTasks,
} from '../src';
import { createMockKlingBackend } from '../src/mocks';

function Page() {
  const pending = usePendingAudioTasks();
  const { taskStatus, isPolling } = useAudioTask('task-1');
  const { tasks, hasNextPage } = useAudioTaskList({ pageSize: 2 });
  const create = useCreateAudioTask();
  return (
    <main>
      <p>pending:{pending.length}</p>
      <p>
        status:{taskStatus ?? 'unknown'}:{isPolling ? 'polling' : 'idle'}
      </p>
      <p>
        tasks:{tasks.map((t) => t.request?.prompt ?? t.taskId).join(',')}:{hasNextPage ? 'more' : 'end'}
      </p>
      <p>create:{create.status}</p>
    </main>
  );
}

describe('server rendering', () => {
  it('renders a tree that uses every hook without a window', () => {
    expect(typeof window).toBe('undefined');
    const html = renderToString(
      <KlingAudioProvider baseUrl="http://localhost/api/kling">
        <Page />
      </KlingAudioProvider>,
    );
    expect(html).toContain('pending:<!-- -->0');
    expect(html).toContain('status:<!-- -->unknown<!-- -->:<!-- -->polling');
    expect(html).toContain('create:<!-- -->idle');
  });

  it('renders a list prefetched on the server (the mock backend as upstream)', async () => {
    const backend = createMockKlingBackend({
      baseUrl: 'http://upstream.test/api/kling',
      seed: [
        { prompt: 'old rain', duration: 3, status: 'succeed', createdAt: 1_000, taskId: 'a' },
        { prompt: 'new bells', duration: 3, status: 'succeed', createdAt: 2_000, taskId: 'b' },
        { prompt: 'older wind', duration: 3, status: 'succeed', createdAt: 500, taskId: 'c' },
      ],
    });
    const client = createKlingAudioClient({
      baseUrl: 'http://upstream.test/api/kling',
      fetch: (input, init) => backend.fetch(new Request(input, init)),
    });
    const queryClient = new QueryClient();
    await queryClient.prefetchQuery(audioTaskListQueryOptions(client, { pageNum: 1, pageSize: 2 }));

    const html = renderToString(
      <KlingAudioProvider client={client} queryClient={new QueryClient()}>
        <HydrationBoundary state={dehydrate(queryClient)}>
          <Page />
        </HydrationBoundary>
      </KlingAudioProvider>,
    );
    expect(html).toContain('tasks:<!-- -->b,a<!-- -->:<!-- -->more');
  });
});
