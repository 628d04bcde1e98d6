// Alert kinds, what the engine's events map to, and what each says to the operator in zh-CN and en.
import type { AlertSeverity } from '../config/alerts.js'
import type { EngineEvent } from '../core/events.js'

export interface AlertEvent {
  readonly kind: AlertKind
  /** What the alert is about (a partner, an order); dedup key with `kind`. '' when the node itself. */
  readonly subject: string
  /** Values the texts interpolate, already strings. */
  readonly params: Readonly<Record<string, string>>
}

type Locale = 'zh-CN' | 'en'
type Text = (p: Readonly<Record<string, string>>) => string
interface KindSpec {
  readonly severity: AlertSeverity
  readonly texts: Record<Locale, Text>
}

/** Every alert kind, with its texts; alertOf below says which engine event raises each. */
export const ALERT_KINDS = {
  'own-takeover': {
    severity: 'critical',
    texts: {
      'zh-CN': (p) => `我们的平台已被伙伴接管（第 ${p.epoch} 轮，${p.voters} 个伙伴确认）。`,
      en: (p) => `Our platform has been taken over by partners (epoch ${p.epoch}, ${p.voters} partners confirmed).`,
    },
  },
  suspect: {
    severity: 'warning',
    texts: {
      'zh-CN': (p) => `伙伴 ${p.partner} 疑似宕机：${p.reason}`,
      en: (p) => `Partner ${p.partner} is suspected down: ${p.reason}`,
    },
  },
  certified: {
    severity: 'warning',
    texts: {
      'zh-CN': (p) => `伙伴 ${p.partner} 已被确认宕机（第 ${p.epoch} 轮，${p.voters} 票）。`,
      en: (p) => `Partner ${p.partner} is certified down (epoch ${p.epoch}, ${p.voters} votes).`,
    },
  },
  'taken-over': {
    severity: 'warning',
    texts: {
      'zh-CN': (p) => `我们正在替伙伴 ${p.partner} 接单（第 ${p.epoch} 轮）。`,
      en: (p) => `We are now serving partner ${p.partner}'s orders (epoch ${p.epoch}).`,
    },
  },
  fence: {
    severity: 'critical',
    texts: {
      'zh-CN': (p) => (p.fenced === 'true' ? '我们的店铺已被隔离（停止发货）。' : '我们的店铺已解除隔离。'),
      en: (p) => (p.fenced === 'true' ? 'Our shop is fenced (it stopped delivering).' : 'Our shop is no longer fenced.'),
    },
  },
  handback: {
    severity: 'info',
    texts: {
      'zh-CN': (p) => `伙伴 ${p.partner} 的交还已完成（${p.receipts} 张回执）。`,
      en: (p) => `Handback of partner ${p.partner} is done (${p.receipts} receipts).`,
    },
  },
  fork: {
    severity: 'critical',
    texts: {
      'zh-CN': (p) => `伙伴 ${p.partner} 的日志出现分叉（序号 ${p.seq}），已隔离。`,
      en: (p) => `Partner ${p.partner}'s log forked (seq ${p.seq}); it is quarantined.`,
    },
  },
  duplicate: {
    severity: 'critical',
    texts: {
      'zh-CN': (p) => `订单 ${p.order} 被重复发货（${p.fulfillers}）。`,
      en: (p) => `Order ${p.order} was delivered more than once (${p.fulfillers}).`,
    },
  },
  refused: {
    severity: 'warning',
    texts: {
      'zh-CN': (p) => `拒绝了来自 ${p.partner} 的请求（${p.what}）：${p.reason}`,
      en: (p) => `Refused ${p.what} from ${p.partner}: ${p.reason}`,
    },
  },
  'platform-silent': {
    severity: 'critical',
    texts: {
      'zh-CN': (p) => `店铺适配器已 ${p.seconds} 秒没有上报健康状态。`,
      en: (p) => `The shop adapter sent no health report for ${p.seconds} s.`,
    },
  },
  'order-unserved': {
    severity: 'critical',
    texts: {
      'zh-CN': (p) =>
        `${p.count} 个订单（商品 ${p.sku}）如果店铺现在宕机，没有任何伙伴能够发货（${p.reason === 'sku-not-in-terms' ? '条款不包含这个商品' : '没有伙伴持有足够的卡密'}）：${p.orders}。请寄售卡密（standin allot）或把商品加入条款（standin terms propose --add-sku）。`,
      en: (p) =>
        `${p.count} order(s) of sku ${p.sku} could not be served by any partner if the shop went down now (${p.reason === 'sku-not-in-terms' ? 'the terms do not cover this sku' : 'no partner holds enough keys'}): ${p.orders}. Consign keys (standin allot) or add the sku to the terms (standin terms propose --add-sku).`,
    },
  },
  'mail-failing': {
    severity: 'warning',
    texts: {
      'zh-CN': (p) =>
        p.gaveUp === 'true'
          ? `订单 ${p.order} 的买家邮件 ${p.attempts} 次都没发出去，已放弃；买家仍可在取卡页看到卡密。请检查 SMTP（standin mail test）。`
          : `订单 ${p.order} 的买家邮件发送失败（第 ${p.attempts} 次），稍后重试。请检查 SMTP（standin mail test）。`,
      en: (p) =>
        p.gaveUp === 'true'
          ? `Mail to the buyer of order ${p.order} failed ${p.attempts} times and was given up; the claim page still shows the key. Check SMTP (standin mail test).`
          : `Mail to the buyer of order ${p.order} failed (attempt ${p.attempts}); it will be retried. Check SMTP (standin mail test).`,
    },
  },
  'statement-received': {
    severity: 'info',
    texts: {
      'zh-CN': (p) =>
        `收到伙伴 ${p.partner} 的结算单 ${p.statement}（${p.lines} 行${p.mismatches === '0' ? '，都与我们的账一致' : `，其中 ${p.mismatches} 行与我们的账不符，请提出异议`}）：standin settle show ${p.statement}`,
      en: (p) =>
        `Statement ${p.statement} received from partner ${p.partner} (${p.lines} lines${p.mismatches === '0' ? ', all match our books' : `, ${p.mismatches} do not match our books: dispute them`}): standin settle show ${p.statement}`,
    },
  },
  'statement-disputed': {
    severity: 'warning',
    texts: {
      'zh-CN': (p) => `伙伴 ${p.partner} 对我们的结算单 ${p.statement} 中的 ${p.lines} 行提出异议：standin settle show ${p.statement}`,
      en: (p) => `Partner ${p.partner} disputed ${p.lines} lines of our statement ${p.statement}: standin settle show ${p.statement}`,
    },
  },
  'credit-limit': {
    severity: 'warning',
    texts: {
      'zh-CN': (p) => `伙伴 ${p.partner} 欠我们 ${p.owed}，已到信用额度 ${p.limit}（分）：在它结算之前，我们不再替它接单。`,
      en: (p) => `Partner ${p.partner} owes us ${p.owed}, the credit limit is ${p.limit} (minor units): we take over no more of its orders until it settles.`,
    },
  },
  'drill-failed': {
    severity: 'critical',
    texts: {
      'zh-CN': (p) => `故障演练失败：伙伴 ${p.partner}：${p.reason}`,
      en: (p) => `The failover drill failed for partner ${p.partner}: ${p.reason}`,
    },
  },
  test: {
    severity: 'critical',
    texts: {
      'zh-CN': () => 'Standin 测试告警：此渠道配置正确。',
      en: () => 'Standin test alert: this channel works.',
    },
  },
} as const satisfies Record<string, KindSpec>

export type AlertKind = keyof typeof ALERT_KINDS

export const SEVERITY_RANK: Record<AlertSeverity, number> = { info: 0, warning: 1, critical: 2 }

export function renderAlert(event: AlertEvent, locale: Locale): string {
  const spec: KindSpec = ALERT_KINDS[event.kind]
  return spec.texts[locale](event.params)
}

/** The alert an engine event raises, or null when the operator need not hear about it. */
export function alertOf(event: EngineEvent): AlertEvent | null {
  switch (event.kind) {
    case 'own-takeover':
      return { kind: 'own-takeover', subject: '', params: { epoch: String(event.epoch), voters: String(event.voters.length) } }
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
    case 'drill-failed':
      return { kind: 'drill-failed', subject: event.partner, params: { partner: event.partner, reason: event.reason } }
    case 'order-unserved':
      // One alert per sku per dedup window, however many orders: the fix is per sku.
      return {
        kind: 'order-unserved',
        subject: event.sku,
        params: { sku: event.sku, reason: event.reason, count: String(event.count), orders: event.orders.join(', ') },
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
