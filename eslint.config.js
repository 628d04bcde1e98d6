import js from '@eslint/js'
import tseslint from 'typescript-eslint'

// protocol/ must stay pure (no I/O) and node/core must only see its interfaces; these rules fail
// the lint at the import, dependency-cruiser (.dependency-cruiser.cjs) also checks the whole graph.
const IO_MODULES = [
  'fs',
  'node:fs',
  'fs/promises',
  'node:fs/promises',
  'net',
  'node:net',
  'http',
  'node:http',
  'https',
  'node:https',
  'http2',
  'node:http2',
  'dgram',
  'node:dgram',
  'child_process',
  'node:child_process',
  'worker_threads',
  'node:worker_threads',
  'cluster',
  'node:cluster',
  'dns',
  'node:dns',
  'tls',
  'node:tls',
  'readline',
  'node:readline',
  'process',
  'node:process',
]
const IO_PACKAGES = [
  'level',
  'classic-level',
  'memory-level',
  'libp2p',
  '@libp2p/tcp',
  '@chainsafe/*',
  'fastify',
  'fastify-*',
  '@fastify/*',
  'pino',
  'nodemailer',
  'commander',
  'mysql2',
  'mysql2/*',
]

/** Sections whose rows node/core/state/ owns (the lint rule below keeps them there). */
const OWNED_SECTIONS = '/^(orders|keys|peer-keys|allotments|receipts|ledger|outbox|authority|held|refusals)$/'

export default tseslint.config(
  { ignores: ['.dependency-cruiser.cjs', 'node_modules/**', 'dist/**', 'coverage/**', 'protocol/vectors/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    files: ['protocol/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: IO_MODULES.map((name) => ({ name, message: 'protocol/ is pure: no I/O' })),
          patterns: [{ group: IO_PACKAGES, message: 'protocol/ is pure: no I/O' }],
        },
      ],
      'no-restricted-globals': [
        'error',
        { name: 'fetch', message: 'protocol/ is pure: no I/O' },
        { name: 'setTimeout', message: 'protocol/ takes time as input' },
        { name: 'setInterval', message: 'protocol/ takes time as input' },
      ],
      'no-restricted-properties': [
        'error',
        { object: 'Date', property: 'now', message: 'protocol/ takes time as input' },
        { object: 'Math', property: 'random', message: 'protocol/ takes randomness as input' },
      ],
    },
  },
  {
    // One owner for stored state: only node/core/state/ names the sections that hold orders, keys,
    // allotment counts, receipts, the ledger, the outbox, adopted authority, held receipts and
    // refusals (as a `section` of a write, or the section argument of a read). Everything else in
    // the engine changes them through the owners' transitions, which check the protocol's state
    // machines and the authority each change needs.
    files: ['node/**/*.ts'],
    ignores: ['node/core/state/**', 'node/store/**'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector: `Property[key.name='section'] > Literal[value=${OWNED_SECTIONS}]`,
          message: 'rows of this section belong to node/core/state/: change them through its owner',
        },
        {
          selector: `CallExpression[callee.property.name=/^(get|getMany|range|write|put|del|seen|note|hasSeen)$/] > Literal.arguments[value=${OWNED_SECTIONS}]`,
          message: 'rows of this section belong to node/core/state/: read and change them through its owner',
        },
      ],
    },
  },
  {
    // A bare floating promise that rejects kills the process (Node 20 throws on unhandled
    // rejections). In node/core such work goes through Background (node/core/background.ts), which
    // catches, logs and waits for it at stop; elsewhere each site ends in a .catch that says what a
    // failure means there. Tests are left out: vitest reports their unhandled rejections itself.
    files: ['node/**/*.ts', 'adapters/**/*.ts', 'examples/**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': ['error', { ignoreVoid: false }],
      '@typescript-eslint/no-misused-promises': 'error',
    },
  },
)
