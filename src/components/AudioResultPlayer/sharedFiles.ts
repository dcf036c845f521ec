/**
 * Audio files fetched once per URL for every player on the page: the studio's current sound and its history
 * row hold the same bytes and the same `blob:` URL. An entry lives while a player holds it (a count), so
 * memory is bounded by the players on screen: the last release aborts a fetch still under way and revokes
 * the blob URL. No React.
 */

export interface SharedFile {
  /** The bytes, typed by their format. Rejects with the HTTP status (a number: a dead link) or a fault. */
  readonly blob: Promise<Blob>;
  /** The `blob:` URL of those bytes, once they are in. */
  url?: string;
  refs: number;
  abort: AbortController;
}

const files = new Map<string, SharedFile>();

/** The entry of `fileUrl` if one is held, without holding it. */
export const peekFile = (fileUrl: string): SharedFile | undefined => files.get(fileUrl);

/**
 * Holds `fileUrl` (fetching it if nobody holds it yet) and returns its entry. `type` types the blob: a host
 * may send a generic type and a media element may go by it. Each hold needs one `releaseFile`.
 */
export function holdFile(fileUrl: string, type: string): SharedFile {
  let file = files.get(fileUrl);
  if (!file) {
    const abort = new AbortController();
    const entry: SharedFile = {
      refs: 0,
      abort,
      blob: fetch(fileUrl, { signal: abort.signal }).then(async (response) => {
        if (!response.ok) throw response.status;
        const bytes = await response.blob();
        // A typed view of the same bytes (no copy).
        const blob = bytes.slice(0, bytes.size, type);
        // Released meanwhile: no URL that nothing would revoke.
        abort.signal.throwIfAborted();
        entry.url = URL.createObjectURL(blob);
        return blob;
      }),
    };
    // A network or CORS failure is not kept: the next hold asks again (it may work by then). An HTTP status
    // is an answer (a dead link), kept while held.
    entry.blob.catch((reason) => typeof reason !== 'number' && forget(fileUrl, entry));
    files.set(fileUrl, (file = entry));
  }
  file.refs++;
  return file;
}

function forget(fileUrl: string, file: SharedFile) {
  if (files.get(fileUrl) === file) files.delete(fileUrl);
}

/** Lets one hold of `file` go; the last one aborts its fetch and revokes its blob URL. */
export function releaseFile(fileUrl: string, file: SharedFile): void {
  if (--file.refs > 0) return;
  forget(fileUrl, file);
  file.abort.abort();
  if (file.url) URL.revokeObjectURL(file.url);
}
