/**
 * Where kept copies live: the contract (`KeptFileStore`), an in-memory store, and the SQL one (PostgreSQL
 * through `pg`, or PGlite: the same schema, `bytea` columns). A kept file belongs to one user and is
 * written once: a second write of the same file is a no-op.
 */
import type { KeptFormat } from '../http/files';
import { recordKey as key } from './keys';
import type { SqlDatabase } from '../storage/postgres/taskStore';

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

/** Kept files in this process's memory (lost at restart): the default beside the memory task store. */
export function createMemoryFileStore(): KeptFileStore {
  const files = new Map<string, KeptFile>();
  const byTask = new Map<string, Set<string>>();
  return {
    async putFile(file) {
      const id = key(file.userId, file.taskId, file.audioId, file.format);
      if (files.has(id)) return;
      // A copy: what the caller does with its array afterwards does not change the kept file.
      files.set(id, { ...file, bytes: file.bytes?.slice() });
      const task = key(file.userId, file.taskId);
      if (!byTask.has(task)) byTask.set(task, new Set());
      byTask.get(task)!.add(id);
    },
    async getFile(userId, taskId, audioId, format) {
      return files.get(key(userId, taskId, audioId, format));
    },
    async findFiles(userId, taskIds) {
      return taskIds.flatMap((taskId) =>
        [...(byTask.get(key(userId, taskId)) ?? [])].map((id) => {
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
  bytes_base64?: string | null;
  url: string | null;
  created_at: string | number;
}

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

// The bytes cross the driver as base64 text: PGlite's own bytea conversion is several times slower
// (about 400 ms against 70 ms for a 10 s WAV here), and pg handles either alike.
const hasBuffer = typeof Buffer === 'function';
function toBase64(bytes: Uint8Array): string {
  if (hasBuffer) return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}
function fromBase64(text: string): Uint8Array {
  // PostgreSQL's encode() breaks lines every 76 characters.
  const clean = text.replace(/\s+/g, '');
  if (hasBuffer) return new Uint8Array(Buffer.from(clean, 'base64'));
  return Uint8Array.from(atob(clean), (char) => char.charCodeAt(0));
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/**
 * Kept files in a SQL table. `db` is a `pg` Pool or Client, or a PGlite database. The bytes are a
 * `bytea` column, stored out of line (TOAST) without anything else to set up. `createPostgresTaskStore`
 * makes one on `{table}_files`, which its migrations create (`ready` resolves once they have run).
 */
export function createPostgresFileStore(
  db: SqlDatabase,
  { table, ready }: { table: string; ready: () => Promise<unknown> },
): KeptFileStore {
  if (!IDENTIFIER.test(table)) throw new TypeError(`createPostgresFileStore: bad table name ${table}`);
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
    if (row.bytes_base64 != null) file.bytes = fromBase64(row.bytes_base64);
    return file;
  };
  return {
    async putFile(file) {
      await migrate();
      await db.query(
        `INSERT INTO ${table} (user_id, task_id, audio_id, format, content_type, size, etag, bytes, url, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, decode($8, 'base64'), $9, $10)
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
        ],
      );
    },
    async getFile(userId, taskId, audioId, format) {
      await migrate();
      const { rows }: { rows: FileRow[] } = await db.query(
        `SELECT user_id, task_id, audio_id, format, content_type, size, etag, url, created_at,
           encode(bytes, 'base64') AS bytes_base64
         FROM ${table} WHERE user_id = $1 AND task_id = $2 AND audio_id = $3 AND format = $4`,
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
