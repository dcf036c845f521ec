import { useMemo } from 'react';
import { POLLING_FIELDS, resolvePollingOptions, type PollingOptions } from './polling';

/** The same options as long as their values are the same: apps pass `polling={{ … }}` inline. */
export function usePollingOptions(...layers: (Partial<PollingOptions> | undefined)[]): PollingOptions {
  const resolved = resolvePollingOptions(...layers);
  // Compared by value through a string of plain numbers (`String(Infinity)` reads back as `Infinity`).
  const key = POLLING_FIELDS.map((field) => resolved[field]).join();
  return useMemo(() => {
    const values = key.split(',').map(Number);
    return Object.fromEntries(
      POLLING_FIELDS.map((field, i) => [field, values[i]]),
    ) as unknown as PollingOptions;
  }, [key]);
}
