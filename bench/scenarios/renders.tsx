/**
 * Renders per unchanged poll (React Profiler): a task watcher and the whole studio on the library's hooks,
 * against the same watcher written with plain `useQuery({ refetchInterval })`.
 */
import { answer, sleep } from './dom';
import { QueryClient, QueryClientProvider, useQuery } from '@tanstack/react-query';
import { Profiler } from 'react';
import { createRoot } from 'react-dom/client';
import {
  createKlingAudioClient,
  KlingAudioProvider,
  TextToAudioStudio,
  useAudioTask,
  type KlingAudioClient,
} from '../../src';
import { createMockKlingBackend } from '../../src/mocks';

const INTERVAL = 100;
const POLLING = { intervalMs: INTERVAL, maxIntervalMs: INTERVAL, jitter: 0 };
const TASK = 'bench-task';

function setup() {
  // A task that stays `submitted`: every poll answers the same.
  const backend = createMockKlingBackend({
    baseUrl: 'http://localhost/api/kling',
    seed: [{ taskId: TASK, prompt: 'rain', duration: 3, status: 'submitted' }],
  });
  const client = createKlingAudioClient({
    baseUrl: 'http://localhost/api/kling',
    fetch: async (input, init) => backend.fetch(new Request(input, init)),
  });
  const polls = () => backend.requests.filter((r) => r.method === 'GET').length;
  return { client, polls };
}

async function measure(ui: (client: KlingAudioClient, onRender: () => void) => React.ReactNode) {
  const { client, polls } = setup();
  let renders = 0;
  const container = document.createElement('div');
  document.body.append(container);
  const root = createRoot(container);
  root.render(ui(client, () => renders++));
  await sleep(1000); // settle: first fetch, lists, prefetches
  const start = { renders, polls: polls() };
  await sleep(3000);
  const result = { renders: renders - start.renders, polls: polls() - start.polls };
  root.unmount();
  container.remove();
  return { ...result, perPoll: result.polls ? result.renders / result.polls : 0 };
}

function Watcher() {
  const { task } = useAudioTask(TASK);
  return <span>{task?.status}</span>;
}

function PlainWatcher({ client }: { client: KlingAudioClient }) {
  const { data } = useQuery({
    queryKey: ['plain', TASK],
    queryFn: () => client.getTask({ taskId: TASK }),
    refetchInterval: INTERVAL,
  });
  return <span>{data?.status}</span>;
}

const watcher = await measure((client, onRender) => (
  <KlingAudioProvider client={client} queryClient={new QueryClient()} polling={POLLING} storage={null}>
    <Profiler id="watcher" onRender={onRender}>
      <Watcher />
    </Profiler>
  </KlingAudioProvider>
));
const studio = await measure((client, onRender) => (
  <KlingAudioProvider client={client} queryClient={new QueryClient()} polling={POLLING} storage={null}>
    <Profiler id="studio" onRender={onRender}>
      <TextToAudioStudio defaultTaskId={TASK} />
    </Profiler>
  </KlingAudioProvider>
));
const plain = await measure((client, onRender) => (
  <QueryClientProvider client={new QueryClient()}>
    <Profiler id="plain" onRender={onRender}>
      <PlainWatcher client={client} />
    </Profiler>
  </QueryClientProvider>
));
answer({ watcher, studio, plain });
