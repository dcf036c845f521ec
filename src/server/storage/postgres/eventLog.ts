/**
 * The task event log in PostgreSQL, shared by every proxy instance on one database: events are rows (so
 * a stream resumes from its `Last-Event-ID` on any instance) and each append is announced with
 * `pg_notify`, which reaches every instance's LISTEN. PGlite offers the same in process (`db.listen`); a
 * `pg` Pool gets one dedicated client for LISTEN. No broker of our own.
 */
import type { WireTask } from '../../../api/schemas';
import { statusRankSql } from '../../../api/status';
import type { KlingTaskEventLog, TaskEvent } from '../../core/eventLog';
import { checkTableName, type SqlDatabase } from '../../core/sql';
import { createMigrator, type MigrationStep } from './migrate';

interface PGliteLike extends SqlDatabase {
  listen(channel: string, callback: (payload: string) => void): Promise<() => Promise<void>>;
}
interface PgClientLike extends SqlDatabase {
  on(event: 'notification', listener: (message: { channel: string; payload?: string }) => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
  release(error?: Error | boolean): void;
}
interface PgPoolLike extends SqlDatabase {
  connect(): Promise<PgClientLike>;
}

export interface PostgresTaskEventLogOptions {
  /** The table (created when missing); its name is also the NOTIFY channel. Defaults to `'kling_task_events'`. */
  table?: string;
}

const RANK_SQL = statusRankSql('$3');

/**
 * The events' schema, one step per version (run by `migrate.ts`). Step 1 is written `IF NOT EXISTS`: a
 * database whose event table predates migrations (created by statements of its own) adopts it as it is.
 */
export const TASK_EVENT_MIGRATIONS: readonly MigrationStep[] = [
  (table) => `
    CREATE TABLE IF NOT EXISTS "${table}" (
      id bigserial PRIMARY KEY,
      owner text NOT NULL,
      task_id text NOT NULL,
      rank smallint NOT NULL,
      updated_at bigint NOT NULL,
      task jsonb NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now()
    );
    -- One row per state of a task: two instances receiving the same callback append it once.
    CREATE UNIQUE INDEX IF NOT EXISTS "${table}_state" ON "${table}" (task_id, rank, updated_at);
    CREATE INDEX IF NOT EXISTS "${table}_owner" ON "${table}" (owner, id);`,
];

/**
 * A task event log on PostgreSQL: `db` is an `@electric-sql/pglite` database or a `pg` Pool (anything with
 * `query(text, params)` returning `{ rows }`, plus PGlite's `listen` or the Pool's `connect`).
 *
 * @example
 * const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL });
 * createKlingAudioProxy({ ..., callbackUrl, events: createPostgresTaskEventLog(pool) });
 */
export function createPostgresTaskEventLog(
  db: SqlDatabase,
  { table = 'kling_task_events' }: PostgresTaskEventLogOptions = {},
): KlingTaskEventLog {
  checkTableName(table, 'createPostgresTaskEventLog');
  const t = `"${table}"`;
  const migrate = createMigrator(db, table, TASK_EVENT_MIGRATIONS);

  const toEvent = (row: Record<string, unknown>): TaskEvent => ({
    id: String(row.id),
    owner: String(row.owner),
    task: (typeof row.task === 'string' ? JSON.parse(row.task) : row.task) as WireTask,
  });

  return {
    async append(owner, task) {
      await migrate();
      // Not newer than a state already logged (a duplicate, late or out-of-order update): nothing.
      const { rows } = await db.query(
        `with added as (
           insert into ${t} (owner, task_id, rank, updated_at, task)
           select $1, $2, ${RANK_SQL}, $4, $5::jsonb
           where not exists (
             select 1 from ${t}
             where task_id = $2 and (rank > ${RANK_SQL} or (rank = ${RANK_SQL} and updated_at >= $4))
           )
           on conflict do nothing
           returning id, owner, task
         )
         select id, owner, task,
           pg_notify($6, json_build_object('id', id::text, 'owner', owner, 'task', task)::text)
         from added`,
        [owner, task.task_id, task.task_status, task.updated_at, JSON.stringify(task), table],
      );
      return rows[0] ? toEvent(rows[0]) : undefined;
    },

    async since(owner, id) {
      if (!/^\d{1,18}$/.test(id)) return undefined;
      await migrate();
      const { rows: last } = await db.query(`select coalesce(max(id), 0) as id from ${t}`);
      if (BigInt(id) > BigInt(String(last[0]?.id ?? 0))) return undefined;
      const { rows } = await db.query(
        `select id, owner, task from ${t} where id > $1 and ($2::text is null or owner = $2)
         order by id limit 1000`,
        [id, owner],
      );
      return rows.map(toEvent);
    },

    async listen(listener) {
      await migrate();
      const deliver = (payload: string | undefined) => {
        try {
          if (payload) listener(toEvent(JSON.parse(payload)));
        } catch {
          // Not one of ours.
        }
      };
      if (typeof (db as PGliteLike).listen === 'function') {
        return (db as PGliteLike).listen(table, deliver);
      }
      if (typeof (db as PgPoolLike).connect !== 'function') {
        throw new TypeError('createPostgresTaskEventLog: `db` needs PGlite `listen` or a pg Pool `connect`.');
      }
      // LISTEN lives on one connection: a dedicated client, out of the pool for as long as we listen.
      // If it breaks, a new one takes over after a pause.
      let client: PgClientLike | undefined;
      let stopped = false;
      let retry: ReturnType<typeof setTimeout> | undefined;
      const attach = async () => {
        const next = await (db as PgPoolLike).connect();
        next.on('notification', (message) => message.channel === table && deliver(message.payload));
        next.on('error', (error) => {
          next.release(error);
          if (client === next) client = undefined;
          if (!stopped) retry = setTimeout(() => void attach().catch(() => {}), 1000);
        });
        await next.query(`listen "${table}"`);
        if (stopped) return next.release();
        client = next;
      };
      await attach();
      return async () => {
        stopped = true;
        clearTimeout(retry);
        const current = client;
        client = undefined;
        if (!current) return;
        await current.query(`unlisten "${table}"`).catch(() => {});
        current.release();
      };
    },
  };
}
