/** Bytes an app pays (min+gzip), against DESIGN.md's budgets: the same measure `test/size.test.ts` asserts. */
import { measure, SPLIT_TOLERANCE } from '../size.mjs';

export const title =
  'Bytes (esbuild bundle + minify, gzip -9 per file; react, react-dom, react-query external; zod counted)';

const bytes = (value) => `${value.toLocaleString('en-US')} B`;

export async function run() {
  const rows = [];
  for (const part of await measure()) {
    if (part.missing) {
      rows.push({ name: part.label, value: 'missing', note: part.missing });
      continue;
    }
    const budget =
      part.budget === undefined
        ? 'no budget (server side: never in a browser bundle)'
        : `budget ${bytes(part.budget)}: ${part.gzip <= part.budget ? 'ok' : `OVER by ${bytes(part.gzip - part.budget)}`}`;
    const chunks = part.lazyOf ? ` (${part.chunks.map((chunk) => bytes(chunk.gzip)).join(' + ')})` : '';
    rows.push({
      name: part.label,
      value: part.gzip,
      unit: 'B',
      note: `${budget}${chunks}${part.peers ? ` · peers: ${part.peers}` : ''}`,
    });
    if (part.splitDifference !== undefined && part.base === undefined) {
      rows.push({
        name: `  ${part.id}: code-splitting build, first load`,
        value: part.splitFirstLoad,
        unit: 'B',
        note: `${part.splitDifference >= 0 ? '+' : ''}${part.splitDifference} B against one file (< ${SPLIT_TOLERANCE} B: ${part.splitDifference < SPLIT_TOLERANCE ? 'ok' : 'NO'})`,
      });
      rows.push({
        name: `  ${part.id}: a session that creates a task`,
        value: part.session,
        unit: 'B',
        note: 'first load + the push chunks (a create opens the stream)',
      });
    }
  }
  return { rows };
}
