// Consigned keys (DESIGN.md §2 invariant 1, §5). The origin takes keys out of its shop's stock and
// seals them to one holder in its feed; from then on only that holder may deliver or return them.
// Key rows live in `keys` under origin!keyId: at the origin with every key it consigned, at a
// holder with every key consigned to it. A holder's free keys are also kept in memory, FIFO.
import {
  type AllotmentConsigned,
  type BoxKeyPair,
  CardKeyList,
  type CardKey,
  type Identity,
  keyStep,
  type KeyState,
  type Money,
  openJson,
  sealJson,
  type ShopId,
} from '../../protocol/index.js'
import { RefusedError } from './api.js'
import type { ApplyBatch } from './apply.js'
import type { FeedWriter } from './feed-writer.js'
import type { Federation } from './federation.js'
import type { Adapter, Logger, Rng, Store, StoreOp } from './ports.js'

export interface KeyRow {
  readonly origin: ShopId
  readonly holder: ShopId
  readonly allotment: string
  readonly sku: string
  readonly keyId: string
  readonly key: string
  readonly unitValue: Money
  readonly state: KeyState
  readonly order: string | null
  readonly epoch: number | null
}

/** Per (origin, sku, holder): how many keys were consigned, delivered and returned. */
export interface Holding {
  consigned: number
  delivered: number
  returned: number
}


const keyRowKey = (origin: ShopId, keyId: string) => `${origin}!${keyId}`
const holdingKey = (origin: ShopId, sku: string, holder: ShopId) => `${origin}!${sku}!${holder}`

export class Allotments {
  /** Free keys we hold, per origin!sku, oldest first. */
  private readonly free = new Map<string, KeyRow[]>()
  private readonly holdings = new Map<string, Holding>()

  constructor(
    private readonly deps: {
      readonly identity: Identity
      readonly box: BoxKeyPair
      readonly store: Store
      readonly rng: Rng
      readonly writer: FeedWriter
      readonly federation: Federation
      readonly adapter: Adapter
      readonly logger: Logger
      readonly canary?: 'reuse-keys'
    },
  ) {}

  async load(): Promise<void> {
    const me = this.deps.identity.id
    for await (const [, row] of this.deps.store.range<KeyRow>('keys', {})) {
      if (row.holder === me && row.state === 'consigned') this.freeList(row.origin, row.sku).push(row)
    }
    for await (const [key, holding] of this.deps.store.range<Holding>('allotments', {})) this.holdings.set(key, holding)
  }

  private freeList(origin: ShopId, sku: string): KeyRow[] {
    const key = `${origin}!${sku}`
    let list = this.free.get(key)
    if (!list) {
      list = []
      this.free.set(key, list)
    }
    return list
  }

  freeCount(origin: ShopId, sku: string): number {
    return this.free.get(`${origin}!${sku}`)?.length ?? 0
  }

  /** Partners of `origin` that were ever consigned keys of `sku`: the fulfilment candidates. */
  holdersOf(origin: ShopId, sku: string): ShopId[] {
    const out: ShopId[] = []
    for (const partner of this.deps.federation.partners.concat(this.deps.identity.id)) {
      if (partner !== origin && this.holdings.has(holdingKey(origin, sku, partner))) out.push(partner)
    }
    return out.sort()
  }

  holding(origin: ShopId, sku: string, holder: ShopId): Holding {
    return this.holdings.get(holdingKey(origin, sku, holder)) ?? { consigned: 0, delivered: 0, returned: 0 }
  }

  bumpOp(origin: ShopId, sku: string, holder: ShopId, field: keyof Holding, by: number): StoreOp {
    return this.bump(origin, sku, holder, field, by)
  }

  private bump(origin: ShopId, sku: string, holder: ShopId, field: keyof Holding, by: number): StoreOp {
    const key = holdingKey(origin, sku, holder)
    const next = { ...this.holding(origin, sku, holder) }
    next[field] += by
    this.holdings.set(key, next)
    return { type: 'put', section: 'allotments', key, value: next }
  }

  // ---- origin side ----

  /** Takes `count` keys of `sku` out of the shop and consigns them to `holder`. */
  async consign(holder: ShopId, sku: string, count: number): Promise<{ allotment: string; keys: number; seq: number }> {
    const me = this.deps.identity.id
    const fed = this.deps.federation
    if (!fed.isPartner(holder)) throw new RefusedError(`${holder} is not a partner under the terms in force`)
    const skuTerms = fed.terms.skus.find((s) => s.shop === me && s.sku === sku)
    if (!skuTerms) throw new RefusedError(`the terms do not cover sku ${sku} of this shop`)
    const h = this.holding(me, sku, holder)
    const outstanding = h.consigned - h.delivered - h.returned
    if (outstanding + count > skuTerms.allotmentCap)
      throw new RefusedError(`${holder} holds ${outstanding} keys of ${sku}; the cap in the terms is ${skuTerms.allotmentCap}`)
    const keys = await this.deps.adapter.takeStock(sku, count)
    if (keys.length === 0) throw new RefusedError(`the shop has no unsold keys of ${sku}`)
    try {
      return await this.writeConsignment(holder, sku, skuTerms.unitValue, keys)
    } catch (error) {
      // The keys left the shop but never reached the feed: give them back before reporting.
      await this.deps.adapter.returnStock(sku, keys)
      throw error
    }
  }

  private async writeConsignment(holder: ShopId, sku: string, unitValue: Money, keys: readonly CardKey[]) {
    const me = this.deps.identity.id
    const ids = keys.map((k) => k.keyId)
    if (new Set(ids).size !== ids.length) throw new RefusedError('the shop handed out duplicate key ids')
    const known = await this.deps.store.getMany('keys', ids.map((id) => keyRowKey(me, id)))
    if (known.some((k) => k !== undefined)) throw new RefusedError('the shop handed out a key id that was consigned before')
    const holderBox = this.deps.federation.recipients().find((r) => r.id === holder)
    if (!holderBox) throw new RefusedError(`no box key for ${holder}`)
    const allotment = `al-${Buffer.from(this.deps.rng.bytes(8)).toString('hex')}`
    const record: AllotmentConsigned = {
      type: 'allotment.consigned',
      allotment,
      holder,
      sku,
      unitValue,
      keyIds: ids,
      keys: sealJson(keys, [holderBox], this.deps.box, (n) => this.deps.rng.bytes(n)),
    }
    const seq = await this.deps.writer.append([record], [], () => [
      ...keys.map((k): StoreOp => ({
        type: 'put',
        section: 'keys',
        key: keyRowKey(me, k.keyId),
        value: { origin: me, holder, allotment, sku, keyId: k.keyId, key: k.key, unitValue, state: 'consigned', order: null, epoch: null } satisfies KeyRow,
      })),
      this.bump(me, sku, holder, 'consigned', keys.length),
    ])
    return { allotment, keys: keys.length, seq }
  }

  /** Asks `holder` to release every unused key of `sku` (or of one allotment). */
  async recall(holder: ShopId, allotment: string): Promise<number> {
    if (!this.deps.federation.isPartner(holder)) throw new RefusedError(`${holder} is not a partner`)
    return this.deps.writer.append([{ type: 'allotment.recall', allotment, holder, keyIds: null }], [])
  }

  // ---- applying records from feeds we hold ----

  /** The origin consigned keys (to us, or to a co-partner: then we only note who holds some). */
  async applyConsigned(origin: ShopId, record: AllotmentConsigned): Promise<StoreOp[]> {
    const me = this.deps.identity.id
    const ops: StoreOp[] = [this.bump(origin, record.sku, record.holder, 'consigned', record.keyIds.length)]
    if (record.holder !== me) return ops
    const opened = openJson(record.keys, me, this.deps.box, CardKeyList)
    if (!opened.ok) {
      this.deps.logger.error({ origin, allotment: record.allotment, reason: opened.error.message }, 'cannot open consigned keys')
      return ops
    }
    const byId = new Map(opened.value.map((k) => [k.keyId, k.key]))
    for (const keyId of record.keyIds) {
      const key = byId.get(keyId)
      if (key === undefined) continue // a key id without a key: nothing we could ever deliver
      const row: KeyRow = { origin, holder: me, allotment: record.allotment, sku: record.sku, keyId, key, unitValue: record.unitValue, state: 'consigned', order: null, epoch: null }
      ops.push({ type: 'put', section: 'keys', key: keyRowKey(origin, keyId), value: row })
      this.freeList(origin, record.sku).push(row)
    }
    return ops
  }

  /** The origin recalls an allotment from us: release every key still free, in our feed. */
  applyRecall(origin: ShopId, allotment: string, holder: ShopId, batch: ApplyBatch): void {
    if (holder !== this.deps.identity.id) return
    const released: KeyRow[] = []
    for (const list of this.free.values()) {
      for (let i = list.length - 1; i >= 0; i--) {
        const row = list[i] as KeyRow
        if (row.origin === origin && row.allotment === allotment) {
          released.push(row)
          list.splice(i, 1)
        }
      }
    }
    if (released.length === 0) return
    batch.afterCommit.push(() => {
      void this.deps.writer
        .append([{ type: 'allotment.released', origin, allotment, keyIds: released.map((r) => r.keyId) }], [], () =>
          released.map((row) => ({ type: 'put', section: 'keys', key: keyRowKey(origin, row.keyId), value: { ...row, state: 'returned' } satisfies KeyRow })),
        )
        .catch((error: unknown) => this.deps.logger.error({ origin, allotment, err: String(error) }, 'could not release recalled keys'))
    })
  }

  /** A holder released keys (seen in its feed). At the origin they go back into the shop. */
  async applyReleased(holder: ShopId, origin: ShopId, keyIds: readonly string[], batch: ApplyBatch): Promise<StoreOp[]> {
    const me = this.deps.identity.id
    const rows = (await this.deps.store.getMany<KeyRow>('keys', keyIds.map((id) => keyRowKey(origin, id)))).filter((r): r is KeyRow => r !== undefined)
    const sku = rows[0]?.sku
    if (origin !== me) {
      // A co-partner's release of another origin's keys: only the counts matter to us.
      return sku === undefined ? [] : [this.bump(origin, sku, holder, 'returned', keyIds.length)]
    }
    const back = rows.filter((r) => r.holder === holder && keyStep(r.state, 'return').ok)
    if (back.length === 0) return []
    const ops: StoreOp[] = back.map((row) => ({ type: 'put', section: 'keys', key: keyRowKey(me, row.keyId), value: { ...row, state: 'returned' } satisfies KeyRow }))
    ops.push(this.bump(me, back[0]?.sku as string, holder, 'returned', back.length))
    batch.afterCommit.push(() => {
      const skus = new Map<string, CardKey[]>()
      for (const row of back) skus.set(row.sku, [...(skus.get(row.sku) ?? []), { keyId: row.keyId, key: row.key }])
      for (const [s, keys] of skus) {
        this.deps.adapter.returnStock(s, keys).catch((error: unknown) => this.deps.logger.error({ sku: s, keys: keys.length, err: String(error) }, 'returning released keys to the shop failed'))
      }
    })
    return ops
  }

  // ---- fulfilment at a holder ----

  /** Takes `qty` free keys of origin's sku for an order (in memory; the caller persists). */
  take(origin: ShopId, sku: string, qty: number): KeyRow[] | null {
    const list = this.freeList(origin, sku)
    if (list.length < qty) return null
    if (this.deps.canary === 'reuse-keys') return list.slice(0, qty) // the planted bug
    return list.splice(0, qty)
  }

  /** Puts keys taken by `take` back when the reservation was not written after all. */
  untake(rows: readonly KeyRow[]): void {
    for (const row of [...rows].reverse()) this.freeList(row.origin, row.sku).unshift(row)
  }

  reservedRow(row: KeyRow, order: string, epoch: number): StoreOp {
    return { type: 'put', section: 'keys', key: keyRowKey(row.origin, row.keyId), value: { ...row, state: 'reserved', order, epoch } satisfies KeyRow }
  }

  deliveredRow(row: KeyRow): StoreOp {
    return { type: 'put', section: 'keys', key: keyRowKey(row.origin, row.keyId), value: { ...row, state: 'delivered' } satisfies KeyRow }
  }

  /** A receipt by `fulfiller` for origin's keys: counts, and at the origin the key rows. */
  async applyDelivered(origin: ShopId, fulfiller: ShopId, sku: string, keyIds: readonly string[]): Promise<StoreOp[]> {
    const ops: StoreOp[] = [this.bump(origin, sku, fulfiller, 'delivered', keyIds.length)]
    if (origin !== this.deps.identity.id) return ops
    const rows = await this.deps.store.getMany<KeyRow>('keys', keyIds.map((id) => keyRowKey(origin, id)))
    for (const row of rows) {
      if (row && row.holder === fulfiller && row.state === 'consigned') ops.push({ type: 'put', section: 'keys', key: keyRowKey(origin, row.keyId), value: { ...row, state: 'delivered' } satisfies KeyRow })
    }
    return ops
  }

  /** Plaintext of keys we consigned (the origin needs them to write deliveries back). */
  async ownKeys(keyIds: readonly string[]): Promise<CardKey[]> {
    const me = this.deps.identity.id
    const rows = await this.deps.store.getMany<KeyRow>('keys', keyIds.map((id) => keyRowKey(me, id)))
    return rows.filter((r): r is KeyRow => r !== undefined).map((r) => ({ keyId: r.keyId, key: r.key }))
  }
}
