// DESIGN.md §2 checked after every simulator step, from the engines' events and what their stores
// durably hold (StoreShadow). A violation names the step, the virtual time and a short trace of the
// events that touched it, so `npm run sim -- --seed S` shows where to look.
import type { ShopId } from '../../protocol/index.js'
import type { KeyRow } from '../../node/core/allotments.js'
import type { BookLine } from '../../node/core/books.js'
import { type SimEvent, type SimFederation, SIM_START_MS } from './sim-federation.js'

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

const SKU = 'card-100'
const STATES: readonly KeyRow['state'][] = ['consigned', 'reserved', 'delivered', 'returned']
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

  constructor(
    private readonly sim: SimFederation,
    private readonly acked: ReadonlyMap<string, AckedOrder>,
  ) {
    for (const s of sim.shops) {
      this.idOf.set(s.name, s.identity.id)
      this.nameOf.set(s.identity.id, s.name)
    }
  }

  private get quorum(): number {
    return this.sim.agreement.terms.quorum
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
      for (const what of shadow.violations.slice(seen)) this.violate(what, [name])
      this.shadowSeen.set(name, shadow.violations.length)
    }
    this.checkAckedOrdersDurable()
    this.checkKeyConservation(false)
  }

  /** Liveness is over when every order is delivered, no takeover lasts and every pair agrees. */
  converged(ownDelivered: ReadonlySet<string>): boolean {
    return this.undelivered(ownDelivered).length === 0 && this.takeovers.size === 0 && this.sim.shops.every((s) => !s.shop.fenced) && this.headDisagreements().length === 0 && this.bookDisagreements().length === 0
  }

  /** After the liveness phase: everything must have converged, and every duplicate been counted. */
  final(step: number, ownDelivered: ReadonlySet<string>): void {
    this.afterStep(step)
    for (const order of this.undelivered(ownDelivered)) this.violate(`order ${order} never delivered`, [order])
    for (const { order } of this.acked.values()) {
      const by = (this.partnerDeliveries.get(order)?.size ?? 0) + (ownDelivered.has(order) ? 1 : 0)
      if (by > 1 && !this.duplicatesCounted.has(order)) this.violate(`order ${order} delivered ${by} times without a duplicate being counted`, [order])
    }
    for (const what of this.headDisagreements()) this.violate(what, ['entries-stored', 'fork'])
    for (const what of this.bookDisagreements()) this.violate(what, ['delivered'])
    for (const [key, epoch] of this.takeovers) {
      const [partner, origin] = key.split('|') as [string, ShopId]
      this.violate(`${partner}'s takeover of ${this.name(origin)} at epoch ${epoch} never handed back`, ['taken-over', 'handback'])
    }
    this.checkKeyConservation(true)
  }

  private undelivered(ownDelivered: ReadonlySet<string>): string[] {
    return [...this.acked.values()].filter((o) => !ownDelivered.has(o.order) && !this.partnerDeliveries.has(o.order)).map((o) => o.order)
  }

  private onEvent(e: SimEvent): void {
    const ev = e.event
    const me = this.idOf.get(e.node) as ShopId
    switch (ev.kind) {
      case 'vote':
        if (ev.voter === me) this.add(this.voters, `${ev.origin}|${ev.epoch}`, e.node)
        return
      case 'certified':
        if ((this.voters.get(`${ev.origin}|${ev.epoch}`)?.size ?? 0) < this.quorum) this.violate(`${e.node} certified ${this.name(ev.origin)} down at epoch ${ev.epoch} without ${this.quorum} down-votes`, ['vote', 'certified'])
        this.certified.add(`${e.node}|${ev.origin}|${ev.epoch}`)
        return
      case 'taken-over':
        if (!this.certified.has(`${e.node}|${ev.origin}|${ev.epoch}`) && !this.mayRequest.has(this.name(ev.origin))) this.violate(`${e.node} took over ${this.name(ev.origin)} at epoch ${ev.epoch} without a certificate or request`, ['certified', 'taken-over'])
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
    const epoch = this.takeovers.get(`${node}|${ev.origin}`)
    if (epoch !== ev.epoch) this.violate(`${node} delivered ${ev.order} at epoch ${ev.epoch} while its takeover of ${this.name(ev.origin)} is at ${epoch ?? 'none'}`, [ev.order, 'taken-over', 'handback'])
    for (const keyId of ev.keyIds) {
      const had = this.keyOrder.get(`${ev.origin}!${keyId}`)
      if (had !== undefined && had !== ev.order) this.violate(`key ${keyId} delivered to ${had} and ${ev.order}`, [keyId, had, ev.order])
      if (had === undefined) this.bump(`${ev.origin}|${this.idOf.get(node)}`)
      this.keyOrder.set(`${ev.origin}!${keyId}`, ev.order)
    }
    this.add(this.partnerDeliveries, ev.order, node)
  }

  /** Invariant 2: an order the engine acknowledged is in its origin's durable store from then on. */
  private checkAckedOrdersDurable(): void {
    for (const { origin, order } of this.acked.values()) {
      const shadow = this.sim.shadows.get(origin)
      if (!shadow?.section('orders').has(`${this.idOf.get(origin)}!${order}`)) this.violate(`acknowledged order ${order} is not in ${origin}'s store`, [order])
    }
  }

  /** Per origin and holder: consigned = free + reserved + delivered + returned, on both sides. */
  private checkKeyConservation(healed: boolean): void {
    for (const o of this.sim.shops) {
      for (const h of this.sim.shops) {
        if (o === h) continue
        const O = o.identity.id
        const H = h.identity.id
        const atOrigin = this.sim.shadows.get(o.name)
        const atHolder = this.sim.shadows.get(h.name)
        if (!atOrigin || !atHolder) continue
        const originRows = STATES.reduce((n, s) => n + atOrigin.keyCount(O, H, s), 0)
        const holderRows = STATES.reduce((n, s) => n + atHolder.keyCount(O, H, s), 0)
        const pair = `${o.name}→${h.name}`
        if ((atOrigin.holding(O, SKU, H)?.consigned ?? 0) !== originRows) this.violate(`${pair}: origin counts ${atOrigin.holding(O, SKU, H)?.consigned ?? 0} consigned but holds ${originRows} key rows`, ['delivered'])
        if ((atHolder.holding(O, SKU, H)?.consigned ?? 0) !== holderRows) this.violate(`${pair}: holder counts ${atHolder.holding(O, SKU, H)?.consigned ?? 0} consigned but free + reserved + delivered + returned = ${holderRows}`, ['delivered'])
        if (holderRows > originRows) this.violate(`${pair}: holder has ${holderRows} keys, origin consigned ${originRows}`, ['delivered'])
        const used = atHolder.keyCount(O, H, 'reserved') + atHolder.keyCount(O, H, 'delivered')
        const delivered = this.deliveredKeys.get(`${O}|${H}`) ?? 0
        if (delivered > used) this.violate(`${pair}: holder delivered ${delivered} keys but only ${used} are reserved or delivered (allotment ${holderRows})`, ['delivered'])
        if (healed && holderRows !== originRows) this.violate(`${pair}: after healing the holder has ${holderRows} keys, the origin consigned ${originRows}`, ['delivered'])
        if (healed && atOrigin.keyCount(O, H, 'delivered') !== delivered) this.violate(`${pair}: after healing the origin books ${atOrigin.keyCount(O, H, 'delivered')} keys delivered, the holder delivered ${delivered}`, ['delivered'])
      }
    }
  }

  /** Every node holds every author's feed up to the author's own head. */
  private headDisagreements(): string[] {
    const out: string[] = []
    for (const author of this.sim.shops) {
      const own = this.sim.shadows.get(author.name)?.section('meta').get('own-head') as { seq: number; hash: string | null } | undefined
      for (const other of this.sim.shops) {
        if (other === author) continue
        const held = this.sim.shadows.get(other.name)?.section('heads').get(author.identity.id) as { seq: number; hash: string | null } | undefined
        if ((held?.seq ?? 0) !== (own?.seq ?? 0) || (held?.hash ?? null) !== (own?.hash ?? null)) out.push(`${other.name} holds ${author.name}'s feed at ${held?.seq ?? 0}, ${author.name} is at ${own?.seq ?? 0}`)
      }
    }
    return out
  }

  /** Invariant 6: what X books as owed by Y, Y books as owed to X, line for line. */
  private bookDisagreements(): string[] {
    const out: string[] = []
    const linesOf = (name: string, counterparty: ShopId, direction: 'in' | 'out'): Set<string> => {
      const ledger = this.sim.shadows.get(name)?.section('ledger') ?? new Map<string, unknown>()
      const lines = new Set<string>()
      for (const [key, value] of ledger) {
        if (key.startsWith(`l!${counterparty}!${direction}!`)) {
          const { line } = value as BookLine
          lines.add(`${line.receipt}:${line.debtor}:${line.creditor}:${line.amount.minorUnits}`)
        }
      }
      return lines
    }
    for (const x of this.sim.shops) {
      for (const y of this.sim.shops) {
        if (x === y) continue
        const owedToX = linesOf(x.name, y.identity.id, 'in')
        const owedByY = linesOf(y.name, x.identity.id, 'out')
        const missing = [...owedToX].filter((l) => !owedByY.has(l)).length + [...owedByY].filter((l) => !owedToX.has(l)).length
        if (missing > 0) out.push(`books of ${x.name} and ${y.name} differ in ${missing} lines (${owedToX.size} owed to ${x.name}, ${owedByY.size} booked by ${y.name})`)
      }
    }
    return out
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
