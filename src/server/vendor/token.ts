/**
 * The vendor's access-key JWT, signed with WebCrypto only so it runs on Node and on edge runtimes alike.
 */
import { base64url } from '../core/base64';

export interface SignKlingTokenOptions {
  /** The access key: the token's `iss`. */
  accessKey: string;
  /** The secret key: the HMAC-SHA256 key. Never leaves the server. */
  secretKey: string;
  /** The signing time in milliseconds since the epoch. Defaults to `Date.now()`. */
  now?: number;
  /** Lifetime of the token in seconds (`exp` = now + ttl). Defaults to `1800` (the vendor's 30 minutes). */
  ttlSeconds?: number;
}

const encoder = new TextEncoder();

const encodeJson = (value: object) => base64url(encoder.encode(JSON.stringify(value)));

/**
 * Signs the HS256 JWT the vendor expects as `Authorization: Bearer <token>`: header
 * `{"alg":"HS256","typ":"JWT"}`, claims `iss` = access key, `exp` = now + 1800 s and `nbf` = now − 5 s
 * (seconds; the 5 s absorb a little clock skew).
 *
 * @example
 * const token = await signKlingToken({ accessKey, secretKey });
 */
export async function signKlingToken({
  accessKey,
  secretKey,
  now = Date.now(),
  ttlSeconds = 1800,
}: SignKlingTokenOptions): Promise<string> {
  const seconds = Math.floor(now / 1000);
  const input = `${encodeJson({ alg: 'HS256', typ: 'JWT' })}.${encodeJson({
    iss: accessKey,
    exp: seconds + ttlSeconds,
    nbf: seconds - 5,
  })}`;
  const key = await crypto.subtle.importKey(
    'raw',
    encoder.encode(secretKey),
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['sign'],
  );
  const signature = await crypto.subtle.sign('HMAC', key, encoder.encode(input));
  return `${input}.${base64url(new Uint8Array(signature))}`;
}
