// What the outer layers (http, cli) may ask of a running engine. The http layer depends on this
// interface only, so it can be tested against a fake engine and wired to the real one in one place.
import type {
  AdapterOrder,
  CancelledBody,
  DeliveredBody,
  DisputedLine,
  PlatformHealth,
  ShopId,
  SubmitOrdersReply,
  TombstoneReply,
} from '../../protocol/index.js'
import type {
  ClaimForm,
  ClaimResult,
  EscrowListReply,
  EscrowReply,
  FeedHeadView,
  IdentityReply,
  IncidentReport,
  BalanceView,
  ExposedKeyView,
  HoldingView,
  KeyDecision,
  PartnerStatus,
  SelfStatus,
  RefusalView,
  ShopStatusView,
  DrillResultView,
  RevokeReply,
} from './api-schemas.js'
import type { z } from 'zod'
import type { StatementState } from './state/ledger.js'

export interface EscrowApi {
  /** Resolves once the orders are durable (synced) in our own feed; rejects on conflicting ids. */
  submitOrders(orders: readonly AdapterOrder[]): Promise<SubmitOrdersReply>
  markDelivered(items: DeliveredBody['orders']): Promise<TombstoneReply>
  markCancelled(items: CancelledBody['orders']): Promise<TombstoneReply>
  reportPlatformHealth(platform: PlatformHealth, detail?: string): void
}

export interface AdminApi {
  identity(): IdentityReply
  partners(): PartnerStatus[]
  selfStatus(): Promise<SelfStatus>
  /** The operator reports the platform (the adapter is silent or wrong); resolves once a takeover request is durable. */
  operatorReportsPlatform(platform: 'up' | 'down'): Promise<void>
  escrow(): Promise<EscrowReply>
  listEscrow(origin: ShopId, after: string | undefined, limit: number): Promise<z.infer<typeof EscrowListReply>>
  feeds(): FeedHeadView[]
  /** Resolves true once every partner acknowledged our feed up to `seq`, false after `timeoutMs`. */
  waitForAcks(seq: number, timeoutMs: number): Promise<boolean>
  /** Re-verifies every stored entry of `author`'s feed from seq 1: signatures and chain. */
  verifyFeed(author: ShopId): Promise<FeedVerification>
  /** Incident reports this node wrote, oldest first. */
  incidents(): IncidentReport[]
  /** A fire drill with one partner or all, for one sku or all (D69). */
  drill(options: { partner?: ShopId; sku?: string }): Promise<DrillResultView>
  /** The newest drills' results. */
  drills(): DrillResultView[]
  /** Takes keys out of the shop's stock and consigns them to a partner. */
  consign(holder: ShopId, sku: string, count: number): Promise<{ allotment: string; keys: number; seq: number }>
  /** Asks a partner to release the unused keys of an allotment. */
  recall(holder: ShopId, allotment: string): Promise<number>
  /** Our signed revocation of a partner (D94); in force once a quorum of parties signed one. */
  revokePartner(partner: ShopId, reason: string): Promise<z.infer<typeof RevokeReply>>
  /** Keys partners released back to us (exposed: not on sale until the operator decides). */
  exposedKeys(): Promise<z.infer<typeof ExposedKeyView>[]>
  /** Our keys per partner and sku: what each holds now, per allotment. */
  holdings(): Promise<HoldingView[]>
  /** The operator's decision on exposed keys: write off, bill their holder, or consign them to it again. */
  decideKeys(keyIds: readonly string[], decision: z.infer<typeof KeyDecision>): Promise<{ keys: number; seq: number }>
  /** What partners sent that we refused, and receipts we hold until their epoch's authority is known. */
  refusals(): Promise<RefusalView[]>
  balances(): z.infer<typeof BalanceView>[]
  statements(): Promise<StatementState[]>
  findStatement(ref: string): Promise<StatementState>
  issueStatement(counterparty: ShopId, untilMs?: number): Promise<StatementState | null>
  acceptStatement(ref: string, disputes: readonly DisputedLine[]): Promise<StatementState>
  payStatement(ref: string, reference: string): Promise<StatementState>
  confirmStatement(ref: string): Promise<StatementState>
  exportStatements(format: 'csv' | 'json', ref?: string, fromMs?: number, toMs?: number): Promise<string>
  /** Readiness: store open, agreement in force, transport started. */
  ready(): boolean
}

export interface FeedVerification {
  readonly verified: boolean
  readonly entries: number
  readonly seq: number
  readonly hash: string | null
  readonly error?: string
}

/** What the public (unauthenticated, rate-limited) pages ask: the claim page and outage notice. */
export interface PublicApi {
  /** Keys of an order this node delivered, if the secret matches the escrowed verifier. */
  claim(form: ClaimForm): Promise<ClaimResult>
  /** The outage notice for a shop this node knows (a partner, or itself); undefined otherwise. */
  shopStatus(shop: ShopId): ShopStatusView | undefined
}

export interface NodeApi extends EscrowApi, AdminApi, PublicApi {}

/** An order id that exists with a different body: the adapter must not reuse ids. */
export class ConflictError extends Error {
  readonly code = 'conflict'
  constructor(readonly orders: readonly string[]) {
    super(`order ids already escrowed with different content: ${orders.slice(0, 5).join(', ')}`)
  }
}

/** The node cannot accept the request now (no agreement in force, queue full): retry later. */
export class UnavailableError extends Error {
  readonly code = 'unavailable'
}

/** The terms or the node's state do not allow this action (cap reached, sku not covered, …). */
export class RefusedError extends Error {
  readonly code = 'refused'
}
