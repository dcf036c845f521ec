import { hashKey, type QueryClient, type QueryKey, type QueryState } from '@tanstack/react-query';

/**
 * Calls `listener` with a query's state now and after each change of its `data` or `error`, outside
 * render. Hooks use it for their side effects (settling finished tasks, prefetching), so that they never
 * read `data` or `error` from react-query's result during render: a property read there is tracked for
 * the caller, and react-query would then skip re-rendering the caller for what it reads later (an error
 * in a click handler). Returns the unsubscribe function.
 */
export function followQuery<TData, TError>(
  queryClient: QueryClient,
  queryKey: QueryKey,
  listener: (state: QueryState<TData, TError>) => void,
): () => void {
  const cache = queryClient.getQueryCache();
  const hash = hashKey(queryKey);
  let last: { data: unknown; error: unknown } | undefined;
  const check = (state: QueryState<TData, TError> | undefined) => {
    // Unchanged answers keep their reference (structural sharing): an unchanged poll calls nobody.
    if (!state || (last && last.data === state.data && last.error === state.error)) return;
    last = { data: state.data, error: state.error };
    listener(state);
  };
  check(cache.find<TData, TError>({ queryKey, exact: true })?.state);
  return cache.subscribe((event) => {
    if (event.type === 'updated' && event.query.queryHash === hash)
      check(event.query.state as QueryState<TData, TError>);
  });
}
