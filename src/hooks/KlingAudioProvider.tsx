import { QueryClient, QueryClientContext, QueryClientProvider } from '@tanstack/react-query';
import { createContext, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import {
  createKlingAudioClient,
  defaultMessages,
  type KlingAudioClient,
  type KlingAudioMessages,
} from '../api';
import { createTaskMemory, defaultStorage, type TaskMemory } from './pendingTasks';
import { type PollingOptions } from './polling';
import { usePollingOptions } from './usePollingOptions';
import { startTaskEvents, type TaskUpdatesMode } from './taskEvents';

export interface KlingAudioProviderProps {
  /** Where the app mounted `createKlingAudioProxy`, e.g. `/api/kling`. Give this or `client`. */
  baseUrl?: string;
  /** A client made with `createKlingAudioClient`, e.g. with custom headers. Takes precedence over `baseUrl`. */
  client?: KlingAudioClient;
  /**
   * The QueryClient to use. Defaults to the one of the surrounding `QueryClientProvider`, or, where
   * there is none, one of the provider's own.
   */
  queryClient?: QueryClient;
  /** Polling cadence and deadline for every task. Defaults to 1 s backing off to 5 s, ±20 %, 10 minutes. */
  polling?: Partial<PollingOptions>;
  /**
   * How task updates arrive. `'auto'`: the proxy's event stream (one per provider, open while a task is
   * watched) where it offers one, polling where it does not or while the stream is down, never both for
   * one task; `'push'`: the same, but keeps trying the stream even where the proxy said it has none;
   * `'poll'`: polling only. Defaults to `'auto'`.
   */
  updates?: TaskUpdatesMode;
  /** Replacements for any visible string. Defaults to English. */
  messages?: Partial<KlingAudioMessages>;
  /** BCP 47 locale for numbers and dates. Defaults to the browser's. */
  locale?: string;
  /**
   * Where pending task ids and prompts are kept across reloads. `null` keeps them in memory only.
   * Defaults to `localStorage` in the browser.
   */
  storage?: Storage | null;
  /** Prefix of the storage keys, so two apps on one origin do not mix. Defaults to `'rka'`. */
  storageNamespace?: string;
  children?: ReactNode;
}

export interface KlingAudioContextValue {
  client: KlingAudioClient;
  polling: PollingOptions;
  /** The provider's `messages` prop: replacements only. `useKlingMessages()` merges them over the defaults. */
  messages: Partial<KlingAudioMessages> | undefined;
  locale: string | undefined;
  memory: TaskMemory;
}

const KlingAudioContext = createContext<KlingAudioContextValue | null>(null);

/**
 * Makes the client, polling defaults and messages available to every hook and component below it.
 * Works under the app's `QueryClientProvider`; where there is none it provides its own QueryClient.
 *
 * @example
 * <KlingAudioProvider baseUrl="/api/kling" polling={{ maxWaitMs: 300_000 }}>
 *   <TextToAudioStudio />
 * </KlingAudioProvider>
 */
export function KlingAudioProvider({
  baseUrl,
  client: clientProp,
  queryClient: queryClientProp,
  polling,
  updates = 'auto',
  messages,
  locale,
  storage,
  storageNamespace = 'rka',
  children,
}: KlingAudioProviderProps) {
  if (!clientProp && !baseUrl) {
    throw new Error('KlingAudioProvider needs `baseUrl` (where the app mounts the proxy) or `client`.');
  }
  const outerQueryClient = useContext(QueryClientContext);
  const [ownQueryClient] = useState(() =>
    queryClientProp || outerQueryClient ? undefined : new QueryClient(),
  );
  const client = useMemo(
    () => clientProp ?? createKlingAudioClient({ baseUrl: baseUrl! }),
    [clientProp, baseUrl],
  );
  // Created in render but only reads storage when there is a window: a server render gets memory only.
  const memory = useMemo(
    () => createTaskMemory(storage === null ? undefined : (storage ?? defaultStorage()), storageNamespace),
    [storage, storageNamespace],
  );
  // Apps pass `polling={{ ... }}` inline: compared by value, not by identity.
  const pollingOptions = usePollingOptions(polling);
  const value = useMemo<KlingAudioContextValue>(
    () => ({ client, polling: pollingOptions, messages, locale, memory }),
    [client, pollingOptions, messages, locale, memory],
  );

  const queryClient = queryClientProp ?? ownQueryClient;
  const activeQueryClient = queryClient ?? outerQueryClient!;
  // One stream per provider, opened only while something is watched; effects do not run on a server.
  useEffect(() => startTaskEvents(activeQueryClient, client, updates), [activeQueryClient, client, updates]);

  const content = <KlingAudioContext.Provider value={value}>{children}</KlingAudioContext.Provider>;
  return queryClient ? <QueryClientProvider client={queryClient}>{content}</QueryClientProvider> : content;
}

/** The provider's value. Throws a clear error outside `<KlingAudioProvider>`. */
export function useKlingAudioContext(): KlingAudioContextValue {
  const value = useContext(KlingAudioContext);
  if (!value) throw new Error('react-kling-audio: wrap this component in <KlingAudioProvider baseUrl="…">.');
  return value;
}

/** The messages to show: defaults, then the provider's, then the component's own `overrides`. */
export function useKlingMessages(overrides?: Partial<KlingAudioMessages>): KlingAudioMessages {
  const { messages } = useKlingAudioContext();
  // Merged here rather than in the provider, so an app that uses only the hooks does not ship the strings.
  return useMemo(() => ({ ...defaultMessages, ...messages, ...overrides }), [messages, overrides]);
}
