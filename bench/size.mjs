#!/usr/bin/env node
/* global process, console */
/**
 * What an app pays for the library, in bytes min+gzip: esbuild bundles a tiny entry the way an app
 * would import us (React, react-dom and react-query external; zod counted), minifies, and gzips at
 * level 9. Budgets are DESIGN.md's. `node bench/size.mjs --check` exits 1 when one is over (or missing).
 */
import { existsSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const CLIENT_HOOKS = [
  'KlingAudioProvider',
  'useCreateAudioTask',
  'useAudioTask',
  'useAudioTaskList',
  'createKlingAudioClient',
];

/** The measured parts, in table order. `base` makes a row the difference to another row. */
export const parts = [
  { id: 'clientHooks', label: 'client + hooks', entry: 'src/index.ts', names: CLIENT_HOOKS, budget: 10_000 },
  {
    id: 'player',
    label: 'AudioResultPlayer (on top of client + hooks)',
    entry: 'src/index.ts',
    names: [...CLIENT_HOOKS, 'AudioResultPlayer'],
    base: 'clientHooks',
    budget: 6_000,
  },
  { id: 'main', label: 'main entry (everything)', entry: 'src/index.ts', names: '*', budget: 20_000 },
  {
    id: 'server',
    label: 'react-kling-audio/server',
    entry: 'src/server/index.ts',
    names: '*',
    // No budget: DESIGN.md budgets what browsers download; the server entry runs on the app's server.
  },
];

/**
 * Bundles `names` from `entry` (a path under the repo) as an app's bundler loads it (DESIGN.md "Budgets"):
 * `min` and `gzip` are the first load (the entry chunk and the chunks it imports statically, each gzipped
 * on its own), every `import()` left out; `lazy` is the gzip of the chunks only loaded on demand.
 */
export async function bundleSize(entry, names) {
  const file = resolve(root, entry);
  if (!existsSync(file)) throw new Error(`${entry} does not exist yet`);
  const contents =
    names === '*'
      ? `export * from ${JSON.stringify(file)};`
      : `export { ${names.join(', ')} } from ${JSON.stringify(file)};`;
  const result = await build({
    stdin: { contents, resolveDir: root, sourcefile: 'size-entry.js', loader: 'js' },
    bundle: true,
    write: false,
    splitting: true,
    outdir: resolve(root, 'size-out'),
    metafile: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    jsx: 'automatic',
    logLevel: 'silent',
    define: { 'process.env.NODE_ENV': '"production"' },
    external: ['react', 'react-dom', 'react/*', 'react-dom/*', '@tanstack/react-query', 'node:*'],
    // Apps import the stylesheet on their own; CSS is not part of these figures.
    loader: { '.css': 'empty' },
  });
  const files = new Map(result.outputFiles.map((output) => [relative(root, output.path), output.contents]));
  const { outputs } = result.metafile;
  // The first load: the entry and what it imports statically; lazy: what those import() (and theirs).
  // esbuild also writes chunks that tree-shaking left unreachable: they are neither.
  const first = new Set();
  const lazy = new Set();
  const visit = (path, into) => {
    if (first.has(path) || lazy.has(path)) return;
    into.add(path);
    for (const { path: next, kind } of outputs[path].imports) {
      if (!outputs[next]) continue;
      if (kind === 'import-statement') visit(next, into);
      else if (kind === 'dynamic-import') visit(next, lazy);
    }
  };
  visit(
    Object.keys(outputs).find((path) => outputs[path].entryPoint),
    first,
  );
  const size = { min: 0, gzip: 0, lazy: 0 };
  for (const [path, code] of files) {
    const gzip = gzipSync(code, { level: 9 }).length;
    if (first.has(path)) {
      size.min += code.length;
      size.gzip += gzip;
    } else if (lazy.has(path)) size.lazy += gzip;
  }
  return size;
}

/** Every part's gzip figure (the player as the difference), or the reason it could not be measured. */
export async function measure() {
  const rows = [];
  const byId = {};
  for (const part of parts) {
    try {
      const size = await bundleSize(part.entry, part.names);
      byId[part.id] = size;
      const base = part.base ? byId[part.base] : undefined;
      if (part.base && !base) throw new Error(`${part.base} could not be measured`);
      rows.push({
        ...part,
        gzip: size.gzip - (base?.gzip ?? 0),
        min: size.min - (base?.min ?? 0),
        lazy: size.lazy - (base?.lazy ?? 0),
      });
    } catch (error) {
      const message = error?.errors?.[0]?.text ?? error?.message ?? String(error);
      rows.push({ ...part, missing: message });
    }
  }
  return rows;
}

const isMain = process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  const check = process.argv.includes('--check');
  const rows = await measure();
  const pad = (value, width) => String(value).padStart(width);
  console.log(
    `${'part'.padEnd(46)}${pad('min', 9)}${pad('min+gzip', 10)}${pad('budget', 9)}  status  (+ lazy min+gzip)`,
  );
  let failed = false;
  for (const row of rows) {
    if (row.missing) {
      failed = true;
      console.log(
        `${row.label.padEnd(46)}${pad('-', 9)}${pad('-', 10)}${pad(row.budget ?? '-', 9)}  missing: ${row.missing}`,
      );
      continue;
    }
    const over = row.budget !== undefined && row.gzip > row.budget;
    failed ||= over;
    console.log(
      `${row.label.padEnd(46)}${pad(row.min, 9)}${pad(row.gzip, 10)}${pad(row.budget ?? '-', 9)}  ${over ? 'OVER' : 'ok  '}${row.lazy ? `  + ${row.lazy} lazy` : ''}`,
    );
  }
  console.log(
    '\nBytes: esbuild bundle + minify, gzip -9; react, react-dom, @tanstack/react-query external; zod counted;\n' +
      'the first load, every import() apart (lazy: the chunks loaded on demand).',
  );
  if (check && failed) process.exit(1);
}
