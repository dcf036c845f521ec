#!/usr/bin/env node
/* global process, console */
/**
 * What an app pays for the library, in bytes min+gzip, measured the way an app's bundler loads it: esbuild
 * bundles a tiny entry that imports what the app would (React, react-dom and react-query external; zod
 * counted), minifies, and gzips each file at level 9.
 *
 * - **first load**: one file with every `import()` left out (what a page downloads before anything lazy);
 * - **lazy chunks**: an esbuild code-splitting build of the same entry; every chunk reached only through
 *   `import()` is measured apart (the push reader, loaded when a stream opens);
 * - **split check**: that build's first load (its entry chunk and every chunk it imports statically) must
 *   stay within 100 B of the one-file figure: more means code the lazy modules share with the rest was
 *   split into a chunk of its own, which every page then loads as an extra request;
 * - **session**: first load + lazy chunks, what a session that creates a task loads (a create opens the
 *   stream).
 *
 * Budgets are DESIGN.md's ("Budgets"). `node bench/size.mjs --check` exits 1 when one is over or missing.
 */
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** The split build's first load may exceed the one-file first load by less than this many bytes. */
export const SPLIT_TOLERANCE = 100;

const CLIENT_HOOKS = [
  'KlingAudioProvider',
  'useCreateAudioTask',
  'useAudioTask',
  'useAudioTaskList',
  'createKlingAudioClient',
];

/**
 * The measured parts, in table order. `base` makes a row the difference to another row's first load;
 * `lazyOf` makes it the lazy chunks of another row's build; `peers` is what the nearest alternatives cost
 * (DESIGN.md, measured the same way).
 */
export const parts = [
  {
    id: 'clientHooks',
    label: 'client + hooks, first load',
    entry: 'src/index.ts',
    names: CLIENT_HOOKS,
    budget: 13_000,
    peers: '@fal-ai/client 21,030 B (no hooks, no validation) · TanStack AI useGenerateAudio ~13.1 kB',
  },
  {
    id: 'push',
    label: 'push reader, lazy chunks (when a stream opens)',
    lazyOf: 'clientHooks',
    budget: 1_700,
  },
  {
    id: 'player',
    label: 'AudioResultPlayer on top of client + hooks',
    entry: 'src/index.ts',
    names: [...CLIENT_HOOKS, 'AudioResultPlayer'],
    base: 'clientHooks',
    budget: 5_600,
    peers: 'react-h5-audio-player 12,398 B · @wavesurfer/react 16,031 B',
  },
  {
    id: 'main',
    label: 'main entry (everything), first load',
    entry: 'src/index.ts',
    names: '*',
    budget: 25_000,
  },
  {
    id: 'server',
    label: 'react-kling-audio/server',
    entry: 'src/server/index.ts',
    names: '*',
    // No budget: DESIGN.md budgets what browsers download; the server entry runs on the app's server.
  },
];

const options = {
  bundle: true,
  write: false,
  minify: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  jsx: 'automatic',
  logLevel: 'silent',
  absWorkingDir: root,
  define: { 'process.env.NODE_ENV': '"production"' },
  external: ['react', 'react-dom', 'react/*', 'react-dom/*', '@tanstack/react-query', 'node:*'],
  // Apps import the stylesheet on their own; CSS is not part of these figures.
  loader: { '.css': 'empty' },
};

const gzip = (bytes) => gzipSync(bytes, { level: 9 }).length;

function entryCode(entry, names) {
  const file = resolve(root, entry);
  if (!existsSync(file)) throw new Error(`${entry} does not exist yet`);
  return names === '*'
    ? `export * from ${JSON.stringify(file)};`
    : `export { ${names.join(', ')} } from ${JSON.stringify(file)};`;
}

/** The app's entry as a virtual module (a code-splitting build needs a real entry point, not stdin). */
const virtualEntry = (contents) => ({
  name: 'rka-size-entry',
  setup(builder) {
    builder.onResolve({ filter: /^rka-size-entry$/ }, () => ({ path: 'entry', namespace: 'rka-size' }));
    builder.onLoad({ filter: /.*/, namespace: 'rka-size' }, () => ({
      contents,
      resolveDir: root,
      loader: 'js',
    }));
  },
});

/** Leaves every `import()` out of the bundle, as the first load of a page leaves it. */
const lazyExternal = {
  name: 'rka-lazy-external',
  setup(builder) {
    builder.onResolve({ filter: /.*/ }, (args) =>
      args.kind === 'dynamic-import' ? { path: args.path, external: true } : undefined,
    );
  },
};

/** Bundles `names` from `entry` (a path under the repo) into one file: `{ min, gzip }` of the first load. */
export async function bundleSize(entry, names) {
  const result = await build({
    ...options,
    entryPoints: ['rka-size-entry'],
    plugins: [virtualEntry(entryCode(entry, names)), lazyExternal],
  });
  const code = result.outputFiles[0].contents;
  return { min: code.length, gzip: gzip(code) };
}

/**
 * The code-splitting build of the same entry: the first load (entry chunk and the chunks it imports
 * statically, each gzipped on its own) and every chunk reached only through `import()`.
 */
export async function splitSize(entry, names) {
  const result = await build({
    ...options,
    entryPoints: ['rka-size-entry'],
    splitting: true,
    outdir: 'size-out',
    metafile: true,
    plugins: [virtualEntry(entryCode(entry, names))],
  });
  const outputs = result.metafile.outputs;
  const files = Object.fromEntries(
    result.outputFiles.map((file) => [file.path.slice(root.length + 1).replace(/\\/g, '/'), file.contents]),
  );
  const entryFile = Object.keys(outputs).find((path) => outputs[path].entryPoint);
  const firstLoad = new Set();
  const visit = (path) => {
    if (firstLoad.has(path) || !outputs[path]) return;
    firstLoad.add(path);
    for (const imported of outputs[path].imports) {
      if (imported.kind === 'import-statement' && !imported.external) visit(imported.path);
    }
  };
  visit(entryFile);
  const size = (path) => ({
    file: path.replace(/^size-out\//, ''),
    min: files[path].length,
    gzip: gzip(files[path]),
  });
  const first = [...firstLoad].map(size);
  // Lazy: the chunks the first load reaches through `import()` (and what those import). esbuild also
  // writes a chunk for every `import()` target it parsed, even one whose importer was shaken out (the
  // player's Web Audio chunk in a build without the player): such a chunk is never loaded, so not counted.
  const reached = new Set();
  const reach = (path) => {
    for (const imported of outputs[path].imports) {
      if (imported.external || !outputs[imported.path] || firstLoad.has(imported.path)) continue;
      if (imported.kind !== 'dynamic-import' && !reached.has(path)) continue;
      if (reached.has(imported.path)) continue;
      reached.add(imported.path);
      reach(imported.path);
    }
  };
  firstLoad.forEach(reach);
  const lazy = [...reached].filter((path) => path.endsWith('.js')).map(size);
  return {
    firstLoad: { gzip: first.reduce((sum, chunk) => sum + chunk.gzip, 0), files: first },
    lazy,
  };
}

/**
 * Every part's gzip figure (first load; the player as a difference; the push reader as the sum of its
 * chunks), each bundled part with its split build, or the reason it could not be measured.
 */
export async function measure() {
  const rows = [];
  const byId = {};
  for (const part of parts) {
    try {
      if (part.lazyOf) {
        const of = byId[part.lazyOf];
        if (!of) throw new Error(`${part.lazyOf} could not be measured`);
        const chunks = of.split.lazy;
        rows.push({
          ...part,
          chunks,
          gzip: chunks.reduce((sum, chunk) => sum + chunk.gzip, 0),
          min: chunks.reduce((sum, chunk) => sum + chunk.min, 0),
        });
        continue;
      }
      const size = await bundleSize(part.entry, part.names);
      const split = part.budget === undefined ? undefined : await splitSize(part.entry, part.names);
      byId[part.id] = { ...size, split };
      const base = part.base ? byId[part.base] : undefined;
      if (part.base && !base) throw new Error(`${part.base} could not be measured`);
      rows.push({
        ...part,
        gzip: size.gzip - (base?.gzip ?? 0),
        min: size.min - (base?.min ?? 0),
        ...(split && {
          firstLoad: size.gzip,
          splitFirstLoad: split.firstLoad.gzip,
          splitDifference: split.firstLoad.gzip - size.gzip,
          chunks: split.lazy,
          session: size.gzip + split.lazy.reduce((sum, chunk) => sum + chunk.gzip, 0),
        }),
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
  console.log(`${'part'.padEnd(48)}${pad('min', 9)}${pad('min+gzip', 10)}${pad('budget', 9)}  status`);
  let failed = false;
  for (const row of rows) {
    if (row.missing) {
      failed = true;
      console.log(
        `${row.label.padEnd(48)}${pad('-', 9)}${pad('-', 10)}${pad(row.budget ?? '-', 9)}  missing: ${row.missing}`,
      );
      continue;
    }
    const over = row.budget !== undefined && row.gzip > row.budget;
    const splitOff = row.splitDifference !== undefined && row.splitDifference >= SPLIT_TOLERANCE;
    failed ||= over || splitOff;
    console.log(
      `${row.label.padEnd(48)}${pad(row.min, 9)}${pad(row.gzip, 10)}${pad(row.budget ?? '-', 9)}  ${over ? 'OVER' : 'ok'}`,
    );
    if (row.splitDifference !== undefined) {
      console.log(
        `  split build first load ${row.splitFirstLoad} B (${row.splitDifference >= 0 ? '+' : ''}${row.splitDifference} B, ` +
          `< ${SPLIT_TOLERANCE}: ${splitOff ? 'NO' : 'ok'}); lazy chunks ${row.chunks.map((chunk) => `${chunk.file} ${chunk.gzip} B`).join(', ') || 'none'}; session ${row.session} B`,
      );
    }
    if (row.peers) console.log(`  peers: ${row.peers}`);
  }
  console.log(
    '\nBytes: esbuild bundle + minify, gzip -9 per file; react, react-dom, @tanstack/react-query external; zod counted.',
  );
  if (check && failed) process.exit(1);
}
