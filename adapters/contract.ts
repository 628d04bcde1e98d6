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
import type { AdapterOrder, CancelledBody, CardKey, DeliveredBody, HealthBody, PartnerDelivery, SubmitOrdersReply, TombstoneReply } from '../protocol/index.js'

export type { CardKey, PartnerDelivery }

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
