/**
 * The task event log in PostgreSQL, shared by every proxy instance on one database: events are rows (so
 * a stream resumes from its `Last-Event-ID` on any instance) and each append is announced with
 * `pg_notify`, which reaches every instance's LISTEN. PGlite offers the same in process (`db.listen`); a
 * `pg` Pool gets one dedicated client for LISTEN. No broker of our own.
 */
import type { WireTask } from '../../../api/schemas';
import type { KlingTaskEventLog, TaskEvent } from '../../core/eventLog';

interface Rows {
  rows: Record<string, unknown>[];
}
/** What both PGlite and a `pg` Pool offer. */
export interface SqlQueryable {
  query(text: string, params?: unknown[]): Promise<Rows>;
}
interface PGliteLike extends SqlQueryable {
  listen(channel: string, callback: (payload: string) => void): Promise<() => Promise<void>>;
}
interface PgClientLike extends SqlQueryable {
  on(event: 'notification', listener: (message: { channel: string; payload?: string }) => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
  release(error?: Error | boolean): void;
}
interface PgPoolLike extends SqlQueryable {
  connect(): Promise<PgClientLike>;
}

export interface PostgresTaskEventLogOptions {
  /** The table (created when missing); its name is also the NOTIFY channel. Defaults to `'kling_task_events'`. */
  table?: string;
}

const RANK_SQL = `case $3 when 'submitted' then 0 when 'succeed' then 2 when 'failed' then 2 else 1 end`;

/**
 * A task event log on PostgreSQL: `db` is an `@electric-sql/pglite` database or a `pg` Pool (anything with
 * `query(text, params)` returning `{ rows }`, plus PGlite's `listen` or the Pool's `connect`).
 *
 * @example
 * const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL });
 * createKlingAudioProxy({ ..., callbackUrl, events: createPostgresTaskEventLog(pool) });
 */
export function createPostgresTaskEventLog(
  db: SqlQueryable,
  { table = 'kling_task_events' }: PostgresTaskEventLogOptions = {},
): KlingTaskEventLog {
  if (!/^[a-z_][a-z\d_]{0,62}$/.test(table)) {
    throw new TypeError('createPostgresTaskEventLog: `table` must be a lower-case SQL identifier.');
  }
  const t = `"${table}"`;
  let ready: Promise<void> | undefined;
  const migrate = () =>
    (ready ??= (async () => {
      const statements = [
        `create table if not exists ${t} (
          id bigserial primary key,
          owner text not null,
          task_id text not null,
          rank smallint not null,
          updated_at bigint not null,
          task jsonb not null,
          created_at timestamptz not null default now()
        )`,
        // One row per state of a task: two instances receiving the same callback append it once.
        `create unique index if not exists "${table}_state" on ${t} (task_id, rank, updated_at)`,
        `create index if not exists "${table}_owner" on ${t} (owner, id)`,
      ];
      for (const statement of statements) {
        try {
          await db.query(statement);
        } catch (error) {
          // Two instances migrating at once: `if not exists` still races on the catalog. The other won.
          if (!/already exists|duplicate key/i.test(String((error as Error).message))) throw error;
        }
      }
    })().catch((error) => {
      ready = undefined;
      throw error;
    }));

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
