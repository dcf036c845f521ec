import { useSyncExternalStore } from 'react';

const never = () => () => {};
/**
 * False during a server render and while hydrating, true after: what this browser remembers must not
 * show before hydration, or the first client render differs from the server's HTML.
 */
export const useHydrated = () =>
  useSyncExternalStore(
    never,
    () => true,
    () => false,
  );
