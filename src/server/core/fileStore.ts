/**
 * Where kept copies live: the contract (`KeptFileStore`). The stores are in `storage/` (memory, and
 * PostgreSQL or PGlite: the same schema, `bytea` columns). A kept file belongs to one user and is written
 * once: a second write of the same file is a no-op.
 */

/** The two formats every result comes in, and the media type each is served with. */
export const KEPT_FORMATS = { mp3: 'audio/mpeg', wav: 'audio/wav' } as const;
export type KeptFormat = keyof typeof KEPT_FORMATS;

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
  /**
   * The clip's waveform (0–1, a few hundred values), computed from the WAV when it was kept and answered
   * on the audio (`task_result.audios[].peaks`). Absent on the MP3, and for a WAV that is not plain PCM.
   */
  peaks?: number[];
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
  /**
   * Bytes `start` to `end` (inclusive) of one of the user's files, read without the rest (a seek, a
   * 1-byte probe); `undefined` when the user has no such file or it holds no bytes. Optional: without
   * it the files route reads the whole file with `getFile`.
   */
  readFileRange?(
    userId: string,
    taskId: string,
    audioId: string,
    format: KeptFormat,
    start: number,
    end: number,
  ): Promise<Uint8Array | undefined>;
  /** What is kept of these tasks of the user (no bytes). */
  findFiles(userId: string, taskIds: readonly string[]): Promise<KeptFileInfo[]>;
  /**
   * Forgets every kept file of one of the user's tasks (the task was deleted). A store without it keeps
   * the files of deleted tasks.
   */
  deleteFiles?(userId: string, taskId: string): Promise<void>;
}
