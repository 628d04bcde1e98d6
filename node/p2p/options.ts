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
