// Read-side answers of the engine: the admin API, the claim page and the outage notice. Kept
// apart from the engine's life cycle so each file reads in one sitting.
import {
  claimVerifier,
  type ClaimForm,
  type ClaimResult,
  type DisputedLine,
  type FeedHeadView,
  healthSilenceMs,
  type IdentityReply,
  type IncidentReport,
  type PartnerStatus,
  type RefusalView,
  type SelfStatus,
  type ShopId,
  type ShopStatusView,
  toBase64url,
} from '../../protocol/index.js'
import type { EngineParts, PeerView } from './assemble.js'
import { RefusedError } from './api.js'
import { authorityStart } from './state/authorities.js'
import type { KeyRow } from './state/keys.js'
import type { StatementState } from './state/ledger.js'
import { lineStatusOf, statementRows, toCsv, toJson } from './statement-export.js'

/** An own order pending longer than this is stuck: an auto-delivery shop delivers in seconds. */
export const STUCK_AFTER_MS = 10 * 60_000
/** Stuck orders counted at most, and own order rows read at most to count them (one status call). */
const MAX_STUCK_COUNTED = 10_000
const MAX_ROWS_READ_FOR_STUCK = 200_000

export abstract class AdminViews {
  protected readonly o: EngineParts['o']
  readonly federation: EngineParts['federation']
  protected readonly state: EngineParts['state']
  protected readonly writer: EngineParts['writer']
  protected readonly escrowBook: EngineParts['escrowBook']
  protected readonly replication: EngineParts['replication']
  protected readonly allotments: EngineParts['allotments']
  protected readonly failover: EngineParts['failover']
  protected readonly fulfilment: EngineParts['fulfilment']
  protected readonly incidentBook: EngineParts['incidents']
  protected readonly handback: EngineParts['handback']
  protected readonly outbox: EngineParts['outbox']
  protected readonly peers: Map<ShopId, PeerView>
  protected readonly settlement: EngineParts['settlement']
  protected readonly background: EngineParts['background']
  protected readonly work: EngineParts['work']

  constructor(parts: EngineParts) {
    this.o = parts.o
    this.federation = parts.federation
    this.state = parts.state
    this.writer = parts.writer
    this.escrowBook = parts.escrowBook
    this.replication = parts.replication
    this.allotments = parts.allotments
    this.failover = parts.failover
    this.fulfilment = parts.fulfilment
    this.incidentBook = parts.incidents
    this.handback = parts.handback
    this.outbox = parts.outbox
    this.peers = parts.peers
    this.settlement = parts.settlement
    this.background = parts.background
    this.work = parts.work
  }

  // ---- settlement ----

  balances() {
    return this.state.books.allBalances().map((b) => ({ ...b, creditBlocked: this.fulfilment.isBlocked(b.counterparty) }))
  }

  statements() {
    return this.state.books.statements()
  }

  /** A statement by its hash, a prefix of it, or its id. */
  async findStatement(ref: string): Promise<StatementState> {
    const all = await this.state.books.statements()
    const found = all.filter((s) => s.hash === ref || s.statement.id === ref || (ref.length >= 8 && s.hash.startsWith(ref)))
    if (found.length !== 1) throw new RefusedError(`${found.length} statements match ${ref}`)
    return found[0] as StatementState
  }

  issueStatement(counterparty: ShopId, untilMs?: number) {
    return this.settlement.issue(counterparty, untilMs)
  }

  async acceptStatement(ref: string, disputes: readonly DisputedLine[]) {
    return this.settlement.accept((await this.findStatement(ref)).hash, disputes)
  }

  async payStatement(ref: string, reference: string) {
    return this.settlement.pay((await this.findStatement(ref)).hash, reference)
  }

  async confirmStatement(ref: string) {
    return this.settlement.confirm((await this.findStatement(ref)).hash)
  }

  /** CSV or JSON of one statement, or of every statement issued or received in a time range. */
  async exportStatements(format: 'csv' | 'json', ref?: string, fromMs = 0, toMs = Number.MAX_SAFE_INTEGER): Promise<string> {
    const states = ref ? [await this.findStatement(ref)] : (await this.state.books.statements()).filter((s) => s.statement.time >= fromMs && s.statement.time < toMs)
    const rows = []
    for (const state of states) {
      const s = state.statement
      const lines = s.lines.map((l) => ({ receipt: l.receipt, kind: 'fee' as const, origin: l.origin, order: l.order, debtor: s.counterparty, creditor: s.issuer, amount: { minorUnits: l.minorUnits, currency: s.currency }, time: l.time, terms: s.terms }))
      rows.push(...statementRows(state, lineStatusOf(await this.state.books.linesFor(this.o.identity.id, lines))))
    }
    return format === 'csv' ? toCsv(rows) : toJson(rows)
  }

  identity(): IdentityReply {
    return { id: this.o.identity.id, name: this.o.name, boxKey: toBase64url(this.o.box.publicKey), addrs: this.o.addrs(), terms: this.federation.termsHash }
  }

  partners(): PartnerStatus[] {
    return this.federation.partners.map((id) => {
      const view = this.peers.get(id) as PeerView
      const head = this.replication.headOf(id)
      return {
        id,
        name: this.federation.cardOf(id)?.name ?? id,
        connected: this.o.transport.isConnected(id),
        lastHeartbeatAt: view.lastHeartbeatAt,
        platform: view.platform,
        ackedSeq: this.replication.ackedBy(id),
        theirHead: { seq: head.seq, hash: head.hash },
        quarantined: this.replication.isQuarantined(id),
        phase: this.failover.watches.get(id)?.view.phase ?? 'healthy',
        epoch: this.failover.watches.get(id)?.view.epoch ?? 0,
      }
    })
  }

  /** This shop as its node sees it: fence, takeover, terms and orders that wait too long. */
  async selfStatus(): Promise<SelfStatus> {
    const me = this.o.identity.id
    const now = this.o.clock.now()
    const { pending } = this.state.orders.countsOf(me)
    let stuck = 0
    let read = 0
    if (pending > 0) {
      for await (const row of this.state.orders.range(me)) {
        if (++read > MAX_ROWS_READ_FOR_STUCK || stuck >= MAX_STUCK_COUNTED) break
        if (row.state === 'escrowed' && row.record.paidAt < now - STUCK_AFTER_MS) stuck++
      }
    }
    const epoch = this.failover.epoch()
    const authority = this.failover.takenOverAuthority()
    const report = authority ? this.incidentBook.list().find((r) => r.role === 'origin' && r.epoch === epoch) : undefined
    const terms = this.federation.terms
    const reporting = this.failover.healthReporting()
    return {
      id: me,
      name: this.o.name,
      platform: this.failover.platformHealth(),
      health: { lastReportAt: reporting.lastReport?.at ?? null, source: reporting.lastReport?.source ?? null, silent: reporting.silent, silentAfterMs: healthSilenceMs(terms.timing) },
      fenced: this.failover.isFenced(),
      epoch,
      takenOver: authority
        ? {
            how: authority.kind,
            certifiedBy: authority.kind === 'certificate' ? authority.certificate.votes.map((v) => v.body.voter) : [],
            since: authorityStart(authority),
            fulfillers: Object.keys(report?.fulfillers ?? {}),
          }
        : null,
      terms: { id: terms.id, revision: terms.revision, hash: this.federation.termsHash },
      pending,
      stuck,
      stuckAfterMs: STUCK_AFTER_MS,
    }
  }

  async escrow() {
    const origins = [this.o.identity.id, ...this.federation.partners]
    return { ownSeq: this.writer.state.seq, escrow: origins.map((origin) => ({ origin, ...this.state.orders.countsOf(origin) })) }
  }

  async listEscrow(origin: ShopId, after: string | undefined, limit: number) {
    const orders = []
    for await (const row of this.state.orders.range(origin, { ...(after ? { gt: `${origin}!${after}` } : {}), limit })) {
      const r = row.record
      orders.push({ origin: row.origin, order: r.order, sku: r.sku, qty: r.qty, amount: r.amount, paidAt: r.paidAt, buyer: r.buyer, state: row.state, seq: row.seq })
    }
    return { orders, next: orders.length === limit ? (orders.at(-1)?.order ?? null) : null }
  }

  feeds(): FeedHeadView[] {
    const own = this.writer.state
    return [
      { author: own.author, seq: own.seq, hash: own.hash, verified: true },
      ...this.federation.partners.map((p) => {
        const head = this.replication.headOf(p)
        return { author: p, seq: head.seq, hash: head.hash, verified: !this.replication.isQuarantined(p) }
      }),
    ]
  }

  waitForAcks(seq: number, timeoutMs: number): Promise<boolean> {
    return this.replication.waitForAcks(seq, timeoutMs)
  }

  verifyFeed(author: ShopId) {
    return this.replication.verifyHeld(author)
  }

  incidents(): IncidentReport[] {
    return this.incidentBook.list()
  }

  /**
   * What partners sent that we refused (kept per partner up to a limit), and the receipts we hold
   * until their epoch's authority is known: evidence for the operator, oldest first.
   */
  async refusals(): Promise<RefusalView[]> {
    const refused = (await this.state.refusals.list()).map((r) => ({ ...r, held: false }))
    const held = (await this.state.receipts.allHeld(1_000)).map((h) => ({
      from: h.fulfiller, kind: 'receipt' as const, origin: h.receipt.origin, order: h.receipt.order, epoch: h.receipt.epoch, seq: h.seq,
      reason: `held: ${h.reason}`, at: h.heldAt, held: true,
    }))
    return [...refused, ...held].sort((a, b) => a.at - b.at)
  }

  consign(holder: ShopId, sku: string, count: number) {
    return this.allotments.consign(holder, sku, count)
  }

  recall(holder: ShopId, allotment: string) {
    return this.allotments.recall(holder, allotment)
  }

  async exposedKeys() {
    return (await this.allotments.exposed()).map((k) => ({ keyId: k.keyId, holder: k.holder, sku: k.sku, allotment: k.allotment, unitValue: k.unitValue }))
  }

  decideKeys(keyIds: readonly string[], decision: 'write-off' | 'bill' | 'reconsign') {
    return this.allotments.decide(keyIds, decision)
  }

  claimUrl(origin: ShopId): string | null {
    return this.o.publicUrl ? `${this.o.publicUrl.replace(/\/$/, '')}/claim?shop=${origin}` : null
  }

  async claim(form: ClaimForm): Promise<ClaimResult> {
    const row = await this.state.orders.get(form.shop, form.order)
    if (!row || (await claimVerifier(form.shop, form.order, form.secret)) !== row.record.claimVerifier) return { status: 'not-found' }
    const me = this.o.identity.id
    if (row.fulfiller === me && (row.state === 'reserved' || row.state === 'delivered')) {
      const keys = await this.state.keys.getMany(form.shop, row.keyIds ?? [])
      return {
        status: 'delivered',
        order: form.order,
        keys: keys.filter((k): k is KeyRow => k !== undefined).map((k) => k.key),
        deliveredAt: row.deliveredAt ?? this.o.clock.now(),
        fulfillerName: this.o.name,
      }
    }
    if (row.state === 'delivered' && row.fulfiller !== undefined && row.fulfiller !== me) {
      // A co-partner (or, at the origin, a partner) delivered it: its receipt named it. We never
      // held those keys (they were sealed to the fulfiller); its claim page shows them.
      const card = this.federation.cardOf(row.fulfiller)
      return { status: 'elsewhere', order: form.order, fulfillerName: card?.name ?? row.fulfiller, claimUrl: card?.claimUrl ?? null }
    }
    const beingDelivered = form.shop === me ? this.failover.takenOverAuthority() !== null : this.fulfilment.isActive(form.shop)
    if (row.state === 'escrowed' && beingDelivered) return { status: 'pending', order: form.order }
    return { status: 'not-found' }
  }

  shopStatus(shop: ShopId): ShopStatusView | undefined {
    const me = this.o.identity.id
    const name = shop === me ? this.o.name : this.federation.cardOf(shop)?.name
    if (name === undefined) return undefined
    const counts = this.state.orders.countsOf(shop)
    let state: ShopStatusView['state'] = 'operating'
    let since: number | null = null
    if (shop === me) {
      if (this.failover.takenOverAuthority()) state = 'partners-delivering'
    } else {
      const w = this.failover.watches.get(shop)
      const phase = w?.view.phase
      if (phase === 'suspect') {
        state = 'suspected-outage'
        since = w?.suspectSince ?? null
      } else if (phase === 'certified' || phase === 'taken-over') {
        state = 'partners-delivering'
        since = w?.certifiedAt ?? w?.takenOverAt ?? null
      } else if (phase === 'handed-back') state = 'recovered'
    }
    let deliveredByPartners = 0
    for (const partner of [...this.federation.partners, me]) {
      if (partner === shop) continue
      for (const sku of this.federation.terms.skus.filter((s) => s.shop === shop)) deliveredByPartners += this.state.keys.holding(shop, sku.sku, partner).delivered
    }
    return { shop, name, state, since, deliveredByPartners, pending: counts.pending, claimUrl: this.claimUrl(shop) }
  }
}
