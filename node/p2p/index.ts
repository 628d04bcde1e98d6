// node/p2p: the libp2p host behind the engine's Transport port (docs/design.md §3).
import '../polyfills.js'

export { createP2pTransport, type P2pTransport } from './transport.js'
export type { P2pTransportOptions } from './options.js'
export { partnerGater } from './gater.js'
export { createHost, privateKeyOf, type Host, type HostOptions } from './host.js'
export { decodeFrame, encodeFrame, type Decoded } from './framing.js'
