/** Types of `serve.mjs` (plain JavaScript, so that `npm start` needs no build), for the end-to-end test. */
export interface StartDemoOptions {
  /** Port to listen on; `0` picks a free one. Defaults to `PORT` or `5173` (the next free port when taken). */
  port?: number;
  /** Time the mock spends in each status. Defaults to `{ submittedMs: 1500, processingMs: 4000 }`. */
  timing?: { submittedMs?: number; processingMs?: number };
  /** Where the credentials are read. Defaults to `process.env`. */
  env?: Record<string, string | undefined>;
  /** No output at all (for tests). Defaults to `false`. */
  quiet?: boolean;
  /** The mock vendor's callbacks (`MockCallbackOptions`). Defaults to `true`: late, sometimes doubled or lost. */
  callbacks?: boolean | import('../src/mocks').MockCallbackOptions;
  /** Where the records (and the mock's tasks) are kept. Defaults to `RKA_DEMO_DATA` or `.demo-data` in the repository. */
  dataDir?: string;
}

export interface Demo {
  /** The page's URL, e.g. `http://localhost:5173/`. */
  url: string;
  /** What the proxy forwards to: the in-process mock backend or the real Kling API. */
  upstream: 'mock' | 'kling';
  /** The folder of the records (PGlite) and the mock's tasks. */
  dataDir: string;
  /** Moves the mock vendor's clock on (e.g. past the 30-day purge); `undefined` with the real API. */
  advanceMockClock?: (ms: number) => void;
  close(): Promise<void>;
}

export function startDemo(options?: StartDemoOptions): Promise<Demo>;

/** The demo's two users (the `rka-demo-user` cookie picks one). */
export const DEMO_USERS: readonly string[];
