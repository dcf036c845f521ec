/**
 * The mock backend as msw request handlers. The one module of the mocks that loads msw (an optional
 * peer): the behaviour itself lives in `backend.ts` and is shared with `.fetch`, which works without msw.
 */
import type * as Msw from 'msw';
import type { RequestHandler } from 'msw';
import {
  createMockKlingCore,
  NETWORK_ERROR,
  type MockKlingBackend,
  type MockKlingBackendOptions,
} from './backend';

const MSW_MISSING =
  'react-kling-audio/mocks: backend.handlers needs msw (an optional peer: npm install -D msw); ' +
  'backend.fetch works without it.';

// msw is an optional peer: loaded here when the app has it (a top-level await, so `handlers` stays a plain
// array), and `undefined` when it does not, so the Fetch-handler mock loads without msw.
const msw: typeof Msw | undefined = await import('msw').catch(() => undefined);

/**
 * Creates one in-memory mock of Kling's Text to Audio API, served three ways: msw handlers (Storybook,
 * browser tests, msw/node unit tests), and `.fetch` (a Fetch handler, e.g. the demo's upstream).
 *
 * A prompt containing the word "forbidden" makes a task that ends `failed` with a content-safety reason.
 *
 * @example
 * const backend = createMockKlingBackend({ baseUrl: '/api/kling', timing: { submittedMs: 500, processingMs: 2000 } });
 * server.use(...backend.handlers); // msw/node or setupWorker(...backend.handlers)
 * backend.setScenario({ createError: { code: 1303, retryAfterSeconds: 2, times: 1 } });
 */
export function createMockKlingBackend(options: MockKlingBackendOptions): MockKlingBackend {
  const core = createMockKlingCore(options);
  let handlers: RequestHandler[] | undefined;
  return {
    // Made on first read, so a backend used only through `.fetch` never needs msw.
    get handlers() {
      if (!msw) throw new Error(MSW_MISSING);
      const { http } = msw;
      return (handlers ??= core.patterns.map((pattern) =>
        http.all(pattern, async ({ request }) => {
          const answer = await core.handle(request);
          // `undefined` lets the request fall through to the next handler.
          if (answer === undefined) return undefined;
          return answer === NETWORK_ERROR ? Response.error() : answer;
        }),
      ));
    },
    fetch: core.fetch,
    reset: core.reset,
    setScenario: core.setScenario,
    get tasks() {
      return core.tasks;
    },
    get requests() {
      return core.requests;
    },
  };
}
