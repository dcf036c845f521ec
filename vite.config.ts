/// <reference types="vitest/config" />
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { storybookTest } from '@storybook/addon-vitest/vitest-plugin';
import react from '@vitejs/plugin-react';
import { playwright } from '@vitest/browser-playwright';
import dts from 'vite-plugin-dts';
import { chromiumArgs, chromiumPath } from './test/chromium.ts';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));

// Packages the app provides (peers) or installs with us (dependencies): never bundled.
const external = [/^react($|\/)/, /^react-dom($|\/)/, /^@tanstack\//, /^zod($|\/)/, /^msw($|\/)/, /^node:/];

/**
 * Whether a module runs React (components, hooks, context): those, and only those, carry `'use client'`,
 * so React Server Components treat them as client code while a server component can still import the
 * plain helpers (`hooks/polling`, `hooks/pendingTasks`, everything in `api/`) as ordinary functions.
 * JSX, a value imported from `react`, or a hook or provider from `@tanstack/react-query` counts.
 */
export function usesReact(file: string): boolean {
  if (!/\.[cm]?[jt]sx?$/.test(file) || file.includes('/node_modules/') || !existsSync(file)) return false;
  if (file.endsWith('x')) return true;
  const source = readFileSync(file, 'utf8');
  const imports = [...source.matchAll(/^import\s+(?!type\s)([^;]*?)\s+from\s+['"]([^'"]+)['"]/gms)];
  return imports.some(
    ([, names, from]) =>
      from === 'react' ||
      (from === '@tanstack/react-query' &&
        /\b(use[A-Z]\w*|QueryClientProvider)\b/.test(names!.replace(/\btype\s+\w+/g, ''))),
  );
}

// Where a bundled third-party module goes: `node_modules/@scope/pkg/dist/file` -> `vendor/pkg/file`, a
// plain path (tools that strip nested node_modules folders from a package would break the import).
const vendorPath = (name: string) =>
  name.replace(/^.*node_modules\/(?:@[^/]+\/)?([^/]+)\/(?:dist\/)?/, 'vendor/$1/');

/** Rewrites `from './x'` in a declaration file to `./x.js` or `./x/index.js`, whichever exists in src. */
function withJsExtensions(filePath: string, content: string): string {
  const srcDir = dirname(join(root, 'src', relative(join(root, 'dist'), filePath)));
  return content.replace(/(from\s+|import\()(['"])(\.{1,2}(?:\/[^'"]*)?)\2/g, (match, lead, quote, spec) => {
    if (/\.(js|css|json)$/.test(spec)) return match;
    const target = join(srcDir, spec);
    if (['.ts', '.tsx'].some((ext) => existsSync(target + ext))) return `${lead}${quote}${spec}.js${quote}`;
    if (['index.ts', 'index.tsx'].some((file) => existsSync(join(target, file)))) {
      return `${lead}${quote}${spec}/index.js${quote}`;
    }
    return match;
  });
}

/** Chromium in the browser test projects: headless, and free to play audio without a user gesture. */
const browser = () => ({
  enabled: true,
  headless: true,
  provider: playwright({
    launchOptions: {
      // Looked up only when tests run: building or serving must not need a browser.
      executablePath: process.env.VITEST ? chromiumPath() : undefined,
      args: chromiumArgs,
    },
  }),
  instances: [{ browser: 'chromium' as const }],
});

/**
 * A stylesheet with its relative `@import url;` lines replaced by the files' contents (recursively), so
 * dist/styles.css is one self-contained file.
 */
function inlineCssImports(file: string): string {
  return readFileSync(file, 'utf8').replace(
    /^@import\s+(?:url\()?['"]([^'"]+)['"]\)?\s*;[ \t]*$/gm,
    (line, spec: string) => (spec.startsWith('.') ? inlineCssImports(join(dirname(file), spec)) : line),
  );
}

// The suites an app's use of the library goes through: the hooks, and the components built on them.
const consumerSuites = [
  'test/hooks.test.tsx',
  'test/polling.test.ts',
  'test/ssr.test.tsx',
  'test/list.test.tsx',
  'test/studio.test.tsx',
  'test/history.hooks.test.tsx',
  'test/history.list.test.tsx',
  'test/form.test.tsx',
  'test/player.test.tsx',
  'test/components.ssr.test.tsx',
  'test/player.ssr.test.tsx',
];

/** A jsdom project that runs the consumer suites with some packages swapped for other versions. */
const consumerProject = (name: string, react: string, alias: { find: RegExp; replacement: string }[]) => ({
  extends: true as const,
  resolve: { alias },
  test: {
    name,
    environment: 'jsdom',
    include: [...consumerSuites, 'test/consumers/versions.test.ts'],
    env: { RKA_EXPECT_REACT: react },
    setupFiles: ['test/setup.ts'],
    globals: true,
    // Inlined, so the testing library's own `react-dom` goes through the aliases too.
    server: { deps: { inline: ['@testing-library/react'] } },
    // After the other projects, not beside them: the same timing-based suites again on 2 shared cores.
    sequence: { groupOrder: 1 },
  },
});

// The testing library as ES modules (its CommonJS build would `require` the root's react-dom).
const testingLibraryEsm = {
  find: /^@testing-library\/react$/,
  replacement: join(root, 'node_modules/@testing-library/react/dist/@testing-library/react.esm.js'),
};

// React 18.3 with react-query 5.66, the oldest the peer ranges promise, from their own small install
// (`npm ci --prefix test/consumers/react18`; React 18 cannot sit beside the root's React 19).
const react18 = join(root, 'test/consumers/react18/node_modules');
const react18Installed = existsSync(join(react18, 'react-dom/package.json'));
if (!react18Installed && process.env.CI && process.env.VITEST) {
  throw new Error('test/consumers/react18 is not installed: run npm ci --prefix test/consumers/react18');
}
const react18Alias = [
  ['react', 'react/index.js'],
  ['react/jsx-runtime', 'react/jsx-runtime.js'],
  ['react/jsx-dev-runtime', 'react/jsx-dev-runtime.js'],
  ['react-dom', 'react-dom/index.js'],
  ['react-dom/client', 'react-dom/client.js'],
  ['react-dom/server', 'react-dom/server.node.js'],
  ['react-dom/test-utils', 'react-dom/test-utils.js'],
  ['@tanstack/react-query', '@tanstack/react-query/build/modern/index.js'],
].map(([name, file]) => ({
  find: new RegExp(`^${name!.replace('/', '\\/')}$`),
  replacement: join(react18, file!),
}));

export default defineConfig({
  plugins: [
    react(),
    // test/build.test.ts builds the JavaScript only (declarations take most of a build's time).
    !process.env.RKA_BUILD_JS_ONLY &&
      dts({
        tsconfigPath: './tsconfig.build.json',
        include: ['src'],
        exclude: ['**/*.test.*'],
        // Node's ESM resolution (`moduleResolution: node16/nodenext` in apps) needs explicit extensions.
        beforeWriteFile: (filePath, content) => ({ filePath, content: withJsExtensions(filePath, content) }),
      }),
    {
      name: 'rka-styles',
      apply: 'build',
      generateBundle() {
        const css = 'src/components/styles.css';
        if (existsSync(css)) {
          this.emitFile({ type: 'asset', fileName: 'styles.css', source: inlineCssImports(css) });
        }
        // The mocks entry bundles the LGPL MP3 encoder as a separate, replaceable file: its licence goes
        // with it.
        const lame = 'node_modules/@breezystack/lamejs/LICENSE';
        if (existsSync(lame))
          this.emitFile({ type: 'asset', fileName: vendorPath(lame), source: readFileSync(lame, 'utf8') });
      },
    },
  ],
  publicDir: 'public',
  build: {
    copyPublicDir: false,
    sourcemap: false,
    minify: false,
    lib: {
      entry: Object.fromEntries(
        Object.entries({
          index: 'src/index.ts',
          server: 'src/server/index.ts',
          mocks: 'src/mocks/index.ts',
        }).filter(([, file]) => existsSync(file)),
      ),
      formats: ['es'],
    },
    rolldownOptions: {
      external,
      output: {
        preserveModules: true,
        preserveModulesRoot: 'src',
        entryFileNames: (chunk) =>
          chunk.name === 'server/index'
            ? 'server.js'
            : chunk.name === 'mocks/index'
              ? 'mocks.js'
              : chunk.name.includes('node_modules/')
                ? `${vendorPath(chunk.name)}.js`
                : '[name].js',
        banner: (chunk) => (chunk.facadeModuleId && usesReact(chunk.facadeModuleId) ? "'use client';" : ''),
      },
    },
  },
  test: {
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          environment: 'jsdom',
          include: ['test/**/*.test.{ts,tsx}'],
          exclude: ['test/browser/**', 'test/e2e/**', '**/node_modules/**'],
          setupFiles: ['test/setup.ts'],
          globals: true,
        },
      },
      // The floor of the react-query peer range (^5.66.0: the query functions read `client` from their
      // context, new in 5.66), with the root's React 19.
      consumerProject('react-query-5.66', '19.', [
        { find: /^@tanstack\/react-query$/, replacement: 'rq-floor' },
      ]),
      ...(react18Installed
        ? [consumerProject('react-18', '18.3.', [testingLibraryEsm, ...react18Alias])]
        : []),
      {
        // Every story runs as a test in Chromium: its play function, then axe (violations fail).
        extends: true,
        plugins: [storybookTest({ configDir: '.storybook' })],
        test: {
          name: 'storybook',
          browser: browser(),
          // Each story's time includes axe's full WCAG 2.2 run over what it rendered (a 500-row page
          // included) and the mock's MP3 encoding on the page's main thread; on 2 cores shared by several
          // test runs, simple stories were measured at 15–23 s (4 s idle). 15 s (the default) failed
          // them for load alone.
          testTimeout: 40_000,
        },
      },
      {
        // Real playback: audio from the mock backend through msw's service worker.
        extends: true,
        test: {
          name: 'browser',
          include: ['test/browser/**/*.test.{ts,tsx}'],
          setupFiles: ['test/browser/setup.ts'],
          browser: browser(),
        },
      },
      {
        // The demo end to end: its dev server, the real proxy and headless Chromium, over real HTTP (no msw).
        extends: true,
        test: {
          name: 'e2e',
          environment: 'node',
          include: ['test/e2e/**/*.test.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});
