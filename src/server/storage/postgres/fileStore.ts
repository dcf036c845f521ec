/** Kept files in a SQL table (PostgreSQL through `pg`, or PGlite: the same schema, `bytea` columns). */
import type { KeptFile, KeptFileStore, KeptFormat } from '../../core/fileStore';
import { fromBase64, toBase64 } from '../../core/base64';
import type { SqlDatabase } from '../../core/sql';

interface FileRow {
  user_id: string;
  task_id: string;
  audio_id: string;
  format: KeptFormat;
  content_type: string;
  size: number;
  etag: string;
  bytes_base64?: string | null;
  url: string | null;
  peaks?: number[] | null;
  created_at: string | number;
}

/** The files table's waveform column (a later step: a step is never edited once released). */
export const keptFilesPeaksColumn = (table: string) =>
  `ALTER TABLE ${table} ADD COLUMN IF NOT EXISTS peaks jsonb`;

/** The files table: a step of the task store's migrations. */
export const keptFilesSchema = (table: string) => `
  CREATE TABLE IF NOT EXISTS ${table} (
    user_id text NOT NULL,
    task_id text NOT NULL,
    audio_id text NOT NULL,
    format text NOT NULL CHECK (format IN ('mp3', 'wav')),
    content_type text NOT NULL,
    size integer NOT NULL,
    etag text NOT NULL,
    bytes bytea,
    url text,
    created_at bigint NOT NULL,
    PRIMARY KEY (user_id, task_id, audio_id, format)
  );
  -- Audio is compressed already (MP3) or noise-like (WAV): out of line, without trying to compress it.
  ALTER TABLE ${table} ALTER COLUMN bytes SET STORAGE EXTERNAL`;

// The bytes cross the driver as base64 text (`encode`/`decode` in SQL): PGlite's own bytea conversion is
// several times slower (about 400 ms against 70 ms for a 10 s WAV here), and pg handles either alike.

/**
 * Kept files in a SQL table. `db` is a `pg` Pool or Client, or a PGlite database. The bytes are a
 * `bytea` column, stored out of line (TOAST) without anything else to set up. `createPostgresTaskStore`
 * makes one on `{table}_files`, which its migrations create (`ready` resolves once they have run).
 */
export function createPostgresFileStore(
  db: SqlDatabase,
  { table, ready }: { table: string; ready: () => Promise<unknown> },
): KeptFileStore {
  // `table` is the task store's own name (checked there) with `_files`: within PostgreSQL's 63.
  const migrate = ready;
  const info = (row: FileRow): KeptFile => {
    const file: KeptFile = {
      userId: row.user_id,
      taskId: row.task_id,
      audioId: row.audio_id,
      format: row.format,
      contentType: row.content_type,
      size: Number(row.size),
      etag: row.etag,
      createdAt: Number(row.created_at),
    };
    if (row.url !== null) file.url = row.url;
    if (row.peaks != null) file.peaks = row.peaks;
    if (row.bytes_base64 != null) file.bytes = fromBase64(row.bytes_base64);
    return file;
  };
  return {
    async putFile(file) {
      await migrate();
      await db.query(
        `INSERT INTO ${table} (user_id, task_id, audio_id, format, content_type, size, etag, bytes, url, created_at, peaks)
         VALUES ($1, $2, $3, $4, $5, $6, $7, decode($8, 'base64'), $9, $10, $11::jsonb)
         ON CONFLICT (user_id, task_id, audio_id, format) DO NOTHING`,
        [
          file.userId,
          file.taskId,
          file.audioId,
          file.format,
          file.contentType,
          file.size,
          file.etag,
          file.bytes ? toBase64(file.bytes) : null,
          file.url ?? null,
          file.createdAt,
          file.peaks ? JSON.stringify(file.peaks) : null,
        ],
      );
    },
    async getFile(userId, taskId, audioId, format) {
      await migrate();
      const { rows }: { rows: FileRow[] } = await db.query(
        `SELECT user_id, task_id, audio_id, format, content_type, size, etag, url, created_at, peaks,
           encode(bytes, 'base64') AS bytes_base64
         FROM ${table} WHERE user_id = $1 AND task_id = $2 AND audio_id = $3 AND format = $4`,
        [userId, taskId, audioId, format],
      );
      return rows[0] && info(rows[0]);
    },
    async readFileRange(userId, taskId, audioId, format, start, end) {
      await migrate();
      // Only the range crosses the driver: `substring` of an uncompressed out-of-line value reads just
      // the chunks it needs (the column is STORAGE EXTERNAL).
      const { rows }: { rows: { bytes_base64: string | null }[] } = await db.query(
        `SELECT encode(substring(bytes FROM $5::int FOR $6::int), 'base64') AS bytes_base64
         FROM ${table} WHERE user_id = $1 AND task_id = $2 AND audio_id = $3 AND format = $4`,
        [userId, taskId, audioId, format, start + 1, end - start + 1],
      );
      const text = rows[0]?.bytes_base64;
      return text == null ? undefined : fromBase64(text);
    },
    async findFiles(userId, taskIds) {
      if (taskIds.length === 0) return [];
      await migrate();
      const { rows }: { rows: FileRow[] } = await db.query(
        `SELECT user_id, task_id, audio_id, format, content_type, size, etag, url, created_at, peaks
         FROM ${table} WHERE user_id = $1 AND task_id = ANY($2::text[])`,
        [userId, [...taskIds]],
      );
      return rows.map(info);
    },
    async deleteFiles(userId, taskId) {
      await migrate();
      await db.query(`DELETE FROM ${table} WHERE user_id = $1 AND task_id = $2`, [userId, taskId]);
    },
  };
}
