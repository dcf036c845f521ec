/**
 * Hooks report every change: a hook must not read react-query's `data` (or `isPlaceholderData`, `error`)
 * during render on its own, or react-query tracks those for the caller and never re-renders it when only
 * what the caller reads later (an `error` in a click handler, a `renderHook` result) changes.
 */
import { type QueryClient } from '@tanstack/react-query';
import { act, renderHook, screen, waitFor } from '@testing-library/react';
import { useState, type ReactNode } from 'react';
import { describe, expect, it } from 'vitest';
import { KlingAudioProvider, useAudioTask, useAudioTaskList } from '../src';
import {
  BASE_URL,
  createMemoryStorage,
  createTestQueryClient,
  FAST_POLLING,
  renderWithProvider,
  useMockBackend,
} from './render';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function wrapper(queryClient: QueryClient, storage: Storage | null = null) {
  return ({ children }: { children: ReactNode }) => (
    <KlingAudioProvider baseUrl={BASE_URL} polling={FAST_POLLING} storage={storage} queryClient={queryClient}>
      {children}
    </KlingAudioProvider>
  );
}

describe('a hook tracks only what its caller read', () => {
  it('useAudioTaskList: an error read after it arrived is there (renderHook)', async () => {
    const backend = useMockBackend();
    const { result } = renderHook(() => useAudioTaskList({ pageNum: 0, pageSize: 10 }), {
      wrapper: wrapper(createTestQueryClient()),
    });
    // Read once, after the error has arrived (reading inside waitFor would track `error` before it came).
    await sleep(300);
    expect(result.current.error?.kind).toBe('validation');
    expect(result.current.status).toBe('error');
    expect(result.current.tasks).toEqual([]);
    expect(backend.requests).toHaveLength(0);
  });

  it('useAudioTaskList: a component that reads `error` only in a click handler finds it', async () => {
    useMockBackend({ scenario: { listError: { code: 1000 } } });
    function ErrorOnClick() {
      const list = useAudioTaskList({ pageNum: 1, pageSize: 10 });
      const [seen, setSeen] = useState('');
      return (
        <>
          <button onClick={() => setSeen(list.error ? `${list.error.kind}:${list.error.code}` : 'none')}>
            check
          </button>
          <p data-testid="seen">{seen}</p>
        </>
      );
    }
    const queryClient = createTestQueryClient();
    renderWithProvider(<ErrorOnClick />, { queryClient });
    await waitFor(() => expect(queryClient.getQueryCache().getAll()[0]?.state.status).toBe('error'));
    act(() => screen.getByText('check').click());
    expect(screen.getByTestId('seen').textContent).toBe('api:1000');
  });

  it('useAudioTask by external id: an error read after it arrived is there (renderHook)', async () => {
    useMockBackend();
    const { result } = renderHook(() => useAudioTask({ externalTaskId: 'nobody-made-this' }), {
      wrapper: wrapper(createTestQueryClient()),
    });
    await sleep(300);
    expect(result.current.error?.code).toBe(1203);
    expect(result.current.task).toBeUndefined();
    expect(result.current.isPolling).toBe(false);
  });

  it('useAudioTask by task id: an error read only in a click handler is found', async () => {
    useMockBackend();
    function ErrorOnClick() {
      const watched = useAudioTask('gone-task');
      const [seen, setSeen] = useState('');
      return (
        <>
          <button onClick={() => setSeen(String(watched.error?.code ?? 'none'))}>check</button>
          <p data-testid="seen">{seen}</p>
        </>
      );
    }
    const queryClient = createTestQueryClient();
    renderWithProvider(<ErrorOnClick />, { queryClient });
    await waitFor(() => expect(queryClient.getQueryCache().getAll()[0]?.state.status).toBe('error'));
    act(() => screen.getByText('check').click());
    expect(screen.getByTestId('seen').textContent).toBe('1203');
  });

  it('still settles finished and vanished tasks and prefetches the next page without being read', async () => {
    const storage = createMemoryStorage();
    storage.setItem('rka:pending', JSON.stringify(['gone-1', 'seed-2']));
    const backend = useMockBackend({
      seed: [1, 2, 3].map((i) => ({
        taskId: `seed-${i}`,
        prompt: `sound ${i}`,
        duration: 3,
        status: 'succeed' as const,
        createdAt: Date.UTC(2026, 10, 1) + i * 60_000,
      })),
    });
    const queryClient = createTestQueryClient();
    renderHook(
      () => {
        useAudioTask('gone-1');
        useAudioTaskList({ pageNum: 1, pageSize: 2 });
      },
      { wrapper: wrapper(queryClient, storage) },
    );
    await waitFor(() => expect(JSON.parse(storage.getItem('rka:pending')!)).toEqual([]));
    await waitFor(() =>
      expect(
        backend.requests.filter((r) => new URL(r.url, 'http://localhost').search === '?pageNum=2&pageSize=2'),
      ).toHaveLength(1),
    );
  });
});
