// Alert kinds and their severity, and which engine events raise them. What each says, in zh-CN and
// en, is in the catalogue (node/core/i18n/alerts.*.ts).
import type { AlertSeverity } from '../config/alerts.js'
import type { EngineEvent } from '../core/events.js'
import { type Locale, t } from '../core/i18n/index.js'

export interface AlertEvent {
  readonly kind: AlertKind
  /** What the alert is about (a partner, an order); dedup key with `kind`. '' when the node itself. */
  readonly subject: string
  /** Values the texts interpolate, already strings. */
  readonly params: Readonly<Record<string, string>>
}

/**
 * Every alert kind and its severity; alertOf below says which engine event raises each. What each
 * says, in zh-CN and en, is in the catalogue (node/core/i18n/alerts.*.ts, ids `alert.<kind>`).
 */
export const ALERT_KINDS = {
  'own-takeover': 'critical',
  suspect: 'warning',
  certified: 'warning',
  'taken-over': 'warning',
  fence: 'critical',
  handback: 'info',
  fork: 'critical',
  duplicate: 'critical',
  refused: 'warning',
  'platform-silent': 'critical',
  'order-unserved': 'critical',
  'mail-failing': 'warning',
  'statement-received': 'info',
  'statement-disputed': 'warning',
  'credit-limit': 'warning',
  'drill-failed': 'critical',
  'rejoin-started': 'critical',
  rejoined: 'info',
  revocation: 'warning',
  'partner-revoked': 'critical',
  removed: 'critical',
  'identity-taken': 'critical',
  test: 'critical',
} as const satisfies Record<string, AlertSeverity>

export type AlertKind = keyof typeof ALERT_KINDS

export const SEVERITY_RANK: Record<AlertSeverity, number> = { info: 0, warning: 1, critical: 2 }

export function renderAlert(event: AlertEvent, locale: Locale): string {
  return t(locale, `alert.${event.kind}`, event.params)
}

/** The alert an engine event raises, or null when the operator need not hear about it. */
export function alertOf(event: EngineEvent): AlertEvent | null {
  switch (event.kind) {
    case 'own-takeover':
      return { kind: 'own-takeover', subject: '', params: { epoch: String(event.epoch), voters: String(event.voters.length), pending: String(event.pending) } }
    case 'suspect':
      return { kind: 'suspect', subject: event.origin, params: { partner: event.origin, reason: event.reason } }
    case 'certified':
      return { kind: 'certified', subject: event.origin, params: { partner: event.origin, epoch: String(event.epoch), voters: String(event.voters.length) } }
    case 'taken-over':
      return { kind: 'taken-over', subject: event.origin, params: { partner: event.origin, epoch: String(event.epoch) } }
    case 'fence':
      return { kind: 'fence', subject: String(event.fenced), params: { fenced: String(event.fenced) } }
    case 'handback':
      return { kind: 'handback', subject: event.origin, params: { partner: event.origin, receipts: String(event.receipts) } }
    case 'fork':
      return { kind: 'fork', subject: event.author, params: { partner: event.author, seq: String(event.seq) } }
    case 'duplicate':
      return { kind: 'duplicate', subject: event.order, params: { order: event.order, fulfillers: event.fulfillers.join(', ') } }
    case 'refused':
      // Summarised: one alert per partner and kind of request per dedup window, not one per order.
      return { kind: 'refused', subject: `${event.from}/${event.what}`, params: { partner: event.from, what: event.what, reason: event.reason } }
    case 'rejoin':
      // After a restore (D92): escrow waits for every partner; the operator must see who is missing.
      return event.phase === 'started'
        ? { kind: 'rejoin-started', subject: '', params: { reason: event.reason, seq: String(event.seq) } }
        : { kind: 'rejoined', subject: '', params: { seq: String(event.seq) } }
    case 'revocation':
      // Another party signed: the operator decides whether to sign too (D94).
      return {
        kind: 'revocation',
        subject: `${event.partner}/${event.by}`,
        params: { partner: event.partner, by: event.by, reason: event.reason, reached: String(event.reached) },
      }
    case 'partner-revoked':
      return { kind: 'partner-revoked', subject: event.partner, params: { partner: event.partner, by: event.by.join(', '), us: String(event.us) } }
    case 'drill-failed':
      return { kind: 'drill-failed', subject: event.partner, params: { partner: event.partner, reason: event.reason } }
    case 'order-unserved':
      // One alert per sku per dedup window, however many orders: the fix is per sku.
      return {
        kind: 'order-unserved',
        subject: event.sku,
        params: {
          sku: event.sku,
          reason: event.reason,
          cause: event.reason === 'sku-not-in-terms' ? 'terms' : 'keys',
          count: String(event.count),
          orders: event.orders.join(', '),
        },
      }
    case 'platform-silent':
      return { kind: 'platform-silent', subject: '', params: { seconds: String(Math.round(event.silentMs / 1000)) } }
    case 'mail-failing':
      // One per dedup window while the relay fails, whichever order it failed on.
      return {
        kind: 'mail-failing',
        subject: event.gaveUp ? 'gave-up' : 'retrying',
        params: { order: event.order, attempts: String(event.attempts), gaveUp: String(event.gaveUp) },
      }
    case 'statement-received':
      return {
        kind: 'statement-received',
        subject: event.statement,
        params: { partner: event.from, statement: event.statement, lines: String(event.lines), mismatches: String(event.mismatches) },
      }
    case 'statement-disputed':
      return { kind: 'statement-disputed', subject: event.statement, params: { partner: event.by, statement: event.statement, lines: String(event.lines) } }
    case 'credit-limit':
      return {
        kind: 'credit-limit',
        subject: event.origin,
        params: { partner: event.origin, owed: String(event.owedMinorUnits), limit: String(event.limitMinorUnits) },
      }
    default:
      return null
  }
}
