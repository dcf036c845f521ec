/** Bytes an app pays (min+gzip), against DESIGN.md's budgets: the same measure `test/size.test.ts` asserts. */
import { measure } from '../size.mjs';

export const title =
  'Bytes (esbuild bundle + minify, gzip -9; react, react-dom, react-query external; zod counted)';

export async function run() {
  const rows = [];
  for (const part of await measure()) {
    rows.push(
      part.missing
        ? { name: part.label, value: 'missing', note: part.missing }
        : {
            name: part.label,
            value: part.gzip,
            unit: 'B',
            note:
              part.budget === undefined
                ? 'no budget (server side: never in a browser bundle)'
                : `budget ${part.budget.toLocaleString('en-US')} B: ${part.gzip <= part.budget ? 'ok' : `OVER by ${(part.gzip - part.budget).toLocaleString('en-US')} B`}`,
          },
    );
  }
  return { rows };
}
