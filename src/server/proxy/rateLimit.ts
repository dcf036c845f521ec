/** A simple in-memory per-key limit (fixed windows), checked after `authorize`. */
import { fail, type Reply } from '../http/reply';
import type { KlingProxyRateLimit } from './options';

// The rate limiter forgets the oldest windows beyond this many keys, so memory stays bounded.
const MAX_KEYS = 10_000;
export function createLimiter({ windowMs, max, key }: KlingProxyRateLimit) {
  const windows = new Map<string, { start: number; count: number }>();
  /** Seconds to wait, or 0 when the request may go on. */
  return async (request: Request): Promise<number> => {
    const id = await key(request);
    const now = Date.now();
    let window = windows.get(id);
    if (!window || now - window.start >= windowMs) {
      // Windows are re-inserted when they start, so the map runs oldest first: drop expired ones, and
      // the oldest live ones too if there are still too many keys.
      windows.delete(id);
      for (const [old, { start }] of windows) {
        if (now - start < windowMs && windows.size < MAX_KEYS) break;
        windows.delete(old);
      }
      window = { start: now, count: 0 };
      windows.set(id, window);
    }
    return ++window.count > max ? Math.ceil((window.start + windowMs - now) / 1000) : 0;
  };
}

/** The 429 for a request the limit holds back `wait` seconds (code 1302, `Retry-After`). */
export const tooManyRequests = (wait: number): Reply =>
  fail(429, 1302, `Too many requests: try again in ${wait} s.`, { 'retry-after': `${wait}` });
