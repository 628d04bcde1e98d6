// Shapes of the node's own HTTP API beyond the adapter protocol: the operator's admin routes
// (status, escrow, allotments, settlement, incidents) and the buyers' public pages. They are this
// node's business, not the protocol's (another implementation need not serve them), and they live
// beside the engine's API (api.ts) whose answers they describe, so core, http and cli share them.
import { z } from 'zod'
import {
  BuyerContact,
  DisputedLine,
  Epoch,
  FeedHead,
  Hash,
  Id,
  LIMITS,
  Money,
  PlatformHealth,
  Seq,
  ShopId,
  Statement,
  Text,
  TimeMs,
  WellFormedString,
  UnservedOrder,
} from '../../protocol/index.js'

// ---- admin: identity, status, escrow, feeds ----

export const IdentityReply = z.strictObject({
  id: ShopId,
  name: z.string(),
  boxKey: z.string(),
  addrs: z.array(z.string()),
  terms: Hash.nullable(),
})
export type IdentityReply = z.infer<typeof IdentityReply>

export const PartnerStatus = z.strictObject({
  id: ShopId,
  name: z.string(),
  connected: z.boolean(),
  lastHeartbeatAt: TimeMs.nullable(),
  platform: PlatformHealth,
  /** Highest seq of our feed this partner acknowledged as durable. */
  ackedSeq: z.number().int().nonnegative(),
  /** What we hold of this partner's feed. */
  theirHead: FeedHead,
  quarantined: z.boolean(),
  /** Our failover view of it (docs/design.md §6), and the epoch of that view. */
  phase: z.enum(['healthy', 'suspect', 'certified', 'taken-over', 'handed-back']),
  epoch: Epoch,
})
export type PartnerStatus = z.infer<typeof PartnerStatus>

/** A party someone revoked (D94): who signed, how many must, and what it still holds of ours. */
export const RevocationStatus = z.strictObject({
  partner: ShopId,
  by: z.array(z.strictObject({ shop: ShopId, reason: z.string(), at: TimeMs })),
  needed: z.number().int().nonnegative(),
  /** Revoked at this node: no partner of ours any more. */
  inForce: z.boolean(),
  /** Our keys it holds, consigned and neither delivered nor returned: void them in the shop. */
  keysHeld: z.number().int().nonnegative(),
})

/** This shop as its own node sees it: what `standin status` shows first. */
export const SelfStatus = z.strictObject({
  id: ShopId,
  name: z.string(),
  /** The platform's health as the adapter (or the operator) last reported it; `unknown` once the adapter went silent. */
  platform: PlatformHealth,
  /** The newest health report since this node started, and whether the adapter has since gone silent. */
  health: z.strictObject({
    lastReportAt: TimeMs.nullable(),
    source: z.enum(['adapter', 'operator']).nullable(),
    silent: z.boolean(),
    /** No report for this long makes the adapter silent (the terms' healthReportMs × missedHealthReports). */
    silentAfterMs: z.number().int().positive(),
  }),
  /** True while the shop must not deliver escrowed orders itself. */
  fenced: z.boolean(),
  epoch: Epoch,
  /** Partners took over our orders at `epoch` and we have not handed back. */
  takenOver: z
    .strictObject({
      how: z.enum(['certificate', 'request']),
      /** The partners whose down-votes formed the certificate (empty for our own request). */
      certifiedBy: z.array(ShopId),
      since: TimeMs,
      /** Partners whose receipts we took in this takeover so far. */
      fulfillers: z.array(ShopId),
    })
    .nullable(),
  terms: z.strictObject({ id: z.string(), revision: z.number().int().nonnegative(), hash: Hash }),
  /** Our orders escrowed and not yet delivered or cancelled. */
  pending: z.number().int().nonnegative(),
  /** Of those, paid more than `stuckAfterMs` ago (the node counts at most 10,000). */
  stuck: z.number().int().nonnegative(),
  stuckAfterMs: z.number().int().positive(),
  /** Orders escrowed since the node started that no partner could have served (the newest listed, D68). */
  unserved: z.strictObject({ count: z.number().int().nonnegative(), recent: z.array(UnservedOrder) }),
  /** Our own feed: its head, and while the node confirms where it ends after a restore, who answered (D92). */
  feed: z.strictObject({
    seq: z.number().int().nonnegative(),
    rejoining: z.enum(['restored', 'recovered']).nullable(),
    confirmed: z.array(ShopId),
    waiting: z.array(ShopId),
    rebuilt: z.number().int().nonnegative(),
    notRebuilt: z.record(z.string(), z.number().int().nonnegative()),
  }),
  /** Parties a partner revoked, in force or awaiting the quorum (D94). */
  revocations: z.array(RevocationStatus),
})
export type SelfStatus = z.infer<typeof SelfStatus>

/** One fire drill (node/core/drill.ts, D69): per partner and sku, what an outage now would bring. */
export const DrillResultView = z.strictObject({
  id: z.string(),
  at: TimeMs,
  ok: z.boolean(),
  partners: z.array(
    z.strictObject({
      partner: ShopId,
      name: z.string(),
      ok: z.boolean(),
      reason: z.string().nullable(),
      skus: z.array(
        z.strictObject({
          sku: z.string(),
          expected: z.number().int().nonnegative(),
          held: z.number().int().nonnegative(),
          proofOk: z.boolean(),
          wouldServe: z.boolean(),
          /** Orders of this sku an outage now would get served (one key each), within the terms' limit per outage. */
          servesUpTo: z.number().int().nonnegative(),
          ok: z.boolean(),
          reason: z.string().nullable(),
        }),
      ),
    }),
  ),
})
export type DrillResultView = z.infer<typeof DrillResultView>
export const DrillBody = z.strictObject({ partner: ShopId.optional(), sku: z.string().min(1).max(128).optional() })
export const DrillsReply = z.strictObject({ drills: z.array(DrillResultView) })

/**
 * The operator's word on the shop platform (`standin platform down|up`), for when the adapter
 * cannot say it: `down` hands the paid orders to partners exactly as an adapter's `down` does.
 */
export const PlatformBody = z.strictObject({ platform: z.enum(['up', 'down']) })
export const PlatformReply = z.strictObject({ platform: PlatformHealth, fenced: z.boolean(), takenOver: z.boolean() })

export const PartnersReply = z.strictObject({ partners: z.array(PartnerStatus) })

export const EscrowSummary = z.strictObject({
  origin: ShopId,
  pending: z.number().int().nonnegative(),
  delivered: z.number().int().nonnegative(),
  cancelled: z.number().int().nonnegative(),
})
export const EscrowReply = z.strictObject({ ownSeq: z.number().int().nonnegative(), escrow: z.array(EscrowSummary) })
export type EscrowReply = z.infer<typeof EscrowReply>

export const EscrowOrderView = z.strictObject({
  origin: ShopId,
  order: Id,
  sku: Id,
  qty: z.number().int(),
  amount: Money,
  paidAt: TimeMs,
  buyer: BuyerContact,
  state: z.enum(['escrowed', 'claimed', 'reserved', 'delivered', 'cancelled']),
  seq: z.number().int(),
})
export type EscrowOrderView = z.infer<typeof EscrowOrderView>

export const EscrowListQuery = z.strictObject({
  after: Id.optional(),
  limit: z.coerce.number().int().min(1).max(1_000).default(100),
})
export const EscrowListReply = z.strictObject({ orders: z.array(EscrowOrderView), next: Id.nullable() })

export const FeedHeadView = z.strictObject({
  author: ShopId,
  seq: z.number().int().nonnegative(),
  hash: Hash.nullable(),
  verified: z.boolean(),
})
export const FeedsReply = z.strictObject({ feeds: z.array(FeedHeadView) })
export type FeedHeadView = z.infer<typeof FeedHeadView>

/** Longest an admin may hold a request open waiting for partner acknowledgements. */
export const MAX_ACK_WAIT_MS = 60_000

export const AcksWaitQuery = z.strictObject({
  seq: z.coerce.number().pipe(Seq),
  timeoutMs: z.coerce.number().int().min(0).max(MAX_ACK_WAIT_MS).default(10_000),
})
export const AcksWaitReply = z.strictObject({ acked: z.boolean() })

export const FeedVerificationReply = z.strictObject({
  verified: z.boolean(),
  entries: z.number().int().nonnegative(),
  seq: z.number().int().nonnegative(),
  hash: Hash.nullable(),
  error: z.string().optional(),
})
export type FeedVerificationReply = z.infer<typeof FeedVerificationReply>

// ---- public pages: claim page and outage notice ----

export const ClaimForm = z.strictObject({
  /** The shop the order was placed with (its shop id). */
  shop: ShopId,
  order: Id,
  secret: z.string().min(1).max(128),
})
export type ClaimForm = z.infer<typeof ClaimForm>

export const ClaimResult = z.discriminatedUnion('status', [
  z.strictObject({ status: z.literal('delivered'), order: Id, keys: z.array(z.string()), deliveredAt: TimeMs, fulfillerName: z.string() }),
  z.strictObject({ status: z.literal('pending'), order: Id }),
  /**
   * Another partner delivered it (its receipt is in its feed, which we hold): the buyer is sent to
   * that partner's claim page, the only one that can show the keys (they were sealed to it).
   * Given only for the right secret, like `delivered`.
   */
  z.strictObject({ status: z.literal('elsewhere'), order: Id, fulfillerName: z.string(), claimUrl: z.string().nullable() }),
  /** Unknown order, wrong secret, or an order this node did not deliver: deliberately one answer. */
  z.strictObject({ status: z.literal('not-found') }),
])
export type ClaimResult = z.infer<typeof ClaimResult>

export const ShopStatusView = z.strictObject({
  shop: ShopId,
  name: z.string(),
  state: z.enum(['operating', 'suspected-outage', 'partners-delivering', 'recovered']),
  since: TimeMs.nullable(),
  deliveredByPartners: z.number().int().nonnegative(),
  pending: z.number().int().nonnegative(),
  claimUrl: z.string().nullable(),
})
export type ShopStatusView = z.infer<typeof ShopStatusView>

// ---- admin: allotments ----

export const ConsignBody = z.strictObject({ holder: ShopId, sku: Id, count: z.number().int().min(1).max(LIMITS.maxKeysPerAllotment) })
export const ConsignReply = z.strictObject({ allotment: Id, keys: z.number().int().nonnegative(), seq: z.number().int().nonnegative() })
export const RecallBody = z.strictObject({ holder: ShopId, allotment: Id })

/** `standin partner revoke`: our signed revocation of a partner (D94). */
export const RevokeBody = z.strictObject({ partner: ShopId, reason: Text.min(1) })
export const RevokeReply = z.strictObject({
  seq: z.number().int().positive(),
  /** True when with ours a quorum revoked it: the node restarts its engine without it. */
  inForce: z.boolean(),
  needed: z.number().int().nonnegative(),
  by: z.array(ShopId),
})

/** What a partner sent that we refused or hold (its signed entry or message is the evidence). */
export const RefusalView = z.strictObject({
  from: ShopId,
  kind: z.enum(['receipt', 'claim', 'release', 'statement', 'certificate', 'request', 'vote']),
  origin: ShopId.nullable(),
  order: Id.nullable(),
  epoch: Epoch.nullable(),
  /** Seq of the sender's feed entry that carried it; null for a control message. */
  seq: z.number().int().nonnegative().nullable(),
  reason: z.string(),
  at: TimeMs,
  /** A receipt held until its epoch's authority is known (it may still be taken). */
  held: z.boolean(),
})
export type RefusalView = z.infer<typeof RefusalView>
export const RefusalsReply = z.strictObject({ refusals: z.array(RefusalView) })

/** A key a partner released back: its text is known to that partner, so it is not on sale. */
export const ExposedKeyView = z.strictObject({ keyId: Id, holder: ShopId, sku: Id, allotment: Id, unitValue: Money })
export const ExposedKeysReply = z.strictObject({ keys: z.array(ExposedKeyView) })
export const KeyDecision = z.enum(['write-off', 'bill', 'reconsign'])
export const DecideKeysBody = z.strictObject({ keyIds: z.array(Id).min(1).max(LIMITS.maxKeysPerAllotment), decision: KeyDecision })
export const DecideKeysReply = z.strictObject({ keys: z.number().int().nonnegative(), seq: z.number().int().nonnegative() })
export const RecallReply = z.strictObject({ seq: z.number().int().nonnegative() })
/**
 * What one partner holds of one sku of ours, and what became of the rest: per allotment, the keys
 * it still holds (a recall names the allotment). Counts are keys.
 */
export const HoldingView = z.strictObject({
  holder: ShopId,
  sku: Id,
  consigned: z.number().int().nonnegative(),
  held: z.number().int().nonnegative(),
  reserved: z.number().int().nonnegative(),
  delivered: z.number().int().nonnegative(),
  returned: z.number().int().nonnegative(),
  allotments: z.array(z.strictObject({ allotment: Id, consigned: z.number().int().nonnegative(), held: z.number().int().nonnegative() })),
})
export type HoldingView = z.infer<typeof HoldingView>
export const HoldingsReply = z.strictObject({ holdings: z.array(HoldingView) })

// ---- admin: settlement ----

export const BalanceView = z.strictObject({
  counterparty: ShopId,
  currency: z.string(),
  owedToUs: z.number().int(),
  owedByUs: z.number().int(),
  disputed: z.number().int(),
  /** We refuse new takeovers of this partner until it settles (credit limit). */
  creditBlocked: z.boolean(),
})
export const BalancesReply = z.strictObject({ balances: z.array(BalanceView) })

export const StatementStateView = z.strictObject({
  hash: Hash,
  statement: Statement,
  role: z.enum(['issued', 'received']),
  status: z.enum(['issued', 'accepted', 'paid', 'settled']),
  disputed: z.array(z.strictObject({ receipt: Hash, reason: z.string(), note: z.string() })),
  mismatches: z.array(z.strictObject({ receipt: Hash, reason: z.string() })),
  acceptedMinorUnits: z.number().int().nullable(),
  payment: z.strictObject({ reference: z.string(), minorUnits: z.number().int() }).nullable(),
  settledAt: TimeMs.nullable(),
})
export const StatementSummary = z.strictObject({
  hash: Hash,
  id: Id,
  role: z.enum(['issued', 'received']),
  status: z.enum(['issued', 'accepted', 'paid', 'settled']),
  issuer: ShopId,
  counterparty: ShopId,
  currency: z.string(),
  lines: z.number().int(),
  totalMinorUnits: z.number().int(),
  disputedLines: z.number().int(),
  time: TimeMs,
})
export type StatementStateView = z.infer<typeof StatementStateView>
export const StatementsReply = z.strictObject({ statements: z.array(StatementSummary) })
export const IssueStatementBody = z.strictObject({ counterparty: ShopId, untilMs: TimeMs.optional() })
export const IssueStatementReply = z.strictObject({ issued: z.boolean(), statement: StatementStateView.nullable() })
export const AcceptStatementBody = z.strictObject({ disputes: z.array(DisputedLine).max(LIMITS.maxDisputeLines) })
export const PayStatementBody = z.strictObject({ reference: WellFormedString.min(1).max(200) })
export const StatementRef = z.strictObject({
  ref: z
    .string()
    .min(8)
    .max(128)
    .regex(/^[\x21-\x7e]+$/),
})
export const ExportQuery = z.strictObject({
  format: z.enum(['csv', 'json']).default('csv'),
  statement: z.string().min(8).max(128).optional(),
  fromMs: z.coerce.number().int().nonnegative().optional(),
  toMs: z.coerce.number().int().nonnegative().optional(),
})

// ---- admin: incidents (the report each node writes per outage: origin, epoch) ----

export const FulfillerStats = z.strictObject({
  orders: z.number().int().nonnegative(),
  keys: z.number().int().nonnegative(),
  firstAt: TimeMs.nullable(),
  lastAt: TimeMs.nullable(),
  /** Sum and max of (delivered − paid), for the average and worst buyer wait. */
  waitMsSum: z.number().int().nonnegative(),
  waitMsMax: z.number().int().nonnegative(),
})
export type FulfillerStats = z.infer<typeof FulfillerStats>

/** The steps an incident timeline records (node/core/incidents.ts); their words are `incident.<kind>`. */
export const IncidentStep = z.enum([
  'suspect',
  'vote',
  'certified',
  'taken-over',
  'own-request',
  'own-certificate',
  'first-delivery',
  'duplicate',
  'handback',
  'closed-over',
  'closed-false-alarm',
])
export type IncidentStep = z.infer<typeof IncidentStep>

export const IncidentReport = z.strictObject({
  id: z.string(),
  origin: ShopId,
  epoch: z.number().int().nonnegative(),
  role: z.enum(['origin', 'partner']),
  openedAt: TimeMs,
  closedAt: TimeMs.nullable(),
  /**
   * What happened, in time order: `what` in English words (the CLI, logs), `kind` and `params` for
   * a page that says it in the reader's language (the console). Reports written before `kind`
   * existed have `what` only.
   */
  timeline: z.array(
    z.strictObject({
      at: TimeMs,
      what: z.string(),
      kind: IncidentStep.optional(),
      params: z.record(z.string(), z.string()).optional(),
      by: ShopId.nullable(),
    }),
  ),
  fulfillers: z.record(z.string(), FulfillerStats),
  duplicates: z.array(z.strictObject({ order: z.string(), fulfillers: z.array(ShopId) })),
  keysUsed: z.number().int().nonnegative(),
})
export type IncidentReport = z.infer<typeof IncidentReport>
export const IncidentsReply = z.strictObject({ incidents: z.array(IncidentReport) })
