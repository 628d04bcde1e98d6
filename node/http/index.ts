// The node's HTTP layer; node/cli wires it to the engine and calls listen().
export { buildHttpServer, type HttpServerOptions } from './server.js'
export { MAX_SEEN_SIGNATURES } from '../../adapters/contract.js'
