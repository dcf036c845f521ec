/**
 * Callback tokens: `callback_url = {callbackUrl}/callbacks/{token}`. The vendor signs nothing, so the URL
 * itself must be unguessable and bound to one task. A token is the task's (user, external id) sealed with
 * AES-GCM under a key derived from a server secret: it cannot be forged or altered (GCM authenticates),
 * it does not show the user id to the vendor, and it is derived on the fly, never stored, so a database
 * leak lets nobody forge one. WebCrypto only.
 */
import { base64url, fromBase64url } from '../core/base64';

const encoder = new TextEncoder();
// Domain separation: the same secret also signs the vendor's JWTs.
const PURPOSE = 'react-kling-audio callback token v1\n';

/** Seals and opens callback tokens with one secret. */
export interface CallbackTokens {
  /** The token for the task of this user (`''`: the shared space) and external id. */
  sign(userId: string, externalTaskId: string): Promise<string>;
  /** What a token was made for, or `undefined` for one this secret never made (or an altered one). */
  verify(token: string): Promise<{ userId: string; externalTaskId: string } | undefined>;
}

export function createCallbackTokens(secret: string): CallbackTokens {
  const key = crypto.subtle
    .digest('SHA-256', encoder.encode(PURPOSE + secret))
    .then((raw) => crypto.subtle.importKey('raw', raw, 'AES-GCM', false, ['encrypt', 'decrypt']));
  return {
    async sign(userId, externalTaskId) {
      const iv = crypto.getRandomValues(new Uint8Array(12));
      const plain = encoder.encode(JSON.stringify([userId, externalTaskId]));
      const sealed = new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-GCM', iv }, await key, plain));
      const token = new Uint8Array(iv.length + sealed.length);
      token.set(iv);
      token.set(sealed, iv.length);
      return base64url(token);
    },
    async verify(token) {
      const bytes = token.length < 600 ? fromBase64url(token) : undefined;
      // 12 bytes of IV and 16 of tag at least.
      if (!bytes || bytes.length < 29) return undefined;
      try {
        const plain = await crypto.subtle.decrypt(
          { name: 'AES-GCM', iv: bytes.slice(0, 12) },
          await key,
          bytes.slice(12),
        );
        const [userId, externalTaskId] = JSON.parse(new TextDecoder().decode(plain)) as unknown[];
        if (typeof userId !== 'string' || typeof externalTaskId !== 'string') return undefined;
        return { userId, externalTaskId };
      } catch {
        return undefined;
      }
    },
  };
}
