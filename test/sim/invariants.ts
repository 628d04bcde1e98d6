// docs/design.md §2 checked after every simulator step, from the engines' events and what their stores
// durably hold (StoreShadow). A violation names the step, the virtual time and a short trace of the
// events that touched it, so `npm run sim -- --seed S` shows where to look. With Byzantine shops
// in the seed (adversary.ts) every invariant is about the honest shops: what they store, deliver,
// book and agree on; the Byzantine ones may hold or do anything.
import type { KeyRow } from '../../node/core/state/keys.js'
import { bookLineOf } from '../../node/core/state/ledger.js'
import type { OrderRow } from '../../node/core/state/orders.js'
import type { ReceiptRow } from '../../node/core/state/receipts.js'
import type { StoreOp } from '../../node/core/ports.js'
import { type FeedEntry, type ShopId, type Terms, termsHash } from '../../protocol/index.js'
import { META } from '../../node/core/state/codec.js'
import { type SimEvent, type SimFederation, type SimShop, SIM_SPARE_SKU, SIM_START_MS } from './sim-federation.js'
import type { StoreShadow } from './store-shadow.js'

export interface Violation {
  readonly step: number
  readonly at: number
  readonly what: string
  readonly trace: readonly string[]
}

export interface AckedOrder {
  readonly origin: string
  readonly order: string
}

const SKUS = ['card-100', SIM_SPARE_SKU]
const STATES: readonly KeyRow['state'][] = ['consigned', 'reserved', 'delivered', 'returned', 'written-off', 'billed']
const TRACE_EVENTS = 12
/** Stop collecting after this many: one seed's first violations are what matter. */
const MAX_VIOLATIONS = 20

export class InvariantChecker {
  readonly violations: Violation[] = []
  private processed = 0
  private shadowSeen = new Map<string, number>()
  private readonly idOf = new Map<string, ShopId>()
  private readonly nameOf = new Map<ShopId, string>()
  /** origin!keyId → the order a partner delivered it to. */
  private readonly keyOrder = new Map<string, string>()
  /** order → partners that delivered it themselves. */
  readonly partnerDeliveries = new Map<string, Set<string>>()
  readonly duplicatesCounted = new Set<string>()
  /** `O|H` → keys of O that holder H delivered. */
  private readonly deliveredKeys = new Map<string, number>()
  /** `O|e` → partners that signed a down-vote themselves. */
  private readonly voters = new Map<string, Set<string>>()
  private readonly certified = new Set<string>()
  /** `P|O` → the epoch of P's takeover of O, while it lasts. */
  private readonly takeovers = new Map<string, number>()
  private readonly mayRequest = new Set<string>()
  private step = 0
  private readonly reported = new Set<string>()
  /** `H|O|order` → when honest origin O's order was stranded (its platform down) with honest holders. */
  private readonly stranded = new Map<string, number>()
  /** `N|X` → the head of revoked X's feed honest node N held when first seen running without X (D94). */
  private readonly revokedAt = new Map<string, number>()
  /** Parties the terms removed, and `N|X` → the head of X's feed N held when first seen running without it (D95). */
  private readonly removedIds = new Set<ShopId>()
  private readonly removedHeads = new Map<string, number>()
  private readonly termsByHash = new Map<string, Terms>()

  constructor(
    private readonly sim: SimFederation,
    private readonly acked: ReadonlyMap<string, AckedOrder>,
    /** Names of the Byzantine shops of this seed (none in an honest seed). */
    private readonly byzantine: ReadonlySet<string> = new Set(),
  ) {
    for (const s of sim.shops) this.joined(s)
    for (const name of byzantine) this.mayRequest.add(name) // a Byzantine origin may hand its orders over whenever it likes
  }

  /** A shop the checker watches: every one at the start, and one that joins later (D97). */
  joined(s: SimShop): void {
    this.idOf.set(s.name, s.identity.id)
    this.nameOf.set(s.identity.id, s.name)
    const shadow = this.sim.shadows.get(s.name)
    if (shadow && this.honest(s.name)) shadow.checks.push((op, sh) => this.checkWrite(s.name, op, sh))
  }

  /**
   * A party the others signed terms without (D95): from the moment an honest node runs those
   * terms, it takes no other entry of its feed, seals nothing to it and delivers none of its orders.
   */
  removed(s: SimShop): void {
    this.removedIds.add(s.identity.id)
  }

  /** The revision of this run with that hash (computed once per revision). */
  private termsOf(hash: string): Terms | undefined {
    const all = [...this.sim.earlier, this.sim.agreement]
    for (const a of all.slice(this.termsByHash.size)) this.termsByHash.set(termsHash(a.terms), a.terms)
    return this.termsByHash.get(hash)
  }

  /** `node`'s engine runs terms without `id` (it took the revision that removed it). */
  private runsWithout(node: string, id: ShopId): boolean {
    const running = this.sim.shops.find((s) => s.name === node)
    return running !== undefined && this.removedIds.has(id) && !running.engine.federation.isPartner(id)
  }

  /** `name` takes over a partner, or a partner takes it over, as far as the events told. */
  inTakeover(name: string): boolean {
    const id = this.idOf.get(name)
    return [...this.takeovers.keys()].some((key) => key.endsWith(`|${id}`) || key.startsWith(`${name}|`))
  }

  private headOf(node: string, author: ShopId): number {
    return ((this.sim.shadows.get(node) as StoreShadow).section('heads').get(author) as { seq: number } | undefined)?.seq ?? 0
  }

  private honest(name: string): boolean {
    return !this.byzantine.has(name)
  }

  /**
   * Restored from an earlier copy and not yet caught up with its own feed (D92): until its
   * partners have answered, its rows are the copy's, and what it signed since is held by them.
   */
  private rejoining(name: string): boolean {
    return this.sim.shadows.get(name)?.section('meta').has(META.rejoin) ?? false
  }

  private honestId(id: ShopId): boolean {
    return this.honest(this.name(id))
  }

  /** The lowest quorum of the revisions so far: a certificate is judged by the terms it names (D97). */
  private get quorum(): number {
    return Math.min(this.sim.agreement.terms.quorum, ...this.sim.earlier.map((a) => a.terms.quorum))
  }

  /** The simulator told this origin's node its platform is down: it may sign a takeover request. */
  platformDown(name: string): void {
    this.mayRequest.add(name)
  }

  afterStep(step: number): void {
    this.step = step
    for (; this.processed < this.sim.events.length; this.processed++) this.onEvent(this.sim.events[this.processed] as SimEvent)
    for (const [name, shadow] of this.sim.shadows) {
      const seen = this.shadowSeen.get(name) ?? 0
      if (this.honest(name)) for (const what of shadow.violations.slice(seen)) this.violate(what, [name])
      this.shadowSeen.set(name, shadow.violations.length)
    }
    this.checkRevocations()
    this.checkRemovals()
    this.checkAckedOrdersDurable()
    this.checkKeyConservation(false)
    this.checkReturnedKeys()
    this.checkFootprints()
  }

  /** Liveness is over when every order is delivered, no takeover lasts and every pair agrees. */
  converged(ownDelivered: ReadonlySet<string>): boolean {
    return (
      this.undelivered(ownDelivered).length === 0 &&
      this.honestTakeovers().length === 0 &&
      this.sim.shops.every((s) => !this.honest(s.name) || !s.shop.fenced) &&
      this.headDisagreements().length === 0 &&
      this.bookDisagreements().length === 0
    )
  }

  /** Takeovers by honest partners of honest origins that still last. */
  private honestTakeovers(): [string, number][] {
    return [...this.takeovers].filter(([key]) => {
      const [partner, origin] = key.split('|') as [string, ShopId]
      // A removed shop's engine stopped (D98): what it took over ends with it.
      return this.honest(partner) && this.honestId(origin) && !this.removedIds.has(this.idOf.get(partner) as ShopId)
    })
  }

  /** After the liveness phase: everything must have converged, and every duplicate been counted. */
  final(step: number, ownDelivered: ReadonlySet<string>): void {
    this.afterStep(step)
    for (const order of this.undelivered(ownDelivered)) this.violate(`order ${order} never delivered`, [order])
    for (const { origin, order } of this.acked.values()) {
      if (!this.honest(origin)) continue
      const by = [...(this.partnerDeliveries.get(order) ?? [])].filter((p) => this.honest(p)).length + (ownDelivered.has(order) ? 1 : 0)
      if (by > 1 && !this.duplicatesCounted.has(order)) this.violate(`order ${order} delivered ${by} times without a duplicate being counted`, [order])
    }
    for (const what of this.headDisagreements()) this.violate(what, ['entries-stored', 'fork'])
    for (const what of this.bookDisagreements()) this.violate(what, ['delivered'])
    for (const [key, epoch] of this.honestTakeovers()) {
      const [partner, origin] = key.split('|') as [string, ShopId]
      this.violate(`${partner}'s takeover of ${this.name(origin)} at epoch ${epoch} never handed back`, ['taken-over', 'handback'])
    }
    this.checkKeyConservation(true)
  }

  /**
   * Acknowledged orders of honest origins nobody delivered: not the shop itself, no partner's
   * mail, and no partner delivery the origin took and wrote back to its shop (a holder that
   * receipts an order without mailing the key keeps that key; the buyer finds it in the shop).
   */
  private undelivered(ownDelivered: ReadonlySet<string>): string[] {
    const writtenBack = new Set([...this.sim.shops, ...this.sim.removed].flatMap((s) => s.shop.writeBacks.map((w) => w.order)))
    return [...this.acked.values()]
      .filter((o) => this.honest(o.origin) && !ownDelivered.has(o.order) && !this.partnerDeliveries.has(o.order) && !writtenBack.has(o.order))
      .map((o) => o.order)
  }

  /**
   * An honest origin's platform went down at `at` while honest partners hold its keys: each of
   * `orders` must be delivered by a partner within `boundMs`, whatever the adversaries claim.
   */
  strandedAt(origin: string, orders: readonly string[], at: number): void {
    for (const order of orders) this.stranded.set(`${origin}|${order}`, at)
  }

  /**
   * Violations for stranded orders still undelivered `boundMs` after they were stranded. An order
   * counts as delivered once a partner mailed its key, or once the origin took a partner's receipt
   * for it: a holder that receipts without sending the key keeps one key it was consigned (which
   * the threat model allows), and the buyer gets it from the origin's own shop at write-back.
   */
  checkStranded(now: number, boundMs: number): number {
    let open = 0
    for (const [key, since] of this.stranded) {
      const [origin, order] = key.split('|') as [string, string]
      const atOrigin = this.sim.shadows
        .get(origin)
        ?.section('orders')
        .get(`${this.idOf.get(origin)}!${order}`) as OrderRow | undefined
      if (this.partnerDeliveries.has(order) || (atOrigin?.state === 'delivered' && atOrigin.fulfiller !== undefined)) {
        this.stranded.delete(key)
        continue
      }
      open++
      if (now - since > boundMs) {
        this.violate(`order ${order} of honest origin ${origin} stranded over ${boundMs} ms with honest key holders`, [order, 'claim'])
        this.stranded.delete(key)
      }
    }
    return open
  }

  private onEvent(e: SimEvent): void {
    const ev = e.event
    const me = this.idOf.get(e.node) as ShopId
    if (!this.honest(e.node)) {
      // A Byzantine shop's own engine is honest code: its votes are real, and so are the keys it
      // mails (they count as deliveries; nothing else it says is checked).
      if (ev.kind === 'vote' && ev.voter === me) this.add(this.voters, `${ev.origin}|${ev.epoch}`, e.node)
      if (ev.kind === 'delivered' && ev.fulfiller === me && ev.origin !== me) this.add(this.partnerDeliveries, ev.order, e.node)
      return
    }
    switch (ev.kind) {
      case 'vote':
        if (ev.voter === me) this.add(this.voters, `${ev.origin}|${ev.epoch}`, e.node)
        return
      case 'certified':
        this.checkCertificate(e.node, ev.origin, ev.epoch, ev.voters)
        this.certified.add(`${e.node}|${ev.origin}|${ev.epoch}`)
        return
      case 'own-takeover':
        if (ev.how === 'certificate') this.checkCertificate(e.node, me, ev.epoch, ev.voters)
        return
      case 'taken-over':
        if (!this.certified.has(`${e.node}|${ev.origin}|${ev.epoch}`) && !this.mayRequest.has(this.name(ev.origin)))
          this.violate(`${e.node} took over ${this.name(ev.origin)} at epoch ${ev.epoch} without a certificate or request`, ['certified', 'taken-over'])
        this.takeovers.set(`${e.node}|${ev.origin}`, ev.epoch)
        return
      case 'handback':
        if (ev.origin !== me) this.takeovers.delete(`${e.node}|${ev.origin}`)
        return
      case 'duplicate':
        this.duplicatesCounted.add(ev.order)
        return
      case 'delivered':
        if (ev.fulfiller === me && ev.origin !== me) this.onPartnerDelivery(e.node, ev)
        return
      default:
    }
  }

  private onPartnerDelivery(node: string, ev: Extract<SimEvent['event'], { kind: 'delivered' }>): void {
    if (this.runsWithout(node, ev.origin)) this.violate(`${node} delivered ${ev.order} of ${this.name(ev.origin)} after the terms removed it`, [ev.order])
    const epoch = this.takeovers.get(`${node}|${ev.origin}`)
    if (epoch !== ev.epoch)
      this.violate(`${node} delivered ${ev.order} at epoch ${ev.epoch} while its takeover of ${this.name(ev.origin)} is at ${epoch ?? 'none'}`, [
        ev.order,
        'taken-over',
        'handback',
      ])
    for (const keyId of ev.keyIds) {
      const had = this.keyOrder.get(`${ev.origin}!${keyId}`)
      if (had !== undefined && had !== ev.order) this.violate(`key ${keyId} delivered to ${had} and ${ev.order}`, [keyId, had, ev.order])
      if (had === undefined) this.bump(`${ev.origin}|${this.idOf.get(node)}`)
      this.keyOrder.set(`${ev.origin}!${keyId}`, ev.order)
    }
    this.add(this.partnerDeliveries, ev.order, node)
  }

  /**
   * A certificate an honest node acted on: at least a quorum of voters, and every honest voter in
   * it really voted the origin down for that epoch (colluders can sign anything, but an honest
   * partner's vote is only in a certificate if that partner suspected the origin).
   */
  private checkCertificate(node: string, origin: ShopId, epoch: number, voters: readonly { voter: ShopId; time: number }[]): void {
    if (voters.length < this.quorum)
      this.violate(`${node} acted on a certificate for ${this.name(origin)} at epoch ${epoch} with ${voters.length} votes`, ['certified'])
    const real = this.voters.get(`${origin}|${epoch}`) ?? new Set<string>()
    const honestVotes = voters.filter((v) => this.honestId(v.voter))
    for (const v of honestVotes)
      if (!real.has(this.name(v.voter)))
        this.violate(`${node} acted on a certificate for ${this.name(origin)} at epoch ${epoch} naming ${this.name(v.voter)}, which never voted`, [
          'vote',
          'certified',
        ])
    if (this.byzantine.size > 0 && honestVotes.length === 0)
      this.violate(`${node} acted on a certificate for ${this.name(origin)} at epoch ${epoch} with colluders' votes only`, ['certified'])
  }

  /**
   * Every write at an honest shop, before it lands (the shadow still holds what was there):
   *  - a partner's receipt for our own order is taken only under an authority we adopted for its epoch;
   *  - at a co-partner, an honest origin's order is marked delivered by a partner only under an
   *    adopted authority, or because the origin itself took that partner's receipt;
   *  - a fee we owe is never booked open for an order we had delivered or cancelled ourselves.
   */
  private checkWrite(name: string, op: StoreOp, shadow: StoreShadow): void {
    if (op.type !== 'put') return
    const me = this.idOf.get(name) as ShopId
    const authority = (origin: ShopId, epoch: number) => shadow.section('authority').has(`${origin}!${String(epoch).padStart(16, '0')}`)
    if (op.section === 'receipts') {
      const row = op.value as ReceiptRow
      if (row.receipt.origin === me && row.fulfiller !== me && !authority(me, row.receipt.epoch))
        this.violate(
          `${name} took ${this.name(row.fulfiller)}'s receipt for its order ${row.receipt.order} at epoch ${row.receipt.epoch} without an adopted authority`,
          [row.receipt.order],
        )
    } else if (op.section === 'entries' && op.key.startsWith(`${me}!`)) {
      // Written by the engine running now: it must seal nothing to a party it runs without (D94).
      const sealedTo = new Set((op.value as FeedEntry).body.sealed?.keys.map((k) => k.to) ?? [])
      // A removed shop's engine has stopped: its writes in flight seal to no one new.
      const running = this.sim.shops.find((s) => s.name === name)
      for (const revoked of running?.engine.federation.revoked() ?? [])
        if (sealedTo.has(revoked)) this.violate(`${name} sealed an entry of its feed to revoked ${this.name(revoked)}`, ['own-append'])
      // An entry written under terms naming the party (one a restore takes back, D92) may seal to it.
      const entry = op.value as FeedEntry
      const underTerms = this.termsOf(entry.body.terms)
      for (const removed of this.removedIds)
        if (sealedTo.has(removed) && this.runsWithout(name, removed) && !(underTerms?.parties.includes(removed) ?? false))
          this.violate(`${name} sealed an entry of its feed to ${this.name(removed)}, which the terms removed`, ['own-append'])
    } else if (op.section === 'orders') {
      const row = op.value as OrderRow
      const before = shadow.section('orders').get(op.key) as OrderRow | undefined
      const newlyDelivered = row.state === 'delivered' && before?.state === 'escrowed'
      if (newlyDelivered && row.origin !== me && row.fulfiller !== undefined && row.fulfiller !== me && this.honestId(row.origin)) {
        const tookIt = this.sim.shadows.get(this.name(row.origin))?.section('receipts').has(`${row.origin}!${row.record.order}!${row.fulfiller}`)
        if (!authority(row.origin, row.epoch ?? 0) && !tookIt)
          this.violate(
            `${name} marked ${this.name(row.origin)}'s order ${row.record.order} delivered by ${this.name(row.fulfiller)} without an authority for epoch ${row.epoch ?? '-'}`,
            [row.record.order],
          )
      }
    } else if (op.section === 'ledger' && op.key.startsWith('l!')) {
      const book = bookLineOf(op.key, op.value)
      if (book.status !== 'open' || book.line.debtor !== me || book.line.origin !== me || shadow.section('ledger').has(op.key)) return
      const order = shadow.section('orders').get(`${me}!${book.line.order}`) as OrderRow | undefined
      if (order && (order.state === 'cancelled' || (order.state === 'delivered' && order.fulfiller === undefined)))
        this.violate(
          `${name} owes ${this.name(book.line.creditor)} a fee for order ${book.line.order}, which it had ${order.state === 'cancelled' ? 'cancelled' : 'delivered'} itself`,
          [book.line.order],
        )
    }
  }

  /** A key an honest origin consigned (a partner has seen it) never goes back into its shop's stock. */
  private checkReturnedKeys(): void {
    for (const s of this.sim.shops) {
      if (!this.honest(s.name)) continue
      const keys = this.sim.shadows.get(s.name)?.section('keys')
      for (const k of s.shop.returned)
        if (keys?.has(`${s.identity.id}!${k.keyId}`)) this.violate(`${s.name} put key ${k.keyId} back on sale after a partner held it`, [k.keyId])
    }
  }

  /** Honest engines' memory stays within its named bounds, whatever partners send. */
  private checkFootprints(): void {
    for (const s of this.sim.shops) {
      if (!this.honest(s.name)) continue
      const footprint = (s.engine as { footprint?: () => { name: string; size: number; limit: number }[] }).footprint?.() ?? []
      for (const f of footprint) if (f.size > f.limit) this.violate(`${s.name} holds ${f.size} ${f.name}, over its bound ${f.limit}`, [s.name])
    }
  }

  /** Invariant 2 (docs/design.md §2): an order the engine acknowledged is in its origin's durable store from then on. */
  private checkAckedOrdersDurable(): void {
    for (const { origin, order } of this.acked.values()) {
      if (!this.honest(origin) || this.rejoining(origin)) continue
      const shadow = this.sim.shadows.get(origin)
      if (!shadow?.section('orders').has(`${this.idOf.get(origin)}!${order}`)) this.violate(`acknowledged order ${order} is not in ${origin}'s store`, [order])
    }
  }

  /** Per origin and holder: consigned = free + reserved + delivered + returned, on both sides. */
  private checkKeyConservation(healed: boolean): void {
    for (const o of this.sim.shops) {
      for (const h of this.sim.shops) {
        if (o === h || !this.honest(o.name) || !this.honest(h.name) || this.rejoining(o.name) || this.rejoining(h.name)) continue
        const O = o.identity.id
        const H = h.identity.id
        const atOrigin = this.sim.shadows.get(o.name)
        const atHolder = this.sim.shadows.get(h.name)
        if (!atOrigin || !atHolder) continue
        const originRows = STATES.reduce((n, s) => n + atOrigin.keyCount(O, H, s), 0)
        const holderRows = STATES.reduce((n, s) => n + atHolder.keyCount(O, H, s), 0)
        const pair = `${o.name}→${h.name}`
        const originCount = SKUS.reduce((n, sku) => n + (atOrigin.holding(O, sku, H)?.consigned ?? 0), 0)
        const holderCount = SKUS.reduce((n, sku) => n + (atHolder.holding(O, sku, H)?.consigned ?? 0), 0)
        if (originCount !== originRows) this.violate(`${pair}: origin counts ${originCount} consigned but holds ${originRows} key rows`, ['delivered'])
        if (holderCount !== holderRows)
          this.violate(`${pair}: holder counts ${holderCount} consigned but free + reserved + delivered + returned = ${holderRows}`, ['delivered'])
        if (holderRows > originRows) this.violate(`${pair}: holder has ${holderRows} keys, origin consigned ${originRows}`, ['delivered'])
        const used = atHolder.keyCount(O, H, 'reserved') + atHolder.keyCount(O, H, 'delivered')
        const delivered = this.deliveredKeys.get(`${O}|${H}`) ?? 0
        if (delivered > used)
          this.violate(`${pair}: holder delivered ${delivered} keys but only ${used} are reserved or delivered (allotment ${holderRows})`, ['delivered'])
        if (healed && holderRows !== originRows)
          this.violate(`${pair}: after healing the holder has ${holderRows} keys, the origin consigned ${originRows}`, ['delivered'])
        if (healed && atOrigin.keyCount(O, H, 'delivered') !== delivered)
          this.violate(`${pair}: after healing the origin books ${atOrigin.keyCount(O, H, 'delivered')} keys delivered, the holder delivered ${delivered}`, [
            'delivered',
          ])
      }
    }
  }

  /** Every node holds every author's feed up to the author's own head. */
  private headDisagreements(): string[] {
    const out: string[] = []
    for (const author of this.sim.shops) {
      if (!this.honest(author.name)) continue
      const own = this.sim.shadows.get(author.name)?.section('meta').get('own-head') as { seq: number; hash: string | null } | undefined
      for (const other of this.sim.shops) {
        if (other === author || !this.honest(other.name)) continue
        const held = this.sim.shadows.get(other.name)?.section('heads').get(author.identity.id) as { seq: number; hash: string | null } | undefined
        if ((held?.seq ?? 0) !== (own?.seq ?? 0) || (held?.hash ?? null) !== (own?.hash ?? null))
          out.push(`${other.name} holds ${author.name}'s feed at ${held?.seq ?? 0}, ${author.name} is at ${own?.seq ?? 0}`)
      }
    }
    return out
  }

  /** Invariant 6 (docs/design.md §2): what X books as owed by Y, Y books as owed to X, line for line. */
  private bookDisagreements(): string[] {
    const out: string[] = []
    const linesOf = (name: string, counterparty: ShopId, direction: 'in' | 'out'): Set<string> => {
      const ledger = this.sim.shadows.get(name)?.section('ledger') ?? new Map<string, unknown>()
      const lines = new Set<string>()
      for (const [key, value] of ledger) {
        if (key.startsWith(`l!${counterparty}!${direction}!`)) {
          const { line } = bookLineOf(key, value)
          lines.add(`${line.receipt}:${line.debtor}:${line.creditor}:${line.amount.minorUnits}`)
        }
      }
      return lines
    }
    for (const x of this.sim.shops) {
      for (const y of this.sim.shops) {
        if (x === y || !this.honest(x.name) || !this.honest(y.name)) continue
        const owedToX = linesOf(x.name, y.identity.id, 'in')
        const owedByY = linesOf(y.name, x.identity.id, 'out')
        const missing = [...owedToX].filter((l) => !owedByY.has(l)).length + [...owedByY].filter((l) => !owedToX.has(l)).length
        if (missing > 0)
          out.push(`books of ${x.name} and ${y.name} differ in ${missing} lines (${owedToX.size} owed to ${x.name}, ${owedByY.size} booked by ${y.name})`)
      }
    }
    return out
  }

  /** Revocations in force at honest nodes, counted once per (node, revoked party). */
  get revocations(): number {
    return this.revokedAt.size
  }

  /**
   * D94: no honest party is ever revoked at an honest node; once an honest node runs without a
   * revoked party, it takes no more of its feed (what it seals to it: checkWrite).
   */
  private checkRevocations(): void {
    for (const shop of this.sim.shops) {
      if (!this.honest(shop.name)) continue
      const heads = (this.sim.shadows.get(shop.name) as StoreShadow).section('heads')
      const head = (id: ShopId) => (heads.get(id) as { seq: number } | undefined)?.seq ?? 0
      for (const revoked of shop.engine.federation.revoked()) {
        if (this.honestId(revoked)) this.violate(`${shop.name} revoked honest ${this.name(revoked)}`, ['revocation', 'partner-revoked'])
        const key = `${shop.name}|${revoked}`
        const held = this.revokedAt.get(key)
        if (held === undefined) this.revokedAt.set(key, head(revoked))
        else if (head(revoked) > held)
          this.violate(`${shop.name} took entries of revoked ${this.name(revoked)}'s feed up to ${head(revoked)}, past ${held}`, ['entries-stored'])
      }
    }
  }

  /** D95: once the terms left a party out, no honest node that stays takes more of its feed. */
  private checkRemovals(): void {
    for (const shop of this.sim.shops) {
      if (!this.honest(shop.name)) continue
      for (const removed of this.removedIds) {
        if (!this.runsWithout(shop.name, removed)) continue
        const key = `${shop.name}|${removed}`
        const held = this.removedHeads.get(key)
        const head = this.headOf(shop.name, removed)
        if (held === undefined) this.removedHeads.set(key, head)
        else if (head > held) this.violate(`${shop.name} took entries of removed ${this.name(removed)}'s feed up to ${head}, past ${held}`, ['entries-stored'])
      }
    }
  }

  private violate(what: string, about: readonly string[]): void {
    if (this.violations.length >= MAX_VIOLATIONS || this.reported.has(what)) return
    this.reported.add(what)
    const names = about.map((a) => this.idOf.get(a) ?? a)
    const trace = this.sim.events
      .filter((e) => e.event.kind !== 'heartbeat' && names.some((n) => JSON.stringify(e.event).includes(n) || e.event.kind === n))
      .slice(-TRACE_EVENTS)
      .map((e) => this.sim.format(e))
    this.violations.push({ step: this.step, at: this.sim.clock.now() - SIM_START_MS, what, trace })
  }

  private name(id: ShopId): string {
    return this.nameOf.get(id) ?? id
  }

  private add(map: Map<string, Set<string>>, key: string, value: string): void {
    map.set(key, (map.get(key) ?? new Set()).add(value))
  }

  private bump(key: string): void {
    this.deliveredKeys.set(key, (this.deliveredKeys.get(key) ?? 0) + 1)
  }
}
