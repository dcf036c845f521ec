#!/usr/bin/env node
/**
 * Lints the package as npm would publish it: `npm pack` (its `prepack` builds dist/) into a temporary
 * folder, then `publint --strict` and `attw` (Are the types wrong?) on that one tarball, as TanStack
 * does. ESM only, so attw's CommonJS resolutions are not asked for (`--profile esm-only`);
 * `styles.css` is a stylesheet, not a module with types.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const dir = mkdtempSync(join(tmpdir(), 'rka-pack-'));
const run = (command, args) => execFileSync(command, args, { stdio: 'inherit' });
try {
  run('npm', ['pack', '--pack-destination', dir, '--silent']);
  const tarball = join(
    dir,
    readdirSync(dir).find((file) => file.endsWith('.tgz')),
  );
  run('npx', ['--no-install', 'publint', '--strict', tarball]);
  run('npx', [
    '--no-install',
    'attw',
    tarball,
    '--profile',
    'esm-only',
    '--exclude-entrypoints',
    './styles.css',
    '--format',
    'table-flipped',
  ]);
} catch (error) {
  console.error(`check:package failed: ${error.message}`);
  process.exitCode = 1;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
