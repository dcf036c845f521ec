// @vitest-environment node
/**
 * What `npm run build` puts in dist/, checked on a fresh JavaScript-only build in a temporary folder:
 * `'use client'` exactly on the modules that run React, and the MP3 encoder under a plain path with its
 * licence beside it.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const outDir = mkdtempSync(join(tmpdir(), 'rka-build-'));
const files: Record<string, string> = {};

beforeAll(async () => {
  await promisify(execFile)(
    'node',
    ['node_modules/vite/bin/vite.js', 'build', '--outDir', outDir, '--logLevel', 'error'],
    {
      env: { ...process.env, RKA_BUILD_JS_ONLY: '1' },
    },
  );
  const walk = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
      entry.isDirectory() ? walk(join(dir, entry.name)) : [join(dir, entry.name)],
    );
  for (const file of walk(outDir)) files[relative(outDir, file)] = readFileSync(file, 'utf8');
}, 120_000);

afterAll(() => rmSync(outDir, { recursive: true, force: true }));

const isClient = (code: string) => /^['"]use client['"];/.test(code);
// A built module runs React when it imports react (or its JSX runtime), or a hook or provider of react-query.
const runsReact = (code: string) =>
  /from\s+"react(\/jsx-runtime)?"/.test(code) ||
  /import\s*\{[^}]*\b(use[A-Z]\w*|QueryClientProvider)\b[^}]*\}\s*from\s+"@tanstack\/react-query"/.test(code);

describe('dist', () => {
  it("marks 'use client' on every module that runs React and on no other", () => {
    const modules = Object.keys(files).filter((file) => file.endsWith('.js'));
    expect(modules.length).toBeGreaterThan(20);
    const marked = modules.filter((file) => isClient(files[file]!)).sort();
    expect(marked).toEqual(modules.filter((file) => runsReact(files[file]!)).sort());
    // The helpers a server component may import as plain functions, and the entries and the API layer.
    for (const plain of ['hooks/polling.js', 'hooks/pendingTasks.js', 'index.js', 'server.js', 'mocks.js']) {
      expect(files[plain], plain).toBeDefined();
      expect(isClient(files[plain]!), plain).toBe(false);
    }
    expect(modules.filter((file) => file.startsWith('api/') && isClient(files[file]!))).toEqual([]);
    for (const client of ['hooks/useAudioTask.js', 'hooks/KlingAudioProvider.js', 'components/internal.js']) {
      expect(isClient(files[client]!), client).toBe(true);
    }
  });

  it('ships the MP3 encoder under vendor/ with its licence, and nothing under a node_modules folder', () => {
    expect(Object.keys(files).filter((file) => file.split(/[\\/]/).includes('node_modules'))).toEqual([]);
    expect(files['vendor/lamejs/lamejs.js']).toContain('Mp3Encoder');
    expect(files['vendor/lamejs/LICENSE']).toBe(
      readFileSync('node_modules/@breezystack/lamejs/LICENSE', 'utf8'),
    );
    expect(files['mocks/mp3.js']).toContain('import("../vendor/lamejs/lamejs.js")');
  });
});
