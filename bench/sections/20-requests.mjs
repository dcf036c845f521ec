/** Requests the hooks send (counted at the mock backend), per task and per subscriber count. */
import { runScenario } from '../dom.mjs';

export const title = 'Requests (GETs at the mock backend; polling at a tenth of its pace, task 1 s + 3 s)';

export async function run() {
  const { one, ten, hidden } = await runScenario('requests');
  return {
    rows: [
      { name: 'GETs per task lifecycle, 1 subscriber', value: one.lifecycle },
      { name: 'GETs per task lifecycle, 10 staggered subscribers', value: ten.lifecycle },
      {
        name: 'ratio 10 / 1 subscribers',
        value: Number((ten.lifecycle / one.lifecycle).toFixed(2)),
        unit: '×',
        note: 'budget 1×',
      },
      { name: 'GETs in the 5 s after terminal', value: one.after + ten.after, note: 'both runs; budget 0' },
      { name: 'GETs while the tab is hidden (2 s)', value: hidden.hidden, note: 'budget 0' },
    ],
    notes: ['Polling 100 ms backing off to 500 ms, ±20 % jitter; subscribers join 150 ms apart.'],
  };
}
