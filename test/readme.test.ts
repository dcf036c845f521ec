// @vitest-environment node
/**
 * The README's code, type-checked: every fenced block right after a `<!-- typecheck -->` line is compiled
 * against the package's own types (`react-kling-audio`, `/server`, `/mocks` mapped to the sources), with
 * the installed react, express, pg and PGlite types, as an app with `strict` on would compile it. A snippet
 * that names the wrong export, passes a wrong option or forgets an import fails here.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const repo = fileURLToPath(new URL('..', import.meta.url));
const readme = readFileSync(join(repo, 'README.md'), 'utf8');

/** The marked blocks, with the line each starts on (for the failure message). */
function markedBlocks(markdown: string): { line: number; lang: string; code: string }[] {
  const lines = markdown.split('\n');
  const blocks: { line: number; lang: string; code: string }[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (!lines[i]!.startsWith('<!-- typecheck')) continue;
    const open = /^```(\w+)/.exec(lines[i + 1] ?? '');
    if (!open) throw new Error(`README.md:${i + 1}: a typecheck mark must be followed by a code fence`);
    const end = lines.indexOf('```', i + 2);
    blocks.push({ line: i + 2, lang: open[1]!, code: lines.slice(i + 2, end).join('\n') });
  }
  return blocks;
}

// What the snippets take as the app's own: its session lookup, and nothing else.
const APP = `
declare global {
  function getSession(request: Request): Promise<{ userId: string } | null>;
  function userIdOf(request: Request): string | false;
}
export {};
`;

function typecheck(files: Record<string, string>): string[] {
  const options: ts.CompilerOptions = {
    target: ts.ScriptTarget.ES2022,
    lib: ['lib.es2023.d.ts', 'lib.dom.d.ts', 'lib.dom.iterable.d.ts'],
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    jsx: ts.JsxEmit.ReactJSX,
    strict: true,
    skipLibCheck: true,
    esModuleInterop: true,
    allowImportingTsExtensions: true,
    noEmit: true,
    types: ['node'],
    baseUrl: repo,
    paths: {
      'react-kling-audio': ['./src/index.ts'],
      'react-kling-audio/server': ['./src/server/index.ts'],
      'react-kling-audio/mocks': ['./src/mocks/index.ts'],
    },
  };
  const host = ts.createCompilerHost(options);
  const virtual = new Map(Object.entries(files).map(([name, text]) => [join(repo, name), text]));
  const { fileExists, readFile, getSourceFile } = host;
  host.fileExists = (name) => virtual.has(name) || fileExists.call(host, name);
  host.readFile = (name) => virtual.get(name) ?? readFile.call(host, name);
  host.getSourceFile = (name, version, ...rest) =>
    virtual.has(name)
      ? ts.createSourceFile(name, virtual.get(name)!, version)
      : getSourceFile.call(host, name, version, ...rest);
  // A CSS import is the app bundler's business.
  virtual.set(join(repo, 'test/__readme__/css.d.ts'), "declare module '*.css';");
  const program = ts.createProgram([...virtual.keys()], options, host);
  return ts
    .getPreEmitDiagnostics(program)
    .filter((d) => d.file && virtual.has(d.file.fileName))
    .map((d) => {
      const { line } = d.file!.getLineAndCharacterOfPosition(d.start ?? 0);
      return `${d.file!.fileName.slice(repo.length)}:${line + 1}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
    });
}

describe('README snippets', () => {
  const blocks = markedBlocks(readme);

  it('marks the quick start, the hooks example and the Express mount for checking', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(2);
    expect(blocks.some((b) => b.code.includes('createKlingAudioProxy') && b.code.includes('store:'))).toBe(
      true,
    );
    expect(blocks.some((b) => b.code.includes("from 'react'") && b.code.includes('useState'))).toBe(true);
    expect(blocks.some((b) => b.code.includes('app.use(toNodeHandler(proxy))'))).toBe(true);
  });

  it('every marked snippet compiles against the package’s types', { timeout: 120_000 }, () => {
    const files: Record<string, string> = { 'test/__readme__/app.d.ts': APP };
    blocks.forEach((block, index) => {
      files[`test/__readme__/snippet-${index}-line-${block.line}.${block.lang === 'tsx' ? 'tsx' : 'ts'}`] =
        block.code;
    });
    expect(typecheck(files)).toEqual([]);
  });

  it(
    'the check fails on a wrong snippet (an import that does not exist, a missing useState)',
    { timeout: 120_000 },
    () => {
      const errors = typecheck({
        'test/__readme__/app.d.ts': APP,
        'test/__readme__/wrong.tsx': `import { useAudioTaskz } from 'react-kling-audio';\nexport const f = () => useState(1);\n`,
      });
      expect(errors.join('\n')).toMatch(/useAudioTaskz/);
      expect(errors.join('\n')).toMatch(/useState/);
    },
  );
});
