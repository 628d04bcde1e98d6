// Store key layouts. Seqs are zero-padded so LevelDB's byte order is numeric order.
import type { ShopId } from '../../protocol/index.js'

const SEQ_DIGITS = 16
/** Sorts after every printable id character: the upper bound of a prefix range. */
export const RANGE_END = '\xff'

export function seqKey(author: ShopId, seq: number): string {
  return `${author}!${String(seq).padStart(SEQ_DIGITS, '0')}`
}

export function orderKey(origin: ShopId, order: string): string {
  return `${origin}!${order}`
}

export function prefixRange(prefix: string): { gt: string; lt: string } {
  return { gt: `${prefix}!`, lt: `${prefix}!${RANGE_END}` }
}

export const META = {
  ownHead: 'own-head',
  counts: (origin: ShopId) => `counts!${origin}`,
} as const
