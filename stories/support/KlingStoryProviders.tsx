import { QueryClient } from '@tanstack/react-query';
import type { Decorator } from '@storybook/react-vite';
import { useEffect, useState, type ReactNode } from 'react';
import { KlingAudioProvider, type KlingAudioProviderProps } from '../../src/hooks';
import { STORY_BASE_URL } from './mockBackend';

/** Per-story provider settings: `parameters.kling = { locale: 'ar', messages: { … } }`. */
export type KlingStoryParameters = Partial<Omit<KlingAudioProviderProps, 'children' | 'queryClient'>>;

/** A new QueryClient per story (no retries: error stories show their error at once). */
export function KlingStoryProviders({
  options,
  children,
}: {
  options?: KlingStoryParameters;
  children: ReactNode;
}) {
  const [queryClient] = useState(
    () => new QueryClient({ defaultOptions: { queries: { retry: false }, mutations: { retry: false } } }),
  );
  // Stops polling and forgets every task when the story unmounts.
  useEffect(() => () => queryClient.clear(), [queryClient]);
  return (
    <KlingAudioProvider baseUrl={STORY_BASE_URL} queryClient={queryClient} storage={null} {...options}>
      {children}
    </KlingAudioProvider>
  );
}

/** Wraps every story in its own providers; keyed by story id so switching stories starts afresh. */
export const withKlingProviders: Decorator = (Story, context) => (
  <KlingStoryProviders
    key={context.id}
    options={context.parameters.kling as KlingStoryParameters | undefined}
  >
    <Story />
  </KlingStoryProviders>
);

/**
 * The light/dark toolbar switch: sets `data-rka-theme` on a wrapper that also paints the page colour,
 * and `dir`/`lang` from `parameters.kling.locale` (`dir` from `parameters.dir`).
 */
export const withTheme: Decorator = (Story, context) => {
  const theme = (context.globals.theme as string | undefined) ?? 'light';
  const { dir, maxWidth } = context.parameters as { dir?: 'ltr' | 'rtl'; maxWidth?: number | string };
  const locale = (context.parameters.kling as KlingStoryParameters | undefined)?.locale;
  return (
    <div
      data-rka-theme={theme}
      dir={dir}
      lang={locale}
      style={{
        background: 'var(--rka-color-bg-subtle)',
        color: 'var(--rka-color-fg)',
        // The components inherit the app's font; this stands in for an app's.
        fontFamily: 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif',
        padding: '1.5rem',
        minHeight: context.viewMode === 'docs' ? undefined : '100vh',
        boxSizing: 'border-box',
      }}
    >
      <div style={{ maxWidth: maxWidth ?? 640, margin: '0 auto' }}>
        <Story />
      </div>
    </div>
  );
};
