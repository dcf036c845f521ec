/**
 * Renders of the history when one row's star changes: a 100-row page, one star pressed, and the rows React
 * rendered for it counted from each commit (the way React DevTools' profiler tells a row that rendered
 * from one that bailed out: the fiber's PerformedWork flag).
 */
interface Fiber {
  type: unknown;
  flags: number;
  alternate: Fiber | null;
  child: Fiber | null;
  sibling: Fiber | null;
  memoizedProps: { task?: { taskId: string } } | null;
}
const PERFORMED_WORK = 1;
// The bundler may suffix a name (`TaskRow2`) where two modules share it.
const isRow = (fiber: Fiber) =>
  typeof fiber.type === 'function' && /^TaskRow\d*$/.test((fiber.type as { name: string }).name);

// Before React loads: a minimal DevTools hook that reads every commit as it happens (the tree moves on).
const committed: string[][] = [];
(globalThis as unknown as Record<string, unknown>).__REACT_DEVTOOLS_GLOBAL_HOOK__ = {
  supportsFiber: true,
  renderers: new Map(),
  inject: () => 1,
  checkDCE: () => {},
  onScheduleFiberRoot: () => {},
  onCommitFiberRoot: (_id: number, root: { current: Fiber }) => committed.push(rowsRendered(root.current)),
  onCommitFiberUnmount: () => {},
  onPostCommitFiberRoot: () => {},
};

const { answer, sleep } = await import('./dom');
const { QueryClient } = await import('@tanstack/react-query');
const { createRoot } = await import('react-dom/client');
const { AudioTaskList, createKlingAudioClient, KlingAudioProvider } = await import('../../src');
const { createMockKlingBackend, manyMockTaskSeeds } = await import('../../src/mocks');

/** The task ids of the rows that rendered in this commit (not mounted, not bailed out). */
function rowsRendered(current: Fiber): string[] {
  const ids: string[] = [];
  const stack: Fiber[] = [current];
  while (stack.length) {
    const fiber = stack.pop()!;
    if (isRow(fiber) && fiber.alternate && fiber.flags & PERFORMED_WORK) {
      ids.push(fiber.memoizedProps?.task?.taskId ?? '?');
    }
    if (fiber.child) stack.push(fiber.child);
    if (fiber.sibling) stack.push(fiber.sibling);
  }
  return ids;
}

const ROWS = 100;
const backend = createMockKlingBackend({
  baseUrl: 'http://localhost/api/kling',
  seed: manyMockTaskSeeds(ROWS),
  records: true,
});
const client = createKlingAudioClient({
  baseUrl: 'http://localhost/api/kling',
  fetch: async (input, init) => backend.fetch(new Request(input, init)),
});
const container = document.createElement('div');
document.body.append(container);
createRoot(container).render(
  <KlingAudioProvider client={client} queryClient={new QueryClient()} storage={null}>
    <AudioTaskList defaultPageSize={ROWS} />
  </KlingAudioProvider>,
);
while (container.querySelectorAll('[role="row"][data-task-id]').length < ROWS) await sleep(20);
await sleep(500); // the next page's prefetch and any late commits
const target = container.querySelectorAll<HTMLElement>('[role="row"][data-task-id]')[ROWS / 2]!;
const star = target.querySelector<HTMLButtonElement>('[data-part="star"]')!;
const before = committed.length;
star.click();
while (star.getAttribute('aria-pressed') !== 'true') await sleep(5);
// The server's answer and the page's refresh after it.
while (!backend.tasks.find((task) => task.taskId === target.dataset.taskId)?.starred) await sleep(5);
await sleep(500);
const rendered = committed.slice(before).flat();
answer({
  rows: ROWS,
  commits: committed.length - before,
  rowRenders: rendered.length,
  otherRows: rendered.filter((id) => id !== target.dataset.taskId).length,
});
