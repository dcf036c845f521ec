// @vitest-environment node
/**
 * Every byte budget of DESIGN.md ("Budgets"), measured as `npm run bench` measures it (bench/size.mjs):
 * esbuild, min+gzip, React and react-query external, zod counted, every `import()` left out of the first
 * load and its chunks measured apart.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { bundleSize, measure, SPLIT_TOLERANCE, type SizeRow } from '../bench/size.mjs';

/**
 * Three of DESIGN.md's byte budgets are missed since the history, queue and player features of 2026-12-08
 * landed (figures: README "Bench"). Until they are met again, each row is held to a ceiling a little above
 * what it measured then, so it cannot grow further unnoticed; the budget itself stays in bench/size.mjs,
 * which prints the row as OVER. A row back under its budget fails here too: it then leaves this list.
 */
const MISSED = {
  clientHooks: { budget: 13_000, ceiling: 14_600 },
  player: { budget: 5_600, ceiling: 7_000 },
  main: { budget: 25_000, ceiling: 34_500 },
};

let rows: SizeRow[];
const row = (id: string) => {
  const found = rows.find((candidate) => candidate.id === id)!;
  expect(found.missing, `${id} could not be measured`).toBeUndefined();
  return found as Required<SizeRow>;
};

beforeAll(async () => {
  rows = await measure();
}, 60_000);

describe('bundle size (bytes min+gzip, as `npm run bench` measures)', () => {
  it('loads client + hooks at first within 14,600 B (budget 13,000 B: missed)', () => {
    const clientHooks = row('clientHooks');
    expect(clientHooks.gzip).toBeGreaterThan(5000);
    expect(clientHooks.gzip).toBeGreaterThan(MISSED.clientHooks.budget);
    expect(clientHooks.gzip).toBeLessThanOrEqual(MISSED.clientHooks.ceiling);
  });

  it('loads the push reader on demand, in chunks of at most 1,700 B in all', () => {
    const push = row('push');
    // The reader is a chunk of its own: a page that never watches a task never downloads it.
    expect(push.chunks.length).toBeGreaterThan(0);
    expect(push.gzip).toBeGreaterThan(500);
    expect(push.gzip).toBeLessThanOrEqual(1_700);
  });

  it('keeps AudioResultPlayer on top of client + hooks within 7,000 B (budget 5,600 B: missed)', () => {
    const player = row('player');
    expect(player.gzip).toBeGreaterThan(1000);
    expect(player.gzip).toBeGreaterThan(MISSED.player.budget);
    expect(player.gzip).toBeLessThanOrEqual(MISSED.player.ceiling);
  });

  it('keeps the whole main entry at first load within 34,500 B (budget 25,000 B: missed)', () => {
    const main = row('main');
    expect(main.gzip).toBeGreaterThan(row('clientHooks').gzip + row('player').gzip);
    expect(main.gzip).toBeGreaterThan(MISSED.main.budget);
    expect(main.gzip).toBeLessThanOrEqual(MISSED.main.ceiling);
  });

  it('pulls no chunk back into the first load: a code-splitting build loads less than 100 B more', () => {
    for (const id of ['clientHooks', 'player', 'main']) {
      const { splitDifference, firstLoad, splitFirstLoad } = row(id);
      expect(splitFirstLoad, id).toBe(firstLoad + splitDifference);
      expect(splitDifference, id).toBeLessThan(SPLIT_TOLERANCE);
    }
  });

  it('costs a session that creates a task its first load plus the push chunks', () => {
    const clientHooks = row('clientHooks');
    expect(clientHooks.session).toBe(clientHooks.gzip + row('push').gzip);
  });

  it('lets a small helper be imported without zod: isTerminalStatus and audioTaskKeys stay tiny', async () => {
    // zod/mini alone is ~5,000 B: these would cost that much if a schema ran at module level.
    expect((await bundleSize('src/index.ts', ['isTerminalStatus'])).gzip).toBeLessThan(200);
    expect((await bundleSize('src/index.ts', ['isTerminalStatus', 'audioTaskKeys'])).gzip).toBeLessThan(500);
  }, 30_000);

  it('words a vendor error without the HTTP-status and meaning table the server and mocks use', async () => {
    const words = (await bundleSize('src/index.ts', ['getUserMessage'])).gzip;
    const table = (await bundleSize('src/api/errors.ts', ['getUserMessage', 'KLING_ERROR_CODES'])).gzip;
    expect(table - words).toBeGreaterThan(200);
  }, 30_000);
});
