/* global process, performance */
/**
 * The history's list and search at 10,000 records of one user, on PGlite and PostgreSQL: the store's own
 * query (what a list or a search costs the proxy beyond the vendor), p50 and p99 over many runs.
 */
import { loadServer } from './40-proxy-stores.mjs';

export const title = 'History list and search: store latency at 10,000 records of one user (p50 / p99)';

const RECORDS = 10_000;
const RUNS = 200;
const WORDS = ['rain', 'door', 'glass', 'wind', 'fire', 'bell', 'steps', 'engine', 'waves', 'birds'];

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))];

/** 10,000 finished records of one user (and 1,000 of another), written through the store's own claim. */
async function fill(store, db, table) {
  // One statement, not 10,000 round trips: the rows as `claimTask` and `updateTask` would leave them.
  await store.findTask('bench', 'warm-up'); // migrates
  const insert = (user, count, offset) =>
    db.query(
      `INSERT INTO ${table} (user_id, external_task_id, vendor_external_task_id, task_id, prompt, duration,
         task, status, created_at, updated_at, search_prompt, starred, title, search_title)
       SELECT $1, 'ext-' || i, 'v-' || i, (${offset} + i)::text, p, 3,
         jsonb_build_object('task_id', (${offset} + i)::text, 'task_status', 'succeed',
           'created_at', 1700000000000 + i, 'updated_at', 1700000000000 + i),
         'succeed', 1700000000000 + i, 1700000000000 + i, lower(p), i % 10 = 0,
         CASE WHEN i % 7 = 0 THEN 'Take ' || i END, CASE WHEN i % 7 = 0 THEN 'take ' || i ELSE '' END
       FROM (SELECT i, (ARRAY[${WORDS.map((w) => `'${w}'`).join(',')}])[1 + i % ${WORDS.length}]
               || ' sound number ' || i || CASE WHEN i % 97 = 0 THEN ' 100% wet_floor' ELSE '' END AS p
             FROM generate_series(1, $2::int) AS i) AS rows`,
      [user, count],
    );
  await insert('bench', RECORDS, 0);
  await insert('other', RECORDS / 10, RECORDS);
  await db.query(`ANALYZE ${table}`);
}

async function measure(store) {
  const cases = [
    ['list, page 1 of 30', { pageNum: 1, pageSize: 30 }, undefined],
    ['list, page 100 of 30', { pageNum: 100, pageSize: 30 }, undefined],
    ['starred, page 1 of 30', { pageNum: 1, pageSize: 30 }, { starred: true }],
    ['search "rain", page 1', { pageNum: 1, pageSize: 30 }, { words: ['rain'] }],
    ['search "100% wet_", page 1 (rare, escaped)', { pageNum: 1, pageSize: 30 }, { words: ['100%', 'wet_'] }],
    ['search with no match', { pageNum: 1, pageSize: 30 }, { words: ['thunderclap'] }],
  ];
  const rows = [];
  for (const [name, page, filter] of cases) {
    for (let i = 0; i < 10; i++) await store.listTasks('bench', page, filter);
    const times = [];
    let found = 0;
    for (let i = 0; i < RUNS; i++) {
      const started = performance.now();
      found = (await store.listTasks('bench', page, filter)).length;
      times.push(performance.now() - started);
    }
    times.sort((a, b) => a - b);
    rows.push({ name, p50: percentile(times, 50), p99: percentile(times, 99), found });
  }
  return rows;
}

export async function run() {
  const { createPostgresTaskStore } = await loadServer();
  const kinds = [];
  const { PGlite } = await import('@electric-sql/pglite');
  const lite = await PGlite.create();
  kinds.push({ name: 'PGlite', db: lite, close: () => lite.close() });
  const notes = [];
  const url = process.env.RKA_TEST_POSTGRES_URL;
  if (url) {
    const { default: pg } = await import('pg');
    const pool = new pg.Pool({ connectionString: url, max: 4 });
    kinds.push({ name: 'PostgreSQL', db: pool, close: () => pool.end(), drop: true });
  } else {
    notes.push(
      'PostgreSQL: skipped, RKA_TEST_POSTGRES_URL is not set (run through scripts/with-postgres.sh).',
    );
  }
  const rows = [];
  for (const kind of kinds) {
    const table = `bench_history_${process.pid}`;
    const store = createPostgresTaskStore(kind.db, { table });
    try {
      await fill(store, kind.db, table);
      const trigram = (
        await kind.db.query(`SELECT 1 FROM pg_indexes WHERE indexname = $1`, [`${table}_search_prompt`])
      ).rows.length;
      notes.push(
        `${kind.name}: ${trigram ? 'pg_trgm indexes' : 'no pg_trgm: the search reads the user’s rows'}`,
      );
      for (const row of await measure(store)) {
        rows.push({
          name: `${kind.name}: ${row.name}`,
          value: Number(row.p50.toFixed(2)),
          unit: 'ms p50',
          note: `p99 ${row.p99.toFixed(2)} ms, ${row.found} rows`,
        });
      }
    } finally {
      if (kind.drop) {
        for (const name of [table, `${table}_files`, `${table}_migrations`])
          await kind.db.query(`DROP TABLE IF EXISTS ${name}`);
      }
      await kind.close();
    }
  }
  return { rows, notes };
}
