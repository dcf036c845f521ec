// @vitest-environment node
/**
 * Every byte budget of DESIGN.md ("Budgets"), measured as `npm run bench` measures it (bench/size.mjs):
 * esbuild, min+gzip, React and react-query external, zod counted, every `import()` left out of the first
 * load and its chunks measured apart.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { bundleSize, measure, SPLIT_TOLERANCE, type SizeRow } from '../bench/size.mjs';

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
  it('loads client + hooks (KlingAudioProvider, the three hooks) within 13,000 B at first', () => {
    const clientHooks = row('clientHooks');
    expect(clientHooks.gzip).toBeGreaterThan(5000);
    expect(clientHooks.gzip).toBeLessThanOrEqual(13_000);
  });

  it('loads the push reader on demand, in chunks of at most 1,700 B in all', () => {
    const push = row('push');
    // The reader is a chunk of its own: a page that never watches a task never downloads it.
    expect(push.chunks.length).toBeGreaterThan(0);
    expect(push.gzip).toBeGreaterThan(500);
    expect(push.gzip).toBeLessThanOrEqual(1_700);
  });

  it('keeps AudioResultPlayer, waveform included, within 5,600 B on top of client + hooks', () => {
    const player = row('player');
    expect(player.gzip).toBeGreaterThan(1000);
    expect(player.gzip).toBeLessThanOrEqual(5_600);
  });

  it('keeps the whole main entry, every component included, within 25,000 B at first load', () => {
    const main = row('main');
    expect(main.gzip).toBeGreaterThan(row('clientHooks').gzip + row('player').gzip);
    expect(main.gzip).toBeLessThanOrEqual(25_000);
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
