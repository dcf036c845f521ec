/** Base64 in one place: JWT parts, callback tokens, ETags, derived ids, and kept bytes across SQL. */

/** Bytes as unpadded base64url (RFC 4648 §5): JWT parts, callback tokens, ETags, derived ids. */
export const base64url = (bytes: Uint8Array): string =>
  btoa(String.fromCharCode(...bytes))
    .replace(/=+$/, '')
    .replace(/\+/g, '-')
    .replace(/\//g, '_');

/** Unpadded base64url as bytes; `undefined` when the text is not base64url. */
export function fromBase64url(text: string): Uint8Array | undefined {
  if (!/^[\w-]+$/.test(text)) return undefined;
  try {
    return Uint8Array.from(atob(text.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0));
  } catch {
    return undefined;
  }
}

const hasBuffer = typeof Buffer === 'function';
/** Bytes as padded base64 (large inputs too: Buffer where there is one, chunks otherwise). */
export function toBase64(bytes: Uint8Array): string {
  if (hasBuffer) return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}
/** Padded base64 (line breaks allowed) as bytes. */
export function fromBase64(text: string): Uint8Array {
  // PostgreSQL's encode() breaks lines every 76 characters.
  const clean = text.replace(/\s+/g, '');
  if (hasBuffer) return new Uint8Array(Buffer.from(clean, 'base64'));
  return Uint8Array.from(atob(clean), (char) => char.charCodeAt(0));
}
