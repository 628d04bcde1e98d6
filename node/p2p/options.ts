// What the node hands the p2p layer, and the limits that bound what one partner can make us hold.
import { LIMITS } from '../../protocol/index.js'
import type { Identity, ShopId } from '../../protocol/index.js'
import type { Logger, Protocol } from '../core/ports.js'

export interface P2pTransportOptions {
  readonly identity: Identity
  /** Multiaddrs to listen on, e.g. '/ip4/127.0.0.1/tcp/0'. */
  readonly listen: readonly string[]
  /** Asked on every connection, stream and frame, because the partner set changes at runtime. */
  isPartner(id: ShopId): boolean
  /** Partners to keep connected: the background loop dials those that are down. */
  partners(): readonly ShopId[]
  /** Multiaddrs of a partner, from its shop card (with or without a trailing /p2p/<id>). */
  addressesOf(id: ShopId): readonly string[]
  /**
   * Multiaddrs whose IP hosts a partner may dial in from: its card's and any dial override's.
   * Default: addressesOf. Asked again every reconnectIntervalMs (inbound-allow.ts).
   */
  inboundAddressesOf?(id: ShopId): readonly string[]
  /**
   * IPs or CIDRs ('203.0.113.7', '10.0.0.0/8', 'fd00::/8') partners may also dial in from, for a
   * partner behind NAT or named by DNS. Default: none.
   */
  readonly allowFrom?: readonly string[]
  readonly logger: Logger
  /** Called once per dropped inbound frame, so the node can count misbehaving partners. */
  onRejected?(from: ShopId, protocol: Protocol, reason: string): void
  /** Largest frame either way; a larger inbound length prefix aborts the stream. */
  readonly maxFrameBytes?: number
  /** Frames waiting for one partner on one protocol; send() returns false beyond this. */
  readonly maxQueuedMessagesPerPeer?: number
  /** Bytes waiting for one partner on one protocol; bounds memory when frames are large. */
  readonly maxQueuedBytesPerPeer?: number
  /** One attempt to connect to a partner and open a stream, before it counts as failed. */
  readonly dialTimeoutMs?: number
  /** Pause between attempts to reach a partner that is down. */
  readonly reconnectIntervalMs?: number
  /** An inbound connection still in its handshake after this long is closed. */
  readonly inboundUpgradeTimeoutMs?: number
}

/** What libp2p and its TCP listener may hold for connections (host.ts), with units. */
export interface ConnectionLimits {
  /** Open connections before libp2p prunes; inbound ones beyond it are refused (unless allowed). */
  readonly maxConnections: number
  /** Inbound connections still in their handshake at once (allow-listed hosts not counted). */
  readonly maxIncomingPendingConnections: number
  /** New inbound connections per remote host per second (allow-listed hosts not counted). */
  readonly inboundConnectionsPerHostPerSecond: number
  /** An inbound connection still in its handshake after this long is closed. */
  readonly inboundUpgradeTimeoutMs: number
  /** Sockets the TCP listener holds at once, in any state; Node closes the ones beyond. */
  readonly maxTcpSockets: number
}

export interface P2pLimits {
  readonly maxFrameBytes: number
  readonly maxQueuedMessagesPerPeer: number
  readonly maxQueuedBytesPerPeer: number
  readonly dialTimeoutMs: number
  readonly reconnectIntervalMs: number
  /** Frames coalesced into one stream write: fewer syscalls and muxer frames per message. */
  readonly maxBatchBytes: number
  /** Bytes of one varint length prefix that can express maxFrameBytes. */
  readonly maxLengthPrefixBytes: number
  /**
   * Inbound bytes buffered per stream: one partial frame, plus what arrived with it (a window),
   * plus what the muxer held while the stream was paused for the engine (another window).
   */
  readonly maxReadBufferBytes: number
  /** What the muxer may hold for a paused stream: what the partner had in flight (one window). */
  readonly maxPausedBufferBytes: number
  /** Per-stream yamux receive window ceiling: how much a partner may have in flight to us. */
  readonly maxStreamWindowBytes: number
  /** Inbound streams per protocol per connection: one writer per partner, plus a few closing. */
  readonly maxInboundStreamsPerProtocol: number
  /** A graceful stream close on stop() that takes longer is aborted instead. */
  readonly closeTimeoutMs: number
  readonly connections: ConnectionLimits
}

const DEFAULT_MAX_QUEUED_MESSAGES = 10_000
// 10k frames at 4 MiB each would be 40 GiB: bound the bytes as well.
const DEFAULT_MAX_QUEUED_BYTES = 64 * 1024 * 1024
const DEFAULT_DIAL_TIMEOUT_MS = 5_000
const DEFAULT_RECONNECT_INTERVAL_MS = 1_000
const MAX_BATCH_BYTES = 256 * 1024
// yamux refuses a ceiling below its initial window of 256 KiB.
const MIN_STREAM_WINDOW_BYTES = 256 * 1024
const MAX_INBOUND_STREAMS_PER_PROTOCOL = 8
const CLOSE_TIMEOUT_MS = 1_000
// The gater admits partners only (at most LIMITS.maxParties - 1 of them): one connection each,
// two while both sides dial at once, with room for ones still closing.
const MAX_CONNECTIONS = 4 * LIMITS.maxParties
// Every partner reconnecting at once after our restart fits. While addresses are filtered a
// stranger never keeps a slot: the gater refuses its address right after libp2p counts it
// (inbound-allow.ts), and partners' addresses skip the limit. (libp2p counts their handshakes all
// the same and refuses others only at exactly this count, with ===: past it, this limit stops
// refusing anyone, and only the gater and the per-host rate below still do.)
const MAX_INCOMING_PENDING_CONNECTIONS = LIMITS.maxParties
// libp2p's own default: a partner redials at most once per reconnectIntervalMs (1 s), so 5 a
// second leaves room for a few partners behind one NAT address.
const INBOUND_CONNECTIONS_PER_HOST_PER_SECOND = 5
// A partner's own dial gives up after DEFAULT_DIAL_TIMEOUT_MS; holding a handshake for longer
// (libp2p's default is 10 s) only helps whoever opened it and then went quiet.
const DEFAULT_INBOUND_UPGRADE_TIMEOUT_MS = DEFAULT_DIAL_TIMEOUT_MS
// Bounds the file descriptors idle sockets from an allowed address can take within one upgrade
// timeout, so LevelDB and HTTP keep theirs; 4 × MAX_CONNECTIONS is far above what partners use.
const MAX_TCP_SOCKETS = 4 * MAX_CONNECTIONS

export function resolveLimits(options: P2pTransportOptions): P2pLimits {
  const maxFrameBytes = positive(options.maxFrameBytes ?? LIMITS.maxFrameBytes, 'maxFrameBytes')
  const maxLengthPrefixBytes = varintBytes(maxFrameBytes)
  const maxStreamWindowBytes = Math.max(MIN_STREAM_WINDOW_BYTES, maxFrameBytes)
  return {
    maxFrameBytes,
    maxQueuedMessagesPerPeer: positive(options.maxQueuedMessagesPerPeer ?? DEFAULT_MAX_QUEUED_MESSAGES, 'maxQueuedMessagesPerPeer'),
    maxQueuedBytesPerPeer: positive(options.maxQueuedBytesPerPeer ?? DEFAULT_MAX_QUEUED_BYTES, 'maxQueuedBytesPerPeer'),
    dialTimeoutMs: positive(options.dialTimeoutMs ?? DEFAULT_DIAL_TIMEOUT_MS, 'dialTimeoutMs'),
    reconnectIntervalMs: positive(options.reconnectIntervalMs ?? DEFAULT_RECONNECT_INTERVAL_MS, 'reconnectIntervalMs'),
    maxBatchBytes: MAX_BATCH_BYTES,
    maxLengthPrefixBytes,
    maxReadBufferBytes: maxFrameBytes + maxLengthPrefixBytes + 2 * maxStreamWindowBytes,
    maxPausedBufferBytes: maxStreamWindowBytes + maxFrameBytes,
    maxStreamWindowBytes,
    maxInboundStreamsPerProtocol: MAX_INBOUND_STREAMS_PER_PROTOCOL,
    closeTimeoutMs: CLOSE_TIMEOUT_MS,
    connections: {
      maxConnections: MAX_CONNECTIONS,
      maxIncomingPendingConnections: MAX_INCOMING_PENDING_CONNECTIONS,
      inboundConnectionsPerHostPerSecond: INBOUND_CONNECTIONS_PER_HOST_PER_SECOND,
      inboundUpgradeTimeoutMs: positive(options.inboundUpgradeTimeoutMs ?? DEFAULT_INBOUND_UPGRADE_TIMEOUT_MS, 'inboundUpgradeTimeoutMs'),
      maxTcpSockets: MAX_TCP_SOCKETS,
    },
  }
}

/** Bytes of the unsigned varint encoding of n. */
export function varintBytes(n: number): number {
  let bytes = 1
  while (n >= 2 ** (7 * bytes)) bytes++
  return bytes
}

function positive(value: number, name: string): number {
  if (!Number.isSafeInteger(value) || value <= 0) throw new RangeError(`${name} must be a positive integer`)
  return value
}
