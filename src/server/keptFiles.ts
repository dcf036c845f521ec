/**
 * Where kept copies live: the contract (`KeptFileStore`), an in-memory store, and the SQL one (PostgreSQL
 * through `pg`, or PGlite: the same schema, `bytea` columns). A kept file belongs to one user and is
 * written once: a second write of the same file is a no-op.
 */
import type { KeptFormat } from './files';
import type { SqlDatabase } from './postgresStore';

/** One kept file. */
export interface KeptFile {
  /** Whose file it is: the owner of the task (`''` for the shared space). */
  userId: string;
  taskId: string;
  audioId: string;
  format: KeptFormat;
  /** The exact media type it is served with. */
  contentType: string;
  /** Bytes. */
  size: number;
  /** A strong entity tag, quoted. */
  etag: string;
  /** The bytes, when the store holds them (the default). */
  bytes?: Uint8Array;
  /** Where the app's own storage put it (`keepAudio.put`), when the store holds only the address. */
  url?: string;
  /** Milliseconds since the epoch. */
  createdAt: number;
}

/** A kept file without its bytes: what an answer needs to point at it. */
export type KeptFileInfo = Omit<KeptFile, 'bytes'>;

export interface KeptFileStore {
  /** Writes a file unless it is already kept (then nothing changes). */
  putFile(file: KeptFile): Promise<void>;
  /** One of the user's files, bytes included; `undefined` when the user has no such file. */
  getFile(userId: string, taskId: string, audioId: string, format: KeptFormat): Promise<KeptFile | undefined>;
  /** What is kept of these tasks of the user (no bytes). */
  findFiles(userId: string, taskIds: readonly string[]): Promise<KeptFileInfo[]>;
}

const key = (userId: string, taskId: string, audioId: string, format: string) =>
  JSON.stringify([userId, taskId, audioId, format]);

/** Kept files in this process's memory (lost at restart): the default beside the memory task store. */
export function createMemoryFileStore(): KeptFileStore {
  const files = new Map<string, KeptFile>();
  const byTask = new Map<string, Set<string>>();
  const taskKey = (userId: string, taskId: string) => JSON.stringify([userId, taskId]);
  return {
    async putFile(file) {
      const id = key(file.userId, file.taskId, file.audioId, file.format);
      if (files.has(id)) return;
      // A copy: what the caller does with its array afterwards does not change the kept file.
      files.set(id, { ...file, bytes: file.bytes?.slice() });
      const task = taskKey(file.userId, file.taskId);
      if (!byTask.has(task)) byTask.set(task, new Set());
      byTask.get(task)!.add(id);
    },
    async getFile(userId, taskId, audioId, format) {
      return files.get(key(userId, taskId, audioId, format));
    },
    async findFiles(userId, taskIds) {
      return taskIds.flatMap((taskId) =>
        [...(byTask.get(taskKey(userId, taskId)) ?? [])].map((id) => {
          const { bytes: _bytes, ...info } = files.get(id)!;
          return info;
        }),
      );
    },
  };
}

interface FileRow {
  user_id: string;
  task_id: string;
  audio_id: string;
  format: KeptFormat;
  content_type: string;
  size: number;
  etag: string;
  bytes?: Uint8Array | null;
  url: string | null;
  created_at: string | number;
}

/** The files table: a step of the task store's migrations (and run on its own by a standalone file store). */
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
  )`;

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/**
 * Kept files in a SQL table. `db` is a `pg` Pool or Client, or a PGlite database. The bytes are a
 * `bytea` column: a 10 s sound is about 1 MB in both formats together, which PostgreSQL stores out of
 * line (TOAST) without anything else to set up. `createPostgresTaskStore` makes one on `{table}_files`,
 * created by its migrations (`ready`); without `ready`, the table is created at first use.
 */
export function createPostgresFileStore(
  db: SqlDatabase,
  options: { table?: string; ready?: () => Promise<unknown> } = {},
): KeptFileStore {
  const table = options.table ?? 'kling_tasks_files';
  if (!IDENTIFIER.test(table)) throw new TypeError(`createPostgresFileStore: bad table name ${table}`);
  let created: Promise<unknown> | undefined;
  const migrate =
    options.ready ??
    (() =>
      (created ??= db.query(keptFilesSchema(table)).catch((error: unknown) => {
        // A failed migration (database down at start) is tried again on the next call.
        created = undefined;
        throw error;
      })));
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
    // pg hands out a Buffer, PGlite a Uint8Array: both are Uint8Arrays.
    if (row.bytes) file.bytes = new Uint8Array(row.bytes.buffer, row.bytes.byteOffset, row.bytes.byteLength);
    return file;
  };
  return {
    async putFile(file) {
      await migrate();
      await db.query(
        `INSERT INTO ${table} (user_id, task_id, audio_id, format, content_type, size, etag, bytes, url, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
         ON CONFLICT (user_id, task_id, audio_id, format) DO NOTHING`,
        [
          file.userId,
          file.taskId,
          file.audioId,
          file.format,
          file.contentType,
          file.size,
          file.etag,
          file.bytes ?? null,
          file.url ?? null,
          file.createdAt,
        ],
      );
    },
    async getFile(userId, taskId, audioId, format) {
      await migrate();
      const { rows }: { rows: FileRow[] } = await db.query(
        `SELECT * FROM ${table} WHERE user_id = $1 AND task_id = $2 AND audio_id = $3 AND format = $4`,
        [userId, taskId, audioId, format],
      );
      return rows[0] && info(rows[0]);
    },
    async findFiles(userId, taskIds) {
      if (taskIds.length === 0) return [];
      await migrate();
      const { rows }: { rows: FileRow[] } = await db.query(
        `SELECT user_id, task_id, audio_id, format, content_type, size, etag, url, created_at
         FROM ${table} WHERE user_id = $1 AND task_id = ANY($2::text[])`,
        [userId, [...taskIds]],
      );
      return rows.map(info);
    },
  };
}
