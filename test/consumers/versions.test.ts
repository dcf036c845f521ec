/**
 * The consumer projects (vite.config.ts) really run what they claim: React 18.3 in `react-18`, the root's
 * React 19 elsewhere. Guards against an alias that silently stops applying.
 */
import { version } from 'react';
import { version as domVersion } from 'react-dom';
import { expect, it } from 'vitest';

it('runs the React its project names', () => {
  const expected = process.env.RKA_EXPECT_REACT ?? '19.';
  expect(version.startsWith(expected)).toBe(true);
  expect(domVersion).toBe(version);
});
