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

/** The parts of a key `recordKey` made (its inverse); `[]` for a text it did not make. */
export function recordKeyParts(key: string): string[] {
  const parts: string[] = [];
  for (let at = 0; at < key.length;) {
    const colon = key.indexOf(':', at);
    const length = colon > at ? Number(key.slice(at, colon)) : NaN;
    if (!Number.isInteger(length) || colon + 1 + length > key.length) return [];
    parts.push(key.slice(colon + 1, colon + 1 + length));
    at = colon + 1 + length;
  }
  return parts;
}
