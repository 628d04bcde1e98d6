// Incident reports, built from the engine's own events: every node that took part in an outage
// keeps one per (origin, epoch). Bounded: the timeline keeps its first entries and the
// per-delivery detail is folded into per-fulfiller statistics.
import { assert, type ShopId } from '../../protocol/index.js'
import type { FulfillerStats, IncidentReport, IncidentStep } from './api-schemas.js'
import { t } from './i18n/index.js'
import type { EngineEvent } from './events.js'
import type { Startable } from './lifecycle.js'
import type { Store } from './ports.js'
import { MAX_DUPLICATES_LISTED, MAX_TIMELINE_ENTRIES } from './limits.js'

const incidentKey = (origin: ShopId, epoch: number) => `${origin}!${String(epoch).padStart(12, '0')}`

/** What the sweep needs of our failover view of one origin. */
export interface OriginPhase {
  readonly phase: 'healthy' | 'suspect' | 'certified' | 'taken-over' | 'handed-back'
  readonly epoch: number
}

export class Incidents implements Startable {
  private readonly reports = new Map<string, IncidentReport>()
  private readonly dirty = new Set<string>()
  /** Keys of partner-side reports still open: the sweep looks at these only. */
  private readonly openPartner = new Set<string>()

  constructor(
    private readonly me: ShopId,
    private readonly store: Store,
  ) {}

  async start(): Promise<void> {
    for await (const [key, report] of this.store.range<IncidentReport>('incidents', {})) {
      this.reports.set(key, report)
      if (report.role === 'partner' && report.closedAt === null) this.openPartner.add(key)
    }
  }

  list(): IncidentReport[] {
    const byTime = (x: { at: number }, y: { at: number }) => x.at - y.at
    return [...this.reports.values()].map((r) => ({ ...r, timeline: [...r.timeline].sort(byTime) })).sort((a, b) => a.openedAt - b.openedAt)
  }

  /** The report of (origin, epoch), opened if new; news of the outage reopens one we had closed. */
  private open(origin: ShopId, epoch: number, at: number, reopen = true): IncidentReport {
    const key = incidentKey(origin, epoch)
    let report = this.reports.get(key)
    if (report && report.closedAt !== null && reopen && report.role === 'partner') {
      // Closed as a false alarm, then the takeover turned out to have happened (we heard late).
      report.closedAt = null
      this.openPartner.add(key)
    }
    if (!report) {
      report = {
        id: key,
        origin,
        epoch,
        role: origin === this.me ? 'origin' : 'partner',
        openedAt: at,
        closedAt: null,
        timeline: [],
        fulfillers: {},
        duplicates: [],
        keysUsed: 0,
      }
      this.reports.set(key, report)
      if (report.role === 'partner') this.openPartner.add(key)
    }
    this.dirty.add(key)
    return report
  }

  /** One step of the timeline: its words come from the catalogue (`incident.<kind>`), English here. */
  private note(report: IncidentReport, at: number, kind: IncidentStep, by: ShopId | null, params: Record<string, string> = {}): void {
    if (report.timeline.length < MAX_TIMELINE_ENTRIES) report.timeline.push({ at, what: t('en', `incident.${kind}`, params), kind, params, by })
    assert(report.timeline.length <= MAX_TIMELINE_ENTRIES, `incident ${report.origin}/${report.epoch}: timeline past its limit`)
  }

  onEvent(at: number, event: EngineEvent): void {
    switch (event.kind) {
      case 'suspect':
        this.note(this.open(event.origin, event.epoch, at), at, 'suspect', this.me, {
          reason: event.reason,
          lastHeartbeat: event.lastHeartbeatAt === null ? 'never' : new Date(event.lastHeartbeatAt).toISOString(),
        })
        return
      case 'vote':
        this.note(this.open(event.origin, event.epoch, at), at, 'vote', event.voter)
        return
      case 'certified':
        this.note(this.open(event.origin, event.epoch, at), at, 'certified', null)
        return
      case 'taken-over':
        this.note(this.open(event.origin, event.epoch, at), at, 'taken-over', this.me)
        return
      case 'own-takeover': {
        const report = this.open(this.me, event.epoch, at)
        for (const v of event.voters) this.note(report, v.time, 'vote', v.voter)
        this.note(report, at, event.how === 'request' ? 'own-request' : 'own-certificate', null)
        report.timeline.sort((x, y) => x.at - y.at)
        return
      }
      case 'delivered': {
        const report = this.open(event.origin, event.epoch, at)
        const stats: FulfillerStats = report.fulfillers[event.fulfiller] ?? { orders: 0, keys: 0, firstAt: null, lastAt: null, waitMsSum: 0, waitMsMax: 0 }
        const wait = event.paidAt === undefined ? 0 : Math.max(0, at - event.paidAt)
        if (stats.firstAt === null) this.note(report, at, 'first-delivery', event.fulfiller, { order: event.order })
        report.fulfillers[event.fulfiller] = {
          orders: stats.orders + 1,
          keys: stats.keys + event.keyIds.length,
          firstAt: stats.firstAt ?? at,
          lastAt: at,
          waitMsSum: stats.waitMsSum + wait,
          waitMsMax: Math.max(stats.waitMsMax, wait),
        }
        report.keysUsed += event.keyIds.length
        return
      }
      case 'duplicate': {
        const report = this.open(event.origin, this.latestEpoch(event.origin), at, false)
        if (report.duplicates.length < MAX_DUPLICATES_LISTED) report.duplicates.push({ order: event.order, fulfillers: event.fulfillers })
        this.note(report, at, 'duplicate', null, { order: event.order })
        return
      }
      case 'handback': {
        const report = this.open(event.origin, event.epoch, at, false)
        this.close(report, at)
        this.note(report, at, 'handback', event.origin, { receipts: String(event.receipts) })
        return
      }
      default:
        return
    }
  }

  private close(report: IncidentReport, at: number): void {
    report.closedAt ??= at
    this.openPartner.delete(report.id)
    this.dirty.add(report.id)
  }

  /**
   * Closes partner-side reports whose outage is over by our own view of the origin (every tick).
   * A handback closes its report as it arrives; this closes the rest: a takeover that ended by a
   * later epoch's handback, and a false alarm (votes, no takeover) once the origin is up and every
   * vote is too old to count in a certificate (`voteTtlMs`).
   */
  sweep(now: number, views: ReadonlyMap<ShopId, { readonly view: OriginPhase }>, voteTtlMs: number): void {
    for (const key of this.openPartner) {
      const report = this.reports.get(key)
      const view = report ? views.get(report.origin)?.view : undefined
      if (!report || !view || (view.phase !== 'healthy' && view.phase !== 'handed-back')) continue
      const lastAt = report.timeline.reduce((latest, t) => Math.max(latest, t.at), report.openedAt)
      if (report.epoch <= view.epoch) {
        this.close(report, now)
        this.note(report, now, 'closed-over', null, { epoch: String(view.epoch) })
      } else if (now - lastAt > voteTtlMs) {
        this.close(report, now)
        this.note(report, now, 'closed-false-alarm', null)
      }
    }
  }

  private latestEpoch(origin: ShopId): number {
    let epoch = 0
    for (const r of this.reports.values()) if (r.origin === origin) epoch = Math.max(epoch, r.epoch)
    return epoch
  }

  /** Writes changed reports (unsynced: reports are derived and rebuilt from feeds if lost). */
  async flush(): Promise<void> {
    if (this.dirty.size === 0) return
    const ops = [...this.dirty].map((key) => ({ type: 'put' as const, section: 'incidents' as const, key, value: this.reports.get(key) }))
    this.dirty.clear()
    await this.store.write(ops, { sync: false })
  }
}
