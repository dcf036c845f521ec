/**
 * The stores the record tests run on: memory, PGlite (in memory) and the real PostgreSQL server of
 * `test/postgres.ts`. Each `make()` gives an empty store of its kind (a fresh table on a shared database).
 */
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { afterAll, beforeAll } from 'vitest';
import { createMemoryTaskStore, createPostgresTaskStore, type KlingTaskStore } from '../src/server';
import { postgresUrl } from './postgres';

export interface StoreKind {
  name: string;
  make: () => Promise<KlingTaskStore>;
  /** Why this kind cannot run here (and so is skipped), if it cannot. */
  skip?: string;
}

let tables = 0;
/** A table name no other test of this run uses. */
export const freshTable = () => `t${process.pid}_${++tables}_${Math.random().toString(36).slice(2, 8)}`;

let pglite: PGlite | undefined;
let pool: pg.Pool | undefined;
const created: string[] = [];

/** The file's in-memory PGlite database (opened before its tests). */
export const sharedPglite = (): PGlite => pglite!;

/** The suite's PostgreSQL pool (one per test file), closed after the file. */
export function postgresPool(): pg.Pool {
  pool ??= new pg.Pool({ connectionString: postgresUrl, max: 10 });
  return pool;
}

// PGlite's first open (initdb in WASM) takes seconds on a busy machine: once per file, not in a test.
beforeAll(async () => {
  pglite = await PGlite.create();
}, 120_000);

afterAll(async () => {
  if (pool) {
    for (const table of created)
      await pool.query(`DROP TABLE IF EXISTS ${table}, ${table}_migrations, ${table}_files`);
    await pool.end();
  }
  await pglite?.close();
});

export const storeKinds: StoreKind[] = [
  { name: 'memory', make: async () => createMemoryTaskStore() },
  {
    name: 'PGlite',
    make: async () => createPostgresTaskStore(pglite!, { table: freshTable() }),
  },
  {
    name: 'PostgreSQL',
    skip: postgresUrl ? undefined : 'RKA_TEST_POSTGRES_URL is not set',
    make: async () => {
      const table = freshTable();
      created.push(table);
      return createPostgresTaskStore(postgresPool(), { table });
    },
  },
];
