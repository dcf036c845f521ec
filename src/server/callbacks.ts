/**
 * Callback tokens: `callback_url = {callbackUrl}/callbacks/{token}`. The vendor signs nothing, so the URL
 * itself must be unguessable and bound to one task. A token is the task's vendor-facing external id
 * (known before the vendor answers the create) with an HMAC-SHA256 of it under a server secret: derived on
 * the fly, never stored, so a database leak lets nobody forge one. WebCrypto only.
 */

const encoder = new TextEncoder();
// Domain separation: the same secret also signs the vendor's JWTs; these MACs can never be mistaken for one.
const PURPOSE = 'react-kling-audio callback v1\n';
const MAC_LENGTH = 43; // 32 bytes, base64url without padding

const base64url = (bytes: Uint8Array): string =>
  btoa(String.fromCharCode(...bytes))
    .replace(/=+$/, '')
    .replace(/\+/g, '-')
    .replace(/\//g, '_');

function fromBase64url(text: string): Uint8Array | undefined {
  if (!/^[\w-]+$/.test(text)) return undefined;
  try {
    return Uint8Array.from(atob(text.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0));
  } catch {
    return undefined;
  }
}

/** Signs and checks callback tokens with one secret. */
export interface CallbackTokens {
  /** The token for the task with this vendor-facing external id. */
  sign(ref: string): Promise<string>;
  /** The external id a token was made for, or `undefined` for a token this secret never made. */
  verify(token: string): Promise<string | undefined>;
}

export function createCallbackTokens(secret: string): CallbackTokens {
  const key = crypto.subtle.importKey(
    'raw',
    encoder.encode(secret),
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['sign', 'verify'],
  );
  const message = (ref: string) => encoder.encode(PURPOSE + ref);
  return {
    async sign(ref) {
      const mac = new Uint8Array(await crypto.subtle.sign('HMAC', await key, message(ref)));
      return `${base64url(mac)}.${encodeURIComponent(ref)}`;
    },
    async verify(token) {
      if (token.length <= MAC_LENGTH + 1 || token[MAC_LENGTH] !== '.') return undefined;
      const mac = fromBase64url(token.slice(0, MAC_LENGTH));
      let ref: string;
      try {
        ref = decodeURIComponent(token.slice(MAC_LENGTH + 1));
      } catch {
        return undefined;
      }
      if (!mac || mac.length !== 32) return undefined;
      // `verify` compares in constant time.
      const valid = await crypto.subtle.verify('HMAC', await key, mac as BufferSource, message(ref));
      return valid ? ref : undefined;
    },
  };
}
