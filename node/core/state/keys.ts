// Consigned card keys (docs/design.md §2, invariant 1): the one module that reads and writes `keys` rows
// (origin!keyId) and `allotments` counts (origin!sku!holder). At the origin a row exists for every
// key it consigned; at a holder for every key consigned to it. Every change is a step of the
// protocol's key machine:
//   origin: consigned → delivered (a receipt under an adopted authority), → returned (released:
//           exposed, the operator decides: write off, bill the holder, or consign to it again)
//   holder: consigned → reserved (our takeover) → delivered (our receipt); consigned → returned
// A holder's free keys are also kept in memory, oldest first; `take` holds some for one
// reservation until it is written (or gives them back). Counts move in memory once durable; the
// value written is the committed count plus every change still in flight, so concurrent units
// never overwrite each other's increments.
import { z } from 'zod'
import {
  assert,
  type CardKey,
  Epoch,
  Id,
  type KeyEvent,
  keyStep,
  Money,
  type ShopId,
  ShopId as ShopIdSchema,
  WellFormedString,
} from '../../../protocol/index.js'
import type { Store } from '../ports.js'
import type { Authorities } from './authorities.js'
import { holdingKey, keyRowKey, prefixRange } from './codec.js'
import { parseRow, readRows } from './rows.js'
import type { Tx } from './tx.js'

export const KeyRow = z.object({
  origin: ShopIdSchema,
  holder: ShopIdSchema,
  allotment: Id,
  sku: Id,
  keyId: Id,
  key: WellFormedString,
  unitValue: Money,
  state: z.enum(['consigned', 'reserved', 'delivered', 'returned', 'written-off', 'billed']),
  order: Id.nullable(),
  epoch: Epoch.nullable(),
})
export type KeyRow = z.infer<typeof KeyRow>

/**
 * A key another shop consigned to a co-partner, as far as we see it (we never hold its text): so a
 * co-partner's receipt is judged by the same rules as at the origin (its own unused keys only).
 * In `peer-keys` under origin!keyId.
 */
export const PeerKeyRow = z.object({ holder: ShopIdSchema, sku: Id, state: z.enum(['consigned', 'delivered', 'returned']) })
export type PeerKeyRow = z.infer<typeof PeerKeyRow>

/**
 * A co-partner released keys of an allotment whose consignment has not reached us yet (the two
 * records travel in different feeds). Allotment ids are random, so the release was written after
 * the holder saw that consignment: when it arrives here, those keys count as returned at once, as
 * they do at the origin (seed-6137). Also in `peer-keys`, under the same key.
 */
export const EarlyRelease = z.object({ holder: ShopIdSchema, allotment: Id, state: z.literal('released-unseen') })
export type EarlyRelease = z.infer<typeof EarlyRelease>
const PeerKeyOrRelease = z.union([PeerKeyRow, EarlyRelease])

/** Per (origin, sku, holder): how many keys were consigned, delivered and returned. */
export const Holding = z.object({
  consigned: z.number().int().nonnegative(),
  delivered: z.number().int().nonnegative(),
  returned: z.number().int().nonnegative(),
})
export type Holding = z.infer<typeof Holding>

const ZERO: Holding = { consigned: 0, delivered: 0, returned: 0 }

export class Keys {
  /** Free keys we hold, per origin!sku, oldest first. */
  private readonly free = new Map<string, KeyRow[]>()
  /** Durable counts. */
  private readonly holdings = new Map<string, Holding>()
  /** Durable counts plus changes still in flight (what the next write must build on). */
  private readonly projected = new Map<string, Holding>()

  constructor(
    private readonly me: ShopId,
    private readonly store: Store,
    private readonly authorities: Authorities,
    /** The planted bug of the simulator's canary: free keys handed out without leaving the free list. */
    private readonly reuseKeys: boolean,
  ) {}

  async load(): Promise<void> {
    for await (const [key, value] of this.store.range('keys', {})) {
      const row = parseRow(KeyRow, 'keys', key, value)
      if (row.holder === this.me && row.state === 'consigned') this.freeList(row.origin, row.sku).push(row)
    }
    for await (const [key, value] of this.store.range('allotments', {})) {
      const holding = parseRow(Holding, 'allotments', key, value)
      this.holdings.set(key, holding)
      this.projected.set(key, { ...holding })
    }
  }

  // ---- reads ----

  private freeList(origin: ShopId, sku: string): KeyRow[] {
    const key = `${origin}!${sku}`
    let list = this.free.get(key)
    if (!list) this.free.set(key, (list = []))
    return list
  }

  freeCount(origin: ShopId, sku: string): number {
    return this.free.get(`${origin}!${sku}`)?.length ?? 0
  }

  /** Every free key we hold of `origin`'s (the fire drill proves them, node/core/drill.ts). */
  freeOf(origin: ShopId): KeyRow[] {
    const out: KeyRow[] = []
    for (const list of this.free.values()) for (const row of list) if (row.origin === origin) out.push(row)
    return out
  }

  /** Origin: our keys consigned to `holder` and not yet delivered or returned (what it should hold). */
  async consignedTo(holder: ShopId): Promise<KeyRow[]> {
    const out: KeyRow[] = []
    for await (const [key, value] of this.store.range('keys', prefixRange(this.me))) {
      const row = parseRow(KeyRow, 'keys', key, value)
      if (row.holder === holder && row.state === 'consigned') out.push(row)
    }
    return out
  }

  /** Origin: every key of ours that went to a partner, whatever became of it (the console's allotments page). */
  async ownRows(): Promise<KeyRow[]> {
    const out: KeyRow[] = []
    for await (const [key, value] of this.store.range('keys', prefixRange(this.me))) out.push(parseRow(KeyRow, 'keys', key, value))
    return out
  }

  /** Free keys we hold of one allotment of `origin` (a recall releases them). */
  freeOfAllotment(origin: ShopId, allotment: string): KeyRow[] {
    const out: KeyRow[] = []
    for (const list of this.free.values()) for (const row of list) if (row.origin === origin && row.allotment === allotment) out.push(row)
    return out
  }

  /** Among `candidates`, the holders `origin` ever consigned keys of `sku` to: who may fulfil. */
  holdersOf(origin: ShopId, sku: string, candidates: readonly ShopId[]): ShopId[] {
    return candidates.filter((p) => p !== origin && this.holdings.has(holdingKey(origin, sku, p))).sort()
  }

  holding(origin: ShopId, sku: string, holder: ShopId): Holding {
    return this.holdings.get(holdingKey(origin, sku, holder)) ?? ZERO
  }

  /** Keys `holder` still holds of `origin`'s sku, counting changes in flight (for caps). */
  outstanding(origin: ShopId, sku: string, holder: ShopId): number {
    const h = this.projected.get(holdingKey(origin, sku, holder)) ?? ZERO
    return h.consigned - h.delivered - h.returned
  }

  async getMany(origin: ShopId, keyIds: readonly string[], tx?: Tx): Promise<(KeyRow | undefined)[]> {
    return readRows(
      this.store,
      KeyRow,
      'keys',
      keyIds.map((id) => keyRowKey(origin, id)),
      tx,
    )
  }

  /** Plaintext of keys we consigned (the origin writes partner deliveries back with them). */
  async ownKeys(keyIds: readonly string[]): Promise<CardKey[]> {
    return (await this.getMany(this.me, keyIds)).filter((r): r is KeyRow => r !== undefined).map((r) => ({ keyId: r.keyId, key: r.key }))
  }

  // ---- counts ----

  /** Adds to a holding count with `tx`: every node keeps these for every (origin, sku, holder). */
  count(tx: Tx, origin: ShopId, sku: string, holder: ShopId, field: keyof Holding, by: number): void {
    if (by === 0) return
    const key = holdingKey(origin, sku, holder)
    const next = { ...(this.projected.get(key) ?? ZERO) }
    next[field] += by
    this.projected.set(key, next)
    tx.put('allotments', key, next)
    tx.afterCommit(() => {
      const done = { ...(this.holdings.get(key) ?? ZERO) }
      done[field] += by
      this.holdings.set(key, done)
    })
    tx.ifAborted(() => {
      const back = { ...(this.projected.get(key) ?? ZERO) }
      back[field] -= by
      this.projected.set(key, back)
    })
  }

  // ---- transitions ----

  private move(tx: Tx, row: KeyRow, event: KeyEvent, change: Partial<KeyRow> = {}): KeyRow {
    const next = keyStep(row.state, event)
    assert(next.ok, `key ${row.keyId}: ${next.ok ? '' : next.error.message}`)
    const moved: KeyRow = { ...row, ...change, state: next.value }
    tx.put('keys', keyRowKey(row.origin, row.keyId), moved)
    return moved
  }

  /** Origin: keys taken out of our shop, consigned to `holder` (the record is in the same unit). */
  consignOwn(tx: Tx, holder: ShopId, allotment: string, sku: string, unitValue: Money, keys: readonly CardKey[]): void {
    assert(holder !== this.me, 'we do not consign keys to ourselves')
    for (const k of keys) {
      const row: KeyRow = { origin: this.me, holder, allotment, sku, keyId: k.keyId, key: k.key, unitValue, state: 'consigned', order: null, epoch: null }
      tx.put('keys', keyRowKey(this.me, k.keyId), row)
    }
    this.count(tx, this.me, sku, holder, 'consigned', keys.length)
  }

  /**
   * Holder: the origin consigned keys to us (its signed record; `opened` is what we could open).
   * A key we hold already as returned comes back consigned (the origin consigned it to us again);
   * any other key id we know is never taken twice.
   */
  received(
    tx: Tx,
    origin: ShopId,
    allotment: string,
    sku: string,
    unitValue: Money,
    opened: readonly CardKey[],
    known: readonly (KeyRow | undefined)[],
  ): { fresh: number; again: number } {
    const added: KeyRow[] = []
    let again = 0
    opened.forEach((k, i) => {
      const had = known[i]
      if (had === undefined) {
        const row: KeyRow = { origin, holder: this.me, allotment, sku, keyId: k.keyId, key: k.key, unitValue, state: 'consigned', order: null, epoch: null }
        tx.put('keys', keyRowKey(origin, k.keyId), row)
        added.push(row)
      } else if (had.state === 'returned' && had.holder === this.me && had.sku === sku) {
        added.push(this.move(tx, had, 'reconsign', { allotment, unitValue }))
        again++
      }
    })
    tx.afterCommit(() => {
      for (const row of added) this.freeList(origin, sku).push(row)
    })
    return { fresh: added.length - again, again }
  }

  /** Holder: takes `qty` free keys for one reservation (given back by `untake` if it is not written). */
  take(origin: ShopId, sku: string, qty: number): KeyRow[] | null {
    const list = this.freeList(origin, sku)
    if (list.length < qty) return null
    if (this.reuseKeys) return list.slice(0, qty) // the planted bug
    return list.splice(0, qty)
  }

  untake(rows: readonly KeyRow[]): void {
    for (const row of [...rows].reverse()) this.freeList(row.origin, row.sku).unshift(row)
  }

  /** Holder: a taken key is committed to `order` under our takeover at `epoch`. */
  reserve(tx: Tx, row: KeyRow, order: string, epoch: number): KeyRow {
    assert(row.holder === this.me, 'only the holder reserves a key')
    assert(this.authorities.get(row.origin, epoch, tx) !== undefined, `reserving ${row.keyId} without an adopted authority at epoch ${epoch}`)
    return this.move(tx, row, 'reserve', { order, epoch })
  }

  /** Holder: our receipt for the reservation is written. */
  deliver(tx: Tx, row: KeyRow): KeyRow {
    assert(row.holder === this.me && row.state === 'reserved', 'only a reservation is delivered')
    return this.move(tx, row, 'deliver')
  }

  /** Holder: free keys released back to their origin (they leave the free list now; the unit writes them). */
  release(tx: Tx, rows: readonly KeyRow[]): void {
    for (const row of rows) {
      const list = this.freeList(row.origin, row.sku)
      const i = list.indexOf(row)
      if (i >= 0) list.splice(i, 1)
      this.move(tx, row, 'return')
    }
    tx.ifAborted(() => this.untake(rows))
  }

  /**
   * Holder: our own receipt or release, taken back from a partner after a restore
   * (own-feed-rejoin.ts): the keys it names leave our free list again. Authority: the record we
   * signed, which we wrote only under that authority (a receipt) or as the keys' holder (a release).
   */
  retaken(
    tx: Tx,
    rows: readonly KeyRow[],
    outcome: { readonly kind: 'delivered'; readonly order: string; readonly epoch: number } | { readonly kind: 'returned' },
  ): void {
    for (const row of rows) {
      assert(row.holder === this.me && row.state === 'consigned', `key ${row.keyId}: only a free key of ours is taken again`)
      const list = this.freeList(row.origin, row.sku)
      const i = list.findIndex((r) => r.keyId === row.keyId)
      if (i >= 0) list.splice(i, 1)
      if (outcome.kind === 'returned') this.move(tx, row, 'return')
      else this.move(tx, this.move(tx, row, 'reserve', { order: outcome.order, epoch: outcome.epoch }), 'deliver')
    }
    tx.ifAborted(() => this.untake(rows))
  }

  /** Origin: a receipt under an adopted authority (`epoch`) names these keys of `fulfiller`. */
  receipted(tx: Tx, rows: readonly KeyRow[], fulfiller: ShopId, order: string, epoch: number): void {
    assert(this.authorities.get(this.me, epoch, tx) !== undefined, `a receipt at epoch ${epoch} without an adopted authority`)
    for (const row of rows) {
      assert(row.origin === this.me && row.holder === fulfiller, 'a receipt names keys consigned to its fulfiller')
      this.move(tx, row, 'receipted', { order, epoch })
    }
  }

  /** Origin: the holder released these keys. They are exposed: never back on sale as if unknown. */
  returned(tx: Tx, rows: readonly KeyRow[]): void {
    for (const row of rows) {
      assert(row.origin === this.me, 'only the origin takes its keys back')
      this.move(tx, row, 'return')
    }
  }

  // ---- co-partners' keys, by id (no text) ----

  /** What we know of these keys of `origin`'s: a co-partner's consigned key, or an early release of one. */
  async peerKeys(origin: ShopId, keyIds: readonly string[], tx?: Tx): Promise<(PeerKeyRow | EarlyRelease | undefined)[]> {
    return readRows(
      this.store,
      PeerKeyOrRelease,
      'peer-keys',
      keyIds.map((id) => keyRowKey(origin, id)),
      tx,
    )
  }

  /** `holder` released these keys of `origin`'s allotment before we saw it consigned. */
  peerReleasedEarly(tx: Tx, origin: ShopId, holder: ShopId, allotment: string, keyIds: readonly string[]): void {
    for (const id of keyIds) tx.put('peer-keys', keyRowKey(origin, id), { holder, allotment, state: 'released-unseen' } satisfies EarlyRelease)
  }

  /** `origin` consigned these keys to co-partner `holder` (its record; again after a return). */
  peerConsigned(tx: Tx, origin: ShopId, holder: ShopId, sku: string, keyIds: readonly string[], state: 'consigned' | 'returned' = 'consigned'): void {
    for (const id of keyIds) tx.put('peer-keys', keyRowKey(origin, id), { holder, sku, state } satisfies PeerKeyRow)
  }

  /** A co-partner's receipt we took, or its release: those of its keys are used up or back. */
  peerMoved(tx: Tx, origin: ShopId, rows: readonly { keyId: string; row: PeerKeyRow }[], state: 'delivered' | 'returned'): void {
    for (const { keyId, row } of rows) tx.put('peer-keys', keyRowKey(origin, keyId), { ...row, state } satisfies PeerKeyRow)
  }

  /** Origin: keys partners released back to us, exposed and waiting for the operator's decision. */
  async exposed(): Promise<KeyRow[]> {
    const out: KeyRow[] = []
    for await (const [key, value] of this.store.range('keys', prefixRange(this.me))) {
      const row = parseRow(KeyRow, 'keys', key, value)
      if (row.state === 'returned' && row.holder !== this.me) out.push(row)
    }
    return out
  }

  /** Holder: the origin billed us for keys we released: they are settled as ours. */
  billedToUs(tx: Tx, rows: readonly KeyRow[]): void {
    for (const row of rows) {
      assert(row.holder === this.me && row.state === 'returned', 'only keys we released are billed to us')
      this.move(tx, row, 'bill')
    }
  }

  /** Origin, the operator's decision on exposed keys: write off, bill the holder, or consign them to it again. */
  decide(tx: Tx, rows: readonly KeyRow[], event: 'write-off' | 'bill' | 'reconsign', allotment?: string): void {
    for (const row of rows) {
      assert(row.origin === this.me && row.state === 'returned', 'only returned keys are decided on')
      this.move(tx, row, event, event === 'reconsign' && allotment ? { allotment } : {})
    }
  }
}
