// Frames on the two libp2p protocols. Every frame is one canonical JSON document, length-prefixed
// by the transport and never larger than LIMITS.maxFrameBytes.
import { z } from 'zod'
import { LIMITS, PROTOCOL_MINOR, PROTOCOL_VERSION } from '../limits.js'
import {
  Certificate,
  SignedClaim,
  SignedDownVote,
  SignedDrillReport,
  SignedDrillRequest,
  SignedFeedAck,
  SignedHeartbeat,
  SignedLeaseGrant,
  SignedTakeoverRequest,
} from './control.js'
import { Agreement } from './agreement.js'
import { SignedShopCard } from './tokens.js'
import { ForkProof } from './feed.js'
import { Hash, Seq, ShopId, Text } from './primitives.js'

export const FEED_PROTOCOL = '/standin/feed/1'
export const CONTROL_PROTOCOL = '/standin/control/1'

export const FeedMessage = z.discriminatedUnion('type', [
  /** Ask for `author`'s entries with seq > afterSeq. */
  z.strictObject({
    type: z.literal('feed.get'),
    author: ShopId,
    afterSeq: Seq,
    limit: z.number().int().min(1).max(LIMITS.maxEntriesPerResponse),
  }),
  /**
   * Entries in seq order: an answer to feed.get, or a live push. Each entry is parsed with the
   * FeedEntry schema by verifyEntry, one at a time, before anything in it is used; parsing them
   * here as well would double the hot path's cost.
   */
  z.strictObject({ type: z.literal('feed.entries'), author: ShopId, entries: z.array(z.unknown()).max(LIMITS.maxEntriesPerResponse) }),
  z.strictObject({ type: z.literal('feed.ack'), ack: SignedFeedAck }),
  z.strictObject({ type: z.literal('feed.fork'), proof: ForkProof }),
  /**
   * Holder → author, after answering the author's feed.get for its own feed: the head of that feed
   * the holder keeps (seq 0, head null: none of it). A node restored from a backup learns from
   * these where its feed really ends before it writes again (docs/decisions.md D92).
   */
  z.strictObject({ type: z.literal('feed.held'), author: ShopId, seq: Seq, head: Hash.nullable() }),
  z.strictObject({ type: z.literal('feed.error'), reason: Text }),
])
export type FeedMessage = z.infer<typeof FeedMessage>

export const ControlMessage = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('heartbeat'), heartbeat: SignedHeartbeat }),
  z.strictObject({ type: z.literal('lease'), lease: SignedLeaseGrant }),
  z.strictObject({ type: z.literal('down-vote'), vote: SignedDownVote }),
  z.strictObject({ type: z.literal('certificate'), certificate: Certificate }),
  z.strictObject({ type: z.literal('takeover.request'), request: SignedTakeoverRequest }),
  z.strictObject({ type: z.literal('claim'), claim: SignedClaim }),
  /**
   * Terms and the signatures the sender holds for them, passed between the parties' nodes so a
   * signature given at one shop reaches every party (D65). It carries no authority of its own: a
   * receiver checks every signature and signs nothing for its operator.
   */
  z.strictObject({ type: z.literal('terms.agreement'), agreement: Agreement }),
  /**
   * A shop that joined later asks for earlier terms by hash (D97): its partners' feeds hold entries
   * written under them. Answered with `terms.agreement` by a partner whose signed terms name the
   * sender; the asker keeps only terms that terms naming it supersede.
   */
  z.strictObject({ type: z.literal('terms.ask'), hash: Hash }),
  /**
   * The sender's own card, signed by its identity: sent when it connects, so a partner learns a
   * rotated box key (D93). A receiver takes only the sender's own card, and only a newer one.
   */
  z.strictObject({ type: z.literal('card'), card: SignedShopCard }),
  /** The fire drill (D69): an origin asks a holder to prove its keys, the holder answers. */
  z.strictObject({ type: z.literal('drill.request'), request: SignedDrillRequest }),
  z.strictObject({ type: z.literal('drill.report'), report: SignedDrillReport }),
  /**
   * The sender's protocol, first on every connection (D96): a receiver sends it no message type
   * newer than `minor`, and takes a type it does not know from a sender on a newer minor as the
   * sender's addition, not as an attack. Unsigned: it only ever narrows what is sent.
   */
  z.strictObject({ type: z.literal('hello'), major: z.number().int().min(1).max(1_000), minor: z.number().int().min(0).max(1_000) }),
])
export type ControlMessage = z.infer<typeof ControlMessage>

/** Our own `hello`. */
export const HELLO: ControlMessage = { type: 'hello', major: PROTOCOL_VERSION, minor: PROTOCOL_MINOR }

/**
 * Message kinds added after minor 0, with the minor that added each: not sent to an older partner.
 * A kind is the message type, or for an addition inside a type, the name `messageKind` gives it.
 */
export const MESSAGE_SINCE_MINOR: Readonly<Record<string, number>> = { 'feed.held': 1, card: 1, hello: 1, 'terms.ask': 2, 'terms.succession': 3 }

/** The kind MESSAGE_SINCE_MINOR judges a message by: its type, or `terms.succession` for terms handing over an identity (D99). */
export function messageKind(message: FeedMessage | ControlMessage): string {
  return message.type === 'terms.agreement' && message.agreement.terms.succession !== undefined ? 'terms.succession' : message.type
}

/** Every message type this build knows, per protocol. */
export const KNOWN_MESSAGE_TYPES = {
  feed: new Set<string>(FeedMessage.options.map((o) => o.shape.type.value)),
  control: new Set<string>(ControlMessage.options.map((o) => o.shape.type.value)),
} as const
