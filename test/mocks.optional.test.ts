/**
 * `msw` is an optional peer of `react-kling-audio/mocks`: without it the mock still loads and serves as a
 * Fetch handler (the demo's upstream, a proxy's `fetch` in tests); only `backend.handlers` needs msw, and
 * says so in plain words.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';

afterEach(() => {
  vi.doUnmock('msw');
  vi.resetModules();
});

describe('the mocks without msw', () => {
  it('load, answer as a Fetch handler, and explain that handlers need msw', async () => {
    vi.resetModules();
    vi.doMock('msw', () => {
      throw new Error("Cannot find package 'msw'");
    });
    const { createMockKlingBackend } = await import('../src/mocks');
    const backend = createMockKlingBackend({ baseUrl: '/api/kling' });
    const answer = await backend.fetch(
      new Request('http://localhost/api/kling/v1/audio/text-to-audio', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ prompt: 'Rain on a tin roof', duration: 3 }),
      }),
    );
    expect(answer.status).toBe(200);
    const body = await answer.json();
    expect(body.code).toBe(0);
    expect(body.data.task_status).toBe('submitted');
    expect(() => backend.handlers).toThrow(/needs msw.*backend\.fetch works without it/);
  });

  it('with msw present, handlers are msw request handlers, made once', async () => {
    const { createMockKlingBackend } = await import('../src/mocks');
    const backend = createMockKlingBackend({ baseUrl: '/api/kling' });
    expect(backend.handlers.length).toBeGreaterThan(0);
    expect(backend.handlers).toBe(backend.handlers);
    expect(typeof backend.handlers[0]!.run).toBe('function');
  });
});
