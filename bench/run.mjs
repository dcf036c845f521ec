#!/usr/bin/env node
/* global process, console */
/**
 * `npm run bench`: every section in bench/sections/*.mjs, in file-name order, in one run. A section
 * exports `title` and `run()` returning `{ rows: [{ name, value, unit?, note? }], notes?: string[] }`.
 * Prints one table per section and writes bench/results.json (machine, date, every figure).
 * `--only name1,name2` runs the sections whose file names contain one of the words.
 * Timings are medians of several runs and ratios; nothing here is asserted (byte budgets are, in npm test).
 */
import { readdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const onlyArg = process.argv.find((arg, i) => process.argv[i - 1] === '--only');
const only = onlyArg?.split(',').filter(Boolean);
const files = readdirSync(join(here, 'sections'))
  .filter((file) => file.endsWith('.mjs'))
  .filter((file) => !only || only.some((word) => file.includes(word)))
  .sort();

const results = {
  date: new Date().toISOString(),
  machine: `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`,
  sections: {},
};
console.log(`react-kling-audio bench · ${results.date} · ${results.machine}\n`);
let failed = false;
for (const file of files) {
  const section = await import(pathToFileURL(join(here, 'sections', file)).href);
  const name = file.replace(/^\d+-/, '').replace(/\.mjs$/, '');
  const started = Date.now();
  try {
    const { rows, notes = [] } = await section.run();
    results.sections[name] = { title: section.title, rows, notes };
    const width = Math.max(20, ...rows.map((row) => row.name.length));
    console.log(`## ${section.title}  (${((Date.now() - started) / 1000).toFixed(1)} s)`);
    for (const row of rows) {
      const value = typeof row.value === 'number' ? row.value.toLocaleString('en-US') : String(row.value);
      console.log(
        `  ${row.name.padEnd(width)}  ${value.padStart(12)} ${row.unit ?? ''}${row.note ? `  ${row.note}` : ''}`,
      );
    }
    for (const note of notes) console.log(`  · ${note}`);
    console.log('');
  } catch (error) {
    failed = true;
    results.sections[name] = { title: section.title, error: String(error?.stack ?? error) };
    console.log(`## ${section.title}: FAILED\n${error?.stack ?? error}\n`);
  }
}
writeFileSync(resolve(here, 'results.json'), JSON.stringify(results, null, 2) + '\n');
console.log('wrote bench/results.json');
if (failed) process.exit(1);
