/* global process, Buffer, fetch */
/**
 * The proxy's requests per second with task records on, against the same proxy with none, in one run:
 * autocannon on loopback, one node:http mock upstream for all. The request is a lookup of a task that
 * is still pending, so every answer goes upstream (a finished task would be answered from its record and
 * flatter the stores) and, with records, also reads and updates the record.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import autocannon from 'autocannon';
import { build } from 'esbuild';

export const title = 'Proxy with task records: requests/s (autocannon, loopback, pending-task lookup)';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const ROUNDS = 3;
const ROUND_S = 2;
const CONNECTIONS = 10;

/** The server entry, bundled from source (the bench runs on plain Node, without a build). */
export async function loadServer() {
  const out = resolve(root, 'node_modules/.cache/rka-bench/server.mjs');
  mkdirSync(dirname(out), { recursive: true });
  const result = await build({
    entryPoints: [resolve(root, 'src/server/index.ts')],
    bundle: true,
    format: 'esm',
    platform: 'node',
    write: false,
    logLevel: 'silent',
  });
  writeFileSync(out, result.outputFiles[0].text);
  return import(`${pathToFileURL(out).href}?${Date.now()}`);
}

/** A vendor that answers creates and lookups at once, every task forever `processing`. */
function startUpstream() {
  let next = 100;
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', () => {
      const id = req.method === 'POST' ? String(++next) : (req.url ?? '').split('/')[4] || '1';
      const body = req.method === 'POST' ? JSON.parse(Buffer.concat(chunks).toString() || '{}') : {};
      const task = {
        task_id: id,
        task_status: req.method === 'POST' ? 'submitted' : 'processing',
        task_info: { external_task_id: body.external_task_id ?? '' },
        created_at: 1_700_000_000_000,
        updated_at: 1_700_000_000_000,
      };
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ code: 0, message: 'SUCCEED', request_id: 'bench', data: task }));
    });
  });
  return new Promise((resolvePromise) =>
    server.listen(0, '127.0.0.1', () => resolvePromise({ server, port: server.address().port })),
  );
}

const listen = (handler) =>
  new Promise((resolvePromise) => {
    const server = createServer(handler);
    server.keepAliveTimeout = 60_000;
    server.listen(0, '127.0.0.1', () => resolvePromise({ server, port: server.address().port }));
  });

const close = (server) => {
  server.closeAllConnections?.();
  return new Promise((resolvePromise) => server.close(resolvePromise));
};

/** The proxy with `store` (`false`: no records, shared space) on a port, with one task made through it. */
async function startProxy(lib, upstreamPort, store, user) {
  const handler = lib.createKlingAudioProxy({
    apiKey: 'bench-key',
    upstream: `http://127.0.0.1:${upstreamPort}`,
    authorize: () => user,
    store,
  });
  const { server, port } = await listen(lib.toNodeHandler(handler));
  const base = `http://127.0.0.1:${port}/api/kling/v1/audio/text-to-audio`;
  // One task made through the proxy (so it has a record), then looked up over and over.
  const created = await fetch(base, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ prompt: 'Bench sound', duration: 3, external_task_id: 'bench-1' }),
  }).then((response) => response.json());
  const url = `${base}/${created.data.task_id}`;
  // Warm-up: connections, JIT, the database's caches.
  await autocannon({ url, connections: CONNECTIONS, duration: 1 });
  return { server, url };
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

export async function run() {
  const lib = await loadServer();
  const upstream = await startUpstream();
  const notes = [
    `${CONNECTIONS} connections; median of ${ROUNDS} rounds of ${ROUND_S} s per row, rows taking turns, after a 1 s warm-up; one mock upstream (node:http) for every row.`,
    'Records on: a scoped user (authorize returns an id); no store: store: false and the shared space (a plain pass-through).',
  ];
  const rows = [];
  const cleanups = [];
  try {
    const stores = [
      ['no store', async () => false, true],
      ['memory store', async () => lib.createMemoryTaskStore(), 'bench-user'],
      [
        'PGlite store (in memory)',
        async () => {
          const { PGlite } = await import('@electric-sql/pglite');
          const db = await PGlite.create();
          cleanups.push(() => db.close());
          return lib.createPostgresTaskStore(db);
        },
        'bench-user',
      ],
    ];
    const url = process.env.RKA_TEST_POSTGRES_URL;
    if (url) {
      stores.push([
        'PostgreSQL store (pg Pool)',
        async () => {
          const { default: pg } = await import('pg');
          const pool = new pg.Pool({ connectionString: url, max: CONNECTIONS });
          const table = `bench_${process.pid}_${Date.now()}`;
          cleanups.push(async () => {
            await pool.query(`DROP TABLE IF EXISTS ${table}, ${table}_migrations`);
            await pool.end();
          });
          return lib.createPostgresTaskStore(pool, { table });
        },
        'bench-user',
      ]);
    } else {
      notes.push(
        'PostgreSQL: skipped, RKA_TEST_POSTGRES_URL is not set (run through scripts/with-postgres.sh).',
      );
    }

    const proxies = [];
    for (const [name, make, user] of stores) {
      const proxy = await startProxy(lib, upstream.port, await make(), user);
      cleanups.unshift(() => close(proxy.server));
      proxies.push({ name, ...proxy, rps: [], errors: 0 });
    }
    // Rounds, each store in turn: a busy machine's slow moments fall on every row alike.
    for (let round = 0; round < ROUNDS; round++) {
      for (const proxy of proxies) {
        const result = await autocannon({ url: proxy.url, connections: CONNECTIONS, duration: ROUND_S });
        proxy.rps.push(result.requests.average);
        proxy.errors += result.errors + result.non2xx;
      }
    }
    const baseline = median(proxies[0].rps);
    for (const proxy of proxies) {
      const rps = Math.round(median(proxy.rps));
      rows.push({
        name: proxy.name,
        value: rps,
        unit: 'req/s',
        note: `${(rps / baseline).toFixed(2)}× no store${proxy.errors ? `; ${proxy.errors} errors` : ''}`,
      });
    }
  } finally {
    for (const cleanup of cleanups) await cleanup();
    await close(upstream.server);
  }
  return { rows, notes };
}
