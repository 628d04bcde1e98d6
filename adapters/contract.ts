// The Adapter contract in types (adapters/README.md says it in words). An adapter has two halves:
//
//   shop → node  a bridge that watches the shop and calls the node's HMAC-signed /v1/adapter/*
//                API: paid orders (escrow), deliveries and cancellations (tombstones), platform
//                health. `NodeIngress` is that API; `AdapterClient` (generic/client.ts) implements it.
//   node → shop  `Adapter`, the port the engine calls: fence, take stock, return stock, write a
//                partner delivery back. In-process, or over the generic callback API
//                (node/shop/callback-adapter.ts on the node, generic/callback-host.ts at the shop).
//
// This file is the only thing adapters and the node share: the engine (node/core/ports.ts) takes
// these types from here, and no adapter imports the node. CardKey and PartnerDelivery are wire
// records (protocol/schemas), re-exported so an adapter finds the whole contract in one place.
//
// Port implementations throw `AdapterError` for refusals the caller must see as such (unknown sku,
// unknown key, a key that can no longer go back); callback-host.ts turns them into HTTP statuses.
import { LRUCache } from 'lru-cache'
import { z } from 'zod'
import {
  ADAPTER_REPLAY_WINDOW_MS,
  type AdapterOrder,
  type CancelledBody,
  type CardKey,
  type DeliveredBody,
  type HealthBody,
  type PartnerDelivery,
  type SubmitOrdersReply,
  type TombstoneReply,
} from '../protocol/index.js'

export type { CardKey, PartnerDelivery }

/** Shortest shared secret accepted (base64url characters): anything shorter is guessable. */
export const MIN_SHARED_SECRET_CHARS = 32
const SharedSecret = z.string().min(MIN_SHARED_SECRET_CHARS).max(256)

/**
 * adapter.json: everything the node gives its shop's adapter, and nothing else. One secret per
 * purpose, so each can be rotated alone (`standin secrets rotate`) and none of them opens the
 * node's identity, escrow or admin API (docs/decisions.md, D54). The node writes it into its data
 * directory; the operator copies it to where the adapter runs, readable by the adapter's user only.
 */
export const AdapterCredentials = z.strictObject({
  version: z.literal(1),
  /** Signs the adapter's requests to the node (/v1/adapter/*, HMAC-SHA256 with the text's bytes). */
  requestSecret: SharedSecret,
  /** Signs the node's callbacks to the shop (fence, stock, write-back); the adapter verifies them. */
  callbackSecret: SharedSecret,
  /** Keys the claim secrets an adapter derives for orders whose buyer chose no query password. */
  claimKey: SharedSecret,
})
export type AdapterCredentials = z.infer<typeof AdapterCredentials>

/** What the engine asks of the shop software. */
export interface Adapter {
  /** Stop (true) or resume (false) delivering escrowed orders in the shop itself (fencing). */
  setFenced(fenced: boolean): Promise<void>
  /**
   * Removes up to `count` unsold keys of `sku` from the shop's own stock, for good, and returns
   * them. They must never be sold by the shop afterwards (docs/design.md §2, invariant 1).
   */
  takeStock(sku: string, count: number): Promise<CardKey[]>
  /** Puts keys back into the shop's stock (a recall, or a consignment that could not be written). */
  returnStock(sku: string, keys: readonly CardKey[]): Promise<void>
  /** Records in the shop that a partner delivered `keys` for `order` (handback write-back). */
  writeBack(delivery: PartnerDelivery): Promise<void>
}

/** Structured logging, as pino does it; the node and every adapter log through this shape. */
export interface Logger {
  debug(fields: Record<string, unknown>, message: string): void
  info(fields: Record<string, unknown>, message: string): void
  warn(fields: Record<string, unknown>, message: string): void
  error(fields: Record<string, unknown>, message: string): void
}

/** What a bridge may call on its node. Every call is idempotent: repeat it until it succeeds. */
export interface NodeIngress {
  /** Resolves once the orders are durable at the node; identical resubmissions count as duplicates. */
  submitOrders(orders: readonly AdapterOrder[]): Promise<SubmitOrdersReply>
  markDelivered(orders: DeliveredBody['orders']): Promise<TombstoneReply>
  markCancelled(orders: CancelledBody['orders']): Promise<TombstoneReply>
  reportHealth(body: HealthBody): Promise<{ ok: true }>
}

/** Why a port call was refused; `status` is what the callback API answers. */
export type AdapterErrorCode =
  | 'unknown_sku' // 404: the shop does not sell this sku
  | 'unknown_key' // 400: a returned key never left this shop's stock for a consignment
  | 'key_conflict' // 409: a returned key was delivered meanwhile and cannot go back on sale
  | 'invalid' // 400: the request is well-formed but impossible (e.g. a sku that is not an id here)
  | 'unavailable' // 503: the shop's database or platform cannot be reached; nothing changed

const STATUS: Record<AdapterErrorCode, 400 | 404 | 409 | 503> = {
  unknown_sku: 404,
  unknown_key: 400,
  key_conflict: 409,
  invalid: 400,
  unavailable: 503,
}

export class AdapterError extends Error {
  readonly status: 400 | 404 | 409 | 503
  constructor(
    readonly code: AdapterErrorCode,
    /** "field: reason", as the protocol's error replies read. */
    message: string,
  ) {
    super(message)
    this.status = STATUS[code]
  }
}

/**
 * Signatures a receiver of signed adapter requests remembers at most. Each is remembered for the
 * replay window (5 minutes), so this bounds the sustained rate of signed requests: 1,000,000 is
 * ≈3,300 requests/s, above what one node serves (≈1,800 one-order requests/s on a core, `npm run
 * bench -- ingress`); 100,000 held a shop selling one order per request to 333/s (issue 22). A full
 * guard refuses new requests until its window passes. At ≈200 bytes an entry, a full guard holds
 * ≈200 MB, and only requests that passed the HMAC check ever enter it.
 */
export const MAX_SEEN_SIGNATURES = 1_000_000
/** A full guard looks for stale signatures at most this often: a scan of a full guard takes ≈10 ms of CPU. */
export const FULL_GUARD_PURGE_EVERY_MS = 1_000

export type ReplayVerdict = 'fresh' | 'replayed' | 'full' | 'before-start'

/**
 * Remembers accepted request signatures until their timestamps leave the replay window
 * (protocol/adapter-auth.ts), so a captured request cannot be sent again while it would still
 * pass the clock check. Both receivers use it: the node for the adapter's requests
 * (node/http/hmac-auth.ts), the shop for the node's callbacks (generic/callback-server.ts). It
 * fails closed when full: evicting a live signature would reopen a replay.
 *
 * It remembers in memory only, so it refuses every timestamp from before it was created: a request
 * captured before a restart cannot be replayed after it, when the memory of it is gone (issue 18,
 * D56). Senders sign every attempt afresh, so a retry after the restart passes.
 */
export class ReplayGuard {
  private readonly seen: LRUCache<string, true>
  private purgedAtMs = -Infinity

  constructor(
    private readonly clock: () => number,
    private readonly capacity = MAX_SEEN_SIGNATURES,
    private readonly windowMs = ADAPTER_REPLAY_WINDOW_MS,
    /** Timestamps before this are refused: by default the moment the guard is created. */
    private readonly notBeforeMs = clock(),
  ) {
    // An entry goes stale once the clock passes its timestamp plus the window (start + ttl). The
    // injected clock lets tests and the simulator move time; ttlResolution 0 reads it every time
    // instead of caching it on a real timer. The bound is maxSize at one unit an entry, not max:
    // lru-cache allocates `max` slots up front (≈41 MB and ≈270 ms for 1,000,000, paid by every node
    // and every shop callback server at start). admit() never sets into a full cache, so the size
    // bound never evicts.
    this.seen = new LRUCache({ maxSize: capacity, sizeCalculation: () => 1, ttl: windowMs, ttlResolution: 0, perf: { now: clock } })
  }

  /** Records a verified signature; 'replayed' if it was accepted before, 'full' if it cannot be remembered. */
  admit(signature: string, timestampMs: number): ReplayVerdict {
    if (timestampMs < this.notBeforeMs) return 'before-start'
    if (this.seen.has(signature)) return 'replayed'
    if (this.seen.size >= this.capacity) {
      // Refusals while full must stay cheap: one scan per FULL_GUARD_PURGE_EVERY_MS, not one per
      // request (at 13 ms each, a flood of refused requests took the node's event loop).
      const now = this.clock()
      if (now - this.purgedAtMs >= FULL_GUARD_PURGE_EVERY_MS) {
        this.purgedAtMs = now
        this.seen.purgeStale()
      }
      if (this.seen.size >= this.capacity) return 'full'
    }
    // lru-cache reads a start of 0 as none (never stale); no real timestamp is 0, but stay safe.
    this.seen.set(signature, true, { start: Math.max(1, timestampMs), ttl: this.windowMs })
    return 'fresh'
  }

  /** Signatures still inside their window. */
  get size(): number {
    this.seen.purgeStale()
    return this.seen.size
  }
}
