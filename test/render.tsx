import { QueryClient } from '@tanstack/react-query';
import { render, type RenderOptions } from '@testing-library/react';
import { vi } from 'vitest';
import type { ReactElement } from 'react';
import { KlingAudioProvider, type KlingAudioProviderProps, type PollingOptions } from '../src';
import { createMemoryStorage, createMockKlingBackend, type MockKlingBackendOptions } from '../src/mocks';
import { server } from './server';

export const BASE_URL = '/api/kling';

/** Fast but real polling for tests: same policy, shorter numbers, no jitter so counts are stable. */
export const FAST_POLLING: Partial<PollingOptions> = {
  intervalMs: 20,
  maxIntervalMs: 60,
  backoff: 1.5,
  jitter: 0,
};

export function createTestQueryClient() {
  return new QueryClient({
    defaultOptions: { queries: { retry: false, gcTime: Infinity }, mutations: { retry: false } },
  });
}

/** A fresh mock backend served through the test msw server. */
export function useMockBackend(options: Partial<MockKlingBackendOptions> = {}) {
  const backend = createMockKlingBackend({
    baseUrl: BASE_URL,
    timing: { submittedMs: 40, processingMs: 80 },
    ...options,
  });
  server.use(...backend.handlers);
  return backend;
}

/** An in-memory Storage, shared between renders to simulate a reload. */
export { createMemoryStorage };

type ProviderOptions = Partial<Omit<KlingAudioProviderProps, 'children'>> & {
  render?: Omit<RenderOptions, 'wrapper'>;
};

/** Renders `ui` inside a KlingAudioProvider with a fresh QueryClient (unless one is given). */
export function renderWithProvider(ui: ReactElement, options: ProviderOptions = {}) {
  const { render: renderOptions, ...providerProps } = options;
  const queryClient = providerProps.queryClient ?? createTestQueryClient();
  const props: KlingAudioProviderProps = {
    baseUrl: BASE_URL,
    polling: FAST_POLLING,
    storage: null,
    ...providerProps,
    queryClient,
  };
  const result = render(ui, {
    ...renderOptions,
    wrapper: ({ children }) => <KlingAudioProvider {...props}>{children}</KlingAudioProvider>,
  });
  return { ...result, queryClient };
}

// The players are lazy: without an IntersectionObserver (jsdom) they count as visible and load their
// audio. Tests about the list or the studio keep them off screen so no audio is fetched.
class OffscreenObserver {
  observe() {}
  unobserve() {}
  disconnect() {}
  takeRecords() {
    return [];
  }
}

/** Players never become visible until `vi.unstubAllGlobals()`. */
export function keepPlayersOffscreen() {
  vi.stubGlobal('IntersectionObserver', OffscreenObserver);
}

/**
 * jsdom has no media playback: `play()` returns nothing and no events fire. This plays "instantly" (the
 * `play` and `playing` events, `paused` false) and pauses likewise, until `vi.restoreAllMocks()`.
 */
export function fakeMediaPlayback() {
  vi.spyOn(HTMLMediaElement.prototype, 'play').mockImplementation(function (this: HTMLMediaElement) {
    Object.defineProperty(this, 'paused', { value: false, configurable: true });
    this.dispatchEvent(new Event('play'));
    this.dispatchEvent(new Event('playing'));
    return Promise.resolve();
  });
  vi.spyOn(HTMLMediaElement.prototype, 'pause').mockImplementation(function (this: HTMLMediaElement) {
    if (this.paused) return;
    Object.defineProperty(this, 'paused', { value: true, configurable: true });
    this.dispatchEvent(new Event('pause'));
  });
  vi.spyOn(HTMLMediaElement.prototype, 'load').mockImplementation(() => {});
}
