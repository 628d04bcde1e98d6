// The process helpers live with the examples (the demo uses them too); tests import them here.
export * from '../../examples/support/processes.js'
