/** GETs per task lifecycle (1 and 10 staggered subscribers), after terminal, and while the tab is hidden. */
import { setVisibility, sleep, answer } from './dom';
import { QueryClient } from '@tanstack/react-query';
import { createRoot } from 'react-dom/client';
import { createKlingAudioClient, KlingAudioProvider, useAudioTask, type PollingOptions } from '../../src';
import { createMockKlingBackend } from '../../src/mocks';

// The library's policy at a tenth of its pace (100 ms backing off to 500 ms), so a lifecycle takes seconds.
const POLLING: Partial<PollingOptions> = { intervalMs: 100, maxIntervalMs: 500 };
const TIMING = { submittedMs: 1000, processingMs: 3000 };

function Watcher({ taskId }: { taskId: string }) {
  const { taskStatus } = useAudioTask(taskId);
  return <span>{taskStatus}</span>;
}

async function scenario(subscribers: number, { hideMs = 0 } = {}) {
  const backend = createMockKlingBackend({ baseUrl: 'http://localhost/api/kling', timing: TIMING });
  const client = createKlingAudioClient({
    baseUrl: 'http://localhost/api/kling',
    fetch: async (input, init) => backend.fetch(new Request(input, init)),
  });
  const created = await client.createTask({ prompt: 'rain on a tin roof', duration: 3 });
  const gets = () =>
    backend.requests.filter((r) => r.method === 'GET' && r.url.includes(created.taskId)).length;
  const container = document.createElement('div');
  document.body.append(container);
  const root = createRoot(container);
  const queryClient = new QueryClient();
  const render = (count: number) =>
    root.render(
      <KlingAudioProvider client={client} queryClient={queryClient} polling={POLLING} storage={null}>
        {Array.from({ length: count }, (_, i) => (
          <Watcher key={i} taskId={created.taskId} />
        ))}
      </KlingAudioProvider>,
    );
  // Staggered: one more watcher every 150 ms.
  for (let count = 1; count <= subscribers; count++) {
    render(count);
    await sleep(150);
  }
  let hidden = 0;
  if (hideMs) {
    setVisibility('hidden');
    const before = gets();
    await sleep(hideMs);
    hidden = gets() - before;
    setVisibility('visible');
  }
  const terminal = () => backend.tasks[0]?.status === 'succeed';
  while (
    !terminal() ||
    queryClient.getQueryData<{ status: string }>(['kling-audio', 'task', { taskId: created.taskId }])
      ?.status !== 'succeed'
  )
    await sleep(20);
  const lifecycle = gets();
  await sleep(5000);
  const after = gets() - lifecycle;
  root.unmount();
  container.remove();
  return { lifecycle, after, hidden };
}

const one = await scenario(1);
const ten = await scenario(10);
const hidden = await scenario(1, { hideMs: 2000 });
answer({ one, ten, hidden });
