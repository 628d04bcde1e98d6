// Consigned keys (docs/design.md §2, invariant 1): the origin takes keys out of its shop's stock and seals
// them to one holder in its feed; from then on only that holder may deliver or release them. The
// rows and counts belong to state/keys.ts; this module decides what to write and when.
// A released key comes back exposed (its holder has seen it): it is never put back on sale as if
// unknown. The operator decides: write it off, bill the holder for it, or consign it again to the
// same holder (keys.ts in the CLI, README "Returned keys").
import {
  type AllotmentBilled,
  type AllotmentConsigned,
  type BoxKeyPair,
  type BoxKeyring,
  CardKeyList,
  type CardKey,
  type Identity,
  hashOf,
  type Money,
  openJson,
  sealJson,
  type ShopId,
  totalsByCurrency,
} from '../../protocol/index.js'
import { RefusedError } from './api.js'
import type { Background } from './background.js'
import type { FeedWriter } from './feed-writer.js'
import type { Federation } from './federation.js'
import type { Adapter, Clock, Logger, Rng } from './ports.js'
import type { State } from './state/index.js'
import type { KeyRow, PeerKeyRow } from './state/keys.js'
import { Tx } from './state/tx.js'

export class Allotments {
  constructor(
    private readonly deps: {
      readonly identity: Identity
      readonly box: BoxKeyPair
      /** Our box key pairs, current first: keys consigned to us before a rotation still open (D93). */
      readonly keyring: BoxKeyring
      readonly state: State
      readonly rng: Rng
      readonly writer: FeedWriter
      readonly federation: Federation
      readonly adapter: Adapter
      readonly logger: Logger
      readonly background: Background
      readonly clock: Clock
      /** A co-partner's keys became known: receipts held for want of them are judged again. */
      readonly onPeerKeys: (origin: ShopId) => void
    },
  ) {}

  private get keys() {
    return this.deps.state.keys
  }

  // ---- origin side ----

  /** Takes `count` keys of `sku` out of the shop and consigns them to `holder`. */
  async consign(holder: ShopId, sku: string, count: number): Promise<{ allotment: string; keys: number; seq: number }> {
    const me = this.deps.identity.id
    const fed = this.deps.federation
    if (!fed.isPartner(holder)) throw new RefusedError(`${holder} is not a partner under the terms in force`)
    const skuTerms = fed.terms.skus.find((s) => s.shop === me && s.sku === sku)
    if (!skuTerms) throw new RefusedError(`the terms do not cover sku ${sku} of this shop`)
    const outstanding = this.keys.outstanding(me, sku, holder)
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
    const known = await this.keys.getMany(me, ids)
    if (known.some((k) => k !== undefined)) throw new RefusedError('the shop handed out a key id that was consigned before')
    const allotment = this.newAllotmentId()
    const tx = new Tx()
    this.keys.consignOwn(tx, holder, allotment, sku, unitValue, keys)
    const seq = await this.deps.writer.append([this.consignedRecord(holder, allotment, sku, unitValue, keys)], [], tx)
    return { allotment, keys: keys.length, seq }
  }

  private newAllotmentId(): string {
    return `al-${Buffer.from(this.deps.rng.bytes(8)).toString('hex')}`
  }

  private consignedRecord(holder: ShopId, allotment: string, sku: string, unitValue: Money, keys: readonly CardKey[]): AllotmentConsigned {
    const holderBox = this.deps.federation.recipients().find((r) => r.id === holder)
    if (!holderBox) throw new RefusedError(`no box key for ${holder}`)
    return {
      type: 'allotment.consigned',
      allotment,
      holder,
      sku,
      unitValue,
      keyIds: keys.map((k) => k.keyId),
      keys: sealJson(keys, [holderBox], this.deps.box, (n) => this.deps.rng.bytes(n)),
    }
  }

  /** Asks `holder` to release every unused key of one allotment. */
  async recall(holder: ShopId, allotment: string): Promise<number> {
    if (!this.deps.federation.isPartner(holder)) throw new RefusedError(`${holder} is not a partner`)
    return this.deps.writer.append([{ type: 'allotment.recall', allotment, holder, keyIds: null }], [])
  }

  // ---- returned (exposed) keys: the operator decides ----

  /** Keys partners released back to us: their text is known to the holder, so they are not on sale. */
  exposed(): Promise<KeyRow[]> {
    return this.keys.exposed()
  }

  /**
   * The operator's decision on exposed keys: written off (never sold), billed to their holder (it
   * owes their unit value; a proceeds line in both books), or consigned to the same holder again.
   */
  async decide(keyIds: readonly string[], decision: 'write-off' | 'bill' | 'reconsign'): Promise<{ keys: number; seq: number }> {
    const me = this.deps.identity.id
    const rows = await this.keys.getMany(me, keyIds)
    const missing = keyIds.filter((_, i) => rows[i]?.state !== 'returned' || rows[i]?.holder === me)
    if (missing.length > 0) throw new RefusedError(`not keys returned to us by a partner: ${missing.slice(0, 5).join(', ')}`)
    const returned = rows as KeyRow[]
    const tx = new Tx()
    if (decision === 'write-off') {
      this.keys.decide(tx, returned, 'write-off')
      await this.deps.state.commit(tx)
      return { keys: returned.length, seq: 0 }
    }
    const holders = new Set(returned.map((r) => r.holder))
    const skus = new Set(returned.map((r) => r.sku))
    if (holders.size !== 1 || skus.size !== 1) throw new RefusedError('decide on the keys of one holder and one sku at a time')
    const holder = returned[0]?.holder as ShopId
    const sku = returned[0]?.sku as string
    if (decision === 'reconsign') {
      const skuTerms = this.deps.federation.terms.skus.find((s) => s.shop === me && s.sku === sku)
      if (!skuTerms) throw new RefusedError(`the terms do not cover sku ${sku} of this shop`)
      if (this.keys.outstanding(me, sku, holder) + returned.length > skuTerms.allotmentCap)
        throw new RefusedError(`${holder} would hold more keys of ${sku} than the cap in the terms (${skuTerms.allotmentCap})`)
      const allotment = this.newAllotmentId()
      this.keys.decide(tx, returned, 'reconsign', allotment)
      this.keys.count(tx, me, sku, holder, 'returned', -returned.length)
      const seq = await this.deps.writer.append(
        [
          this.consignedRecord(
            holder,
            allotment,
            sku,
            skuTerms.unitValue,
            returned.map((r) => ({ keyId: r.keyId, key: r.key })),
          ),
        ],
        [],
        tx,
      )
      return { keys: returned.length, seq }
    }
    const totals = totalsByCurrency(returned.map((r) => r.unitValue))
    if (!totals.ok || totals.value.size !== 1) throw new RefusedError('the keys are valued in more than one currency')
    const [currency, minorUnits] = [...totals.value][0] as [string, number]
    const record: AllotmentBilled = {
      type: 'allotment.billed',
      holder,
      keyIds: returned.map((r) => r.keyId),
      amount: { minorUnits, currency },
      time: this.deps.clock.now(),
    }
    this.keys.decide(tx, returned, 'bill')
    await this.deps.state.books.bookBilled(tx, this.billedLine(me, record))
    const seq = await this.deps.writer.append([record], [], tx)
    return { keys: returned.length, seq }
  }

  /** The proceeds line a bill makes, the same in the origin's and the holder's books. */
  private billedLine(origin: ShopId, record: AllotmentBilled) {
    const hash = hashOf(record)
    return {
      receipt: hash,
      kind: 'proceeds' as const,
      origin,
      order: `billed-${hash.slice(0, 24)}`,
      debtor: record.holder,
      creditor: origin,
      amount: record.amount,
      time: record.time,
      terms: this.deps.federation.termsHash,
    }
  }

  /**
   * The origin billed us for keys: only keys it consigned to us and we released, for their unit
   * value; then they are ours. Anything else is refused and listed for the operator.
   */
  async applyBilled(tx: Tx, origin: ShopId, record: AllotmentBilled, seq: number): Promise<void> {
    const me = this.deps.identity.id
    if (record.holder !== me) return
    const rows = await this.keys.getMany(origin, record.keyIds, tx)
    const ours = rows.every((r) => r?.holder === me && r.state === 'returned')
    const totals = ours ? totalsByCurrency((rows as KeyRow[]).map((r) => r.unitValue)) : null
    const matches = totals?.ok === true && totals.value.size === 1 && totals.value.get(record.amount.currency) === record.amount.minorUnits
    if (!ours || !matches) {
      const reason = !ours ? 'bills keys we were not consigned or did not release' : 'bills another amount than the unit values of the keys'
      this.deps.state.refusals.add(tx, { from: origin, kind: 'release', origin, order: null, epoch: null, seq, reason, at: this.deps.clock.now() })
      tx.afterCommit(() => this.deps.logger.warn({ origin, keys: record.keyIds.length, reason }, 'bill for keys refused'))
      return
    }
    this.keys.billedToUs(tx, rows as KeyRow[])
    await this.deps.state.books.bookBilled(tx, { ...this.billedLine(origin, record), terms: this.deps.federation.termsHash })
  }

  // ---- applying records from feeds we hold ----

  /** The origin consigned keys (to us, or to a co-partner: then we only note who holds some). */
  async applyConsigned(tx: Tx, origin: ShopId, record: AllotmentConsigned): Promise<void> {
    const me = this.deps.identity.id
    if (record.holder !== me) {
      // A co-partner's allotment: we keep its key ids (never their text) to judge its receipts.
      const known = await this.keys.peerKeys(origin, record.keyIds, tx)
      const again = known.filter((k) => k?.state === 'returned' && k.holder === record.holder).length
      // Released by the holder before this record reached us: returned at once, as at the origin.
      const early = record.keyIds.filter((_, i) => {
        const k = known[i]
        return k?.state === 'released-unseen' && k.holder === record.holder && k.allotment === record.allotment
      })
      const earlySet = new Set(early)
      this.keys.peerConsigned(
        tx,
        origin,
        record.holder,
        record.sku,
        record.keyIds.filter((id) => !earlySet.has(id)),
      )
      this.keys.peerConsigned(tx, origin, record.holder, record.sku, early, 'returned')
      this.keys.count(tx, origin, record.sku, record.holder, 'consigned', record.keyIds.length - again - early.length)
      this.keys.count(tx, origin, record.sku, record.holder, 'returned', early.length - again)
      tx.afterCommit(() => this.deps.onPeerKeys(origin))
      return
    }
    const opened = openJson(record.keys, me, this.deps.keyring, CardKeyList)
    if (!opened.ok) {
      this.deps.logger.error({ origin, allotment: record.allotment, reason: opened.error.message }, 'cannot open consigned keys')
      this.keys.count(tx, origin, record.sku, record.holder, 'consigned', record.keyIds.length)
      return
    }
    // Only keys the record names and the box holds (a key id without a key is nothing we could deliver).
    const named = new Set(record.keyIds)
    const keys = opened.value.filter((k) => named.has(k.keyId))
    const known = await this.keys.getMany(
      origin,
      keys.map((k) => k.keyId),
      tx,
    )
    const { fresh, again } = this.keys.received(tx, origin, record.allotment, record.sku, record.unitValue, keys, known)
    this.keys.count(tx, origin, record.sku, me, 'consigned', fresh)
    // A key consigned again after its release is held once more: it is no longer returned.
    this.keys.count(tx, origin, record.sku, me, 'returned', -again)
  }

  /** The origin recalls an allotment from us: release every key still free, in our feed. */
  applyRecall(tx: Tx, origin: ShopId, allotment: string, holder: ShopId): void {
    if (holder !== this.deps.identity.id) return
    const free = this.keys.freeOfAllotment(origin, allotment)
    if (free.length === 0) return
    tx.afterCommit(() => this.deps.background.run('allotment.release', () => this.release(origin, allotment)))
  }

  /** Releases our free keys of one allotment: they leave the free list, and a record says so. */
  private async release(origin: ShopId, allotment: string): Promise<void> {
    const free = this.keys.freeOfAllotment(origin, allotment)
    if (free.length === 0) return
    const tx = new Tx()
    this.keys.release(tx, free)
    const sku = (free[0] as KeyRow).sku
    this.keys.count(tx, origin, sku, this.deps.identity.id, 'returned', free.length)
    await this.deps.writer.append([{ type: 'allotment.released', origin, allotment, keyIds: free.map((r) => r.keyId) }], [], tx)
  }

  /**
   * A holder released keys (seen in its feed). At the origin they come back exposed: counted as
   * returned, never on sale again until the operator decides. Elsewhere only the counts move.
   */
  async applyReleased(tx: Tx, holder: ShopId, origin: ShopId, allotment: string, named: readonly string[]): Promise<void> {
    const me = this.deps.identity.id
    // Keys its own earlier receipts name, still held for want of authority, are used, not back:
    // everyone then judges those receipts alike, whenever the authority reaches them (seed-6137).
    const used = await this.deps.state.receipts.heldKeyIds(tx, origin, holder)
    const keyIds = named.filter((id) => !used.has(id))
    if (origin !== me) {
      // A co-partner released another origin's keys: only its own consigned ones come back; ones
      // whose consignment has not reached us yet are remembered, so it cannot bring them back.
      const rows = await this.keys.peerKeys(origin, keyIds, tx)
      const back: { keyId: string; row: PeerKeyRow }[] = []
      const unseen: string[] = []
      keyIds.forEach((keyId, i) => {
        const row = rows[i]
        if (row === undefined) unseen.push(keyId)
        else if (row.state === 'consigned' && row.holder === holder) back.push({ keyId, row })
      })
      this.keys.peerReleasedEarly(tx, origin, holder, allotment, unseen)
      this.keys.peerMoved(tx, origin, back, 'returned')
      const bySku = new Map<string, number>()
      for (const b of back) bySku.set(b.row.sku, (bySku.get(b.row.sku) ?? 0) + 1)
      for (const [sku, n] of bySku) this.keys.count(tx, origin, sku, holder, 'returned', n)
      return
    }
    const rows = (await this.keys.getMany(me, keyIds, tx)).filter((r): r is KeyRow => r !== undefined && r.holder === holder && r.state === 'consigned')
    if (rows.length === 0) return
    this.keys.returned(tx, rows)
    const bySku = new Map<string, number>()
    for (const r of rows) bySku.set(r.sku, (bySku.get(r.sku) ?? 0) + 1)
    for (const [sku, n] of bySku) this.keys.count(tx, me, sku, holder, 'returned', n)
    tx.afterCommit(() => this.deps.logger.warn({ holder, keys: rows.length }, 'keys released by a partner came back exposed: decide on them (standin keys)'))
  }
}
