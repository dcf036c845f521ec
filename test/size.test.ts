// @vitest-environment node
import { describe, expect, it } from 'vitest';
import { measure } from '../bench/size.mjs';

describe('bundle size (bytes min+gzip, as `npm run bench` measures)', () => {
  it('keeps AudioResultPlayer, waveform included, within 6,000 B on top of client + hooks', async () => {
    const rows = await measure();
    const player = rows.find((row) => row.id === 'player')!;
    expect(player.missing).toBeUndefined();
    expect(player.gzip).toBeGreaterThan(1000);
    expect(player.gzip).toBeLessThanOrEqual(6000);
  }, 30_000);
});
