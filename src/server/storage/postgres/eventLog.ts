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
  /**
   * How long events are kept for replay (a stream resuming from an older id gets `resync`); older ones are
   * deleted, at most once a minute, by whichever instance appends. Defaults to `86_400_000` (a day).
   */
  retentionMs?: number;
}

/** Most events one replay sends: a client further behind gets `resync` and reads its tasks once. */
export const MAX_REPLAY = 1000;
// `pg_notify` refuses payloads of 8,000 bytes or more: a larger task is announced by its id only, and
// each listener reads the row.
const NOTIFY_TASK_BYTES = 7000;
const PRUNE_EVERY_MS = 60_000;

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
  // 2: events older than the replay window are deleted by age.
  (table) => `CREATE INDEX IF NOT EXISTS "${table}_created" ON "${table}" (created_at);`,
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
  options: PostgresTaskEventLogOptions = {},
): KlingTaskEventLog {
  const table = checkTableName(options.table ?? 'kling_task_events', 'createPostgresTaskEventLog');
  return postgresTaskEventLog(db, table, options.retentionMs);
}

/**
 * The log on `table`, its name already checked (the task store's event table is its own checked name with
 * `_events`, within PostgreSQL's 63).
 */
export function postgresTaskEventLog(
  db: SqlDatabase,
  table: string,
  retentionMs = 86_400_000,
): KlingTaskEventLog {
  const t = `"${table}"`;
  const migrate = createMigrator(db, table, TASK_EVENT_MIGRATIONS);

  const toEvent = (row: Record<string, unknown>): TaskEvent => ({
    id: String(row.id),
    owner: String(row.owner),
    task: (typeof row.task === 'string' ? JSON.parse(row.task) : row.task) as WireTask,
  });

  let prunedAt = 0;
  /** Deletes what is older than the replay window, in the background, at most once a minute. */
  const prune = () => {
    if (Date.now() - prunedAt < PRUNE_EVERY_MS) return;
    prunedAt = Date.now();
    void db
      .query(`delete from ${t} where created_at < now() - $1 * interval '1 millisecond'`, [retentionMs])
      .catch(() => (prunedAt = 0));
  };

  return {
    async append(owner, task) {
      await migrate();
      prune();
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
           pg_notify($6, json_build_object('id', id::text, 'owner', owner,
             'task', case when octet_length(task::text) < $7 then task end)::text)
         from added`,
        [
          owner,
          task.task_id,
          task.task_status,
          task.updated_at,
          JSON.stringify(task),
          table,
          NOTIFY_TASK_BYTES,
        ],
      );
      return rows[0] ? toEvent(rows[0]) : undefined;
    },

    async since(owner, id) {
      if (!/^\d{1,18}$/.test(id)) return undefined;
      await migrate();
      // The id must be one this log handed out and still keeps: events are deleted only by age, so while
      // its row is here, nothing after it is gone either. `0` asks for everything still kept.
      if (id !== '0') {
        const { rows: known } = await db.query(`select 1 from ${t} where id = $1`, [id]);
        if (known.length === 0) return undefined;
      }
      const { rows } = await db.query(
        `select id, owner, task from ${t} where id > $1 and ($2::text is null or owner = $2)
         order by id limit ${MAX_REPLAY + 1}`,
        [id, owner],
      );
      // Further behind than one replay: the client reads its tasks once instead.
      return rows.length > MAX_REPLAY ? undefined : rows.map(toEvent);
    },

    async listen(listener) {
      await migrate();
      // A large task comes as its id only and is read from its row; one chain keeps the NOTIFY order.
      let reading = Promise.resolve();
      const read = async (message: { id?: unknown; owner?: unknown; task?: unknown }) => {
        if (message.task != null) return toEvent(message as Record<string, unknown>);
        const { rows } = await db.query(`select id, owner, task from ${t} where id = $1`, [
          String(message.id),
        ]);
        return rows[0] ? toEvent(rows[0]) : undefined;
      };
      const deliver = (payload: string | undefined) => {
        let message: { id?: unknown };
        try {
          message = JSON.parse(payload ?? '');
        } catch {
          return; // Not one of ours.
        }
        if (typeof message?.id !== 'string') return;
        reading = reading.then(() =>
          read(message).then(
            (event) => event && listener(event),
            () => {},
          ),
        );
      };
      if (typeof (db as PGliteLike).listen === 'function') {
        return (db as PGliteLike).listen(table, deliver);
      }
      if (typeof (db as PgPoolLike).connect !== 'function') {
        throw new TypeError('createPostgresTaskEventLog: `db` needs PGlite `listen` or a pg Pool `connect`.');
      }
      return listenOnPool(db as PgPoolLike, table, deliver);
    },
  };
}

/**
 * LISTEN on a pg Pool: it lives on one connection, a dedicated client out of the pool for as long as we
 * listen. If it breaks, a new one takes over after a pause; a client whose LISTEN failed goes back at once.
 */
async function listenOnPool(
  pool: PgPoolLike,
  table: string,
  deliver: (payload: string | undefined) => void,
): Promise<() => Promise<void>> {
  let client: PgClientLike | undefined;
  let stopped = false;
  let retry: ReturnType<typeof setTimeout> | undefined;
  const attach = async () => {
    const next = await pool.connect();
    next.on('notification', (message) => message.channel === table && deliver(message.payload));
    next.on('error', (error) => {
      next.release(error);
      if (client === next) client = undefined;
      if (!stopped) retry = setTimeout(() => void attach().catch(() => {}), 1000);
    });
    try {
      await next.query(`listen "${table}"`);
    } catch (error) {
      next.release(error as Error);
      throw error;
    }
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
}
