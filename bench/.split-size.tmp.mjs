// First-load bytes with every import() left out (esbuild splitting), as DESIGN.md's budgets say.
import { build } from 'esbuild';
import { gzipSync } from 'node:zlib';
const root = process.cwd();
const names = process.argv[2];
const r = await build({
  stdin: { contents: `export { ${names} } from ${JSON.stringify(root + '/src/index.ts')};`, resolveDir: root, sourcefile: 'e.js', loader: 'js' },
  bundle: true, write: false, minify: true, format: 'esm', platform: 'browser', target: 'es2022', jsx: 'automatic',
  splitting: true, outdir: '/tmp/split-out', logLevel: 'silent',
  define: { 'process.env.NODE_ENV': '"production"' },
  external: ['react', 'react-dom', 'react/*', 'react-dom/*', '@tanstack/react-query', 'node:*'],
  loader: { '.css': 'empty' },
});
for (const f of r.outputFiles) console.log(f.path.replace('/tmp/split-out/', ''), f.contents.length, gzipSync(f.contents, { level: 9 }).length);
