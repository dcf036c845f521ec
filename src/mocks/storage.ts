/**
 * A `Storage` kept in memory: give one to `<KlingAudioProvider storage>` per test or story, so pending
 * tasks and remembered prompts never leak between them; share one between two renders to simulate a
 * reload.
 */
export function createMemoryStorage(): Storage {
  const map = new Map<string, string>();
  return {
    get length() {
      return map.size;
    },
    clear: () => map.clear(),
    getItem: (key) => map.get(key) ?? null,
    key: (index) => [...map.keys()][index] ?? null,
    removeItem: (key) => void map.delete(key),
    setItem: (key, value) => void map.set(key, String(value)),
  };
}
