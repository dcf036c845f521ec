/** Reading a request body within bounds. */
import { fail, type Reply } from './reply';

/**
 * Reads a body up to `max` bytes as UTF-8 by `deadline`: the text, or the 413 / 408 answer once it is
 * larger or slower (then the rest is not read); throws on invalid UTF-8.
 */
export async function readBody(request: Request, max: number, deadline: number): Promise<string | Reply> {
  const tooLarge = () => fail(413, 1200, `The request body is larger than ${max} bytes.`);
  // A declared length over the cap is refused before reading; a missing or false one is caught below.
  if (Number(request.headers.get('content-length')) > max) return tooLarge();
  const reader = request.body?.getReader();
  if (!reader) return '';
  // A body trickled a byte at a time would hold the connection as long as the client likes.
  let late = false;
  const timer = setTimeout(
    () => {
      late = true;
      void reader.cancel().catch(() => {});
    },
    Math.max(0, deadline - Date.now()),
  );
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let text = '';
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (late) return fail(408, 1200, 'The request body arrived too slowly.');
      if (done) return text + decoder.decode();
      size += value.byteLength;
      if (size > max) {
        void reader.cancel().catch(() => {});
        return tooLarge();
      }
      text += decoder.decode(value, { stream: true });
    }
  } finally {
    clearTimeout(timer);
  }
}
