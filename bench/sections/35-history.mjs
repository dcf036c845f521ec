/** The history list: renders when one row's star changes (only that row should render). */
import { runScenario } from '../dom.mjs';

export const title = "History: renders when one row's star changes (100-row page, jsdom, React commits)";

export async function run() {
  const result = await runScenario('rowRenders');
  return {
    rows: [
      {
        name: 'renders of the starred row',
        value: result.rowRenders - result.otherRows,
        unit: 'renders',
        note: `over ${result.commits} commits (the press, the server's answer, the page's refresh)`,
      },
      {
        name: 'renders of the other rows',
        value: result.otherRows,
        unit: 'renders',
        note: `budget 0 (of ${result.rows - 1} rows)`,
      },
    ],
  };
}
