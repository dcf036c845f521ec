/* global process, setTimeout */
/**
 * Push at scale: 1,000, 5,000 and 10,000 open event streams over 1,000 users on one proxy process
 * (toNodeHandler, loopback), the client sockets in another process, beside a bare node:http SSE server
 * holding the same streams in the same run. Per count: heap and RSS per stream (after a full collection,
 * less the server's own before any stream), the time from a change to its arrival on every stream of its
 * user and on a shared-space stream (p50/p99), and CPU per heartbeat round.
 */
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

export const title = 'Push at scale (open streams on one process, loopback, clients in another process)';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const USERS = 1000;
const ROUNDS = 60;
const HEARTBEAT_MS = 500;
const CPU_WINDOW_MS = 3000;

function spawn(...args) {
  const child = fork(join(root, 'bench/push-scale.mjs'), args, {
    execArgv: ['--expose-gc', '--max-old-space-size=2048'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let ids = 0;
  const ask = (message, answerId) =>
    new Promise((done) => {
      const id = ++ids;
      const listener = (answer) => {
        if (answer.id === (answerId ? `${id}-${answerId}` : id)) {
          child.off('message', listener);
          done(answer);
        }
      };
      child.on('message', listener);
      child.send({ ...message, id });
    });
  /** Asks, and also waits for the second answer (`{id}-done`) of a two-part command. */
  const askTwice = (message) => {
    const id = ids + 1;
    const second = new Promise((done) => {
      const listener = (answer) => {
        if (answer.id === `${id}-done`) {
          child.off('message', listener);
          done(answer);
        }
      };
      child.on('message', listener);
    });
    return ask(message).then(() => second);
  };
  return new Promise((done, fail) => {
    child.once('message', ({ port }) => done({ port, ask, askTwice, stop: () => child.kill() }));
    child.once('error', fail);
  });
}

const quantile = (values, q) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] : NaN;
};
const kb = (bytes) => Math.round(bytes / 102.4) / 10;
const ms = (value) => Math.round(value * 10) / 10;

/** One server kind through the counts: what it holds per stream and how fast a change reaches them. */
async function measure(kind, bundleUrl, counts) {
  const server = await spawn(kind, bundleUrl, String(HEARTBEAT_MS));
  const clients = await spawn('clients');
  const results = [];
  try {
    const base = await server.ask({ cmd: 'heap' });
    let open = 0;
    let seq = 0;
    for (const count of counts) {
      await clients.ask({ cmd: 'open', port: server.port, from: open, to: count, users: USERS });
      open = count;
      const held = await server.ask({ cmd: 'heap' });
      const user = [];
      const shared = [];
      let missing = 0;
      for (let round = 0; round < ROUNDS; round++) {
        const owner = `u${(round * 37) % USERS}`;
        const mark = ++seq;
        const arrivals = clients.askTwice({ cmd: 'expect', seq: mark, owner });
        // The clients are waiting for it once their first answer came: only then is the change made.
        await new Promise((done) => setTimeout(done, 5));
        const { sent } = await server.ask({ cmd: 'publish', owner, seq: mark });
        const got = await arrivals;
        user.push(...got.user.map((at) => at - sent));
        shared.push(...got.shared.map((at) => at - sent));
        missing += got.missing;
      }
      const { cpu } = await server.ask({ cmd: 'cpu', ms: CPU_WINDOW_MS });
      results.push({
        count,
        heap: (held.heap - base.heap) / count,
        rss: (held.rss - base.rss) / count,
        userP50: quantile(user, 0.5),
        userP99: quantile(user, 0.99),
        sharedP50: quantile(shared, 0.5),
        sharedP99: quantile(shared, 0.99),
        cpuPerBeat: cpu / (CPU_WINDOW_MS / HEARTBEAT_MS),
        missing,
      });
    }
  } finally {
    await clients.ask({ cmd: 'close' }).catch(() => {});
    clients.stop();
    server.stop();
  }
  return results;
}

export async function run() {
  const dir = mkdtempSync(join(tmpdir(), 'rka-bench-push-scale-'));
  try {
    const bundle = join(dir, 'server.mjs');
    await build({
      entryPoints: [join(root, 'src/server/index.ts')],
      bundle: true,
      format: 'esm',
      platform: 'node',
      outfile: bundle,
      logLevel: 'silent',
    });
    const url = pathToFileURL(bundle).href;
    // Each side of a stream is a file descriptor in its process: the largest count the limit allows.
    const limit = Number(process.env.RKA_BENCH_STREAMS ?? 10_000);
    const counts = [1000, 5000, 10_000].filter((count) => count <= limit);
    const proxy = await measure('proxy', url, counts);
    const bare = await measure('bare', url, counts);
    const rows = [];
    for (const [index, p] of proxy.entries()) {
      const b = bare[index];
      const n = p.count.toLocaleString('en-US');
      rows.push(
        {
          name: `${n} streams: heap per stream, proxy · bare (ratio)`,
          value: `${kb(p.heap)} · ${kb(b.heap)} KB`,
          note: `${(p.heap / b.heap).toFixed(2)}×`,
        },
        { name: `${n} streams: RSS per stream, proxy · bare`, value: `${kb(p.rss)} · ${kb(b.rss)} KB` },
        {
          name: `${n} streams: change → user's streams p50 / p99, proxy · bare`,
          value: `${ms(p.userP50)} / ${ms(p.userP99)} · ${ms(b.userP50)} / ${ms(b.userP99)} ms`,
        },
        {
          name: `${n} streams: change → shared-space stream p50 / p99, proxy · bare`,
          value: `${ms(p.sharedP50)} / ${ms(p.sharedP99)} · ${ms(b.sharedP50)} / ${ms(b.sharedP99)} ms`,
        },
        {
          name: `${n} streams: CPU per heartbeat round, proxy · bare`,
          value: `${ms(p.cpuPerBeat / 1000)} · ${ms(b.cpuPerBeat / 1000)} ms`,
          note: p.missing + b.missing ? `${p.missing + b.missing} arrivals missing` : undefined,
        },
      );
    }
    return {
      rows,
      notes: [
        `${USERS.toLocaleString('en-US')} users (10 streams each at 10,000) plus one shared-space stream; ${ROUNDS} changes per count; heartbeats every ${HEARTBEAT_MS} ms; CPU over ${CPU_WINDOW_MS / 1000} s idle`,
        'budget (DESIGN): heap ≤ 1.5× bare at 10,000; p99 ≤ 25 ms to a user, ≤ 50 ms to the shared space',
      ],
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
