/**
 * The proxy under load (Node, loopback): requests/s and latency of (a) the upstream called directly,
 * (b) a minimal hand-written node:http pass-through with a keep-alive agent and (c)
 * toNodeHandler(createKlingAudioProxy(...)), in the same run, interleaved, medians of several rounds;
 * DESIGN's budget is (c) ≥ 0.9 × (b). Then token signatures per 1,000 requests and a 5,000-request load at
 * 50 connections with errors, p99 and heap before/after. Each server runs in a child process of its own.
 */
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import autocannon from 'autocannon';
import { build } from 'esbuild';

export const title =
  'Proxy (Node, loopback): upstream direct · hand-written pass-through · toNodeHandler(createKlingAudioProxy)';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const ROUNDS = 3;
const SECONDS = 2;
const CONNECTIONS = 10;
const PATH = '/api/kling/v1/audio/text-to-audio/786412301234';

function spawn(role, ...args) {
  const child = fork(join(root, 'bench/proxy-servers.mjs'), [role, ...args], {
    execArgv: ['--expose-gc'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const ask = (message) =>
    new Promise((done) => {
      const listener = (answer) => {
        if (answer.stats) {
          child.off('message', listener);
          done(answer.stats);
        }
      };
      child.on('message', listener);
      child.send(message);
    });
  return new Promise((done, fail) => {
    child.once('message', ({ port }) => done({ port, stats: () => ask('stats'), stop: () => child.kill() }));
    child.once('error', fail);
  });
}

const cannon = (options) =>
  new Promise((done, fail) => autocannon(options, (error, result) => (error ? fail(error) : done(result))));

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

export async function run() {
  const dir = mkdtempSync(join(tmpdir(), 'rka-bench-proxy-'));
  const children = [];
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
    const upstream = await spawn('upstream');
    children.push(upstream);
    const upstreamUrl = `http://127.0.0.1:${upstream.port}`;
    const passthrough = await spawn('passthrough', upstreamUrl);
    const fetchPassthrough = await spawn('fetch-passthrough', upstreamUrl);
    const proxy = await spawn('proxy', upstreamUrl, pathToFileURL(bundle).href);
    children.push(passthrough, fetchPassthrough, proxy);

    const targets = {
      upstream: `${upstreamUrl}${PATH.replace('/api/kling', '')}`,
      passthrough: `http://127.0.0.1:${passthrough.port}${PATH}`,
      fetchPassthrough: `http://127.0.0.1:${fetchPassthrough.port}${PATH}`,
      proxy: `http://127.0.0.1:${proxy.port}${PATH}`,
    };
    const figures = Object.fromEntries(Object.keys(targets).map((name) => [name, []]));
    // The upstream stands for the vendor: the load generator sends a credential as the proxies do.
    const headers = { authorization: 'Bearer bench' };
    for (const url of Object.values(targets))
      await cannon({ url, headers, connections: CONNECTIONS, duration: 1 });
    for (let round = 0; round < ROUNDS; round++) {
      for (const [name, url] of Object.entries(targets)) {
        const result = await cannon({ url, headers, connections: CONNECTIONS, duration: SECONDS });
        figures[name].push({
          rps: result.requests.average,
          p50: result.latency.p50,
          p99: result.latency.p99,
          errors: result.errors + result.timeouts + result.non2xx,
        });
      }
    }
    const summary = Object.fromEntries(
      Object.entries(figures).map(([name, runs]) => [
        name,
        {
          rps: median(runs.map((r) => r.rps)),
          p50: median(runs.map((r) => r.p50)),
          p99: median(runs.map((r) => r.p99)),
          errors: runs.reduce((sum, r) => sum + r.errors, 0),
        },
      ]),
    );

    const before = await proxy.stats();
    const load = await cannon({ url: targets.proxy, connections: 50, amount: 5000 });
    const after = await proxy.stats();

    const ratio = summary.proxy.rps / summary.passthrough.rps;
    const rows = [];
    const labels = {
      upstream: '(a) upstream direct',
      passthrough: '(b) hand-written pass-through',
      fetchPassthrough: '(b′) the same on fetch',
      proxy: '(c) createKlingAudioProxy',
    };
    for (const [name, label] of Object.entries(labels)) {
      const s = summary[name];
      rows.push({
        name: `${label} req/s`,
        value: Math.round(s.rps),
        unit: 'req/s',
        note: `errors ${s.errors}`,
      });
      rows.push({ name: `${label} p50 / p99`, value: `${s.p50} / ${s.p99}`, unit: 'ms' });
    }
    rows.push({
      name: 'proxy ÷ pass-through',
      value: Number(ratio.toFixed(2)),
      unit: '×',
      note: `budget ≥ 0.9: ${ratio >= 0.9 ? 'ok' : 'MISSED'}`,
    });
    rows.push({
      name: 'proxy ÷ the same on fetch',
      value: Number((summary.proxy.rps / summary.fetchPassthrough.rps).toFixed(2)),
      unit: '×',
    });
    rows.push({
      name: 'pass-through ÷ upstream',
      value: Number((summary.passthrough.rps / summary.upstream.rps).toFixed(2)),
      unit: '×',
    });
    rows.push({
      name: 'token signatures per 1,000 requests',
      value: Number(((after.signatures / after.requests) * 1000).toFixed(3)),
      note: `${after.signatures} signature(s) over ${after.requests.toLocaleString('en-US')} requests`,
    });
    rows.push({
      name: 'load: 5,000 requests, 50 connections',
      value: load.requests.total ?? load['2xx'] + load.non2xx,
      unit: 'requests',
      note: `errors ${load.errors + load.timeouts + load.non2xx}, ${Math.round(load.requests.average)} req/s`,
    });
    rows.push({ name: 'load p50 / p99', value: `${load.latency.p50} / ${load.latency.p99}`, unit: 'ms' });
    rows.push({
      name: 'load heap before → after (after gc)',
      value: `${(before.heapUsed / 2 ** 20).toFixed(1)} → ${(after.heapUsed / 2 ** 20).toFixed(1)}`,
      unit: 'MiB',
    });
    return {
      rows,
      notes: [
        `GET ${PATH} (a lookup: the polling path), ${CONNECTIONS} connections, ${ROUNDS} interleaved rounds of ${SECONDS} s, medians; each server in its own process.`,
      ],
    };
  } finally {
    for (const child of children) child.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
