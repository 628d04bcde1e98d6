// Read-side answers of the engine: the admin API, the claim page and the outage notice. Plain
// functions over the parts, read only: a view never changes state (commands live in engine.ts).
import { claimVerifier, healthSilenceMs, type ShopId, toBase64url } from '../../protocol/index.js'
import type {
  ClaimForm,
  ClaimResult,
  FeedHeadView,
  IdentityReply,
  HoldingView,
  IncidentReport,
  PartnerStatus,
  RefusalView,
  SelfStatus,
  ShopStatusView,
} from './api-schemas.js'
import { claimUrlOf, type EngineParts } from './assemble.js'
import { RefusedError } from './api.js'
import { authorityStart } from './state/authorities.js'
import type { KeyRow } from './state/keys.js'
import type { StatementState } from './state/ledger.js'
import { feeLinesOf } from './settlement.js'
import { lineStatusOf, statementRows, toCsv, toJson } from './statement-export.js'
import { MAX_HELD_SHOWN, MAX_ROWS_READ_FOR_STUCK, MAX_STUCK_COUNTED, STUCK_AFTER_MS } from './limits.js'

/** What a view reads: the engine's parts, never to change them. */
type Parts = Readonly<EngineParts>

// ---- settlement ----

export function balances(p: Parts) {
  return p.state.books.allBalances().map((b) => ({ ...b, creditBlocked: p.fulfilment.isBlocked(b.counterparty) }))
}

export function statements(p: Parts) {
  return p.state.books.statements()
}

/** A statement by its hash, a prefix of it, or its id. */
export async function findStatement(p: Parts, ref: string): Promise<StatementState> {
  const all = await p.state.books.statements()
  const found = all.filter((s) => s.hash === ref || s.statement.id === ref || (ref.length >= 8 && s.hash.startsWith(ref)))
  if (found.length !== 1) throw new RefusedError(`${found.length} statements match ${ref}`)
  return found[0] as StatementState
}

/** CSV or JSON of one statement, or of every statement issued or received in a time range. */
export async function exportStatements(p: Parts, format: 'csv' | 'json', ref?: string, fromMs = 0, toMs = Number.MAX_SAFE_INTEGER): Promise<string> {
  const states = ref ? [await findStatement(p, ref)] : (await p.state.books.statements()).filter((s) => s.statement.time >= fromMs && s.statement.time < toMs)
  const rows = []
  for (const state of states) {
    rows.push(...statementRows(state, lineStatusOf(await p.state.books.linesFor(p.o.identity.id, feeLinesOf(state.statement)))))
  }
  return format === 'csv' ? toCsv(rows) : toJson(rows)
}

export function identity(p: Parts): IdentityReply {
  return { id: p.o.identity.id, name: p.o.name, boxKey: toBase64url(p.o.box.publicKey), addrs: p.o.addrs(), terms: p.federation.termsHash }
}

export function partners(p: Parts): PartnerStatus[] {
  return p.federation.partners.map((id) => {
    const view = p.liveness.view(id)
    const head = p.replication.headOf(id)
    return {
      id,
      name: p.federation.cardOf(id)?.name ?? id,
      connected: p.o.transport.isConnected(id),
      lastHeartbeatAt: view.lastHeartbeatAt,
      platform: view.platform,
      ackedSeq: p.replication.ackedBy(id),
      theirHead: { seq: head.seq, hash: head.hash },
      quarantined: p.replication.isQuarantined(id),
      phase: p.failover.views().get(id)?.view.phase ?? 'healthy',
      epoch: p.failover.views().get(id)?.view.epoch ?? 0,
    }
  })
}

/** This shop as its node sees it: fence, takeover, terms and orders that wait too long. */
export async function selfStatus(p: Parts): Promise<SelfStatus> {
  const me = p.o.identity.id
  const now = p.o.clock.now()
  const { pending } = p.state.orders.countsOf(me)
  let stuck = 0
  let read = 0
  if (pending > 0) {
    for await (const row of p.state.orders.range(me)) {
      if (++read > MAX_ROWS_READ_FOR_STUCK || stuck >= MAX_STUCK_COUNTED) break
      if (row.state === 'escrowed' && row.record.paidAt < now - STUCK_AFTER_MS) stuck++
    }
  }
  const epoch = p.failover.epoch()
  const authority = p.failover.takenOverAuthority()
  const report = authority ? p.incidents.list().find((r) => r.role === 'origin' && r.epoch === epoch) : undefined
  const terms = p.federation.terms
  const reporting = p.failover.healthReporting()
  return {
    id: me,
    name: p.o.name,
    platform: p.failover.platformHealth(),
    health: {
      lastReportAt: reporting.lastReport?.at ?? null,
      source: reporting.lastReport?.source ?? null,
      silent: reporting.silent,
      silentAfterMs: healthSilenceMs(terms.timing),
    },
    fenced: p.failover.isFenced(),
    epoch,
    takenOver: authority
      ? {
          how: authority.kind,
          certifiedBy: authority.kind === 'certificate' ? authority.certificate.votes.map((v) => v.body.voter) : [],
          since: authorityStart(authority),
          fulfillers: Object.keys(report?.fulfillers ?? {}),
        }
      : null,
    terms: { id: terms.id, revision: terms.revision, hash: p.federation.termsHash },
    pending,
    stuck,
    stuckAfterMs: STUCK_AFTER_MS,
    unserved: p.coverage.view(),
    feed: feedStatus(p),
    revocations: revocationStatus(p),
  }
}

/** Each revocation, with the keys of ours the revoked party still holds (the operator voids them in the shop). */
function revocationStatus(p: Parts): SelfStatus['revocations'] {
  const me = p.o.identity.id
  const ours = p.federation.terms.skus.filter((s) => s.shop === me)
  return p.revocations.views().map((v) => ({
    partner: v.partner,
    by: v.by.map((b) => ({ ...b })),
    needed: v.needed,
    inForce: v.inForce,
    keysHeld: v.partner === me ? 0 : ours.reduce((n, s) => n + p.state.keys.outstanding(me, s.sku, v.partner), 0),
  }))
}

function feedStatus(p: Parts): SelfStatus['feed'] {
  const r = p.rejoin.status()
  return { seq: r.head, rejoining: r.reason, confirmed: [...r.confirmed], waiting: [...r.waiting], rebuilt: r.rebuilt, notRebuilt: { ...r.notRebuilt } }
}

export async function escrow(p: Parts) {
  const origins = [p.o.identity.id, ...p.federation.partners]
  return { ownSeq: p.writer.state.seq, escrow: origins.map((origin) => ({ origin, ...p.state.orders.countsOf(origin) })) }
}

export async function listEscrow(p: Parts, origin: ShopId, after: string | undefined, limit: number) {
  const orders = []
  for await (const row of p.state.orders.range(origin, { ...(after ? { gt: `${origin}!${after}` } : {}), limit })) {
    const r = row.record
    orders.push({
      origin: row.origin,
      order: r.order,
      sku: r.sku,
      qty: r.qty,
      amount: r.amount,
      paidAt: r.paidAt,
      buyer: r.buyer,
      state: row.state,
      seq: row.seq,
    })
  }
  return { orders, next: orders.length === limit ? (orders.at(-1)?.order ?? null) : null }
}

export function feeds(p: Parts): FeedHeadView[] {
  const own = p.writer.state
  return [
    { author: own.author, seq: own.seq, hash: own.hash, verified: true },
    ...p.federation.partners.map((partner) => {
      const head = p.replication.headOf(partner)
      return { author: partner, seq: head.seq, hash: head.hash, verified: !p.replication.isQuarantined(partner) }
    }),
  ]
}

export function incidents(p: Parts): IncidentReport[] {
  return p.incidents.list()
}

/**
 * What partners sent that we refused (kept per partner up to a limit), and the receipts we hold
 * until what they wait for is known (their epoch's authority, the order, the keys): evidence for
 * the operator, oldest first.
 */
export async function refusals(p: Parts): Promise<RefusalView[]> {
  const refused = (await p.state.refusals.list()).map((r) => ({ ...r, held: false }))
  const held = (await p.state.receipts.allHeld(MAX_HELD_SHOWN)).map((h) => ({
    from: h.fulfiller,
    kind: 'receipt' as const,
    origin: h.receipt.origin,
    order: h.receipt.order,
    epoch: h.receipt.epoch,
    seq: h.seq,
    reason: `held: ${h.reason}`,
    at: h.heldAt,
    held: true,
  }))
  return [...refused, ...held].sort((a, b) => a.at - b.at)
}

/** Our keys per partner and sku: what each holds now, per allotment, and what it delivered or returned. */
export async function holdings(p: Parts): Promise<HoldingView[]> {
  const bySkuHolder = new Map<string, HoldingView>()
  for (const row of await p.state.keys.ownRows()) {
    const id = `${row.holder}!${row.sku}`
    let view = bySkuHolder.get(id)
    if (!view) {
      view = { holder: row.holder, sku: row.sku, consigned: 0, held: 0, reserved: 0, delivered: 0, returned: 0, allotments: [] }
      bySkuHolder.set(id, view)
    }
    view.consigned++
    const held = row.state === 'consigned' ? 1 : 0
    if (row.state === 'consigned') view.held++
    else if (row.state === 'reserved') view.reserved++
    else if (row.state === 'delivered') view.delivered++
    else view.returned++
    const allotment = view.allotments.find((a) => a.allotment === row.allotment)
    if (allotment) {
      allotment.consigned++
      allotment.held += held
    } else view.allotments.push({ allotment: row.allotment, consigned: 1, held })
  }
  return [...bySkuHolder.values()].sort((a, b) => a.holder.localeCompare(b.holder) || a.sku.localeCompare(b.sku))
}

export async function exposedKeys(p: Parts) {
  return (await p.allotments.exposed()).map((k) => ({ keyId: k.keyId, holder: k.holder, sku: k.sku, allotment: k.allotment, unitValue: k.unitValue }))
}

export async function claim(p: Parts, form: ClaimForm): Promise<ClaimResult> {
  const row = await p.state.orders.get(form.shop, form.order)
  if (!row || (await claimVerifier(form.shop, form.order, form.secret)) !== row.record.claimVerifier) return { status: 'not-found' }
  const me = p.o.identity.id
  if (row.fulfiller === me && (row.state === 'reserved' || row.state === 'delivered')) {
    const keys = await p.state.keys.getMany(form.shop, row.keyIds ?? [])
    return {
      status: 'delivered',
      order: form.order,
      keys: keys.filter((k): k is KeyRow => k !== undefined).map((k) => k.key),
      deliveredAt: row.deliveredAt ?? p.o.clock.now(),
      fulfillerName: p.o.name,
    }
  }
  if (row.state === 'delivered' && row.fulfiller !== undefined && row.fulfiller !== me) {
    // A co-partner (or, at the origin, a partner) delivered it: its receipt named it. We never
    // held those keys (they were sealed to the fulfiller); its claim page shows them.
    const card = p.federation.cardOf(row.fulfiller)
    return { status: 'elsewhere', order: form.order, fulfillerName: card?.name ?? row.fulfiller, claimUrl: card?.claimUrl ?? null }
  }
  const beingDelivered = form.shop === me ? p.failover.takenOverAuthority() !== null : p.fulfilment.isActive(form.shop)
  if (row.state === 'escrowed' && beingDelivered) return { status: 'pending', order: form.order }
  return { status: 'not-found' }
}

export function shopStatus(p: Parts, shop: ShopId): ShopStatusView | undefined {
  const me = p.o.identity.id
  const name = shop === me ? p.o.name : p.federation.cardOf(shop)?.name
  if (name === undefined) return undefined
  const counts = p.state.orders.countsOf(shop)
  let state: ShopStatusView['state'] = 'operating'
  let since: number | null = null
  if (shop === me) {
    if (p.failover.takenOverAuthority()) state = 'partners-delivering'
  } else {
    const w = p.failover.views().get(shop)
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
  for (const partner of [...p.federation.partners, me]) {
    if (partner === shop) continue
    for (const sku of p.federation.terms.skus.filter((s) => s.shop === shop)) deliveredByPartners += p.state.keys.holding(shop, sku.sku, partner).delivered
  }
  return { shop, name, state, since, deliveredByPartners, pending: counts.pending, claimUrl: claimUrlOf(p.o.publicUrl, shop) }
}
