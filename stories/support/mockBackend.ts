/**
 * The one mock backend, for stories and browser tests: a fresh instance per story, so no story sees
 * another's tasks or scenario. Stories pass `mswParameters(...)` (or `backend.handlers`) as `parameters`.
 */
import { http, HttpResponse, type RequestHandler } from 'msw';
import { createMockKlingBackend, mockTaskSeeds, type MockKlingBackendOptions } from '../../src/mocks';

export { MOCK_TASK_IDS } from '../../src/mocks';

/** Where stories mount the API, as an app mounts the proxy. */
export const STORY_BASE_URL = '/api/kling';

/** An audio host on another origin, for stories about CORS. */
export const CROSS_ORIGIN_AUDIO = 'https://cdn.audio-host.test/audio';

/**
 * A backend with the standard seed (six finished tasks, one frozen in `processing`, one failed) under
 * `/api/kling`, its audio served from the same origin unless `audioBaseUrl` says otherwise.
 */
export function storyBackend(options: Partial<MockKlingBackendOptions> = {}) {
  const backend = createMockKlingBackend({ baseUrl: STORY_BASE_URL, seed: mockTaskSeeds, ...options });
  // Through msw's service worker the browser never checks CORS (the worker's answers count as
  // same-origin), so the `no-cors` scenario is enforced here: script reads (`fetch`, mode `cors`) fail
  // like a blocked response, while `<audio>` (mode `no-cors`) still gets the file.
  if (options.scenario?.audio === 'no-cors' && options.audioBaseUrl) {
    backend.handlers.unshift(blockCorsReads(options.audioBaseUrl));
  }
  return backend;
}

function blockCorsReads(audioBaseUrl: string): RequestHandler {
  return http.all(`${audioBaseUrl}/*`, ({ request }) =>
    request.mode === 'cors' ? HttpResponse.error() : undefined,
  );
}

/** `parameters.msw` for a story, from a fresh backend. */
export function mswParameters(options: Partial<MockKlingBackendOptions> = {}) {
  return { msw: { handlers: storyBackend(options).handlers } };
}
