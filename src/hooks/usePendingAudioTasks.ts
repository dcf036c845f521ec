import { useSyncExternalStore } from 'react';
import { useKlingAudioContext } from './KlingAudioProvider';

const NONE: readonly string[] = [];
const serverSnapshot = () => NONE;

/**
 * The ids of tasks this browser created that are not finished yet, newest first. They survive a reload
 * (localStorage), so a UI can resume where it was. A task leaves the list once it is seen `succeed` or
 * `failed`. Empty during a server render.
 *
 * @example
 * const [latest] = usePendingAudioTasks();
 * return latest ? <AudioResultPlayer taskId={latest} /> : null;
 */
export function usePendingAudioTasks(): readonly string[] {
  const { memory } = useKlingAudioContext();
  return useSyncExternalStore(memory.subscribe, memory.getPending, serverSnapshot);
}
