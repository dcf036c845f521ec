/**
 * The queue in PostgreSQL (a `pg` Pool shared by several instances, or PGlite): waiting tasks are rows of
 * the records table. The two steps that must hold across instances are each one function call, so one
 * transaction on whichever connection runs it:
 * - admitting a create (`{table}_enqueue`) takes a transaction-scoped advisory lock per user, counts what
 *   the user has, and inserts: 20 concurrent creates against a quota of 3 admit exactly 3;
 * - taking the next task for a free slot (`{table}_claim_next`) takes one advisory lock for the whole
 *   account, counts the tasks at the vendor, and claims the fair next one: never over the limit.
 * Row locks (`FOR UPDATE SKIP LOCKED`) alone would not do: two instances could each count one slot free
 * and each claim a different row. The lock is held for one short statement, never across a vendor call.
 */
import type { KlingQueueStore } from '../../core/queueStore';
import type { KlingTaskRecord } from '../../core/taskStore';
import type { SqlDatabase } from '../../core/sql';

/** Reported units as SQL (the vendor's string when it is a number; 0 once over without one; else the estimate). */
const unitsSql = (estimate: string) => `(CASE
  WHEN (task->>'final_unit_deduction') ~ '^[0-9]+([.][0-9]+)?$' THEN (task->>'final_unit_deduction')::double precision
  WHEN status IN ('succeed', 'failed') THEN 0 ELSE ${estimate} END)`;
/** At the vendor, or being sent to it: what holds a parallel slot. */
const activeSql = (now: string) =>
  `(status IN ('submitted', 'processing') OR (status = 'queued' AND claimed_until > ${now}))`;

/** The queue's migration steps, appended to the records table's (see `TASK_STORE_MIGRATIONS`). */
export const QUEUE_MIGRATIONS: readonly ((table: string) => string)[] = [
  (t) => `
    ALTER TABLE ${t}
      ADD COLUMN queue_id text,
      ADD COLUMN queued_at bigint,
      ADD COLUMN sent_at bigint,
      ADD COLUMN vendor_task_id text,
      ADD COLUMN max_parallel integer;
    -- The tasks that hold or wait for a slot: what every dispatch and admission counts.
    CREATE INDEX ${t}_active ON ${t} (user_id) WHERE status IN ('queued', 'submitted', 'processing');
    CREATE INDEX ${t}_by_queue_id ON ${t} (user_id, queue_id) WHERE queue_id IS NOT NULL;
    CREATE INDEX ${t}_by_vendor_task_id ON ${t} (user_id, vendor_task_id) WHERE vendor_task_id IS NOT NULL;
    CREATE INDEX ${t}_window ON ${t} (user_id, created_at);
    -- The account's learned parallel limit ('auto'): one row, shared by every instance.
    CREATE TABLE ${t}_account (id integer PRIMARY KEY, learned_limit integer NOT NULL, clean_sends integer NOT NULL);

    CREATE FUNCTION ${t}_enqueue(p_user text, p_external text, p_vendor_external text, p_queue_id text,
      p_prompt text, p_duration double precision, p_now bigint, p_task jsonb, p_max_parallel integer,
      p_queued_max integer, p_tasks_max integer, p_tasks_since bigint, p_units_max double precision,
      p_units_since bigint, p_estimate double precision) RETURNS jsonb LANGUAGE plpgsql AS $fn$
    DECLARE
      found_row ${t};
      used double precision;
    BEGIN
      -- One admission per user at a time, across instances: the counts hold until this insert commits.
      PERFORM pg_advisory_xact_lock(hashtext('${t}:admit'), hashtext(p_user));
      SELECT * INTO found_row FROM ${t} WHERE user_id = p_user AND external_task_id = p_external;
      IF FOUND THEN RETURN jsonb_build_object('created', false, 'record', to_jsonb(found_row)); END IF;
      SELECT count(*) INTO used FROM ${t} WHERE user_id = p_user AND status = 'queued';
      IF used >= p_queued_max THEN
        RETURN jsonb_build_object('limit', 'queued', 'max', p_queued_max, 'used', used);
      END IF;
      IF p_tasks_max IS NOT NULL THEN
        SELECT count(*) INTO used FROM ${t} WHERE user_id = p_user AND created_at >= p_tasks_since;
        IF used >= p_tasks_max THEN
          RETURN jsonb_build_object('limit', 'tasks', 'max', p_tasks_max, 'used', used);
        END IF;
      END IF;
      IF p_units_max IS NOT NULL THEN
        SELECT coalesce(sum(${unitsSql('p_estimate')}), 0) INTO used FROM ${t}
          WHERE user_id = p_user AND created_at >= p_units_since;
        IF used + p_estimate > p_units_max THEN
          RETURN jsonb_build_object('limit', 'units', 'max', p_units_max, 'used', used);
        END IF;
      END IF;
      INSERT INTO ${t} (user_id, external_task_id, vendor_external_task_id, task_id, queue_id, prompt,
          duration, task, status, queued_at, max_parallel, created_at, updated_at)
        VALUES (p_user, p_external, p_vendor_external, p_queue_id, p_queue_id, p_prompt, p_duration, p_task,
          'queued', p_now, p_max_parallel, p_now, p_now)
        RETURNING * INTO found_row;
      RETURN jsonb_build_object('created', true, 'record', to_jsonb(found_row));
    END $fn$;

    CREATE FUNCTION ${t}_claim_next(p_limit integer, p_now bigint, p_claim_until bigint)
      RETURNS jsonb LANGUAGE plpgsql AS $fn$
    DECLARE
      active integer;
      picked ${t};
    BEGIN
      -- One dispatch decision at a time across instances: the count holds until this claim commits.
      PERFORM pg_advisory_xact_lock(hashtext('${t}:dispatch'));
      IF p_limit IS NOT NULL THEN
        SELECT count(*) INTO active FROM ${t} WHERE ${activeSql('p_now')};
        IF active >= p_limit THEN RETURN NULL; END IF;
      END IF;
      -- Fair: the oldest waiting task of the user with the fewest tasks at the vendor (within the user's
      -- own parallel limit); among equals, the user served longest ago.
      SELECT q.* INTO picked FROM ${t} q
        JOIN (SELECT user_id, count(*) FILTER (WHERE ${activeSql('p_now')}) AS running, max(sent_at) AS last_sent
              FROM ${t} WHERE user_id IN (SELECT user_id FROM ${t} WHERE status = 'queued')
              GROUP BY user_id) u ON u.user_id = q.user_id
        WHERE q.status = 'queued' AND (q.claimed_until IS NULL OR q.claimed_until <= p_now)
          AND (q.max_parallel IS NULL OR u.running < q.max_parallel)
        ORDER BY u.running, u.last_sent NULLS FIRST, q.queued_at, q.seq
        LIMIT 1;
      IF NOT FOUND THEN RETURN NULL; END IF;
      UPDATE ${t} SET claimed_until = p_claim_until, updated_at = p_now
        WHERE user_id = picked.user_id AND external_task_id = picked.external_task_id
        RETURNING * INTO picked;
      RETURN to_jsonb(picked);
    END $fn$;`,
];

interface Listenable {
  listen?(channel: string, callback: (payload: string) => void): Promise<() => Promise<void>>;
  connect?(): Promise<{
    query(text: string): Promise<unknown>;
    on(event: 'notification', listener: () => void): unknown;
    on(event: 'error', listener: (error: Error) => void): unknown;
    release(error?: Error | boolean): void;
  }>;
}

/**
 * The queue operations of `createPostgresTaskStore` on its table. `query` waits for the migrations;
 * `fromRow` reads a row (or a row as JSON) into a record.
 */
export function createPostgresQueueStore(
  db: SqlDatabase,
  table: string,
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  query: (text: string, params: unknown[]) => Promise<any[]>,
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  fromRow: (row: any) => KlingTaskRecord,
): KlingQueueStore {
  const channel = `${table}_queue`;
  return {
    async enqueue(record, admission) {
      const [row] = await query(
        `SELECT ${table}_enqueue($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9, $10, $11, $12, $13, $14, $15) AS result`,
        [
          record.userId,
          record.externalTaskId,
          record.vendorExternalTaskId,
          record.queueId,
          record.prompt,
          record.duration,
          record.createdAt,
          JSON.stringify(record.task),
          admission.parallel ?? null,
          admission.queued,
          admission.tasks?.max ?? null,
          admission.tasks?.since ?? null,
          admission.units?.max ?? null,
          admission.units?.since ?? null,
          admission.units?.estimate ?? 1,
        ],
      );
      const result = typeof row.result === 'string' ? JSON.parse(row.result) : row.result;
      if ('limit' in result) {
        return { refused: { limit: result.limit, max: Number(result.max), used: Number(result.used) } };
      }
      return { record: fromRow(result.record), created: result.created === true };
    },

    async claimNext({ limit, now, claimUntil }) {
      const [row] = await query(`SELECT ${table}_claim_next($1, $2, $3) AS result`, [
        limit ?? null,
        now,
        claimUntil,
      ]);
      const result = typeof row?.result === 'string' ? JSON.parse(row.result) : row?.result;
      return result ? fromRow(result) : undefined;
    },

    async waiting(now) {
      const rows = await query(
        `WITH w AS (
           SELECT *, row_number() OVER (PARTITION BY user_id ORDER BY queued_at, seq) AS k
           FROM ${table} WHERE status = 'queued'),
         s AS (SELECT user_id, max(sent_at) AS last_sent FROM ${table}
               WHERE user_id IN (SELECT user_id FROM w) GROUP BY user_id)
         SELECT w.* FROM w JOIN s USING (user_id)
         ORDER BY w.k, s.last_sent NULLS FIRST, w.queued_at, w.seq`,
        [],
      );
      void now;
      return rows.map((row, index) => ({ record: fromRow(row), position: index + 1 }));
    },

    async stale(before, limit) {
      const rows = await query(
        `SELECT * FROM ${table} WHERE status IN ('submitted', 'processing') AND updated_at < $1
         ORDER BY updated_at LIMIT $2`,
        [before, limit],
      );
      return rows.map(fromRow);
    },

    async usage(userId, since, estimate, now) {
      const [row] = await query(
        `SELECT count(*) FILTER (WHERE created_at >= $2) AS tasks,
           coalesce(sum(${unitsSql('$4::double precision')}) FILTER (WHERE created_at >= $3), 0) AS units,
           count(*) FILTER (WHERE ${activeSql('$5::bigint')}) AS running,
           count(*) FILTER (WHERE status = 'queued') AS queued
         FROM ${table} WHERE user_id = $1`,
        [userId, since.tasks, since.units, estimate, now],
      );
      return {
        tasks: Number(row.tasks),
        units: Number(row.units),
        running: Number(row.running),
        queued: Number(row.queued),
      };
    },

    async account(since, now) {
      const [row] = await query(
        `WITH recent AS (
           SELECT (task->>'final_unit_deduction')::double precision AS units FROM ${table}
           WHERE sent_at IS NOT NULL AND status IN ('succeed', 'failed')
             AND (task->>'final_unit_deduction') ~ '^[0-9]+([.][0-9]+)?$'
           ORDER BY updated_at DESC LIMIT 50)
         SELECT (SELECT count(*) FROM ${table} WHERE ${activeSql('$1::bigint')}) AS running,
           (SELECT count(*) FROM ${table} WHERE status = 'queued') AS waiting,
           (SELECT avg(units) FROM recent WHERE units > 0) AS average`,
        [now],
      );
      const averageUnits = row.average === null ? undefined : Number(row.average);
      const [units] = await query(
        `SELECT coalesce(sum(${unitsSql('$2::double precision')}), 0) AS units FROM ${table} WHERE created_at >= $1`,
        [since, averageUnits ?? 1],
      );
      return {
        running: Number(row.running),
        waiting: Number(row.waiting),
        units: Number(units.units),
        averageUnits,
      };
    },

    async learnedLimit() {
      const [row] = await query(`SELECT learned_limit, clean_sends FROM ${table}_account WHERE id = 1`, []);
      return row ? { limit: Number(row.learned_limit), cleanSends: Number(row.clean_sends) } : undefined;
    },

    async setLearnedLimit(learned) {
      if (!learned) {
        await query(`DELETE FROM ${table}_account WHERE id = 1`, []);
        return;
      }
      await query(
        `INSERT INTO ${table}_account (id, learned_limit, clean_sends) VALUES (1, $1, $2)
         ON CONFLICT (id) DO UPDATE SET learned_limit = $1, clean_sends = $2`,
        [learned.limit, learned.cleanSends],
      );
    },

    async notify() {
      await query(`SELECT pg_notify($1, '')`, [channel]);
    },

    subscribe(listener) {
      const source = db as SqlDatabase & Listenable;
      let stop: (() => void) | undefined;
      let stopped = false;
      if (typeof source.listen === 'function') {
        void source
          .listen(channel, () => listener())
          .then((unlisten) => {
            // The database may be closing already: nothing to stop then.
            const quiet = () => void unlisten().catch(() => {});
            if (stopped) quiet();
            else stop = quiet;
          })
          .catch(() => {});
      } else if (typeof source.connect === 'function') {
        // A pg Pool: LISTEN needs one connection of its own for as long as we listen.
        void source
          .connect()
          .then(async (client) => {
            client.on('notification', () => listener());
            client.on('error', () => {});
            await client.query(`LISTEN "${channel}"`);
            if (stopped) client.release(true);
            else stop = () => client.release(true);
          })
          .catch(() => {});
      }
      return () => {
        stopped = true;
        stop?.();
      };
    },
  };
}
