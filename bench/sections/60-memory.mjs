/** Heap (after forced GC) before and after mounting and unmounting many players and watched tasks. */
import { runScenario } from '../dom.mjs';

export const title = 'Memory (jsdom, node --expose-gc; heap after GC, 500 players then 500 watched tasks)';

const kib = (bytes) => Math.round(bytes / 1024);

export async function run() {
  const m = await runScenario('memory');
  return {
    rows: [
      { name: 'heap before', value: kib(m.before), unit: 'KiB' },
      { name: '500 players mounted (before GC)', value: kib(m.playersMounted), unit: 'KiB' },
      {
        name: 'after unmounting 500 players',
        value: kib(m.afterPlayers),
        unit: 'KiB',
        note: `${kib(m.afterPlayers - m.before)} KiB vs before`,
      },
      { name: '500 watched tasks mounted (before GC)', value: kib(m.tasksMounted), unit: 'KiB' },
      {
        name: 'after unmounting 500 watched tasks',
        value: kib(m.afterTasks),
        unit: 'KiB',
        note: `${kib(m.afterTasks - m.afterPlayers)} KiB vs after the players`,
      },
    ],
    notes: [
      'Players off screen (no audio fetched); the QueryClient is cleared after each round, as a page change would.',
    ],
  };
}
