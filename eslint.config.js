import js from '@eslint/js';
import jsxA11y from 'eslint-plugin-jsx-a11y';
import reactHooks from 'eslint-plugin-react-hooks';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const react = ['react', 'react-dom', 'react-dom/*', 'react/*', '@tanstack/react-query'];
const layer = (group, message, extra = {}) => ({ group, message, ...extra });

/**
 * Layers: src/api (no React) ← src/hooks ← src/components; server and mocks import only src/api. The same
 * layers, the server's rooms and circles are checked over the whole import graph by .dependency-cruiser.cjs.
 */
const restrict = (...patterns) => ({
  'no-restricted-imports': ['error', { patterns }],
});

export default tseslint.config(
  { ignores: ['dist', 'storybook-static', 'coverage', 'public', 'node_modules', '!.storybook'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.{ts,tsx}'],
    plugins: { 'react-hooks': reactHooks, 'jsx-a11y': jsxA11y },
    languageOptions: { globals: { ...globals.browser, ...globals.node } },
    rules: {
      ...reactHooks.configs.recommended.rules,
      ...jsxA11y.flatConfigs.recommended.rules,
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
    },
  },
  {
    // Long functions hide several jobs; a warning, so a split can wait for its own change.
    files: ['src/**/*.{ts,tsx}'],
    rules: { 'max-lines-per-function': ['warn', { max: 120, skipBlankLines: true, skipComments: true }] },
  },
  {
    // The demo's dev server and the repo's scripts: plain Node.
    files: ['demo/**/*.mjs', 'scripts/**/*.mjs'],
    languageOptions: { globals: globals.node },
  },
  {
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: globals.node },
  },
  {
    files: ['src/api/**'],
    rules: restrict(
      layer(react, 'src/api has no React: it runs on servers and in plain scripts.', {
        allowTypeImports: true,
      }),
      layer(
        ['**/hooks', '**/hooks/**', '**/components/**', '**/server/**', '**/mocks/**'],
        'src/api imports nothing above it.',
      ),
    ),
  },
  {
    files: ['src/hooks/**'],
    rules: restrict(
      layer(['**/components/**', '**/server/**', '**/mocks/**'], 'hooks build on src/api only.'),
    ),
  },
  {
    files: ['src/components/**'],
    rules: restrict(
      layer(
        ['**/server/**', '**/mocks/**', '**/api/client*'],
        'components use the hooks; server code and mocks never reach browsers through them.',
      ),
    ),
  },
  {
    files: ['src/server/**', 'src/mocks/**'],
    rules: restrict(
      layer(react, 'server and mocks import only src/api.'),
      layer(
        ['**/hooks', '**/hooks/**', '**/components', '**/components/**'],
        'server and mocks import only src/api.',
      ),
    ),
  },
  {
    files: ['src/index.ts'],
    rules: restrict(
      layer(
        ['**/server', '**/server/**', '**/mocks', '**/mocks/**'],
        'nothing shipped to browsers imports server code or mocks.',
      ),
    ),
  },
);
