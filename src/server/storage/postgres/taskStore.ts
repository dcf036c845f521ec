/**
 * Task records in PostgreSQL: an embedded `@electric-sql/pglite` database (one machine, a folder on disk)
 * or a `pg` Pool (a PostgreSQL server shared by several proxy instances). One SQL schema serves both, and
 * the store migrates it itself. Neither package is imported here: the app passes its own database.
 */
import { TERMINAL_STATUSES, type WireTask } from '../../../api/schemas';
import { statusRankSql, toKnownStatus } from '../../../api/status';
import { statusRank, type KlingTaskRecord, type KlingTaskRecordPatch } from '../../core/taskStore';
import { checkTableName, type SqlDatabase } from '../../core/sql';
import { createMigrator, type MigrationStep } from './migrate';
import type { KlingTaskEventLog } from '../../core/eventLog';
import { postgresTaskEventLog } from './eventLog';
import { createPostgresFileStore, keptFilesPeaksColumn, keptFilesSchema } from './fileStore';
import { createPostgresQueueStore, QUEUE_MIGRATIONS } from './queueStore';
import type { KlingQueueingTaskStore } from '../../core/queueStore';

export interface PostgresTaskStoreOptions {
  /**
   * The table of the records: a plain SQL name (letters, digits, `_`); its migrations are kept in
   * `{table}_migrations`. Defaults to `'kling_tasks'`.
   */
  table?: string;
}

/** The records' schema, one step per version, in order (run by `migrate.ts`). */
export const TASK_STORE_MIGRATIONS: readonly MigrationStep[] = [
  (t) => `
    CREATE TABLE ${t} (
      user_id text NOT NULL,
      external_task_id text NOT NULL,
      vendor_external_task_id text NOT NULL,
      task_id text,
      prompt text NOT NULL,
      duration double precision NOT NULL,
      task jsonb,
      status text,
      claimed_until bigint,
      created_at bigint NOT NULL,
      updated_at bigint NOT NULL,
      -- Breaks ties between records of the same millisecond, so "newest first" is a total order.
      seq bigserial NOT NULL,
      -- The exactly-once gate: one record per (user, browser external id), across restarts and instances.
      PRIMARY KEY (user_id, external_task_id)
    );
    CREATE INDEX ${t}_by_task_id ON ${t} (user_id, task_id) WHERE task_id IS NOT NULL;
    -- The list query: one user's records that reached the vendor, newest first.
    CREATE INDEX ${t}_list ON ${t} (user_id, created_at DESC, seq DESC) WHERE task_id IS NOT NULL;`,
  // 2: kept copies of the result files (`keepAudio`), one row per file, the bytes inline (bytea).
  (t) => `${keptFilesSchema(`${t}_files`)};`,
  // 3: each kept WAV's waveform (`peaks`), answered on the audio so players draw it without a download.
  (t) => `${keptFilesPeaksColumn(`${t}_files`)};`,
  // 4: history the user manages: a name, a star, the takes' group, and the search. The search reads
  // lower-cased copies of the prompt and the name made in JavaScript (`searchWords`' lower case, the same
  // on every store whatever the database's locale); older rows get PostgreSQL's lower() once.
  (t) => `
    ALTER TABLE ${t}
      ADD COLUMN title text,
      ADD COLUMN starred boolean NOT NULL DEFAULT false,
      ADD COLUMN group_id text,
      ADD COLUMN edited_at bigint,
      ADD COLUMN search_prompt text NOT NULL DEFAULT '',
      ADD COLUMN search_title text NOT NULL DEFAULT '';
    UPDATE ${t} SET search_prompt = lower(prompt);
    -- The Starred filter: one user's starred records, newest first.
    CREATE INDEX ${t}_starred ON ${t} (user_id, created_at DESC, seq DESC) WHERE task_id IS NOT NULL AND starred;
    -- Words anywhere in the prompt or the name (LIKE '%word%'): trigram indexes where pg_trgm can be had;
    -- without it (PGlite, a server without the extension or the right) the search reads one user's rows
    -- through ${t}_list, which is what the bench measures.
    BEGIN
      CREATE EXTENSION IF NOT EXISTS pg_trgm;
      CREATE INDEX ${t}_search_prompt ON ${t} USING gin (search_prompt gin_trgm_ops);
      CREATE INDEX ${t}_search_title ON ${t} USING gin (search_title gin_trgm_ops);
    EXCEPTION WHEN OTHERS THEN
      NULL;
    END;`,
  // 5: the queue (`limits`): waiting tasks are rows; the admission and dispatch functions.
  ...QUEUE_MIGRATIONS,
  // 6: a callback token names a user's task by the external id the vendor got (a fixed-size reference).
  (t) => `CREATE INDEX ${t}_by_vendor_id ON ${t} (vendor_external_task_id);`,
];

// `mayReplace` in SQL, against the row as it is: a new task ($5: its status, $6: its rank) replaces the
// stored one unless that one is finished or further along.
const MAY_REPLACE = `$5::text IS NOT NULL AND (status IS NULL OR (status NOT IN (${TERMINAL_STATUSES.map((s) => `'${s}'`).join(', ')})
             AND $6::int >= ${statusRankSql('status')}))`;

interface Row {
  user_id: string;
  external_task_id: string;
  vendor_external_task_id: string;
  task_id: string | null;
  prompt: string;
  duration: number;
  task: WireTask | string | null;
  status: string | null;
  claimed_until: string | number | bigint | null;
  created_at: string | number | bigint;
  updated_at: string | number | bigint;
  queue_id?: string | null;
  queued_at?: string | number | bigint | null;
  sent_at?: string | number | bigint | null;
  vendor_task_id?: string | null;
  max_parallel?: number | null;
  title?: string | null;
  starred?: boolean | null;
  group_id?: string | null;
  edited_at?: string | number | bigint | null;
}

// pg answers bigint columns as strings and PGlite as numbers or BigInts: all are milliseconds.
const ms = (value: string | number | bigint) => Number(value);

function fromRow(row: Row): KlingTaskRecord {
  const record: KlingTaskRecord = {
    userId: row.user_id,
    externalTaskId: row.external_task_id,
    vendorExternalTaskId: row.vendor_external_task_id,
    prompt: row.prompt,
    duration: Number(row.duration),
    createdAt: ms(row.created_at),
    updatedAt: ms(row.updated_at),
  };
  if (row.task_id !== null) record.taskId = row.task_id;
  if (row.task !== null) record.task = typeof row.task === 'string' ? JSON.parse(row.task) : row.task;
  if (row.status !== null) record.status = toKnownStatus(row.status);
  if (row.claimed_until !== null) record.claimedUntil = ms(row.claimed_until);
  if (row.queue_id != null) record.queueId = row.queue_id;
  if (row.queued_at != null) record.queuedAt = ms(row.queued_at);
  if (row.sent_at != null) record.sentAt = ms(row.sent_at);
  if (row.vendor_task_id != null) record.vendorTaskId = row.vendor_task_id;
  if (row.max_parallel != null) record.maxParallel = Number(row.max_parallel);
  if (row.title) record.title = row.title;
  if (row.starred) record.starred = true;
  if (row.group_id) record.groupId = row.group_id;
  if (row.edited_at != null) record.editedAt = ms(row.edited_at);
  return record;
}

/** `word` as a LIKE pattern that finds it anywhere: `%`, `_` and `\` are matched as themselves. */
const containsPattern = (word: string) => `%${word.replace(/[\\%_]/g, '\\$&')}%`;

/**
 * Keeps the proxy's task records in PostgreSQL: pass an `@electric-sql/pglite` database (embedded, one
 * machine, a folder on disk) or a `pg` Pool (PostgreSQL, several proxy instances behind a load balancer).
 * Creates and migrates its table at first use; safe when several instances start at once.
 *
 * @example
 * import { PGlite } from '@electric-sql/pglite';
 * const store = createPostgresTaskStore(new PGlite('./data/kling'));
 * // or: createPostgresTaskStore(new pg.Pool({ connectionString: process.env.DATABASE_URL }))
 * const handler = createKlingAudioProxy({ apiKey, authorize, store });
 */
export function createPostgresTaskStore(
  db: SqlDatabase,
  options: PostgresTaskStoreOptions = {},
): KlingQueueingTaskStore {
  const table = checkTableName(options.table ?? 'kling_tasks', 'createPostgresTaskStore');
  if (typeof db?.query !== 'function') {
    throw new TypeError('createPostgresTaskStore: pass a database with query(text, params).');
  }
  const ready = createMigrator(db, table, TASK_STORE_MIGRATIONS);
  const query = async (text: string, params: unknown[]) => {
    await ready();
    return (await db.query(text, params)).rows as Row[];
  };

  let events: KlingTaskEventLog | undefined;
  return {
    files: createPostgresFileStore(db, { table: `${table}_files`, ready }),
    // The default table keeps the event log's own default name, so a proxy that named the log before
    // (`events: createPostgresTaskEventLog(db)`) and one that does not share it.
    eventLog: () =>
      (events ??= postgresTaskEventLog(
        db,
        table === 'kling_tasks' ? 'kling_task_events' : `${table}_events`,
      )),
    // The queue over these very rows: a waiting task is a record (see `limits`).
    queue: createPostgresQueueStore(db, table, query, fromRow),
    async claimTask(record) {
      const inserted = await query(
        `INSERT INTO ${table} (user_id, external_task_id, vendor_external_task_id, prompt, duration,
           claimed_until, created_at, updated_at, group_id, search_prompt)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $8, $9)
         ON CONFLICT (user_id, external_task_id) DO NOTHING
         RETURNING *`,
        [
          record.userId,
          record.externalTaskId,
          record.vendorExternalTaskId,
          record.prompt,
          record.duration,
          record.claimedUntil ?? null,
          record.createdAt,
          record.groupId || null,
          record.prompt.toLowerCase(),
        ],
      );
      if (inserted[0]) return { record: fromRow(inserted[0]), created: true };
      const [existing] = await query(`SELECT * FROM ${table} WHERE user_id = $1 AND external_task_id = $2`, [
        record.userId,
        record.externalTaskId,
      ]);
      // Deleted between the two statements (the user deleted it meanwhile): the id is free again.
      if (!existing) return this.claimTask(record);
      return { record: fromRow(existing), created: false };
    },

    async updateTask(userId, externalTaskId, patch: KlingTaskRecordPatch, condition) {
      const status = patch.task ? toKnownStatus(patch.task.task_status) : null;
      // One statement: the "never backwards" rule is checked against the row as it is, not as it was read.
      const rows = await query(
        `UPDATE ${table} SET
           task_id = COALESCE($3, task_id),
           task = CASE WHEN ${MAY_REPLACE} THEN $4::jsonb ELSE task END,
           status = CASE WHEN ${MAY_REPLACE} THEN $5::text ELSE status END,
           claimed_until = CASE WHEN $7::boolean THEN $8::bigint ELSE claimed_until END,
           title = CASE WHEN $12::boolean THEN $13::text ELSE title END,
           search_title = CASE WHEN $12::boolean THEN $14::text ELSE search_title END,
           starred = COALESCE($15::boolean, starred),
           edited_at = CASE WHEN $12::boolean OR $15::boolean IS NOT NULL THEN $9 ELSE edited_at END,
           vendor_task_id = COALESCE($16, vendor_task_id),
           sent_at = COALESCE($17::bigint, sent_at),
           updated_at = $9
         WHERE user_id = $1 AND external_task_id = $2
           AND ($10::boolean IS NOT TRUE OR claimed_until IS NOT DISTINCT FROM $11::bigint)
         RETURNING *`,
        [
          userId,
          externalTaskId,
          patch.taskId ?? null,
          patch.task ? JSON.stringify(patch.task) : null,
          status,
          status === null ? 0 : statusRank(status),
          patch.claimedUntil !== undefined,
          patch.claimedUntil ?? null,
          Date.now(),
          condition !== undefined && 'ifClaimedUntil' in condition,
          condition?.ifClaimedUntil ?? null,
          patch.title !== undefined,
          patch.title || null,
          (patch.title || '').toLowerCase(),
          patch.starred ?? null,
          patch.vendorTaskId ?? null,
          patch.sentAt ?? null,
        ],
      );
      return rows[0] && fromRow(rows[0]);
    },

    async findTask(userId, id) {
      const rows = await query(
        `SELECT * FROM ${table} WHERE user_id = $1
           AND (task_id = $2 OR external_task_id = $2 OR queue_id = $2 OR vendor_task_id = $2)
         ORDER BY (task_id IS NOT DISTINCT FROM $2) DESC, (external_task_id = $2) DESC LIMIT 1`,
        [userId, id],
      );
      return rows[0] && fromRow(rows[0]);
    },

    async findTaskByVendorExternalId(vendorExternalTaskId) {
      const rows = await query(
        `SELECT * FROM ${table} WHERE vendor_external_task_id = $1 ORDER BY user_id = '' LIMIT 1`,
        [vendorExternalTaskId],
      );
      return rows[0] && fromRow(rows[0]);
    },

    async findTasks(userId, taskIds) {
      if (taskIds.length === 0) return [];
      const rows = await query(`SELECT * FROM ${table} WHERE user_id = $1 AND task_id = ANY($2::text[])`, [
        userId,
        [...taskIds],
      ]);
      return rows.map(fromRow);
    },

    async listTasks(userId, { pageNum, pageSize }, filter = {}) {
      const params: unknown[] = [userId, pageSize, (pageNum - 1) * pageSize];
      const where = ['user_id = $1', 'task_id IS NOT NULL'];
      if (filter.starred) where.push('starred');
      if (filter.status) where.push(`status = $${params.push(filter.status)}`);
      // Every word, as data: a parameter each, its LIKE wildcards escaped.
      for (const word of filter.words ?? []) {
        const p = `$${params.push(containsPattern(word))}`;
        where.push(`(search_prompt LIKE ${p} ESCAPE '\\' OR search_title LIKE ${p} ESCAPE '\\')`);
      }
      const rows = await query(
        `SELECT * FROM ${table} WHERE ${where.join(' AND ')}
         ORDER BY created_at DESC, seq DESC LIMIT $2 OFFSET $3`,
        params,
      );
      return rows.map(fromRow);
    },

    async deleteTask(userId, externalTaskId) {
      const rows = await query(
        `DELETE FROM ${table} WHERE user_id = $1 AND external_task_id = $2 RETURNING *`,
        [userId, externalTaskId],
      );
      return rows[0] && fromRow(rows[0]);
    },
  };
}
