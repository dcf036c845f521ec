/* global URL, Request, fetch */
/**
 * Push against poll, end to end over loopback HTTP: the real proxy (toNodeHandler) in front of the mock
 * vendor with realistic timing, whose callbacks (late, sometimes doubled, sometimes lost) come back to the
 * proxy over HTTP; on the client side the library's own client, QueryClient, poller and stream manager
 * (no React: the same code the hooks run). Per mode, a batch of tasks is created at once and watched until
 * done. Counted: the client's requests per task lifecycle; timed: from the vendor's change (its status
 * clock) to the client's cache holding it.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

export const title =
  'Push vs poll (per task lifecycle, loopback HTTP, real proxy and mock vendor with callbacks)';

const root = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const TASKS = 24;
const TIMING = { submittedMs: 1500, processingMs: 4000 };

/** The library's modules this section drives, bundled once for Node (react-query stays the app's). */
async function load() {
  const dir = mkdtempSync(join(tmpdir(), 'rka-bench-push-'));
  const file = join(dir, 'push.mjs');
  const src = (path) => JSON.stringify(join(root, 'src', path));
  await build({
    stdin: {
      contents: `
        export * from ${src('api/index.ts')};
        export { watchQuery, defaultPollingOptions } from ${src('hooks/polling.ts')};
        export { startTaskEvents, holdTaskEvents } from ${src('hooks/taskEvents.ts')};
        export { createKlingAudioProxy, createMemoryTaskStore, toNodeHandler } from ${src('server/index.ts')};
        export { createMockKlingCore } from ${src('mocks/backend.ts')};`,
      resolveDir: root,
      loader: 'ts',
    },
    bundle: true,
    platform: 'node',
    format: 'esm',
    outfile: file,
    external: ['@tanstack/react-query', '@breezystack/lamejs'],
    logLevel: 'silent',
  });
  // Resolved from the repository, so the bundle's bare imports find node_modules.
  const copy = join(root, 'node_modules', '.cache', 'rka-bench-push.mjs');
  writeFileSync(copy, await import('node:fs').then((fs) => fs.readFileSync(file)));
  rmSync(dir, { recursive: true, force: true });
  return import(`${pathToFileURL(copy).href}?${Date.now()}`);
}

const quantile = (values, q) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] : NaN;
};

async function runMode(lib, { QueryClient, QueryObserver }, mode) {
  const {
    createKlingAudioClient,
    createKlingAudioProxy,
    createMemoryTaskStore,
    toNodeHandler,
    createMockKlingCore,
  } = lib;
  // The server first, so the proxy can be told its own public URL for the vendor's callbacks.
  let handle = (_req, res) => res.writeHead(503).end();
  const server = createServer((req, res) => handle(req, res));
  await new Promise((done) => server.listen(0, '127.0.0.1', done));
  const origin = `http://127.0.0.1:${server.address().port}`;
  const vendor = createMockKlingCore({
    baseUrl: 'http://vendor.bench',
    timing: TIMING,
    callbacks: mode === 'push' ? { seed: 42 } : false,
  });
  const proxy = createKlingAudioProxy({
    apiKey: 'bench',
    upstream: 'http://vendor.bench',
    authorize: () => true,
    store: createMemoryTaskStore(),
    callbackUrl: mode === 'push' ? `${origin}/api/kling` : undefined,
    fetch: (input, init) => vendor.fetch(new Request(input, init)),
  });
  handle = toNodeHandler(proxy);
  const sent = { create: 0, poll: 0, stream: 0, other: 0 };
  const client = createKlingAudioClient({
    baseUrl: `${origin}/api/kling`,
    fetch: (input, init) => {
      const { pathname } = new URL(input);
      const kind =
        init?.method === 'POST'
          ? 'create'
          : pathname.endsWith('/events')
            ? 'stream'
            : /\/text-to-audio\/[^/]+$/.test(pathname)
              ? 'poll'
              : 'other';
      sent[kind]++;
      return fetch(input, init);
    },
  });

  const queryClient = new QueryClient({ defaultOptions: { queries: { retry: false, gcTime: Infinity } } });
  const stopEvents = lib.startTaskEvents(queryClient, client, mode === 'push' ? 'auto' : 'poll');
  const latencies = [];
  const stops = [];
  await Promise.all(
    Array.from({ length: TASKS }, async (_, index) => {
      const release = await lib.holdTaskEvents(queryClient);
      const task = await client
        .createTask({ prompt: `bench ${index}`, duration: 3, externalTaskId: `bench-${mode}-${index}` })
        .finally(release);
      const options = lib.audioTaskQueryOptions(client, task.taskId);
      queryClient.setQueryData(options.queryKey, task);
      const observer = new QueryObserver(queryClient, { ...options, staleTime: Infinity });
      const seen = new Set(['submitted']);
      await new Promise((done) => {
        const unsubscribe = observer.subscribe(({ data }) => {
          if (!data || seen.has(data.status)) return;
          seen.add(data.status);
          // The vendor's own clock says when it changed: processing after submittedMs, done after both.
          const changedAt =
            data.createdAt + TIMING.submittedMs + (data.status === 'processing' ? 0 : TIMING.processingMs);
          latencies.push(Date.now() - changedAt);
          if (data.status === 'succeed' || data.status === 'failed') {
            unsubscribe();
            done();
          }
        });
        stops.push(
          lib.watchQuery(queryClient, options.queryKey, {
            shouldPoll: (current) => !lib.isTerminalStatus(current.status),
            options: lib.defaultPollingOptions,
          }),
        );
      });
    }),
  );
  stops.forEach((stop) => stop());
  stopEvents();
  server.closeAllConnections();
  await new Promise((done) => server.close(done));
  queryClient.clear();
  return { sent, latencies };
}

export async function run() {
  const [lib, reactQuery] = await Promise.all([load(), import('@tanstack/react-query')]);
  const rows = [];
  const results = {};
  for (const mode of ['poll', 'push']) results[mode] = await runMode(lib, reactQuery, mode);
  for (const mode of ['poll', 'push']) {
    const { sent, latencies } = results[mode];
    rows.push(
      {
        name: `${mode}: requests per task`,
        value: Number(((sent.create + sent.poll) / TASKS).toFixed(2)),
        note: `${(sent.create / TASKS).toFixed(0)} create + ${(sent.poll / TASKS).toFixed(2)} polls; ${sent.stream} stream connection(s) for all ${TASKS}`,
      },
      { name: `${mode}: change → cache, median`, value: Math.round(quantile(latencies, 0.5)), unit: 'ms' },
      { name: `${mode}: change → cache, p95`, value: Math.round(quantile(latencies, 0.95)), unit: 'ms' },
      {
        name: `${mode}: change → cache, max`,
        value: Math.round(Math.max(...latencies)),
        unit: 'ms',
        note: mode === 'push' ? 'a lost callback, caught by the proxy’s sweep (within 5 s)' : undefined,
      },
    );
  }
  return {
    rows,
    notes: [
      `${TASKS} tasks at once per mode; the vendor takes ${TIMING.submittedMs} ms queued and ${TIMING.processingMs} ms generating;`,
      'poll: the default policy (1 s backing off to 5 s, ±20 %); push: callbacks 30–300 ms late, 10 % doubled, 5 % lost',
      "(a lost one is caught by the proxy's sweep of pending tasks within 5 s, never by a client poll).",
    ],
  };
}
