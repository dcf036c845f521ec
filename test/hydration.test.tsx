import { dehydrate, HydrationBoundary, QueryClient } from '@tanstack/react-query';
import { act, screen, waitFor } from '@testing-library/react';
import { hydrateRoot } from 'react-dom/client';
import { renderToString } from 'react-dom/server';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { audioTaskQueryOptions, createKlingAudioClient, KlingAudioProvider, TextToAudioStudio } from '../src';
import { createMemoryStorage } from '../src/mocks';
import { BASE_URL, FAST_POLLING, keepPlayersOffscreen, useMockBackend } from './render';

afterEach(() => vi.unstubAllGlobals());

describe('hydration', () => {
  it('a server render with dehydrated data hydrates without a mismatch, then shows the remembered prompt', async () => {
    keepPlayersOffscreen();
    useMockBackend({
      seed: [{ taskId: '7001', prompt: 'rain on a tin roof', duration: 3, status: 'succeed' }],
    });
    const client = createKlingAudioClient({ baseUrl: BASE_URL });
    const serverClient = new QueryClient();
    await serverClient.prefetchQuery(audioTaskQueryOptions(client, '7001'));
    const state = dehydrate(serverClient);

    // This browser created the task: it remembers the prompt (the server cannot know it).
    const storage = createMemoryStorage();
    storage.setItem(
      'rka:requests',
      JSON.stringify({ '7001': { prompt: 'Thunder far away', duration: 3, at: Date.now() } }),
    );
    const tree = (storage: Storage | null) => (
      <KlingAudioProvider
        client={client}
        queryClient={new QueryClient()}
        storage={storage}
        polling={FAST_POLLING}
      >
        <HydrationBoundary state={state}>
          <TextToAudioStudio taskId="7001" />
        </HydrationBoundary>
      </KlingAudioProvider>
    );
    const html = renderToString(tree(null));
    expect(html).toContain('Task 7001');

    const container = document.createElement('div');
    container.innerHTML = html;
    document.body.append(container);
    const errors = vi.spyOn(console, 'error').mockImplementation(() => {});
    const recoverable: unknown[] = [];
    const root = hydrateRoot(container, tree(storage), {
      onRecoverableError: (error) => recoverable.push(error),
    });
    await waitFor(() => expect(screen.getAllByText('Thunder far away').length).toBeGreaterThan(0));
    expect(recoverable).toEqual([]);
    expect(errors).not.toHaveBeenCalled();
    errors.mockRestore();
    act(() => root.unmount());
    container.remove();
  });
});
