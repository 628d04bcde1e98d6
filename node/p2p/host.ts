// The libp2p node: TCP, noise, yamux, identify, ping, and the partner-only gater. The shop's
// Ed25519 identity key is the libp2p key, so the authenticated PeerId is the shop id.
// libp2p 3 needs Promise.withResolvers (Node 22+): polyfilled before libp2p is touched.
import '../polyfills.js'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { privateKeyFromRaw } from '@libp2p/crypto/keys'
import { identify, type Identify } from '@libp2p/identify'
import type { ConnectionGater, Libp2p, PrivateKey } from '@libp2p/interface'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { ping, type Ping } from '@libp2p/ping'
import { tcp } from '@libp2p/tcp'
import { createLibp2p } from 'libp2p'
import { assert, secretKeyBytes, type Identity } from '../../protocol/index.js'
import type { ConnectionLimits } from './options.js'

export type Host = Libp2p<{ identify: Identify; ping: Ping }>

export interface HostOptions {
  readonly identity: Identity
  readonly listen: readonly string[]
  readonly gater: ConnectionGater
  /** Per-stream yamux receive window ceiling in bytes. */
  readonly maxStreamWindowBytes: number
  /**
   * Bytes a stream may buffer unread (a paused stream keeps what is already in flight: up to one
   * window). Default: yamux's 4 MiB.
   */
  readonly maxReadBufferBytes?: number
  /** Bounds on connections (options.ts); libp2p's defaults when absent, as for the tests' bare peers. */
  readonly connections?: ConnectionLimits & {
    /**
     * IPs and networks as multiaddrs ('/ip4/203.0.113.7/ipcidr/32') whose inbound connections
     * skip maxIncomingPendingConnections, inboundConnectionsPerHostPerSecond and maxConnections:
     * partners' addresses, so idle sockets from elsewhere cannot keep a partner out. Fixed when
     * the host is created (libp2p reads it once); the gater's address check follows changes.
     */
    readonly allow: readonly string[]
  }
}

export function privateKeyOf(identity: Identity): PrivateKey {
  const key = privateKeyFromRaw(secretKeyBytes(identity))
  assert(peerIdFromPrivateKey(key).toString() === identity.id, 'libp2p PeerId must equal the shop id')
  return key
}

/** Created stopped: register protocol handlers, then start(). */
export async function createHost(options: HostOptions): Promise<Host> {
  const limits = options.connections
  return createLibp2p({
    start: false,
    privateKey: privateKeyOf(options.identity),
    addresses: { listen: [...options.listen] },
    // Inbound, libp2p's upgrader asks the connection manager first (the allow list, then the
    // pending, per-host and maxConnections limits), then the gater's denyInboundConnection, then
    // runs noise within inboundUpgradeTimeout.
    ...(limits
      ? {
          connectionManager: {
            maxConnections: limits.maxConnections,
            maxIncomingPendingConnections: limits.maxIncomingPendingConnections,
            inboundConnectionThreshold: limits.inboundConnectionsPerHostPerSecond,
            inboundUpgradeTimeout: limits.inboundUpgradeTimeoutMs,
            allow: [...limits.allow],
          },
        }
      : {}),
    transports: [tcp(limits ? { maxConnections: limits.maxTcpSockets } : {})],
    connectionEncrypters: [noise()],
    streamMuxers: [
      yamux({
        streamOptions: {
          maxStreamWindowSize: options.maxStreamWindowBytes,
          ...(options.maxReadBufferBytes ? { maxReadBufferLength: options.maxReadBufferBytes } : {}),
        },
      }),
    ],
    connectionGater: options.gater,
    services: { identify: identify(), ping: ping() },
  })
}
