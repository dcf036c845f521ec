/**
 * The import rules of src/, checked by `npm run lint` (scripts/check-imports.mjs; dependency-cruiser's own
 * CLI wants Node ≥22, its API runs here on 20 too). See docs/architecture.md for why the rooms are ordered so.
 */

/** The server's rooms, lowest first: a room imports only rooms before it (and src/api). */
const ROOMS = ['core', 'http', 'vendor', 'storage', 'records', 'push', 'keep', 'queue', 'proxy', 'adapters'];
/** Features: each a folder you can read alone; what they need is passed in by proxy/ (the composition root). */
const FEATURES = ['records', 'push', 'keep', 'queue'];

const room = (name) => `^src/server/${name}/`;
const anyOf = (names) => `^src/server/(${names.join('|')})/`;

const upward = ROOMS.slice(0, -1).map((name, index) => ({
  name: `rooms-one-way:${name}`,
  comment: `src/server/${name} imports only rooms before it (${ROOMS.slice(0, index).join(', ') || 'none'}) and src/api.`,
  severity: 'error',
  from: { path: room(name) },
  to: { path: anyOf(ROOMS.slice(index + 1)) },
}));

const apart = FEATURES.map((name) => ({
  name: `features-apart:${name}`,
  comment: `src/server/${name} never imports another feature: proxy/ passes in what it needs.`,
  severity: 'error',
  from: { path: room(name) },
  to: { path: anyOf(FEATURES.filter((other) => other !== name)) },
}));

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'No import circles, `import type` included (tsPreCompilationDeps).',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
    ...upward,
    ...apart,
    {
      name: 'rooms-only',
      comment: 'src/server holds its entry (index.ts, names only) and rooms; nothing imports the entry back.',
      severity: 'error',
      from: { path: '^src/server/[^/]+/' },
      to: { path: '^src/server/index\\.ts$' },
    },
    {
      name: 'layer:api',
      comment: 'src/api imports nothing above it: it runs on servers and in plain scripts.',
      severity: 'error',
      from: { path: '^src/api/' },
      to: { path: '^src/(hooks|components|server|mocks)/' },
    },
    {
      name: 'layer:hooks',
      comment: 'hooks build on src/api only.',
      severity: 'error',
      from: { path: '^src/hooks/' },
      to: { path: '^src/(components|server|mocks)/' },
    },
    {
      name: 'layer:components',
      comment: 'components use the hooks; server code and mocks never reach browsers through them.',
      severity: 'error',
      from: { path: '^src/components/' },
      to: { path: '^src/(server|mocks)/|^src/api/client' },
    },
    {
      name: 'layer:server-and-mocks',
      comment: 'server and mocks import only src/api (and their own folder).',
      severity: 'error',
      from: { path: '^src/(server|mocks)/' },
      to: { path: '^src/(hooks|components)/|^src/index\\.ts$' },
    },
    {
      name: 'layer:server-mocks-apart',
      comment: 'server and mocks share what they both need through src/api, never each other.',
      severity: 'error',
      from: { path: '^src/(server|mocks)/' },
      to: { path: '^src/(server|mocks)/', pathNot: '^src/$1/' },
    },
    {
      name: 'layer:browser-entry',
      comment: 'nothing shipped to browsers imports server code or mocks.',
      severity: 'error',
      from: { path: '^src/index\\.ts$' },
      to: { path: '^src/(server|mocks)/' },
    },
  ],
  options: {
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    doNotFollow: { path: 'node_modules' },
    exclude: { path: 'node_modules' },
  },
};
