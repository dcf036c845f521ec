#!/usr/bin/env node
/**
 * The public surface of every entry in package.json `exports`, as a plain-text report read with the
 * TypeScript compiler API from the entries' sources (api-extractor is not a dependency): one line per
 * exported name with its kind and type, members of interfaces and classes included. The reports are
 * checked in under etc/; `test/api.test.ts` fails when the surface changes and the report does not.
 *
 *   node scripts/api-report.mjs           writes etc/*.api.md
 *   node scripts/api-report.mjs --check   exits 1 (with the changed lines) when a report is out of date
 */
import { existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

/**
 * The script entries of package.json `exports`, each with its source file and its report file:
 * `./dist/server/index.d.ts` is built from `src/server/index.ts`.
 */
export function entries() {
  return Object.entries(pkg.exports)
    .filter(([, target]) => typeof target === 'object' && target.types)
    .map(([subpath, target]) => {
      const source = target.types.replace(/^\.\/dist\//, 'src/').replace(/\.d\.ts$/, '.ts');
      const name = subpath === '.' ? pkg.name : `${pkg.name}${subpath.slice(1).replace(/\//g, '-')}`;
      return { subpath, source, report: `etc/${name}.api.md`, name: `${pkg.name}${subpath.slice(1)}` };
    });
}

const flags =
  ts.TypeFormatFlags.NoTruncation |
  ts.TypeFormatFlags.UseSingleQuotesForStringLiteralType |
  ts.TypeFormatFlags.WriteArrowStyleSignature;

/** The report of every entry: `{ [reportPath]: text }`. */
export function buildReports() {
  const config = ts.getParsedCommandLineOfConfigFile(
    join(root, 'tsconfig.json'),
    {},
    {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (diagnostic) => {
        throw new Error(ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n'));
      },
    },
  );
  const list = entries();
  const program = ts.createProgram(
    list.map((entry) => join(root, entry.source)),
    { ...config.options, noEmit: true },
  );
  const checker = program.getTypeChecker();
  const reports = {};
  for (const entry of list) {
    const file = program.getSourceFile(join(root, entry.source));
    if (!file) throw new Error(`${entry.source} (for "${entry.subpath}") does not exist`);
    const moduleSymbol = checker.getSymbolAtLocation(file);
    const exported = moduleSymbol ? checker.getExportsOfModule(moduleSymbol) : [];
    const lines = exported
      .map((symbol) => describe(checker, symbol))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const values = lines.filter((line) => line.value).length;
    reports[entry.report] =
      [
        `# API report: \`${entry.name}\``,
        '',
        `Written by \`npm run api:report\` from \`${entry.source}\`; \`npm test\` fails when it is out of date.`,
        `${lines.length} names: ${values} values, ${lines.length - values} types.`,
        '',
        '```ts',
        ...lines.map((line) => line.text),
        '```',
      ].join('\n') + '\n';
  }
  return reports;
}

/** One exported name as `kind name: type` (and its members, indented, for interfaces and classes). */
function describe(checker, exportedSymbol) {
  const symbol =
    exportedSymbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exportedSymbol) : exportedSymbol;
  const name = exportedSymbol.getName();
  const declaration = symbol.declarations?.[0];
  const at = declaration ?? undefined;
  const typeText = (type) => checker.typeToString(type, at, flags);
  const out = [];
  let value = true;
  if (symbol.flags & ts.SymbolFlags.Class) {
    out.push(`class ${name}`);
    const instance = checker.getDeclaredTypeOfSymbol(symbol);
    for (const member of checker.getPropertiesOfType(instance)) out.push(memberLine(checker, member, at));
    const statics = checker.getTypeOfSymbolAtLocation(symbol, at);
    for (const member of checker.getPropertiesOfType(statics)) {
      if (member.getName() !== 'prototype') out.push(`  static ${memberLine(checker, member, at).trim()}`);
    }
  } else if (symbol.flags & ts.SymbolFlags.Function) {
    const type = checker.getTypeOfSymbolAtLocation(symbol, at);
    for (const signature of type.getCallSignatures()) {
      out.push(`function ${name}${checker.signatureToString(signature, at, flags)}`);
    }
  } else if (symbol.flags & ts.SymbolFlags.Variable) {
    out.push(`const ${name}: ${typeText(checker.getTypeOfSymbolAtLocation(symbol, at))}`);
  } else if (symbol.flags & ts.SymbolFlags.Interface) {
    value = false;
    // Its own members, and what it extends by name (not the hundreds of inherited DOM attributes).
    const heritage = (symbol.declarations ?? []).flatMap((node) =>
      (node.heritageClauses ?? []).flatMap((clause) =>
        clause.types.map((type) =>
          type.getText().replace(/\s+/g, ' ').replace(/< /g, '<').replace(/ >/g, '>'),
        ),
      ),
    );
    out.push(`interface ${name}${heritage.length ? ` extends ${heritage.join(', ')}` : ''}`);
    for (const member of checker.getPropertiesOfType(checker.getDeclaredTypeOfSymbol(symbol))) {
      if (member.declarations?.some((node) => symbol.declarations?.includes(node.parent))) {
        out.push(memberLine(checker, member, at));
      }
    }
  } else if (symbol.flags & ts.SymbolFlags.TypeAlias) {
    value = false;
    const type = checker.getDeclaredTypeOfSymbol(symbol);
    out.push(`type ${name} = ${checker.typeToString(type, at, flags | ts.TypeFormatFlags.InTypeAlias)}`);
  } else {
    out.push(`unknown ${name}`);
  }
  // `import("../schemas").AudioTask` depends on where the type is printed from: the name is enough.
  return { name, value, text: out.join('\n').replace(/import\("[^"]*"\)\./g, '') };
}

function memberLine(checker, member, at) {
  const optional = member.flags & ts.SymbolFlags.Optional ? '?' : '';
  const declaration = member.declarations?.[0];
  const readonly =
    declaration && ts.getCombinedModifierFlags(declaration) & ts.ModifierFlags.Readonly ? 'readonly ' : '';
  const type = checker.getTypeOfSymbolAtLocation(member, declaration ?? at);
  // A symbol-keyed member is named `__@asyncDispose@7213` inside the compiler: the number changes from run to run.
  const name = member.getName().replace(/^__@(.+)@\d+$/, '[$1]');
  return `  ${readonly}${name}${optional}: ${checker.typeToString(type, declaration ?? at, flags)}`;
}

const isMain = process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  const check = process.argv.includes('--check');
  const reports = buildReports();
  let stale = false;
  for (const [path, text] of Object.entries(reports)) {
    const file = join(root, path);
    const old = existsSync(file) ? readFileSync(file, 'utf8') : '';
    if (old === text) continue;
    if (check) {
      stale = true;
      const before = new Set(old.split('\n'));
      const after = new Set(text.split('\n'));
      console.error(`${path} is out of date:`);
      for (const line of old.split('\n')) if (!after.has(line)) console.error(`  - ${line}`);
      for (const line of text.split('\n')) if (!before.has(line)) console.error(`  + ${line}`);
    } else {
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, text);
      console.log(`wrote ${relative(root, file)}`);
    }
  }
  if (stale) {
    console.error('The public surface changed: run `npm run api:report` and commit etc/.');
    process.exit(1);
  }
}
