/**
 * Kept copies for the proxy: once a task is seen succeeded, both files of each of its audios are fetched
 * once, in the background, and kept (in the store, or in the app's own storage through `put`); answers
 * then point at the copies with `kept: true`, and `{basePath}/files/…` serves them to their owner only.
 * The proxy calls three things: `reachedSucceed` (a record reached `succeed`, e.g. from a callback),
 * `present` (every task it answers goes through it) and `serve` (the files route).
 */
import { TASK_ID_PATTERN, wireAudioId, type WireTask } from '../../api/schemas';
import { envelopeTasks } from '../http/envelope';
import { fileEtag, keptFileUrl, serveFile } from '../http/files';
import { fail, toResponse } from '../http/reply';
import {
  createKeepQueue,
  RETRY_LATER_MS,
  fetchAudioFile,
  isKeepableUrl,
  type FetchAudioFileOptions,
  type KeepQueueOptions,
} from './keeper';
import { wavPeaks } from './peaks';
import { recordKey, recordKeyParts } from '../core/keys';
import {
  KEPT_FORMATS,
  type KeptFile,
  type KeptFileInfo,
  type KeptFileStore,
  type KeptFormat,
} from '../core/fileStore';
import { observeTaskUpdates, type KlingTaskStore } from '../core/taskStore';

/** What `keepAudio.put` is told about the file it stores: the kept file's description, before it has a place. */
export type KeptFileMeta = Omit<KeptFile, 'bytes' | 'url' | 'createdAt'>;

export interface KeepAudioOptions extends FetchAudioFileOptions, Omit<KeepQueueOptions, 'onFailure'> {
  /**
   * Stores a file in the app's own storage (S3, R2, GCS…) and answers its long-lived URL, which answers
   * then carry instead of the vendor's. The store keeps only that URL. Defaults to none: the bytes go in
   * the store, served from `{basePath}/files/…`.
   */
  put?: (file: { bytes: Uint8Array; contentType: string }, meta: KeptFileMeta) => Promise<string>;
  /** Told about each file given up on (retries used up, or refused). Its errors are ignored. */
  onFailure?: (info: { userId: string; taskId: string; error: unknown }) => void;
}

export interface AudioKeeping {
  /** A record reached `succeed`: keep its files in the background (once; a no-op when already kept). */
  reachedSucceed(userId: string, task: WireTask): void;
  /**
   * The tasks as the user gets them: audios whose two files are kept point at the copies, with
   * `kept: true`. A succeeded task not kept yet is queued, so any read (lookup, list) starts keeping it.
   */
  present<T extends WireTask>(userId: string, tasks: readonly T[], origin: string): Promise<T[]>;
  /** Answers `GET`/`HEAD` of one of the user's kept files; 404 when the user has no such file. */
  serve(
    request: Request,
    userId: string,
    file: { taskId: string; audioId: string; format: KeptFormat },
  ): Promise<Response>;
  /** Resolves once no keeping is queued, running or waiting to retry (tests, benchmarks, shutdown). */
  idle(): Promise<void>;
  /** Starts no more keeping and resolves once what is running has ended (see `KeepQueue.close`). */
  close(): Promise<void>;
}

const FORMATS = Object.keys(KEPT_FORMATS) as KeptFormat[];

export function createAudioKeeping({
  store,
  basePath,
  options = {},
}: {
  store: KeptFileStore;
  /** The proxy's mount path, normalised (no trailing slash). */
  basePath: string;
  options?: KeepAudioOptions;
}): AudioKeeping {
  const { put, onFailure, concurrency, retries, backoffMs, retryLaterMs, ...fetchOptions } = options;
  // Tasks whose keeping was given up lately (by record key): their answers stop promising a copy.
  const gaveUp = new Map<string, number>();
  const queue = createKeepQueue({
    concurrency,
    retries,
    backoffMs,
    retryLaterMs,
    onFailure: (key, error) => {
      gaveUp.set(key, Date.now());
      if (gaveUp.size > 10_000) gaveUp.delete(gaveUp.keys().next().value!);
      // The key is the job's (user, task id), made by `recordKey` in `reachedSucceed` below.
      const [userId, taskId] = recordKeyParts(key);
      if (userId !== undefined && taskId !== undefined) onFailure?.({ userId, taskId, error });
    },
  });

  /** Keeps every file of the task that is not kept yet; throws (for a retry) if one could not be. */
  async function keep(userId: string, task: WireTask): Promise<void> {
    const kept = new Set(
      (await store.findFiles(userId, [task.task_id])).map((file) => `${file.audioId}.${file.format}`),
    );
    let failure: unknown;
    const audios = task.task_result?.audios ?? [];
    for (const [index, audio] of audios.entries()) {
      const audioId = wireAudioId(task.task_id, audio, index);
      // The id goes into a URL path: only the safe set, like task ids.
      if (!TASK_ID_PATTERN.test(audioId)) continue;
      for (const format of FORMATS) {
        if (kept.has(`${audioId}.${format}`)) continue;
        const source = format === 'mp3' ? audio.url_mp3 : audio.url_wav;
        // A purged or missing link has nothing to keep.
        if (typeof source !== 'string') continue;
        try {
          const { bytes, contentType } = await fetchAudioFile(source, fetchOptions);
          const etag = await fileEtag(bytes);
          // The waveform, from the WAV's samples (an MP3 would need a decoder): answered on the audio.
          const peaks = format === 'wav' ? wavPeaks(bytes) : undefined;
          const meta: KeptFileMeta = {
            userId,
            taskId: task.task_id,
            audioId,
            format,
            contentType,
            size: bytes.byteLength,
            etag,
            ...(peaks && { peaks }),
          };
          const url = put && (await put({ bytes, contentType }, meta));
          await store.putFile({ ...meta, ...(url ? { url } : { bytes }), createdAt: Date.now() });
        } catch (error) {
          // The other files still get their chance; the job fails (and is retried) as a whole.
          failure ??= error;
        }
      }
    }
    if (failure !== undefined) throw failure;
  }

  const reachedSucceed = (userId: string, task: WireTask) => {
    if (task.task_status !== 'succeed' || !task.task_result?.audios?.length) return;
    queue.add(recordKey(userId, task.task_id), () => keep(userId, task));
  };

  return {
    reachedSucceed,
    async present(userId, tasks, origin) {
      const succeeded = tasks.filter((task) => task.task_status === 'succeed' && task.task_result?.audios);
      if (succeeded.length === 0) return [...tasks];
      let files: KeptFileInfo[];
      try {
        files = await store.findFiles(
          userId,
          succeeded.map((task) => task.task_id),
        );
      } catch {
        // Nothing blocks an answer: without the store, the vendor's URLs go out as they are.
        return [...tasks];
      }
      const byId = new Map(files.map((file) => [`${file.taskId}/${file.audioId}.${file.format}`, file]));
      return tasks.map((task) => {
        const audios = task.task_result?.audios;
        if (task.task_status !== 'succeed' || !audios) return task;
        let complete = true;
        // A copy is on its way (queued, running or retrying) unless keeping this task was given up lately.
        const failed = gaveUp.get(recordKey(userId, task.task_id));
        const coming = failed === undefined || Date.now() - failed >= (retryLaterMs ?? RETRY_LATER_MS);
        const presented = audios.map((audio, index) => {
          const audioId = wireAudioId(task.task_id, audio, index);
          const [mp3, wav] = FORMATS.map((format) => byId.get(`${task.task_id}/${audioId}.${format}`));
          if (!mp3 || !wav) {
            complete = false;
            // `kept: false` tells the browser to read the task again for the kept URLs: only where both
            // links can be kept (a purged link, or one the keeper refuses, never is) and the copy is coming.
            const keepable =
              isKeepableUrl(audio.url_mp3, fetchOptions.trustedOrigins) &&
              isKeepableUrl(audio.url_wav, fetchOptions.trustedOrigins);
            return coming && keepable ? { ...audio, kept: false } : audio;
          }
          const at = (file: KeptFileInfo) =>
            file.url ?? keptFileUrl(origin, basePath, task.task_id, audioId, file.format);
          return {
            ...audio,
            url_mp3: at(mp3),
            url_wav: at(wav),
            kept: true,
            ...(wav.peaks && { peaks: wav.peaks }),
          };
        });
        if (!complete) reachedSucceed(userId, task);
        return { ...task, task_result: { ...task.task_result, audios: presented } };
      });
    },
    async serve(request, userId, { taskId, audioId, format }) {
      const notFound = () => toResponse(fail(404, 1203, 'Not found.'));
      // The description only (no bytes): HEAD and 304 need nothing more, a range reads only its part.
      const file = (await store.findFiles(userId, [taskId])).find(
        (info) => info.audioId === audioId && info.format === format,
      );
      // A file kept in the app's own storage (`put`) is linked there, not served here.
      if (!file || file.url !== undefined) return notFound();
      const read = store.readFileRange
        ? (start: number, end: number) => store.readFileRange!(userId, taskId, audioId, format, start, end)
        : async (start: number, end: number) =>
            (await store.getFile(userId, taskId, audioId, format))?.bytes?.slice(start, end + 1);
      const served = await serveFile(request, {
        size: file.size,
        read,
        contentType: file.contentType,
        etag: file.etag,
      });
      return served ?? notFound();
    },
    idle: () => queue.idle(),
    close: () => queue.close(),
  };
}

/**
 * The store as the proxy uses it when keeping copies: every change that leaves a record `succeed` (a
 * lookup, a list refresh, a callback) is "a record reached succeed", wherever it came from, because
 * every change goes through `updateTask`.
 */
export function observeSucceeded(store: KlingTaskStore, keeping: AudioKeeping): KlingTaskStore {
  return observeTaskUpdates(store, (record) => {
    if (record.status === 'succeed' && record.task) keeping.reachedSucceed(record.userId, record.task);
  });
}

/**
 * A proxy answer (the vendor's envelope around one task or a list) with its kept audios pointing at the
 * copies. Any other answer, or one that does not parse, is returned as it is.
 */
export async function presentReply<R extends { status: number; body: string }>(
  keeping: AudioKeeping,
  userId: string,
  reply: R,
  origin: string,
): Promise<R> {
  const found = envelopeTasks(reply);
  if (!found) return reply;
  const { envelope, tasks, list } = found;
  // Only a succeeded task has files to point at: a pending poll's answer goes out as it came.
  if (!tasks.some((task) => task.task_status === 'succeed')) return reply;
  const presented = await keeping.present(userId, tasks, origin);
  return { ...reply, body: JSON.stringify({ ...envelope, data: list ? presented : presented[0] }) };
}

/**
 * The keeping of a proxy from its options: `keepAudio` defaults to on when the app passed a store (the
 * default in-memory store would hold every sound in the process's memory), off otherwise.
 */
export function keepingFor(
  keepAudio: boolean | KeepAudioOptions | undefined,
  store: KlingTaskStore | false,
  storeGiven: boolean,
  basePath: string,
): AudioKeeping | undefined {
  const wanted = keepAudio ?? storeGiven;
  if (wanted === false) return undefined;
  const files = store === false ? undefined : store.files;
  if (!files) {
    if (keepAudio === undefined) return undefined;
    throw new TypeError('createKlingAudioProxy: `keepAudio` needs a `store` that keeps files.');
  }
  return createAudioKeeping({ store: files, basePath, options: wanted === true ? {} : wanted });
}
