// Records carried in feed entries (docs/design.md §5). Origin records describe the origin's own orders
// and keys; partner records live in the partner's feed and refer to origin ids.
import { z } from 'zod'
import { LIMITS } from '../limits.js'
import { SignedClaim, SignedTakeoverRequest } from './control.js'
import { DisputedLine, DisputeReason, Statement } from './ledger.js'
import { Epoch, Hash, Id, Money, ShopId, Text, TimeMs, WellFormedString } from './primitives.js'
import { SealedBox } from './sealed.js'

const KeyIds = z
  .array(Id)
  .min(1)
  .max(LIMITS.maxKeysPerAllotment)
  .refine((ids) => new Set(ids).size === ids.length, 'key ids must be distinct')

export const Locale = z.enum(['zh-CN', 'en'])
export type Locale = z.infer<typeof Locale>

export const BuyerContact = z.strictObject({
  email: z.string().max(254).email().nullable(),
  locale: Locale,
})
export type BuyerContact = z.infer<typeof BuyerContact>

// ---- origin records ----

export const OrderEscrowed = z.strictObject({
  type: z.literal('order.escrowed'),
  order: Id,
  sku: Id,
  qty: z.number().int().min(1).max(LIMITS.maxOrderQty),
  amount: Money,
  paidAt: TimeMs,
  buyer: BuyerContact,
  /** claimVerifier(origin, order, secret): lets the claim page check the buyer's secret. */
  claimVerifier: Hash,
})
export type OrderEscrowed = z.infer<typeof OrderEscrowed>

export const OrderDelivered = z.strictObject({ type: z.literal('order.delivered'), order: Id, time: TimeMs })
export const OrderCancelled = z.strictObject({ type: z.literal('order.cancelled'), order: Id, reason: Text })

/** Plaintext inside AllotmentConsigned.keys, sealed to the holder only. */
export const CardKey = z.strictObject({ keyId: Id, key: WellFormedString.min(1).max(LIMITS.maxCardKeyBytes) })
export type CardKey = z.infer<typeof CardKey>
export const CardKeyList = z.array(CardKey).min(1).max(LIMITS.maxKeysPerAllotment)

export const AllotmentConsigned = z.strictObject({
  type: z.literal('allotment.consigned'),
  allotment: Id,
  holder: ShopId,
  sku: Id,
  unitValue: Money,
  keyIds: KeyIds,
  /** CardKeyList sealed to `holder` alone; its key ids equal `keyIds`. */
  keys: SealedBox,
})
export type AllotmentConsigned = z.infer<typeof AllotmentConsigned>

export const AllotmentRecall = z.strictObject({
  type: z.literal('allotment.recall'),
  allotment: Id,
  holder: ShopId,
  /** null recalls every key the holder has not delivered. */
  keyIds: KeyIds.nullable(),
})

/**
 * The origin bills `holder` for keys it released back (returned keys are exposed: the holder has
 * seen them, so they are not sold again). `amount` is the sum of their unit values; both books
 * take one proceeds line owed by the holder, named by this record's hash.
 */
export const AllotmentBilled = z.strictObject({
  type: z.literal('allotment.billed'),
  holder: ShopId,
  keyIds: KeyIds,
  amount: Money,
  time: TimeMs,
})
export type AllotmentBilled = z.infer<typeof AllotmentBilled>

export const TakeoverRequestRecord = z.strictObject({
  type: z.literal('takeover.request'),
  request: SignedTakeoverRequest,
})

/**
 * Names one receipt exactly: the hash of the receipt record in the fulfiller's feed. `dispute`: the
 * origin took the delivery but not its fee (beyond the terms' limits, an order it had delivered or
 * cancelled itself, or one another partner delivered first): the fulfiller books it disputed too.
 */
export const ReceiptRef = z.strictObject({ fulfiller: ShopId, order: Id, receipt: Hash, dispute: DisputeReason.optional() })
export type ReceiptRef = z.infer<typeof ReceiptRef>
const ReceiptRefs = z.array(ReceiptRef).max(LIMITS.maxAcksPerRecord)

export const Handback = z.strictObject({
  type: z.literal('handback'),
  epoch: Epoch.min(1),
  receipts: ReceiptRefs,
  time: TimeMs,
})

export const ReceiptAck = z.strictObject({ type: z.literal('receipt.ack'), receipts: ReceiptRefs.min(1) })

export const PartnerRevoked = z.strictObject({ type: z.literal('partner.revoked'), partner: ShopId, reason: Text })

// ---- partner records ----

export const ClaimRecord = z.strictObject({ type: z.literal('claim'), claim: SignedClaim })

export const DeliveryChannel = z.enum(['email', 'claim-page', 'email+claim-page'])

export const Receipt = z.strictObject({
  type: z.literal('receipt'),
  origin: ShopId,
  order: Id,
  sku: Id,
  allotment: Id,
  keyIds: KeyIds,
  channel: DeliveryChannel,
  epoch: Epoch.min(1),
  time: TimeMs,
  /** The order's amount as escrowed, and the consigned unit value: settlement needs both. */
  amount: Money,
  unitValue: Money,
  terms: Hash,
})
export type Receipt = z.infer<typeof Receipt>

export const AllotmentReleased = z.strictObject({
  type: z.literal('allotment.released'),
  origin: ShopId,
  allotment: Id,
  keyIds: KeyIds,
})

export const StatementRecord = z.strictObject({ type: z.literal('statement'), statement: Statement })

export const StatementAccepted = z.strictObject({
  type: z.literal('statement.accepted'),
  issuer: ShopId,
  statement: Hash,
})

export const Dispute = z.strictObject({
  type: z.literal('dispute'),
  issuer: ShopId,
  statement: Hash,
  lines: z.array(DisputedLine).min(1).max(LIMITS.maxDisputeLines),
})

export const PaymentRecorded = z.strictObject({
  type: z.literal('payment.recorded'),
  payee: ShopId,
  statement: Hash,
  amount: Money,
  reference: WellFormedString.min(1).max(200),
})

export const PaymentConfirmed = z.strictObject({
  type: z.literal('payment.confirmed'),
  payer: ShopId,
  statement: Hash,
  reference: WellFormedString.min(1).max(200),
})

export const FeedRecord = z.discriminatedUnion('type', [
  OrderEscrowed,
  OrderDelivered,
  OrderCancelled,
  AllotmentConsigned,
  AllotmentRecall,
  AllotmentBilled,
  TakeoverRequestRecord,
  Handback,
  ReceiptAck,
  PartnerRevoked,
  ClaimRecord,
  Receipt,
  AllotmentReleased,
  StatementRecord,
  StatementAccepted,
  Dispute,
  PaymentRecorded,
  PaymentConfirmed,
])
export type FeedRecord = z.infer<typeof FeedRecord>
export type FeedRecordType = FeedRecord['type']

export const FeedRecordList = z.array(FeedRecord).max(LIMITS.maxRecordsPerEntry)
