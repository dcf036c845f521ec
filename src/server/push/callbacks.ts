/**
 * Callback tokens: `callback_url = {callbackUrl}/callbacks/{token}`. The vendor signs nothing, so the URL
 * itself must be unguessable and bound to one task. A token is the task's (user, external id) sealed with
 * AES-GCM under a key derived from a server secret: it cannot be forged or altered (GCM authenticates),
 * it does not show the user id to the vendor, and it is derived on the fly, never stored, so a database
 * leak lets nobody forge one. WebCrypto only.
 *
 * What is sealed is a reference of a fixed size where the store can look one up: a user's task is named by
 * the external id the vendor got (`rka-…`, 47 characters whatever the user id), so a 255-character OIDC
 * `sub` and a 256-character external id still give a short token. The shared space seals its own
 * external id (at most 256 characters). Tokens sealed before (the (user, external id) pair) still open.
 */
import { base64url, fromBase64url } from '../core/base64';

const encoder = new TextEncoder();
// Domain separation: the same secret also signs the vendor's JWTs.
const PURPOSE = 'react-kling-audio callback token v1\n';

/**
 * What a callback token names: a task by its user and external id, or (a user's task, fixed size) by
 * the external id the vendor got.
 */
export type CallbackRef = { userId: string; externalTaskId: string } | { vendorExternalTaskId: string };

// Longer tokens are refused before any work: a user's is about 100 characters, the shared space's at
// most about 390 (a 256-character external id).
const MAX_TOKEN_LENGTH = 600;

/** Seals and opens callback tokens with one secret. */
export interface CallbackTokens {
  /**
   * The token for the task of this user (`''`: the shared space) and external id. With
   * `vendorExternalTaskId` (a user's task, when the store can find a record by it) the token seals only
   * that, so its size does not grow with the ids.
   */
  sign(userId: string, externalTaskId: string, vendorExternalTaskId?: string): Promise<string>;
  /** What a token was made for, or `undefined` for one this secret never made (or an altered one). */
  verify(token: string): Promise<CallbackRef | undefined>;
}

export function createCallbackTokens(secret: string): CallbackTokens {
  const key = crypto.subtle
    .digest('SHA-256', encoder.encode(PURPOSE + secret))
    .then((raw) => crypto.subtle.importKey('raw', raw, 'AES-GCM', false, ['encrypt', 'decrypt']));
  return {
    async sign(userId, externalTaskId, vendorExternalTaskId) {
      const iv = crypto.getRandomValues(new Uint8Array(12));
      const plain = encoder.encode(
        vendorExternalTaskId !== undefined && userId !== ''
          ? `v:${vendorExternalTaskId}`
          : JSON.stringify([userId, externalTaskId]),
      );
      const sealed = new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-GCM', iv }, await key, plain));
      const token = new Uint8Array(iv.length + sealed.length);
      token.set(iv);
      token.set(sealed, iv.length);
      return base64url(token);
    },
    async verify(token) {
      const bytes = token.length < MAX_TOKEN_LENGTH ? fromBase64url(token) : undefined;
      // 12 bytes of IV and 16 of tag at least.
      if (!bytes || bytes.length < 29) return undefined;
      try {
        const plain = await crypto.subtle.decrypt(
          { name: 'AES-GCM', iv: bytes.slice(0, 12) },
          await key,
          bytes.slice(12),
        );
        const text = new TextDecoder().decode(plain);
        if (text.startsWith('v:')) return { vendorExternalTaskId: text.slice(2) };
        const [userId, externalTaskId] = JSON.parse(text) as unknown[];
        if (typeof userId !== 'string' || typeof externalTaskId !== 'string') return undefined;
        return { userId, externalTaskId };
      } catch {
        return undefined;
      }
    },
  };
}
