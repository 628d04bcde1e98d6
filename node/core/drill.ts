// The fire drill (DESIGN §8, issue 19, D69): before any outage, the origin asks each partner to
// prove it holds, and can read, the unused keys consigned to it, and judges per partner and sku
// what would happen if its platform went down now. Nothing is delivered, written to a feed or
// changed; no key text leaves the holder (the proof is drillProof, checked against the origin's own
// copies). Authority: an origin may ask only about its own keys; a holder answers only the origin,
// at most once per DRILL_MIN_INTERVAL_MS, and a report counts only for the drill it answers.
import {
  assert,
  type DrillReport,
  drillProof,
  type ShopId,
  signDocument,
  type Identity,
  type Signed,
  type DrillRequest,
  MAX_DRILL_ALLOTMENTS,
  MAX_DRILL_KEYS,
  toBase64url,
  verifyDocument,
} from '../../protocol/index.js'
import type { Federation } from './federation.js'
import type { Clock, Logger, Rng, Transport } from './ports.js'
import type { Keys, KeyRow } from './state/keys.js'
import type { Timers } from './lifecycle.js'
import type { EngineEvent } from './events.js'
import type { DrillResultView } from './api-schemas.js'

/** How long the origin waits for a partner's report. */
export const DRILL_REPLY_TIMEOUT_MS = 10_000
/** A holder runs at most one drill per origin this often: each one reads and hashes every key. */
export const DRILL_MIN_INTERVAL_MS = 10_000
/** Drills this node waits on at once (each for every partner). */
export const MAX_PENDING_DRILLS = 16
/** Reports kept for `standin drill` history and the console (newest). */
export const MAX_DRILL_REPORTS_KEPT = 20
/** A report older or newer than this (by its own time, against ours) is not taken. */
const REPORT_TIME_SLACK_MS = DRILL_REPLY_TIMEOUT_MS

/** One drill's result, as the admin API gives it (api-schemas.ts). */
export type DrillResult = DrillResultView
export type DrillPartnerResult = DrillResultView['partners'][number]
export type DrillSkuResult = DrillPartnerResult['skus'][number]

interface Pending {
  readonly request: DrillRequest
  resolve(report: DrillReport | null): void
}

export class Drills {
  private readonly pending = new Map<string, Pending>()
  private readonly lastAnswered = new Map<ShopId, number>()
  private readonly reports: DrillResult[] = []

  constructor(
    private readonly deps: {
      readonly identity: Identity
      readonly federation: Federation
      readonly keys: Keys
      readonly transport: Transport
      readonly clock: Clock
      readonly timers: Timers
      readonly rng: Rng
      readonly logger: Logger
      readonly emit: (at: number, event: EngineEvent) => void
      /** What we owe `partner`, unsettled, in the settlement currency (its credit limit check). */
      readonly owedTo: (partner: ShopId) => number
      /** Scheduled drills with every partner this often; null: only when the operator asks. */
      readonly everyMs: number | null
    },
  ) {}

  private schedule: ReturnType<Timers['set']> | null = null
  private stopped = false

  /** Starts the schedule: the first drill one period after the start, when partners are connected. */
  start(): void {
    const every = this.deps.everyMs
    if (every === null) return
    assert(every >= DRILL_MIN_INTERVAL_MS, 'drill schedule shorter than a holder answers')
    const next = () => {
      if (this.stopped) return
      this.schedule = this.deps.timers.set(every, () => {
        this.schedule = null
        this.run({})
          .catch((error: unknown) => this.deps.logger.warn({ reason: String(error) }, 'scheduled drill not run'))
          .finally(next)
      })
    }
    next()
  }

  private get me(): ShopId {
    return this.deps.identity.id
  }

  /** Drills still waiting end now, unanswered (the engine stops; its timers are gone). */
  stop(): void {
    this.stopped = true
    this.deps.timers.cancel(this.schedule)
    this.schedule = null
    for (const p of [...this.pending.values()]) p.resolve(null)
  }

  history(): DrillResult[] {
    return [...this.reports]
  }

  // ---- origin side ----

  /** Runs a drill with `partner` (or every partner), for `sku` (or every sku). */
  async run(options: { partner?: ShopId; sku?: string }): Promise<DrillResult> {
    const { federation } = this.deps
    const partners = options.partner === undefined ? [...federation.partners] : [options.partner]
    for (const p of partners) assert(federation.isPartner(p), `drill: ${p} is not a partner`)
    if (this.pending.size + partners.length > MAX_PENDING_DRILLS)
      throw new Error(`drill: ${this.pending.size} partner drills already wait; try again in ${DRILL_REPLY_TIMEOUT_MS / 1000} s`)
    const id = `drill-${toBase64url(this.deps.rng.bytes(9))}`
    const at = this.deps.clock.now()
    const results = await Promise.all(partners.map((p) => this.drillOne(id, p, options.sku ?? null)))
    const result: DrillResult = { id, at, ok: results.every((r) => r.ok), partners: results }
    this.reports.push(result)
    if (this.reports.length > MAX_DRILL_REPORTS_KEPT) this.reports.shift()
    for (const r of results) if (!r.ok) this.deps.emit(this.deps.clock.now(), { kind: 'drill-failed', partner: r.partner, reason: r.reason ?? 'failed' })
    return result
  }

  private async drillOne(id: string, partner: ShopId, sku: string | null): Promise<DrillPartnerResult> {
    const name = this.deps.federation.cardOf(partner)?.name ?? partner
    const request: DrillRequest = { origin: this.me, holder: partner, id, nonce: toBase64url(this.deps.rng.bytes(32)), sku, time: this.deps.clock.now() }
    const signed = signDocument('drill-request', request, this.deps.identity)
    // What it should hold, read before asking: the report answers for the keys as they are now.
    const expected = await this.expectedAt(partner, sku)
    const key = `${id}|${partner}`
    const report = await new Promise<DrillReport | null>((resolve) => {
      const timer = this.deps.timers.set(DRILL_REPLY_TIMEOUT_MS, () => finish(null))
      const finish = (value: DrillReport | null) => {
        this.deps.timers.cancel(timer)
        this.pending.delete(key)
        resolve(value)
      }
      this.pending.set(key, { request, resolve: finish })
      if (!this.deps.transport.send(partner, 'control', { type: 'drill.request', request: signed })) finish(null)
    })
    if (report === null)
      return {
        partner,
        name,
        ok: false,
        reason: `no answer within ${DRILL_REPLY_TIMEOUT_MS / 1000} s (not connected, or not running)`,
        skus: this.unanswered(expected),
      }
    if (report.refused !== null) return { partner, name, ok: false, reason: `refused: ${report.refused}`, skus: this.unanswered(expected) }
    const skus = this.judge(partner, report, expected)
    const failed = skus.filter((s) => !s.ok)
    return { partner, name, ok: failed.length === 0, reason: failed.length === 0 ? null : failed.map((s) => `${s.sku}: ${s.reason}`).join('; '), skus }
  }

  /** A holder's report: for our partner's drill we are waiting on, signed by that holder. */
  onReport(from: ShopId, raw: Signed<DrillReport>): void {
    const checked = verifyDocument('drill-report', raw)
    if (!checked.ok) return this.deps.logger.warn({ from, reason: checked.error.message }, 'drill report refused')
    const report = checked.value.body
    const pending = this.pending.get(`${report.id}|${from}`)
    if (!pending || report.holder !== from || report.origin !== this.me || report.nonce !== pending.request.nonce) return
    if (Math.abs(report.time - this.deps.clock.now()) > REPORT_TIME_SLACK_MS) return
    pending.resolve(report)
  }

  /** Our own rows of keys consigned to `holder` and not delivered or returned, by sku. */
  private async expectedAt(holder: ShopId, sku: string | null): Promise<Map<string, KeyRow[]>> {
    const bySku = new Map<string, KeyRow[]>()
    for (const row of await this.deps.keys.consignedTo(holder)) {
      if (sku !== null && row.sku !== sku) continue
      bySku.set(row.sku, [...(bySku.get(row.sku) ?? []), row])
    }
    if (sku !== null && !bySku.has(sku)) bySku.set(sku, [])
    return bySku
  }

  private unanswered(expected: Map<string, KeyRow[]>): DrillSkuResult[] {
    return [...expected].map(([sku, rows]) => ({
      sku,
      expected: rows.length,
      held: 0,
      proofOk: false,
      wouldServe: false,
      servesUpTo: 0,
      ok: false,
      reason: 'no report',
    }))
  }

  /**
   * Per sku: the proof checked against our own copies, and what an outage now would bring: the
   * partner serves at most its proven keys and the terms' orders per outage, and nothing at all
   * once what we owe it reached the credit limit (it takes over no more until we settle).
   */
  private judge(partner: ShopId, report: DrillReport, expected: Map<string, KeyRow[]>): DrillSkuResult[] {
    const terms = this.deps.federation.terms
    const owed = this.deps.owedTo(partner)
    const creditLimit = terms.settlement.creditLimit.minorUnits
    const out: DrillSkuResult[] = []
    for (const [sku, rows] of expected) {
      const ours = new Map(rows.map((r) => [r.keyId, r]))
      const named = report.allotments.filter((a) => a.sku === sku)
      const wouldServe = terms.skus.some((s) => s.shop === this.me && s.sku === sku) && terms.limits.maxOrdersPerOutage > 0
      let held = 0
      let proofOk = true
      let reason: string | null = null
      // Each key counts once: a key named twice would make up for one it lost.
      const seen = new Set<string>()
      for (const a of named) {
        const mine = a.keyIds.map((k) => ours.get(k))
        const twice = a.keyIds.find((k) => seen.has(k) || !seen.add(k))
        if (twice !== undefined) {
          proofOk = false
          reason = `names key ${twice} more than once`
          continue
        }
        if (mine.some((r) => r === undefined || r.allotment !== a.allotment)) {
          proofOk = false
          reason = `names keys we did not consign to it in allotment ${a.allotment}`
          continue
        }
        if (drillProof(report.nonce, mine as KeyRow[]) !== a.proof) {
          proofOk = false
          reason = `the proof for allotment ${a.allotment} does not match our keys: it cannot read them`
          continue
        }
        held += a.keyIds.length
      }
      if (reason === null && held < rows.length) reason = `holds ${held} of the ${rows.length} keys we consigned to it (lost, or reserved in a takeover)`
      if (reason === null && !wouldServe) reason = 'the terms in force do not let it deliver this sku'
      if (reason === null && owed >= creditLimit)
        reason = `we owe it ${owed}, the credit limit is ${creditLimit} (minor units): it takes over nothing until we settle`
      if (rows.length === 0 && reason === null) reason = 'we consigned it no keys of this sku'
      const servesUpTo = wouldServe && owed < creditLimit ? Math.min(held, terms.limits.maxOrdersPerOutage) : 0
      out.push({ sku, expected: rows.length, held, proofOk, wouldServe, servesUpTo, ok: reason === null, reason })
    }
    return out
  }

  // ---- holder side ----

  /** An origin asks us to prove the keys it consigned to us: one answer per origin per interval. */
  onRequest(from: ShopId, raw: Signed<DrillRequest>): void {
    const checked = verifyDocument('drill-request', raw)
    if (!checked.ok) return this.deps.logger.warn({ from, reason: checked.error.message }, 'drill request refused')
    const request = checked.value.body
    // Only the origin itself asks about its keys, and only of us.
    if (request.origin !== from || request.holder !== this.me || !this.deps.federation.isPartner(from)) return
    const now = this.deps.clock.now()
    const last = this.lastAnswered.get(from)
    if (last !== undefined && now - last < DRILL_MIN_INTERVAL_MS)
      return this.answer(request, [], `one drill per ${DRILL_MIN_INTERVAL_MS / 1000} s; try again shortly`)
    this.lastAnswered.set(from, now)
    // Past the report's bounds the rest goes unnamed: the origin then sees fewer than it consigned.
    const byAllotment = new Map<string, KeyRow[]>()
    let named = 0
    for (const row of this.deps.keys.freeOf(from)) {
      if (request.sku !== null && row.sku !== request.sku) continue
      if (named >= MAX_DRILL_KEYS || (!byAllotment.has(row.allotment) && byAllotment.size >= MAX_DRILL_ALLOTMENTS)) break
      byAllotment.set(row.allotment, [...(byAllotment.get(row.allotment) ?? []), row])
      named++
    }
    const allotments = [...byAllotment].map(([allotment, rows]) => ({
      allotment,
      sku: (rows[0] as KeyRow).sku,
      keyIds: rows.map((r) => r.keyId),
      proof: drillProof(request.nonce, rows),
    }))
    this.answer(request, allotments, null)
  }

  private answer(request: DrillRequest, allotments: DrillReport['allotments'], refused: string | null): void {
    const report: DrillReport = {
      origin: request.origin,
      holder: this.me,
      id: request.id,
      nonce: request.nonce,
      time: this.deps.clock.now(),
      terms: this.deps.federation.termsHash,
      allotments,
      refused,
    }
    this.deps.transport.send(request.origin, 'control', { type: 'drill.report', report: signDocument('drill-report', report, this.deps.identity) })
  }
}
