/**
 * `npm start`: the demo app on Vite's dev server, with the library's real proxy mounted at /api/kling.
 *
 * Upstream of the proxy: the in-process mock backend (its `.fetch`, realistic timing, real audio served at
 * /mock-audio by this same server), or the real Kling API when KLING_ACCESS_KEY and KLING_SECRET_KEY (or
 * KLING_API_KEY) are set; KLING_API_BASE overrides the vendor's host. PORT sets the port (default 5173,
 * the next free one if taken).
 *
 * Records: the proxy keeps its task records in an embedded PGlite database in `.demo-data/records` (or
 * `$RKA_DEMO_DATA/records`), so history survives a restart; with the mock upstream, the mock's own tasks
 * are kept beside it (`mock-vendor.json`), as a real vendor would keep them. Delete the folder to reset.
 * Two demo users, told apart by the `rka-demo-user` cookie the page's "Signed in as" switch sets.
 *
 * Plain Node ESM so it runs on a fresh clone after `npm ci`, with no build: the TypeScript proxy and mock
 * are loaded through Vite itself (`ssrLoadModule`).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import react from '@vitejs/plugin-react';
import { createServer } from 'vite';

const repo = fileURLToPath(new URL('..', import.meta.url));
const demoDir = fileURLToPath(new URL('.', import.meta.url));

const API_PATH = '/api/kling';
const AUDIO_PATH = '/mock-audio';
// Never resolved: the proxy's `fetch` is the mock backend's, so this only names the upstream.
const MOCK_UPSTREAM = 'http://mock.kling.local';

/** The demo's users: the `rka-demo-user` cookie picks one, the first when there is none. */
export const DEMO_USERS = ['ada', 'grace'];
const USER_COOKIE = 'rka-demo-user';

/** The demo's `authorize`: the user id from the cookie (a real app reads its own session here). */
function demoUser(request) {
  const cookie = request.headers.get('cookie') ?? '';
  const match = new RegExp(`(?:^|;\\s*)${USER_COOKIE}=([^;]*)`).exec(cookie);
  const user = match ? decodeURIComponent(match[1]) : DEMO_USERS[0];
  // Anything but a known demo user is refused, as an unknown session would be.
  return DEMO_USERS.includes(user) ? user : false;
}

/** The mock vendor's tasks from an earlier run, as seeds (they go on advancing from their creation time). */
function readMockTasks(file) {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return [];
  }
}

function writeMockTasks(file, tasks) {
  const seeds = tasks.map((task) => ({
    taskId: task.taskId,
    externalTaskId: task.externalTaskId,
    prompt: task.request?.prompt ?? '',
    duration: task.request?.duration ?? 3,
    createdAt: task.createdAt,
    ...(task.status === 'failed' ? { failReason: task.statusMessage } : {}),
  }));
  writeFileSync(file, JSON.stringify(seeds));
}

/** The vendor credential from the environment, or `undefined` to use the mock backend. */
function vendorCredentials(env) {
  if (env.KLING_ACCESS_KEY && env.KLING_SECRET_KEY) {
    return { accessKey: env.KLING_ACCESS_KEY, secretKey: env.KLING_SECRET_KEY };
  }
  if (env.KLING_API_KEY) return { apiKey: env.KLING_API_KEY };
  return undefined;
}

/** `true` for a request to `base` or below it. */
const isUnder = (url, base) => url === base || url.startsWith(`${base}/`) || url.startsWith(`${base}?`);

/**
 * Starts the demo server and resolves once it answers.
 *
 * @param {object} [options]
 * @param {number} [options.port] Port to listen on; `0` picks a free one. Defaults to `PORT` or `5173` (the
 *   next free port when taken).
 * @param {boolean | object} [options.callbacks] The mock vendor's callbacks (`MockCallbackOptions`).
 *   Defaults to `true`: late, sometimes doubled, sometimes lost, as the vendor's.
 * @param {{ submittedMs?: number, processingMs?: number }} [options.timing] Time the mock spends in each
 *   status. Defaults to `{ submittedMs: 1500, processingMs: 4000 }`.
 * @param {Record<string, string | undefined>} [options.env] Where the credentials are read. Defaults to
 *   `process.env`.
 * @param {boolean} [options.quiet] No output at all (for tests). Defaults to `false`.
 * @param {string} [options.dataDir] Where the records (and the mock's tasks) are kept. Defaults to
 *   `RKA_DEMO_DATA` or `.demo-data` in the repository.
 * @returns {Promise<import('./serve.d.mts').Demo>}
 */
export async function startDemo(options = {}) {
  const env = options.env ?? process.env;
  const quiet = options.quiet ?? false;
  const port = options.port ?? Number(env.PORT || 5173);
  const credentials = vendorCredentials(env);
  const upstream = credentials ? 'kling' : 'mock';
  const dataDir = options.dataDir ?? (env.RKA_DEMO_DATA || `${repo}.demo-data`);
  mkdirSync(dataDir, { recursive: true });

  // The handlers exist only once the port is known (the mock's audio URLs name it); requests that come
  // earlier wait for them.
  let setHandlers;
  const handlers = new Promise((resolve) => (setHandlers = resolve));

  const server = await createServer({
    // Everything is here: the library's vite.config.ts builds the package and runs the tests.
    configFile: false,
    root: demoDir,
    cacheDir: `${repo}node_modules/.vite/demo`,
    clearScreen: false,
    logLevel: quiet ? 'silent' : 'info',
    // The demo imports the package by name, as an app does; here the name is the source.
    resolve: {
      alias: [
        { find: /^react-kling-audio$/, replacement: `${repo}src/index.ts` },
        { find: /^react-kling-audio\/styles\.css$/, replacement: `${repo}src/components/styles.css` },
      ],
    },
    // Pre-bundled at start, so the first page load does not find them late and reload.
    optimizeDeps: {
      include: [
        'react',
        'react/jsx-runtime',
        'react/jsx-dev-runtime',
        'react-dom/client',
        '@tanstack/react-query',
        'zod/mini',
      ],
    },
    server: { port, strictPort: false },
    plugins: [
      react(),
      {
        name: 'rka-demo-api',
        configureServer(vite) {
          // Registered here, not in a returned function, so it runs before Vite's own middlewares.
          vite.middlewares.use((req, res, next) => {
            const url = req.url ?? '/';
            const route = isUnder(url, API_PATH) ? 'api' : isUnder(url, AUDIO_PATH) ? 'audio' : undefined;
            if (!route) return next();
            handlers.then((ready) => {
              const handler = ready[route];
              if (handler) handler(req, res, next);
              else next();
            }, next);
          });
        },
        transformIndexHtml() {
          // Lets the page say what it runs against, without any secret reaching it.
          return [{ tag: 'meta', attrs: { name: 'rka-demo-upstream', content: upstream }, injectTo: 'head' }];
        },
      },
    ],
  });

  let db;
  try {
    await server.listen();
    const url = server.resolvedUrls?.local[0] ?? `http://localhost:${server.config.server.port}/`;
    const { createKlingAudioProxy, createPostgresTaskEventLog, createPostgresTaskStore, toNodeHandler } =
      await server.ssrLoadModule(`${repo}src/server/index.ts`);
    // The app's own package, as PGlite is for an app: loaded only here, never by the library.
    const { PGlite } = await import('@electric-sql/pglite');
    db = await PGlite.create(join(dataDir, 'records'));

    const proxyOptions = {
      basePath: API_PATH,
      // Demo only: the user comes from a cookie anyone can set. A real app checks its own session here.
      authorize: demoUser,
      store: createPostgresTaskStore(db),
      // One account, many users: the two demo users share it fairly, within a daily quota each. With the
      // mock upstream, its own limit is the account's, so a third sound waits in the queue.
      limits: {
        account: { parallel: Number(env.KLING_DEMO_PARALLEL) || 2 },
        user: { tasks: { max: 20, window: 'day' }, queued: 5 },
      },
      // Push: task changes in the same database, announced with LISTEN/NOTIFY (in process, on PGlite).
      events: createPostgresTaskEventLog(db),
      onResponse: quiet
        ? undefined
        : ({ method, route, status, code, durationMs }) => {
            // Polls would flood the terminal: creates and failures only.
            if (route === 'createTask' || status >= 400) {
              console.log(
                `  proxy ${method} ${route ?? '(refused)'} → ${status} code ${code ?? '-'} (${durationMs} ms)`,
              );
            }
          },
    };

    let audio;
    // The mock vendor's clock runs this far ahead of the real one (tests move it past the 30-day purge).
    let mockClockOffset = 0;
    if (credentials) {
      Object.assign(proxyOptions, credentials, env.KLING_API_BASE ? { upstream: env.KLING_API_BASE } : {});
      // The real vendor cannot call localhost back: push only with a public URL (a tunnel) to this proxy.
      if (env.KLING_CALLBACK_URL) proxyOptions.callbackUrl = env.KLING_CALLBACK_URL;
      // Kept copies of the vendor's results, fetched with every check on (https, public CDN addresses).
      proxyOptions.keepAudio = true;
    } else {
      const { createMockKlingBackend } = await server.ssrLoadModule(`${repo}src/mocks/index.ts`);
      const audioBase = new URL(AUDIO_PATH, url).href;
      const mockFile = join(dataDir, 'mock-vendor.json');
      const backend = createMockKlingBackend({
        baseUrl: MOCK_UPSTREAM,
        // Absolute, on this server: the browser fetches the files from here, not from the mock's origin.
        audioBaseUrl: audioBase,
        timing: { submittedMs: 1500, processingMs: 4000, ...options.timing },
        // The vendor's parallel-task limit (1303 past it), as the proxy's own limit says.
        parallel: Number(env.KLING_DEMO_PARALLEL) || 2,
        seed: readMockTasks(mockFile),
        // The vendor's callbacks, over real HTTP to this server's proxy: late, now and then twice or lost.
        callbacks: options.callbacks ?? true,
        now: () => Date.now() + mockClockOffset,
      });
      Object.assign(proxyOptions, {
        // The mock accepts any credential; a key pair makes the proxy sign real tokens, as in production.
        accessKey: 'demo-access-key',
        secretKey: 'demo-secret-key',
        upstream: MOCK_UPSTREAM,
        callbackUrl: new URL(API_PATH, url).href,
        fetch: async (input, init) => {
          const request = new Request(input, init);
          try {
            return await backend.fetch(request);
          } finally {
            // A real vendor keeps its tasks across the demo's restarts: so does the mock, in the data folder.
            if (request.method === 'POST') writeMockTasks(mockFile, backend.tasks);
          }
        },
        // Kept copies of the mock's files, as with the real vendor. The mock's files are plain http on
        // this machine, which the keeper refuses from anywhere else: its origin is trusted here, and they
        // are read from the mock in process, never over the network.
        keepAudio: {
          trustedOrigins: [new URL(audioBase).origin],
          fetch: (fileUrl, init) => backend.fetch(new Request(fileUrl, init)),
        },
      });
      // The proxy forwards the three API routes only; the files go straight to the mock, under the origin
      // it was told (the browser may have reached this server by another host name).
      audio = toNodeHandler((request) => {
        const { pathname, search } = new URL(request.url);
        return backend.fetch(new Request(new URL(pathname + search, audioBase), request));
      });
    }
    setHandlers({ api: toNodeHandler(createKlingAudioProxy(proxyOptions)), audio });

    if (!quiet) {
      const label = credentials
        ? `Kling API at ${env.KLING_API_BASE || 'https://api-singapore.klingai.com'}`
        : 'in-process mock backend';
      console.log(`\n  react-kling-audio demo: ${url} (upstream: ${label})\n`);
    }
    return {
      url,
      upstream,
      dataDir,
      advanceMockClock: credentials ? undefined : (ms) => void (mockClockOffset += ms),
      close: async () => {
        await server.close();
        await db.close();
      },
    };
  } catch (error) {
    setHandlers({});
    await server.close();
    await db?.close();
    throw error;
  }
}

// `node demo/serve.mjs` (npm start), not an import from a test.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const demo = await startDemo();
  let closing = false;
  const stop = async () => {
    if (closing) return;
    closing = true;
    await demo.close();
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
