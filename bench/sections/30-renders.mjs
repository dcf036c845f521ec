/** Renders per poll whose answer did not change (React Profiler commits), in jsdom. */
import { runScenario } from '../dom.mjs';

export const title =
  'Renders per unchanged poll (React Profiler, jsdom; a task that stays submitted, 100 ms polls)';

export async function run() {
  const { watcher, studio, plain } = await runScenario('renders');
  const row = (name, m, note) => ({
    name,
    value: Number(m.perPoll.toFixed(2)),
    unit: 'renders/poll',
    note: `${m.renders} renders over ${m.polls} polls${note ? `; ${note}` : ''}`,
  });
  return {
    rows: [
      row('task watcher (useAudioTask, reads task)', watcher, 'budget 0'),
      row('whole studio (TextToAudioStudio)', studio, 'its elapsed-time clock ticks once a second'),
      row('plain useQuery({ refetchInterval }) watcher', plain),
    ],
  };
}
