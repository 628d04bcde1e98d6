// A FAKE NodeApi. The engine is tested elsewhere (test/core); these tests only check what the
// HTTP layer hands it and what it makes of the replies, so the fake records every call and
// answers with canned, schema-valid data.
import { type NodeApi, RefusedError } from '../../node/core/api.js'
import type { AdapterOrder, CancelledBody, DeliveredBody, PlatformHealth, SubmitOrdersReply, TombstoneReply } from '../../protocol/index.js'
import type {
  DrillResultView,
  BalanceView as BalanceViewSchema,
  ExposedKeyView,
  HoldingView,
  IncidentReport,
  ClaimForm,
  ClaimResult,
  EscrowReply,
  FeedHeadView,
  IdentityReply,
  PartnerStatus,
  SelfStatus,
  ShopStatusView,
} from '../../node/core/api-schemas.js'
import { type DisputedLine, toBase64url } from '../../protocol/index.js'
import type { StatementState } from '../../node/core/state/ledger.js'
import type { z } from 'zod'

type ExposedKey = z.infer<typeof ExposedKeyView>
type BalanceView = z.infer<typeof BalanceViewSchema>
import { alice, bob } from '../protocol/fixtures.js'

export interface Call {
  method: keyof NodeApi
  args: unknown[]
}

type Behaviour<T> = (...args: never[]) => T | Promise<T>

export class FakeApi implements NodeApi {
  readonly calls: Call[] = []
  isReady = true
  /** Replace to make submitOrders throw or answer differently. */
  onSubmit: Behaviour<SubmitOrdersReply> = () => ({ accepted: 1, duplicates: 0, seq: 7, unserved: [] })
  ackResult = true
  /** Replace to answer claims per test; by default every claim gets the neutral not-found. */
  onClaim: (form: ClaimForm) => ClaimResult | Promise<ClaimResult> = () => ({ status: 'not-found' })
  /** Outage notices by shop id; shops not in here are unknown to this node. */
  readonly statuses = new Map<string, ShopStatusView>()

  static readonly identityReply: IdentityReply = {
    id: alice.identity.id,
    name: 'alice',
    boxKey: toBase64url(alice.box.publicKey),
    addrs: ['/ip4/127.0.0.1/tcp/4001'],
    terms: null,
  }
  static readonly partner: PartnerStatus = {
    id: bob.identity.id,
    name: 'bob',
    connected: true,
    lastHeartbeatAt: 1_790_000_000_000,
    platform: 'up',
    ackedSeq: 3,
    theirHead: { seq: 0, hash: null },
    quarantined: false,
    phase: 'taken-over',
    epoch: 2,
  }
  static readonly self: SelfStatus = {
    id: alice.identity.id,
    name: 'alice',
    platform: 'down',
    health: { lastReportAt: 1_790_000_000_000, source: 'adapter', silent: false, silentAfterMs: 180_000 },
    fenced: true,
    epoch: 1,
    takenOver: { how: 'certificate', certifiedBy: [bob.identity.id], since: 1_790_000_000_000, fulfillers: [bob.identity.id] },
    terms: { id: 'test', revision: 1, hash: 'A'.repeat(43) },
    pending: 2,
    stuck: 1,
    stuckAfterMs: 600_000,
    unserved: { count: 0, recent: [] },
    feed: { seq: 3, rejoining: null, confirmed: [], waiting: [], rebuilt: 0, notRebuilt: {} },
    revocations: [
      { partner: bob.identity.id, by: [{ shop: alice.identity.id, reason: 'key stolen', at: 1_790_000_000_000 }], needed: 2, inForce: false, keysHeld: 3 },
    ],
  }
  static readonly escrowReply: EscrowReply = {
    ownSeq: 3,
    escrow: [{ origin: bob.identity.id, pending: 2, delivered: 1, cancelled: 0 }],
  }
  static readonly feed: FeedHeadView = { author: alice.identity.id, seq: 3, hash: null, verified: true }

  private record(method: keyof NodeApi, ...args: unknown[]): void {
    this.calls.push({ method, args })
  }

  async submitOrders(orders: readonly AdapterOrder[]): Promise<SubmitOrdersReply> {
    this.record('submitOrders', orders)
    return (this.onSubmit as (orders: readonly AdapterOrder[]) => SubmitOrdersReply | Promise<SubmitOrdersReply>)(orders)
  }
  async markDelivered(items: DeliveredBody['orders']): Promise<TombstoneReply> {
    this.record('markDelivered', items)
    return { updated: items.length, unknown: [], seq: 8 }
  }
  async markCancelled(items: CancelledBody['orders']): Promise<TombstoneReply> {
    this.record('markCancelled', items)
    return { updated: 0, unknown: items.map((i) => i.order), seq: 0 }
  }
  reportPlatformHealth(platform: PlatformHealth, detail?: string): void {
    this.record('reportPlatformHealth', platform, detail)
  }
  identity(): IdentityReply {
    this.record('identity')
    return FakeApi.identityReply
  }
  partners(): PartnerStatus[] {
    this.record('partners')
    return [FakeApi.partner]
  }
  async selfStatus(): Promise<SelfStatus> {
    this.record('selfStatus')
    return FakeApi.self
  }
  async escrow(): Promise<EscrowReply> {
    this.record('escrow')
    return FakeApi.escrowReply
  }
  async listEscrow(origin: string, after: string | undefined, limit: number) {
    this.record('listEscrow', origin, after, limit)
    return { orders: [], next: null }
  }
  feeds(): FeedHeadView[] {
    this.record('feeds')
    return [FakeApi.feed]
  }
  async waitForAcks(seq: number, timeoutMs: number): Promise<boolean> {
    this.record('waitForAcks', seq, timeoutMs)
    return this.ackResult
  }
  async verifyFeed(author: string) {
    this.record('verifyFeed', author)
    return { verified: true, entries: 3, seq: 3, hash: null }
  }
  // Settlement calls are exercised against the real engine (test/core/settlement.test.ts); here a
  // small in-memory book: statements a test puts in, found by hash (prefix) or id, moved by the calls.
  balancesReply: BalanceView[] = []
  readonly statementBook: StatementState[] = []
  balances() {
    this.record('balances')
    return this.balancesReply
  }
  async statements() {
    this.record('statements')
    return this.statementBook
  }
  async findStatement(ref: string): Promise<StatementState> {
    this.record('findStatement', ref)
    const found = this.statementBook.filter((s) => s.hash.startsWith(ref) || s.statement.id === ref)
    if (found.length !== 1) throw new RefusedError(`${found.length} statements match ${ref}`)
    return found[0] as StatementState
  }
  async issueStatement(counterparty: string) {
    this.record('issueStatement', counterparty)
    return null
  }
  async acceptStatement(ref: string, disputes: readonly DisputedLine[]): Promise<StatementState> {
    const s = await this.findStatement(ref)
    this.record('acceptStatement', ref, disputes)
    if (s.role !== 'received' || s.status !== 'issued') throw new RefusedError(`statement ${ref} is ${s.status}`)
    const disputed = new Set(disputes.map((d) => d.receipt))
    s.status = 'accepted'
    s.disputed = disputes.map((d) => ({ receipt: d.receipt, reason: d.reason, note: d.note }))
    s.acceptedMinorUnits = s.statement.lines.filter((l) => !disputed.has(l.receipt)).reduce((n, l) => n + l.minorUnits, 0)
    return s
  }
  async payStatement(ref: string, reference: string): Promise<StatementState> {
    const s = await this.findStatement(ref)
    this.record('payStatement', ref, reference)
    if (s.role !== 'received' || s.status !== 'accepted') throw new RefusedError(`statement ${ref} is ${s.status}`)
    s.status = 'paid'
    s.payment = { reference, minorUnits: s.acceptedMinorUnits ?? 0 }
    return s
  }
  async confirmStatement(ref: string): Promise<StatementState> {
    const s = await this.findStatement(ref)
    this.record('confirmStatement', ref)
    if (s.role !== 'issued' || s.status !== 'paid') throw new RefusedError(`statement ${ref} is ${s.status}`)
    s.status = 'settled'
    s.settledAt = 1_800_000_000_000
    return s
  }
  async exportStatements(format: 'csv' | 'json') {
    this.record('exportStatements', format)
    return format === 'csv' ? 'statement_id\n' : '{"rows":[]}\n'
  }
  incidentsReply: IncidentReport[] = []
  incidents() {
    this.record('incidents')
    return this.incidentsReply
  }

  /** What a drill reports; one healthy partner by default. */
  onDrill: (options: { partner?: string; sku?: string }) => DrillResultView = () => ({
    id: 'drill-1',
    at: 1_800_000_000_000,
    ok: true,
    partners: [
      {
        partner: bob.identity.id,
        name: 'Shop B',
        ok: true,
        reason: null,
        skus: [{ sku: 'steam-50', expected: 5, held: 5, proofOk: true, wouldServe: true, servesUpTo: 5, ok: true, reason: null }],
      },
    ],
  })

  async drill(options: { partner?: string; sku?: string }) {
    this.record('drill', options)
    return this.onDrill(options)
  }

  drills() {
    this.record('drills')
    return [this.onDrill({})]
  }
  async consign(holder: string, sku: string, count: number) {
    this.record('consign', holder, sku, count)
    return { allotment: 'al-1', keys: count, seq: 9 }
  }
  async recall(holder: string, allotment: string) {
    this.record('recall', holder, allotment)
    return 10
  }
  async revokePartner(partner: string, reason: string) {
    this.record('revokePartner', partner, reason)
    return { seq: 11, inForce: false, needed: 2, by: [alice.identity.id] }
  }
  exposedReply: ExposedKey[] = []
  async exposedKeys() {
    this.record('exposedKeys')
    return this.exposedReply
  }
  holdingsReply: HoldingView[] = []
  async holdings() {
    this.record('holdings')
    return this.holdingsReply
  }
  async operatorReportsPlatform(platform: 'up' | 'down') {
    this.record('operatorReportsPlatform', platform)
  }

  async decideKeys(keyIds: readonly string[], decision: 'write-off' | 'bill' | 'reconsign') {
    this.record('decideKeys', keyIds, decision)
    return { keys: keyIds.length, seq: 11 }
  }
  async refusals() {
    this.record('refusals')
    return []
  }
  async claim(form: ClaimForm): Promise<ClaimResult> {
    this.record('claim', form)
    return this.onClaim(form)
  }
  shopStatus(shop: string): ShopStatusView | undefined {
    this.record('shopStatus', shop)
    return this.statuses.get(shop)
  }
  ready(): boolean {
    return this.isReady
  }
}
