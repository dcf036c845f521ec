/**
 * Signed callbacks, Standard Webhooks: `webhook-id`, `webhook-timestamp` (seconds) and
 * `webhook-signature: v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{raw body}">`, keyed by the base64 after
 * `whsec_`; several space-separated signatures while the vendor rotates its key, and several secrets here
 * while the app does. WebCrypto only (`crypto.subtle.verify` compares in constant time).
 */
import { fromBase64 } from '../core/base64';

/** How far a signed timestamp may be from now, either way: the scheme's 5 minutes. */
export const WEBHOOK_TOLERANCE_MS = 5 * 60_000;
// Ids seen are remembered for twice the tolerance (an older copy is refused by its timestamp anyway),
// and at most this many, so memory stays bounded.
const MAX_SEEN = 10_000;

export type WebhookCheck =
  | { ok: true; id: string }
  /** The same `webhook-id` again: already handled, nothing to do. */
  | { ok: false; repeat: true }
  | { ok: false; repeat: false; message: string };

export interface WebhookVerifier {
  /** Checks a callback's headers against its raw body; a valid id is remembered only by `accepted`. */
  check(headers: Headers, body: string): Promise<WebhookCheck>;
  /** Remembers an id once its callback was accepted, so a repeat of it is ignored. */
  accepted(id: string): void;
}

const encoder = new TextEncoder();

/** The HMAC key of one `whsec_…` secret; a `TypeError` for anything else. */
function secretBytes(secret: string): Uint8Array {
  const match = /^whsec_([A-Za-z0-9+/]+={0,2})$/.exec(secret.trim());
  const bytes = match ? fromBase64(match[1]!) : undefined;
  if (!bytes || bytes.length < 16) {
    throw new TypeError(
      'createKlingAudioProxy: `webhookSecret` must be the vendor\u2019s `whsec_…` signing secret (or a list of them).',
    );
  }
  return bytes;
}

/** A verifier for one secret or several (rotation); throws a `TypeError` for a malformed secret. */
export function createWebhookVerifier(secrets: string | readonly string[]): WebhookVerifier {
  const list = typeof secrets === 'string' ? [secrets] : [...secrets];
  if (list.length === 0) throw new TypeError('createKlingAudioProxy: `webhookSecret` is an empty list.');
  const keys = Promise.all(
    list.map((secret) =>
      crypto.subtle.importKey(
        'raw',
        secretBytes(secret) as Uint8Array<ArrayBuffer>,
        { name: 'HMAC', hash: 'SHA-256' },
        false,
        ['verify'],
      ),
    ),
  );
  // Seen ids with the time they may be forgotten; insertion order is expiry order.
  const seen = new Map<string, number>();

  const refuse = (message: string): WebhookCheck => ({ ok: false, repeat: false, message });

  return {
    async check(headers, body) {
      const id = headers.get('webhook-id');
      const timestamp = headers.get('webhook-timestamp');
      const signatures = headers.get('webhook-signature');
      if (!id || !timestamp || !signatures) return refuse('The callback is not signed.');
      const seconds = /^\d{1,12}$/.test(timestamp) ? Number(timestamp) : NaN;
      if (!(Math.abs(Date.now() - seconds * 1000) <= WEBHOOK_TOLERANCE_MS))
        return refuse('The callback’s timestamp is too far from now.');
      const signed = encoder.encode(`${id}.${timestamp}.${body}`);
      const candidates = signatures
        .split(' ')
        .map((part) => /^v1,([A-Za-z0-9+/]+={0,2})$/.exec(part)?.[1])
        .filter((value): value is string => value !== undefined)
        .map((value) => fromBase64(value))
        .filter((bytes) => bytes.length === 32);
      let valid = false;
      for (const key of await keys) {
        for (const signature of candidates) {
          if (await crypto.subtle.verify('HMAC', key, signature as Uint8Array<ArrayBuffer>, signed)) {
            valid = true;
          }
        }
      }
      if (!valid) return refuse('The callback’s signature is not valid.');
      const now = Date.now();
      for (const [old, until] of seen) {
        if (until > now && seen.size < MAX_SEEN) break;
        seen.delete(old);
      }
      if ((seen.get(id) ?? 0) > now) return { ok: false, repeat: true };
      return { ok: true, id };
    },
    accepted(id) {
      seen.delete(id);
      seen.set(id, Date.now() + 2 * WEBHOOK_TOLERANCE_MS);
    },
  };
}
