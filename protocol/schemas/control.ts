// Documents exchanged on /standin/control/1 and, where they must be provable later, embedded in
// feed records. Each is signed alone so it can be forwarded and checked by any party.
import { z } from 'zod'
import { Epoch, Hash, Id, Seq, ShopId, Text, TimeMs } from './primitives.js'
import { signedSchema } from './signed.js'

export const PlatformHealth = z.enum(['up', 'degraded', 'down', 'unknown'])
export type PlatformHealth = z.infer<typeof PlatformHealth>

export const FeedHead = z.strictObject({ seq: Seq, hash: Hash.nullable() })
export type FeedHead = z.infer<typeof FeedHead>

/** Origin → partner, every heartbeatMs; also asks the partner to renew the origin's lease. */
export const Heartbeat = z.strictObject({
  from: ShopId,
  to: ShopId,
  terms: Hash,
  epoch: Epoch,
  time: TimeMs,
  platform: PlatformHealth,
  head: FeedHead,
})
export type Heartbeat = z.infer<typeof Heartbeat>
export const SignedHeartbeat = signedSchema(Heartbeat)

/** Partner → origin: the origin may keep delivering escrowed orders until `untilMs` (its clock). */
export const LeaseGrant = z.strictObject({
  grantor: ShopId,
  origin: ShopId,
  terms: Hash,
  epoch: Epoch,
  time: TimeMs,
  untilMs: TimeMs,
})
export type LeaseGrant = z.infer<typeof LeaseGrant>
export const SignedLeaseGrant = signedSchema(LeaseGrant)

export const DownReason = z.enum(['heartbeat-timeout', 'platform-down'])

/** A partner's signed opinion that `origin` is down, voting for `epoch` (origin's epoch + 1). */
export const DownVote = z.strictObject({
  voter: ShopId,
  origin: ShopId,
  terms: Hash,
  epoch: Epoch.min(1),
  time: TimeMs,
  reason: DownReason,
})
export type DownVote = z.infer<typeof DownVote>
export const SignedDownVote = signedSchema(DownVote)

/** The origin itself hands its orders to partners: alive node, dead platform. */
export const TakeoverRequest = z.strictObject({
  origin: ShopId,
  terms: Hash,
  epoch: Epoch.min(1),
  time: TimeMs,
  reason: Text,
})
export type TakeoverRequest = z.infer<typeof TakeoverRequest>
export const SignedTakeoverRequest = signedSchema(TakeoverRequest)

/** Orders one claim may name: a takeover claims its share of stranded orders in a few messages. */
export const MAX_ORDERS_PER_CLAIM = 1_000

/**
 * A partner announces it will fulfil `orders`. Every node computes the same rendezvous ranks,
 * so the claim need not carry them; between concurrent claims the better-ranked claimant wins.
 */
export const Claim = z.strictObject({
  claimant: ShopId,
  origin: ShopId,
  orders: z
    .array(Id)
    .min(1)
    .max(MAX_ORDERS_PER_CLAIM)
    .refine((ids) => new Set(ids).size === ids.length, 'order ids must be distinct'),
  terms: Hash,
  epoch: Epoch.min(1),
  time: TimeMs,
})
export type Claim = z.infer<typeof Claim>
export const SignedClaim = signedSchema(Claim)

/** Receiver → author: every entry up to `seq` of `author`'s feed is durable at `holder`. */
export const FeedAck = z.strictObject({
  holder: ShopId,
  author: ShopId,
  seq: Seq,
  head: Hash,
  time: TimeMs,
})
export type FeedAck = z.infer<typeof FeedAck>
export const SignedFeedAck = signedSchema(FeedAck)

/** Proof that a quorum of `origin`'s partners voted it down for `epoch`. Self-verifying. */
export const Certificate = z.strictObject({
  origin: ShopId,
  terms: Hash,
  epoch: Epoch.min(1),
  votes: z.array(SignedDownVote).min(1).max(16),
})
export type Certificate = z.infer<typeof Certificate>

/** Authority for a takeover at an epoch: a quorum certificate or the origin's own request. */
export const Authority = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('certificate'), certificate: Certificate }),
  z.strictObject({ kind: z.literal('request'), request: SignedTakeoverRequest }),
])
export type Authority = z.infer<typeof Authority>

/** Key ids one drill report lists at most (all allotments together). */
export const MAX_DRILL_KEYS = 20_000
/** Allotments one drill report lists at most. */
export const MAX_DRILL_ALLOTMENTS = 1_000

/**
 * Origin → holder: prove you hold and can open the keys I consigned to you (DESIGN §8, the fire
 * drill; D69). `nonce` is fresh per drill, so a proof cannot be kept and replayed.
 */
export const DrillRequest = z.strictObject({
  origin: ShopId,
  holder: ShopId,
  id: Id,
  nonce: Hash,
  sku: Id.nullable(),
  time: TimeMs,
})
export type DrillRequest = z.infer<typeof DrillRequest>
export const SignedDrillRequest = signedSchema(DrillRequest)

/**
 * Holder → origin, per allotment: the unused keys it holds (ids only) and a proof over their texts
 * bound to the nonce (`drillProof`), which the origin checks against its own copies. No key text
 * leaves the holder; nothing is delivered or changed. `refused` says why it did not run the drill.
 */
export const DrillReport = z.strictObject({
  origin: ShopId,
  holder: ShopId,
  id: Id,
  nonce: Hash,
  time: TimeMs,
  terms: Hash,
  allotments: z
    .array(z.strictObject({ allotment: Id, sku: Id, keyIds: z.array(Id).max(MAX_DRILL_KEYS), proof: Hash }))
    .max(MAX_DRILL_ALLOTMENTS)
    .refine((list) => list.reduce((n, a) => n + a.keyIds.length, 0) <= MAX_DRILL_KEYS, `at most ${MAX_DRILL_KEYS} key ids in all`),
  refused: Text.nullable(),
})
export type DrillReport = z.infer<typeof DrillReport>
export const SignedDrillReport = signedSchema(DrillReport)
