// The adapter HTTP API, both directions: what a shop's bridge sends to its node (/v1/adapter/*)
// and the callbacks a node sends to its shop. An adapter in any language implements these, so
// they are protocol; the node's own admin and public pages are node/core/api-schemas.ts.
import { z } from 'zod'
import { LIMITS } from '../limits.js'
import { PlatformHealth } from './control.js'
import { Id, ShopId, Text, TimeMs } from './primitives.js'
import { CardKey, OrderEscrowed } from './records.js'

/** Most orders (or tombstones) one adapter request may carry. */
export const MAX_ORDERS_PER_REQUEST = 1_000

/** A paid order as the shop reports it: the escrow record's fields, with the buyer's secret. */
export const AdapterOrder = OrderEscrowed.omit({ type: true, claimVerifier: true }).extend({
  /** The secret the shop gave the buyer at checkout; the node keeps only its verifier. */
  claimSecret: z.string().min(1).max(128),
})
export type AdapterOrder = z.infer<typeof AdapterOrder>

const distinctOrders = (items: { order: string }[]) => new Set(items.map((i) => i.order)).size === items.length

export const SubmitOrdersBody = z.strictObject({
  orders: z.array(AdapterOrder).min(1).max(MAX_ORDERS_PER_REQUEST).refine(distinctOrders, 'order ids must be distinct'),
})
export type SubmitOrdersBody = z.infer<typeof SubmitOrdersBody>

/**
 * Why no partner could serve an order accepted now if the shop went down: the terms do not cover
 * its sku, or no partner holds enough unused keys of it. The order is escrowed all the same.
 */
export const UnservedReason = z.enum(['sku-not-in-terms', 'no-partner-holds-enough'])
export type UnservedReason = z.infer<typeof UnservedReason>

export const UnservedOrder = z.strictObject({ order: Id, sku: Id, qty: z.number().int().positive(), reason: UnservedReason })
export type UnservedOrder = z.infer<typeof UnservedOrder>

export const SubmitOrdersReply = z.strictObject({
  /** Orders newly escrowed, durable at this node when the reply is sent. */
  accepted: z.number().int().nonnegative(),
  /** Orders already escrowed with the same content (idempotent retries). */
  duplicates: z.number().int().nonnegative(),
  /** Seq of our feed entry that holds the last accepted order (0 when none was new). */
  seq: z.number().int().nonnegative(),
  /** Of the orders newly accepted, those no partner could serve in an outage now (flagged at once, D68). */
  unserved: z.array(UnservedOrder).max(MAX_ORDERS_PER_REQUEST),
})
export type SubmitOrdersReply = z.infer<typeof SubmitOrdersReply>

export const DeliveredBody = z.strictObject({
  orders: z
    .array(z.strictObject({ order: Id, time: TimeMs }))
    .min(1)
    .max(MAX_ORDERS_PER_REQUEST)
    .refine(distinctOrders, 'order ids must be distinct'),
})
export type DeliveredBody = z.infer<typeof DeliveredBody>

export const CancelledBody = z.strictObject({
  orders: z
    .array(z.strictObject({ order: Id, reason: Text }))
    .min(1)
    .max(MAX_ORDERS_PER_REQUEST)
    .refine(distinctOrders, 'order ids must be distinct'),
})
export type CancelledBody = z.infer<typeof CancelledBody>

export const TombstoneReply = z.strictObject({
  updated: z.number().int().nonnegative(),
  /** Ids this node never escrowed (nothing was written for them). */
  unknown: z.array(Id),
  seq: z.number().int().nonnegative(),
})
export type TombstoneReply = z.infer<typeof TombstoneReply>

export const HealthBody = z.strictObject({ platform: PlatformHealth, detail: Text.optional() })
export type HealthBody = z.infer<typeof HealthBody>

export const ErrorReply = z.strictObject({ error: z.string(), message: z.string() })

export const OkReply = z.strictObject({ ok: z.literal(true) })

// ---- node → shop callbacks (the generic adapter's webhook API) ----
// The node POSTs these, HMAC-signed exactly like adapter → node requests, to the shop's callback
// base URL + the path named below. The shop answers 2xx with the reply schema, or an ErrorReply.

export const CALLBACK_PATHS = {
  fence: '/standin/fence',
  takeStock: '/standin/stock/take',
  returnStock: '/standin/stock/return',
  writeBack: '/standin/deliveries',
} as const

export const FenceBody = z.strictObject({ fenced: z.boolean() })

export const TakeStockBody = z.strictObject({ sku: Id, count: z.number().int().min(1).max(LIMITS.maxKeysPerAllotment) })
export const TakeStockReply = z.strictObject({
  /** At most `count` keys, removed from the shop's stock in one transaction. */
  keys: z.array(CardKey).max(LIMITS.maxKeysPerAllotment),
})

export const ReturnStockBody = z.strictObject({ sku: Id, keys: z.array(CardKey).min(1).max(LIMITS.maxKeysPerAllotment) })

/** A delivery a partner made for one of our orders while we were down. */
export const PartnerDelivery = z.strictObject({
  order: Id,
  sku: Id,
  keys: z.array(CardKey).min(1).max(LIMITS.maxOrderQty),
  fulfiller: ShopId,
  fulfillerName: z.string().max(100),
  epoch: z.number().int().min(1),
  deliveredAt: TimeMs,
  channel: z.enum(['email', 'claim-page', 'email+claim-page']),
})
export type PartnerDelivery = z.infer<typeof PartnerDelivery>
export const WriteBackBody = z.strictObject({ deliveries: z.array(PartnerDelivery).min(1).max(MAX_ORDERS_PER_REQUEST) })
