/* global process */
/**
 * Runs a React scenario (bench/scenarios/*.tsx) in Node with a jsdom document: esbuild bundles it the way
 * an app would import the library (from src), a child `node --expose-gc` runs it, and the child's last
 * line of output is its JSON answer. A child per scenario keeps heaps and timers apart.
 */
import { execFile } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
// Inside the repository, so the bundle's externals (jsdom) resolve from its node_modules.
const outDir = resolve(root, 'node_modules/.cache/rka-bench');

export async function runScenario(name, args = []) {
  mkdirSync(outDir, { recursive: true });
  const outfile = resolve(outDir, `${name}.mjs`);
  await build({
    entryPoints: [resolve(root, 'bench/scenarios', `${name}.tsx`)],
    outfile,
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    jsx: 'automatic',
    logLevel: 'silent',
    // The Profiler reports renders only outside production builds.
    define: { 'process.env.NODE_ENV': '"development"' },
    external: ['jsdom'],
    loader: { '.css': 'empty' },
    banner: {
      js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
    },
  });
  const stdout = await new Promise((done, fail) =>
    execFile(
      process.execPath,
      ['--expose-gc', outfile, ...args],
      { cwd: root, maxBuffer: 16 * 2 ** 20, timeout: 120_000 },
      (error, out, err) => (error ? fail(new Error(`${name}: ${error.message}\n${err}`)) : done(out)),
    ),
  );
  const lines = stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]);
}
