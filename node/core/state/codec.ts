// Store key layouts, one place for all of them. Seqs are zero-padded so LevelDB's byte order is
// numeric order; ids never contain '!' (protocol Id and ShopId schemas), so '!' separates fields.
import type { ShopId } from '../../../protocol/index.js'

const SEQ_DIGITS = 16
/** Sorts after every printable id character: the upper bound of a prefix range. */
export const RANGE_END = '\xff'

export function seqKey(author: ShopId, seq: number): string {
  return `${author}!${String(seq).padStart(SEQ_DIGITS, '0')}`
}

/** `orders`: origin!order. */
export function orderKey(origin: ShopId, order: string): string {
  return `${origin}!${order}`
}

/** `keys`: origin!keyId, at the origin for every key it consigned, at a holder for its own. */
export function keyRowKey(origin: ShopId, keyId: string): string {
  return `${origin}!${keyId}`
}

/** `allotments`: origin!sku!holder → Holding counts. */
export function holdingKey(origin: ShopId, sku: string, holder: ShopId): string {
  return `${origin}!${sku}!${holder}`
}

/** `receipts`: origin!order!fulfiller. */
export function receiptKey(origin: ShopId, order: string, fulfiller: ShopId): string {
  return `${origin}!${order}!${fulfiller}`
}

/** `authority`: origin!epoch (epoch zero-padded). */
export function authorityKey(origin: ShopId, epoch: number): string {
  return `${origin}!${String(epoch).padStart(SEQ_DIGITS, '0')}`
}

export function prefixRange(prefix: string): { gt: string; lt: string } {
  return { gt: `${prefix}!`, lt: `${prefix}!${RANGE_END}` }
}

export const META = {
  ownHead: 'own-head',
  /** Present while the node confirms where its own feed ends (own-feed-rejoin.ts). */
  rejoin: 'rejoin',
} as const
