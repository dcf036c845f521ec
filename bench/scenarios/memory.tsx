/** Heap after mounting and unmounting 500 players and 500 watched tasks, against before. */
import { answer, sleep } from './dom';
import { QueryClient } from '@tanstack/react-query';
import { createRoot } from 'react-dom/client';
import {
  AudioResultPlayer,
  createKlingAudioClient,
  KlingAudioProvider,
  useAudioTask,
  type AudioTask,
} from '../../src';
import { createMockKlingBackend } from '../../src/mocks';

const COUNT = 500;
const gc = (globalThis as { gc?: () => void }).gc!;

async function heap() {
  for (let i = 0; i < 3; i++) {
    gc();
    await sleep(20);
  }
  return process.memoryUsage().heapUsed;
}

const backend = createMockKlingBackend({
  baseUrl: 'http://localhost/api/kling',
  seed: Array.from({ length: COUNT }, (_, i) => ({
    taskId: `t${i}`,
    prompt: `sound ${i}`,
    duration: 3,
    status: 'succeed' as const,
  })),
});
const client = createKlingAudioClient({
  baseUrl: 'http://localhost/api/kling',
  fetch: async (input, init) => backend.fetch(new Request(input, init)),
});
const tasks: AudioTask[] = await client.listTasks({ pageSize: COUNT });

function Watcher({ taskId }: { taskId: string }) {
  const { taskStatus } = useAudioTask(taskId);
  return <span>{taskStatus}</span>;
}

async function cycle(kind: 'players' | 'tasks') {
  const container = document.createElement('div');
  document.body.append(container);
  const root = createRoot(container);
  // The app's QueryClient outlives the components, as in an app; its cache is cleared at the end.
  const queryClient = new QueryClient();
  root.render(
    <KlingAudioProvider client={client} queryClient={queryClient} storage={null}>
      {tasks.map((task) =>
        kind === 'players' ? (
          <AudioResultPlayer key={task.taskId} task={task} announce={false} />
        ) : (
          <Watcher key={task.taskId} taskId={task.taskId} />
        ),
      )}
    </KlingAudioProvider>,
  );
  await sleep(kind === 'tasks' ? 2000 : 500);
  const mounted = process.memoryUsage().heapUsed;
  root.unmount();
  container.remove();
  queryClient.clear();
  await sleep(50);
  return mounted;
}

const before = await heap();
const playersMounted = await cycle('players');
const afterPlayers = await heap();
const tasksMounted = await cycle('tasks');
const afterTasks = await heap();
answer({ before, playersMounted, afterPlayers, tasksMounted, afterTasks });
