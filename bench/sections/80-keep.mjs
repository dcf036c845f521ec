/* global process, Request, Response */
/**
 * Kept copies: the bytes one sound costs in the store (both files, as the vendor-like mock makes them, and
 * what PostgreSQL's table grows by), and the time to keep one (both files downloaded through every check,
 * hashed and written), median of several, on the memory store and on PGlite. The CDN answers from memory
 * (pre-encoded files), so the figure is the keeper's and the store's, not the network's or the encoder's.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

export const title = 'Kept copies: bytes stored per sound, time to keep one (median)';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const RUNS = 15;
const DURATIONS = [3, 5, 10];

/** The keeper, the stores and the mock, bundled from source (the bench runs on plain Node, without a build). */
async function load() {
  const out = resolve(root, 'node_modules/.cache/rka-bench/keep.mjs');
  mkdirSync(dirname(out), { recursive: true });
  const result = await build({
    stdin: {
      contents: `
        export { createAudioKeeping } from './src/server/keep/keeping';
        export { createMemoryTaskStore } from './src/server/storage/memory/taskStore';
        export { createPostgresTaskStore } from './src/server/storage/postgres/taskStore';
        export { createMockKlingCore } from './src/mocks/backend';`,
      resolveDir: root,
      loader: 'ts',
    },
    bundle: true,
    format: 'esm',
    platform: 'node',
    packages: 'external',
    write: false,
    logLevel: 'silent',
  });
  writeFileSync(out, result.outputFiles[0].text);
  return import(`${pathToFileURL(out).href}?${Date.now()}`);
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
};

export async function run() {
  const { createAudioKeeping, createMemoryTaskStore, createPostgresTaskStore, createMockKlingCore } =
    await load();
  const { PGlite } = await import('@electric-sql/pglite');
  let clock = Date.now();
  const mock = createMockKlingCore({
    baseUrl: 'https://vendor.bench',
    audioBaseUrl: 'https://cdn.bench/audio',
    timing: { submittedMs: 1, processingMs: 1 },
    now: () => clock,
  });
  const api = async (path, init) =>
    (await (await mock.fetch(new Request(`https://vendor.bench${path}`, init))).json()).data;
  /** Succeeded tasks of one duration, with their files fetched once so the mock has them encoded. */
  async function tasks(duration, count) {
    const made = [];
    for (let i = 0; i < count; i++) {
      const { task_id } = await api('/v1/audio/text-to-audio', {
        method: 'POST',
        body: JSON.stringify({ prompt: `Rain on a tin roof ${i}`, duration }),
      });
      made.push(task_id);
    }
    clock += 10;
    const wire = [];
    for (const id of made) {
      const task = await api(`/v1/audio/text-to-audio/${id}`);
      for (const audio of task.task_result.audios) {
        for (const url of [audio.url_mp3, audio.url_wav]) {
          const bytes = new Uint8Array(await (await mock.fetch(new Request(url))).arrayBuffer());
          files.set(url, bytes);
        }
      }
      wire.push(task);
    }
    return wire;
  }
  const files = new Map();
  const options = {
    lookup: async () => [{ address: '93.184.215.14', family: 4 }],
    fetch: async (url) =>
      new Response(files.get(url), {
        headers: { 'content-type': url.endsWith('.mp3') ? 'audio/mpeg' : 'audio/wav' },
      }),
  };

  const rows = [];
  const sizes = {};
  const models = {};
  for (const duration of DURATIONS) {
    const [task] = await tasks(duration, 1);
    models[duration] = task;
    const [audio] = task.task_result.audios;
    const mp3 = files.get(audio.url_mp3).length;
    const wav = files.get(audio.url_wav).length;
    sizes[duration] = mp3 + wav;
    rows.push({
      name: `bytes per ${duration} s sound`,
      value: mp3 + wav,
      unit: 'B',
      note: `MP3 ${mp3.toLocaleString('en-US')} + WAV ${wav.toLocaleString('en-US')} (mock: mono 16-bit WAV, 64 kbit/s MP3)`,
    });
  }

  const db = await PGlite.create();
  const table = 'bench_keep';
  const pgStore = createPostgresTaskStore(db, { table });
  // Migrated before the clock starts.
  await pgStore.files.findFiles('x', ['y']);
  const tableBytes = async () =>
    Number((await db.query(`SELECT pg_total_relation_size('${table}_files') AS size`)).rows[0].size);
  const before = await tableBytes();

  for (const [name, store] of [
    ['memory', createMemoryTaskStore()],
    ['PGlite', pgStore],
  ]) {
    const keeping = createAudioKeeping({ store: store.files, basePath: '/api/kling', options });
    // One real 10 s sound, under as many task ids (encoding each anew would time the mock's encoder).
    const model = models[10];
    const wire = Array.from({ length: RUNS + 2 }, (_, i) => ({ ...model, task_id: `${name}${i}` }));
    const times = [];
    for (const [index, task] of wire.entries()) {
      const started = process.hrtime.bigint();
      keeping.reachedSucceed('bench', task);
      await keeping.idle();
      // The first two warm the code paths up.
      if (index >= 2) times.push(Number(process.hrtime.bigint() - started) / 1e6);
    }
    const [shown] = await keeping.present('bench', [wire.at(-1)], 'https://app.bench');
    if (!shown.task_result.audios[0].kept) throw new Error(`${name}: the copy was not kept`);
    rows.push({
      name: `keep one 10 s sound (${name})`,
      value: Number(median(times).toFixed(2)),
      unit: 'ms',
      note: `median of ${times.length}; both files: guard, download, SHA-256 ETag, write`,
    });
  }
  const grown = (await tableBytes()) - before;
  rows.push({
    name: 'PGlite table per 10 s sound',
    value: Math.round(grown / (RUNS + 2)),
    unit: 'B',
    note: `pg_total_relation_size of ${table}_files over ${RUNS + 2} sounds (stored out of line, uncompressed; ${sizes[10].toLocaleString('en-US')} B of files)`,
  });
  await db.close();
  return {
    rows,
    notes: [
      "The real vendor's files may be larger (stereo or 44.1 kHz WAV): a 10 s 44.1 kHz 16-bit stereo WAV alone is about 1.76 MB.",
    ],
  };
}
