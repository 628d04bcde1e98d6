/** Architecture rules (docs/design.md §3): data flows adapter → http → core → store/p2p, never back up. */
const IO = '^(node:)?(fs|net|http|https|http2|dgram|child_process|worker_threads|cluster|dns|tls|readline)(/|$)'
module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', from: {}, to: { circular: true } },
    {
      name: 'protocol-is-pure',
      comment: 'protocol/ does no I/O and depends on nothing of ours outside itself',
      severity: 'error',
      from: { path: '^protocol/' },
      to: { pathNot: ['^protocol/', '^node_modules/(zod|canonicalize|tweetnacl|sodium-native|@libp2p/(crypto|peer-id))/'], dependencyTypesNot: ['core'] },
    },
    {
      name: 'protocol-no-io-builtins',
      severity: 'error',
      from: { path: '^protocol/' },
      to: { dependencyTypes: ['core'], path: IO },
    },
    {
      name: 'core-only-interfaces',
      comment:
        'node/core sees the world through its interfaces only (the adapter contract, adapters/contract.ts, is one of them). ' +
        'Two pure libraries are allowed: ' +
        'intl-messageformat formats the message catalogue (node/core/i18n) that pages, mail and CLI share, and ' +
        "eta's fs-free build (eta/core) renders HTML with auto-escaping for the delivery email and the pages",
      severity: 'error',
      from: { path: '^node/core/' },
      to: {
        pathNot: [
          '^node/core/',
          '^protocol/',
          '^adapters/contract\\.ts$',
          '^node_modules/zod/',
          '^node_modules/intl-messageformat/',
          '^node_modules/eta/dist/core\\.js$',
        ],
      },
    },
    {
      name: 'no-upward-flow',
      comment: 'store and p2p never import http, cli or adapters; core never imports the layers around it',
      severity: 'error',
      from: { path: '^node/(store|p2p)/' },
      to: { path: '^(node/(http|cli)|adapters)/' },
    },
    {
      name: 'adapters-not-node',
      comment: 'an adapter is shop-side code: it knows its node only through adapters/contract.ts and the protocol',
      severity: 'error',
      from: { path: '^adapters/' },
      to: { path: '^node/' },
    },
    {
      name: 'adapters-see-protocol-and-contract',
      comment:
        'an adapter is built from the protocol, the contract and other shop-side adapter code (generic/ is a library for the others); nothing else of ours',
      severity: 'error',
      from: { path: '^adapters/' },
      to: { pathNot: ['^adapters/', '^protocol/', '^node_modules/'], dependencyTypesNot: ['core'] },
    },
    {
      name: 'node-uses-adapter-contract',
      comment: 'the node reaches every shop through the Adapter contract, never through one adapter',
      severity: 'error',
      from: { path: '^node/' },
      to: { path: '^adapters/', pathNot: '^adapters/contract\\.ts$' },
    },
    {
      name: 'http-not-cli',
      severity: 'error',
      from: { path: '^node/http/' },
      to: { path: '^node/cli/' },
    },
    {
      name: 'simulation-hooks-in-tests-only',
      comment: 'swapping the signature primitive is for the deterministic simulator, never a live node',
      severity: 'error',
      from: { pathNot: '^test/' },
      to: { path: '^protocol/simulation-hooks' },
    },
    {
      name: 'library-not-tests-or-examples',
      comment: 'tests and examples (the shop simulator among them) use the library, never the other way',
      severity: 'error',
      from: { path: '^(protocol|node|adapters)/' },
      to: { path: '^(test|examples)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|dist|coverage|protocol/vectors)/|\.(json|md)$' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'] },
  },
}
