// The simulated shop's card-key stock. Every key has one status at a time and moves only along
// stock → sold, stock → consigned → (stock | partner-delivered), so a key that left the stock for
// a partner is never sold by the shop (adapters/README.md §5, invariant 1). All methods are synchronous: on one event loop
// each call is one transaction, which is what "removed atomically" means here.
import { randomBytes } from 'node:crypto'
import type { CardKey } from '../../protocol/index.js'

export type KeyStatus = 'stock' | 'sold' | 'consigned' | 'partner-delivered'

/** Keys one sku may start with. */
export const MAX_KEYS_PER_SKU = 100_000

interface KeyRecord {
  readonly sku: string
  readonly key: string
  status: KeyStatus
  order: string | null
  /** Consigned once and given back: sold here, never consigned again (the node knows its id). */
  returned?: boolean
}

export interface StockSnapshot {
  keys: [string, KeyRecord][]
  shelves: [string, string[]][]
  reserved: [string, number][]
  nextKey: number
}

export interface SkuCounts {
  inStock: number
  /** Of inStock, promised to paid orders not yet delivered; consignment cannot take these. */
  reserved: number
  sold: number
  consigned: number
  partnerDelivered: number
}

export type ReturnOutcome =
  | { readonly ok: true; readonly restocked: number; readonly alreadyInStock: number }
  | { readonly ok: false; readonly status: 400 | 409; readonly message: string }

// 32 symbols, so a random byte masked to 5 bits picks each one with equal probability.
const ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789'

function keyText(): string {
  const bytes = randomBytes(12)
  const chars = Array.from(bytes, (b) => ALPHABET[b & 31]).join('')
  return `STEAM-${chars.slice(0, 4)}-${chars.slice(4, 8)}-${chars.slice(8, 12)}`
}

export class ShopStock {
  private readonly keys = new Map<string, KeyRecord>()
  // Per sku, key ids in stock, oldest first: deliveries and consignments both take from the front.
  private readonly shelves = new Map<string, string[]>()
  private readonly reserved = new Map<string, number>()
  private nextKey = 1

  constructor(skus: readonly { readonly sku: string; readonly keys: number }[]) {
    const texts = new Set<string>()
    for (const { sku, keys } of skus) {
      if (!Number.isInteger(keys) || keys < 0 || keys > MAX_KEYS_PER_SKU) throw new Error(`skus.${sku}.keys: must be 0..${MAX_KEYS_PER_SKU}`)
      const shelf: string[] = []
      for (let i = 0; i < keys; i++) {
        let key = keyText()
        while (texts.has(key)) key = keyText() // 60 random bits: a clash is near impossible, but cheap to rule out
        texts.add(key)
        const keyId = `k-${this.nextKey++}`
        this.keys.set(keyId, { sku, key, status: 'stock', order: null })
        shelf.push(keyId)
      }
      this.shelves.set(sku, shelf)
      this.reserved.set(sku, 0)
    }
  }

  /** Everything needed to rebuild the stock after a restart (the simulated shop's database). */
  snapshot(): StockSnapshot {
    return { keys: [...this.keys.entries()], shelves: [...this.shelves.entries()], reserved: [...this.reserved.entries()], nextKey: this.nextKey }
  }

  restore(saved: StockSnapshot): void {
    this.keys.clear()
    for (const [id, record] of saved.keys) this.keys.set(id, { ...record })
    this.shelves.clear()
    for (const [sku, shelf] of saved.shelves) this.shelves.set(sku, [...shelf])
    this.reserved.clear()
    for (const [sku, n] of saved.reserved) this.reserved.set(sku, n)
    this.nextKey = saved.nextKey
  }

  has(sku: string): boolean {
    return this.shelves.has(sku)
  }

  /** Keys in stock not promised to a paid order. */
  available(sku: string): number {
    return (this.shelves.get(sku)?.length ?? 0) - (this.reserved.get(sku) ?? 0)
  }

  /** Promises `qty` keys to a paid order; false when not enough are available. */
  reserve(sku: string, qty: number): boolean {
    if (this.available(sku) < qty) return false
    this.reserved.set(sku, (this.reserved.get(sku) ?? 0) + qty)
    return true
  }

  release(sku: string, qty: number): void {
    this.reserved.set(sku, Math.max(0, (this.reserved.get(sku) ?? 0) - qty))
  }

  /** Sells `qty` reserved keys to `order`; null if the shelf is short (only after a key conflict). */
  sell(sku: string, qty: number, order: string): CardKey[] | null {
    const shelf = this.shelves.get(sku)
    if (shelf === undefined || shelf.length < qty) return null
    this.release(sku, qty)
    return shelf.splice(0, qty).map((keyId) => this.move(keyId, 'sold', order))
  }

  /** Consigns up to `count` unreserved keys: they leave the stock for good. */
  take(sku: string, count: number): CardKey[] {
    const shelf = this.shelves.get(sku)
    if (shelf === undefined) return []
    const n = Math.max(0, Math.min(count, this.available(sku)))
    // The node refuses a key id it has seen (node/core/allotments.ts), so a returned key would
    // make every later consignment fail; it stays on the shelf for the shop's own sales.
    const picked: string[] = []
    for (const keyId of shelf) {
      if (picked.length >= n) break
      if (this.keys.get(keyId)?.returned !== true) picked.push(keyId)
    }
    const taken = new Set(picked)
    this.shelves.set(
      sku,
      shelf.filter((keyId) => !taken.has(keyId)),
    )
    return picked.map((keyId) => this.move(keyId, 'consigned', null))
  }

  /** Puts consigned keys back. Checks every key before moving any, so a refusal changes nothing. */
  giveBack(sku: string, keys: readonly CardKey[]): ReturnOutcome {
    const toRestock = new Set<string>()
    let alreadyInStock = 0
    for (const [i, { keyId, key }] of keys.entries()) {
      const record = this.keys.get(keyId)
      if (record === undefined || record.sku !== sku || record.key !== key) {
        return { ok: false, status: 400, message: `keys.${i}: key ${keyId} of sku ${sku} was never in this shop's stock` }
      }
      if (record.status === 'stock') alreadyInStock++
      else if (record.status === 'consigned') toRestock.add(keyId)
      else return { ok: false, status: 409, message: `keys.${i}: key ${keyId} was already delivered (${record.status}); it cannot go back on sale` }
    }
    for (const keyId of toRestock) {
      this.move(keyId, 'stock', null)
      this.keys.get(keyId)!.returned = true
    }
    this.shelves.get(sku)?.push(...toRestock)
    return { ok: true, restocked: toRestock.size, alreadyInStock }
  }

  /**
   * Records keys a partner delivered for `order`. Returns how many were in a state that means a
   * second delivery of the same key (still in our stock, or sold by us): each is a conflict.
   */
  partnerDelivered(keys: readonly CardKey[], order: string): number {
    let conflicts = 0
    for (const { keyId } of keys) {
      const record = this.keys.get(keyId)
      if (record === undefined || record.status === 'partner-delivered') continue // not ours, or a repeat
      if (record.status === 'sold') {
        conflicts++
        continue
      }
      if (record.status === 'stock') {
        conflicts++
        const shelf = this.shelves.get(record.sku) ?? []
        shelf.splice(shelf.indexOf(keyId), 1)
      }
      record.status = 'partner-delivered'
      record.order = order
    }
    return conflicts
  }

  /** Per sku, how many keys are in each state (one pass over all keys). */
  counts(): Record<string, SkuCounts> {
    const all: Record<string, SkuCounts> = {}
    for (const sku of this.shelves.keys()) {
      all[sku] = { inStock: 0, reserved: this.reserved.get(sku) ?? 0, sold: 0, consigned: 0, partnerDelivered: 0 }
    }
    for (const record of this.keys.values()) {
      const counts = all[record.sku]!
      if (record.status === 'stock') counts.inStock++
      else if (record.status === 'sold') counts.sold++
      else if (record.status === 'consigned') counts.consigned++
      else counts.partnerDelivered++
    }
    return all
  }

  /** Key ids currently in `status` (for tests and reports). */
  keyIds(status: KeyStatus): string[] {
    return [...this.keys].filter(([, record]) => record.status === status).map(([keyId]) => keyId)
  }

  private move(keyId: string, status: KeyStatus, order: string | null): CardKey {
    const record = this.keys.get(keyId)
    if (record === undefined) throw new Error(`unknown key ${keyId}`)
    record.status = status
    record.order = order
    return { keyId, key: record.key }
  }
}
