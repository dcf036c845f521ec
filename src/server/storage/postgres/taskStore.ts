/**
 * Task records in PostgreSQL: an embedded `@electric-sql/pglite` database (one machine, a folder on disk)
 * or a `pg` Pool (a PostgreSQL server shared by several proxy instances). One SQL schema serves both, and
 * the store migrates it itself. Neither package is imported here: the app passes its own database.
 */
import { TERMINAL_STATUSES, type WireTask } from '../../../api/schemas';
import { statusRankSql, toKnownStatus } from '../../../api/status';
import {
  statusRank,
  type KlingTaskRecord,
  type KlingTaskRecordPatch,
  type KlingTaskStore,
} from '../../core/taskStore';
import { checkTableName, type SqlDatabase } from '../../core/sql';
import { createMigrator, type MigrationStep } from './migrate';
import { createPostgresFileStore, keptFilesPeaksColumn, keptFilesSchema } from './fileStore';

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
  // 4: a callback token names a user's task by the external id the vendor got (a fixed-size reference).
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
  return record;
}

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
): KlingTaskStore {
  const table = checkTableName(options.table ?? 'kling_tasks', 'createPostgresTaskStore');
  if (typeof db?.query !== 'function') {
    throw new TypeError('createPostgresTaskStore: pass a database with query(text, params).');
  }
  const ready = createMigrator(db, table, TASK_STORE_MIGRATIONS);
  const query = async (text: string, params: unknown[]) => {
    await ready();
    return (await db.query(text, params)).rows as Row[];
  };

  return {
    files: createPostgresFileStore(db, { table: `${table}_files`, ready }),
    async claimTask(record) {
      const inserted = await query(
        `INSERT INTO ${table} (user_id, external_task_id, vendor_external_task_id, prompt, duration,
           claimed_until, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $7)
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
        ],
      );
      if (inserted[0]) return { record: fromRow(inserted[0]), created: true };
      // Records are never deleted, so the one that won the conflict is there to read.
      const [existing] = await query(`SELECT * FROM ${table} WHERE user_id = $1 AND external_task_id = $2`, [
        record.userId,
        record.externalTaskId,
      ]);
      return { record: fromRow(existing!), created: false };
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
        ],
      );
      return rows[0] && fromRow(rows[0]);
    },

    async findTask(userId, id) {
      const rows = await query(
        `SELECT * FROM ${table} WHERE user_id = $1 AND (task_id = $2 OR external_task_id = $2)
         ORDER BY (task_id IS NOT DISTINCT FROM $2) DESC LIMIT 1`,
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

    async listTasks(userId, { pageNum, pageSize }) {
      const rows = await query(
        `SELECT * FROM ${table} WHERE user_id = $1 AND task_id IS NOT NULL
         ORDER BY created_at DESC, seq DESC LIMIT $2 OFFSET $3`,
        [userId, pageSize, (pageNum - 1) * pageSize],
      );
      return rows.map(fromRow);
    },
  };
}
