/**
 * The stores the record tests run on. Each `make()` gives an empty store of its kind.
 */
import { createMemoryTaskStore, type KlingTaskStore } from '../src/server';

export interface StoreKind {
  name: string;
  make: () => Promise<KlingTaskStore>;
  /** Why this kind cannot run here (and so is skipped), if it cannot. */
  skip?: string;
}

export const storeKinds: StoreKind[] = [{ name: 'memory', make: async () => createMemoryTaskStore() }];
