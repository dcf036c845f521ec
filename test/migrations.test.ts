/**
 * The one migration runner: the event log's table now has numbered steps like the task store's, and a
 * database whose event table was created before that (by the log's own statements) keeps its events.
 */
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { createPostgresTaskEventLog, createPostgresTaskStore, type SqlDatabase } from '../src/server';
import { migrationScript } from '../src/server/storage/postgres/migrate';
import { TASK_STORE_MIGRATIONS } from '../src/server/storage/postgres/taskStore';
import { postgresUrl } from './postgres';

// PGlite's first open (initdb in WASM) takes seconds on a busy machine.
const SLOW = 60_000;
const closers: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const close of closers.reverse()) await close();
});

const name = (prefix: string) => `${prefix}_${crypto.randomUUID().replace(/-/g, '').slice(0, 12)}`;

/** The event table exactly as releases before the migration runner created it, with one event in it. */
async function legacyEventTable(db: SqlDatabase, table: string): Promise<void> {
  await db.query(`create table if not exists "${table}" (
    id bigserial primary key,
    owner text not null,
    task_id text not null,
    rank smallint not null,
    updated_at bigint not null,
    task jsonb not null,
    created_at timestamptz not null default now()
  )`);
  await db.query(
    `create unique index if not exists "${table}_state" on "${table}" (task_id, rank, updated_at)`,
  );
  await db.query(`create index if not exists "${table}_owner" on "${table}" (owner, id)`);
  const old = { task_id: 'old-task', task_status: 'processing', created_at: 1, updated_at: 2 };
  await db.query(
    `insert into "${table}" (owner, task_id, rank, updated_at, task) values ($1, $2, 1, 2, $3)`,
    ['u', 'old-task', JSON.stringify(old)],
  );
}

function suite(kind: string, open: () => Promise<SqlDatabase>) {
  describe(kind, () => {
    it(
      'an event table from before migrations keeps its events, takes new ones, and is marked migrated',
      async () => {
        const db = await open();
        const table = name('legacy_events');
        await legacyEventTable(db, table);

        const log = createPostgresTaskEventLog(db, { table });
        const replay = await log.since('u', '0');
        expect(replay?.map((event) => event.task.task_id)).toEqual(['old-task']);
        // The logged state still counts: an older state of the old task is not appended again.
        expect(
          await log.append('u', {
            task_id: 'old-task',
            task_status: 'submitted',
            created_at: 1,
            updated_at: 1,
          }),
        ).toBeUndefined();
        const added = await log.append('u', {
          task_id: 'new-task',
          task_status: 'succeed',
          created_at: 3,
          updated_at: 4,
        });
        expect(added?.owner).toBe('u');
        expect((await log.since('u', replay![0]!.id))?.map((event) => event.task.task_id)).toEqual([
          'new-task',
        ]);
        const { rows } = await db.query(`SELECT version FROM ${table}_migrations ORDER BY version`);
        expect(rows).toEqual([{ version: 1 }, { version: 2 }]);
      },
      SLOW,
    );

    it(
      'a fresh event table and a task store are migrated by the same runner, each step once',
      async () => {
        const db = await open();
        const events = name('fresh_events');
        const tasks = name('fresh_tasks');
        // Two logs on one table at once: the lock makes them take turns.
        await Promise.all([
          createPostgresTaskEventLog(db, { table: events }).since(null, '0'),
          createPostgresTaskEventLog(db, { table: events }).since(null, '0'),
          createPostgresTaskStore(db, { table: tasks }).findTask('u', 'x'),
        ]);
        expect((await db.query(`SELECT version FROM ${events}_migrations ORDER BY version`)).rows).toEqual([
          { version: 1 },
          { version: 2 },
        ]);
        expect((await db.query(`SELECT version FROM ${tasks}_migrations ORDER BY version`)).rows).toEqual([
          { version: 1 },
          { version: 2 },
          { version: 3 },
          { version: 4 },
          { version: 5 },
          { version: 6 },
        ]);
      },
      SLOW,
    );

    it(
      'a store from before peaks (steps 1–2) gains the peaks column and keeps its files',
      async () => {
        const db = await open();
        const table = name('before_peaks');
        await db.query(migrationScript(table, TASK_STORE_MIGRATIONS.slice(0, 2)));
        const file = {
          userId: 'u',
          taskId: 't1',
          audioId: 'a1',
          contentType: 'audio/wav',
          size: 4,
          etag: '"e"',
          url: 'https://bucket.example.com/a1',
          createdAt: 1,
        };
        await db.query(
          `INSERT INTO ${table}_files (user_id, task_id, audio_id, format, content_type, size, etag, url, created_at)
           VALUES ('u', 't1', 'a1', 'wav', 'audio/wav', 4, '"e"', 'https://bucket.example.com/a1', 1)`,
        );
        const files = createPostgresTaskStore(db, { table }).files!;
        await files.putFile({ ...file, audioId: 'a2', format: 'wav', peaks: [0, 0.5, 1] });
        const found = await files.findFiles('u', ['t1']);
        expect(found.find((f) => f.audioId === 'a1')).toEqual({ ...file, format: 'wav' });
        expect(found.find((f) => f.audioId === 'a2')?.peaks).toEqual([0, 0.5, 1]);
        expect((await db.query(`SELECT version FROM ${table}_migrations ORDER BY version`)).rows).toEqual([
          { version: 1 },
          { version: 2 },
          { version: 3 },
          { version: 4 },
          { version: 5 },
          { version: 6 },
        ]);
      },
      SLOW,
    );

    it(
      'the longest name allowed (48) works for a task store, its files and an event log',
      async () => {
        const db = await open();
        const table = name('t').padEnd(48, 'x');
        const store = createPostgresTaskStore(db, { table });
        await store.files!.putFile({
          userId: 'u',
          taskId: 't1',
          audioId: 'a1',
          format: 'mp3',
          contentType: 'audio/mpeg',
          size: 1,
          etag: '"e"',
          bytes: new Uint8Array([1]),
          createdAt: 1,
        });
        expect((await store.files!.findFiles('u', ['t1'])).map((file) => file.audioId)).toEqual(['a1']);
        const log = createPostgresTaskEventLog(db, { table: name('e').padEnd(48, 'x') });
        expect(await log.since(null, '0')).toEqual([]);
      },
      SLOW,
    );

    it('one table-name rule for every store: a bad name is a TypeError before any query', async () => {
      const db = await open();
      for (const bad of ['1tasks', 'tasks; drop table x', 'a'.repeat(49), 'täsks']) {
        expect(() => createPostgresTaskStore(db, { table: bad })).toThrow(TypeError);
        expect(() => createPostgresTaskEventLog(db, { table: bad })).toThrow(TypeError);
      }
    });
  });
}

let pglite: PGlite | undefined;
suite('PGlite', async () => {
  if (!pglite) {
    pglite = await PGlite.create();
    closers.push(() => pglite!.close());
  }
  return pglite;
});

describe.skipIf(!postgresUrl)('PostgreSQL server', () => {
  let pool: pg.Pool | undefined;
  suite('pg Pool', async () => {
    if (!pool) {
      pool = new pg.Pool({ connectionString: postgresUrl, max: 4 });
      closers.push(() => pool!.end());
    }
    return pool;
  });
});
