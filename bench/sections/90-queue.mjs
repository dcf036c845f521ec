/* global Request, performance, setImmediate */
/**
 * The queue (`limits`): how soon a freed slot sends the next task (the lookup that sees a task end → the
 * next create at the vendor, p50/p99, one process: memory and PGlite), creates admitted per second, Jain's
 * fairness index of per-user completions under saturation, and the proxy's create cost with limits on
 * against off. The vendor is the in-process mock on a fake clock.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

export const title = 'Queue: slot freed → next sent, admissions, fairness, create cost';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const VENDOR = 'http://vendor.bench';
const TASKS = 'http://app.bench/api/kling/v1/audio/text-to-audio';

async function load() {
  const out = resolve(root, 'node_modules/.cache/rka-bench/queue.mjs');
  mkdirSync(dirname(out), { recursive: true });
  const result = await build({
    stdin: {
      contents: `
        export { createKlingAudioProxy, createMemoryTaskStore, createPostgresTaskStore } from './src/server';
        export { createMockKlingBackend } from './src/mocks';`,
      resolveDir: root,
      loader: 'ts',
    },
    bundle: true,
    format: 'esm',
    platform: 'node',
    packages: 'external',
    write: false,
    logLevel: 'silent',
  });
  writeFileSync(out, result.outputFiles[0].text);
  return import(`${pathToFileURL(out).href}?${Date.now()}`);
}

const percentile = (values, p) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
};
const round = (value, digits = 2) => Number(value.toFixed(digits));

export async function run() {
  const lib = await load();
  const { PGlite } = await import('@electric-sql/pglite');
  const pglite = await PGlite.create();
  let tables = 0;
  const stores = {
    memory: () => lib.createMemoryTaskStore(),
    PGlite: () => lib.createPostgresTaskStore(pglite, { table: `bench_queue_${++tables}` }),
  };

  /** A proxy with `limits` in front of a mock vendor on a fake clock; `posts` are the creates' times. */
  function world(store, limits) {
    let now = Date.now();
    const backend = lib.createMockKlingBackend({
      baseUrl: VENDOR,
      timing: { submittedMs: 1000, processingMs: 1000 },
      now: () => now,
    });
    const posts = [];
    const proxy = lib.createKlingAudioProxy({
      apiKey: 'bench',
      upstream: VENDOR,
      authorize: (request) => request.headers.get('x-user'),
      store,
      keepAudio: false,
      ...(limits && { limits }),
      fetch: async (input, init) => {
        const request = new Request(input, init);
        if (request.method === 'POST') posts.push(performance.now());
        return backend.fetch(request);
      },
    });
    const call = async (user, method, path = '', body) => {
      const response = await proxy(
        new Request(TASKS + path, {
          method,
          headers: { 'x-user': user, 'content-type': 'application/json' },
          body: body && JSON.stringify(body),
        }),
      );
      return (await response.json()).data;
    };
    return {
      proxy,
      posts,
      advance: (ms) => void (now += ms),
      create: (user, prompt) => call(user, 'POST', '', { prompt, duration: 3 }),
      get: (user, id) => call(user, 'GET', `/${encodeURIComponent(id)}`),
    };
  }

  const rows = [];
  for (const [name, make] of Object.entries(stores)) {
    // Slot freed → next sent: parallel 1, one running and one waiting; the running one ends, its owner's
    // lookup sees it, and the waiting one reaches the vendor.
    const w = world(make(), { account: { parallel: 1 } });
    const latencies = [];
    let running = { user: 'ann', task: await w.create('ann', 'first') };
    for (let i = 0; i < 40; i++) {
      const next = { user: 'bob', task: await w.create('bob', `next ${i}`) };
      w.advance(2500);
      const before = w.posts.length;
      const started = performance.now();
      await w.get(running.user, running.task.task_id);
      while (w.posts.length === before) await new Promise((resolve) => setImmediate(resolve));
      latencies.push(w.posts[before] - started);
      running = next;
    }
    await w.proxy.close();
    rows.push(
      { name: `${name}: slot freed → next sent p50`, value: round(percentile(latencies, 50)), unit: 'ms' },
      { name: `${name}: slot freed → next sent p99`, value: round(percentile(latencies, 99)), unit: 'ms' },
    );

    // Creates admitted per second (a quota and a queue checked on each; the vendor takes them all).
    const a = world(make(), {
      account: { parallel: 10_000 },
      user: { tasks: { max: 100_000, window: 'day' } },
    });
    const count = 300;
    const started = performance.now();
    await Promise.all(Array.from({ length: count }, (_, i) => a.create(`u${i % 10}`, `p${i}`)));
    rows.push({
      name: `${name}: creates admitted per second`,
      value: Math.round(count / ((performance.now() - started) / 1000)),
      unit: '/s',
    });
    await a.proxy.close();

    // Fairness under saturation: 4 users × 10 tasks, parallel 2; Jain's index of completions at half-way.
    const f = world(make(), { account: { parallel: 2 } });
    const users = ['ann', 'bob', 'cat', 'dan'];
    const tasks = [];
    for (let k = 0; k < 10; k++)
      for (const user of users) tasks.push({ user, task: await f.create(user, `${user} ${k}`) });
    const done = new Set();
    while (done.size < tasks.length / 2) {
      f.advance(1000);
      for (const { user, task } of tasks) {
        if (done.has(task.task_id)) continue;
        const state = await f.get(user, task.task_id);
        if (state.task_status === 'succeed') done.add(task.task_id);
      }
    }
    const perUser = users.map(
      (user) => tasks.filter((t) => t.user === user && done.has(t.task.task_id)).length,
    );
    const sum = perUser.reduce((s, x) => s + x, 0);
    const jain = (sum * sum) / (perUser.length * perUser.reduce((s, x) => s + x * x, 0));
    rows.push({
      name: `${name}: Jain's fairness index (completions at half-way)`,
      value: round(jain, 3),
      note: perUser.join('/'),
    });
    await f.proxy.close();

    // Create cost: limits on (no waiting) against off, per create, sequential.
    for (const limits of [
      undefined,
      { account: { parallel: 100_000 }, user: { tasks: { max: 100_000, window: 'day' } } },
    ]) {
      const c = world(make(), limits);
      const n = 150;
      const t0 = performance.now();
      for (let i = 0; i < n; i++) await c.create('ann', `cost ${i}`);
      rows.push({
        name: `${name}: create, limits ${limits ? 'on' : 'off'}`,
        value: round((performance.now() - t0) / n, 3),
        unit: 'ms',
      });
      await c.proxy.close();
    }
  }
  await pglite.close();
  return {
    rows,
    notes: [
      'Across two instances on PostgreSQL: not measured by this section (the tests cover correctness there).',
    ],
  };
}
