/**
 * The one way the server's in-process maps key a user's things: (user, task id), (user, external id),
 * (user, task, audio, format). Each part is prefixed by its length, so no two tuples share a key, and a
 * lookup on the hot path costs no `JSON.stringify`.
 */
export function recordKey(...parts: string[]): string {
  let key = '';
  for (const part of parts) key += `${part.length}:${part}`;
  return key;
}
