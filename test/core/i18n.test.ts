// The message catalogue: both languages have every message, with the same values in each, and
// every message formats (placeholders, plurals, times in the buyer's zone) without leftovers.
import { IntlMessageFormat } from 'intl-messageformat'
import { describe, expect, it } from 'vitest'
import { DEFAULT_LOCALE, formatParts, LOCALES, type MessageId, t, translator } from '../../node/core/i18n/index.js'
import { EN } from '../../node/core/i18n/messages.en.js'
import { ZH_CN } from '../../node/core/i18n/messages.zh-CN.js'

const CATALOGUES = { 'zh-CN': ZH_CN, en: EN } as const
const IDS = Object.keys(ZH_CN) as MessageId[]

/** Sample values for every placeholder the catalogue uses; a new placeholder needs one here. */
const SAMPLES: Record<string, string | number> = {
  field: 'FIELD',
  confirmed: 'CONFIRMED',
  waiting: 'WAITING',
  types: 'TYPES',
  originName: 'ORIGIN',
  fulfillerName: 'FULFILLER',
  order: 'ORDER-7',
  name: 'NAME',
  time: Date.UTC(2026, 8, 21, 14, 14),
  count: 2,
  seconds: 42,
  claimUrl: 'https://claim.example/',
  shopName: 'SHOP',
  relay: 'RELAY:587',
  // the CLI's messages (cli.*.ts)
  url: 'http://127.0.0.1:8081',
  dir: 'DIR',
  what: 'WHAT',
  names: 'NAMES',
  seq: 'SEQ',
  state: 'STATE',
  epoch: 'EPOCH',
  since: 'SINCE',
  how: 'HOW',
  fulfillers: 'FULFILLERS',
  id: 'ID',
  revision: 'REVISION',
  allotments: 'ALLOTMENTS',
  successor: 'SUCCESSOR',
  hash: 'HASH',
  pending: 'PENDING',
  stuck: 'STUCK',
  minutes: 'MINUTES',
  skus: 'SKUS',
  sku: 'SKU',
  source: 'operator',
  platform: 'PLATFORM',
  last: 'LAST',
  silentSeconds: 'SILENT',
  reason: 'REASON',
  command: 'COMMAND',
  parties: 'PARTIES',
  // the alerts' messages (alerts.*.ts)
  voters: 'VOTERS',
  partner: 'PARTNER',
  fenced: 'true',
  receipts: 'RECEIPTS',
  orders: 'ORDERS',
  gaveUp: 'false',
  attempts: 'ATTEMPTS',
  statement: 'STATEMENT',
  lines: 'LINES',
  mismatches: 'MISMATCHES',
  owed: 'OWED',
  limit: 'LIMIT',
  severity: 'warning',
  cause: 'terms',
  by: 'BY',
  needed: 'NEEDED',
  reached: 'false',
  us: 'false',
  // the console's messages (console.*.ts)
  ok: 'true',
  keys: 'KEYS',
  allotment: 'ALLOTMENT',
  decision: 'DECISION',
  shop: 'SHOPNAME',
  role: 'origin',
  open: 'true',
  opened: 'OPENED',
  closed: 'CLOSED',
  lastHeartbeat: 'LASTBEAT',
  total: 'TOTAL',
  receipt: 'RECEIPT',
  disputed: 'DISPUTED',
  reference: 'REFERENCE',
  next: 'NEXT',
}

/** The value names that only pick a branch of a message ({x, select, …}): they are not in its text. */
function selectors(message: string): Set<string> {
  const names = new Set<string>()
  const walk = (elements: readonly unknown[]) => {
    for (const element of elements as { type: number; value?: unknown; options?: Record<string, { value: unknown[] }> }[]) {
      if (element.type === 5 && typeof element.value === 'string') names.add(element.value)
      for (const option of Object.values(element.options ?? {})) walk(option.value)
    }
  }
  walk(new IntlMessageFormat(message, 'en', undefined, { ignoreTag: true }).getAst())
  return names
}

/** The value names a message uses, however deeply nested in plurals. */
function placeholders(message: string): string[] {
  const names = new Set<string>()
  const walk = (elements: readonly unknown[]) => {
    for (const element of elements as { type: number; value?: unknown; options?: Record<string, { value: unknown[] }> }[]) {
      if (element.type !== 0 && element.type !== 7 && typeof element.value === 'string') names.add(element.value)
      for (const option of Object.values(element.options ?? {})) walk(option.value)
    }
  }
  walk(new IntlMessageFormat(message, 'en', undefined, { ignoreTag: true }).getAst())
  return [...names].sort()
}

describe('i18n catalogue', () => {
  it('zh-CN is the default and first locale; both locales have exactly the same ids', () => {
    expect(LOCALES).toEqual(['zh-CN', 'en'])
    expect(DEFAULT_LOCALE).toBe('zh-CN')
    expect(Object.keys(EN).sort()).toEqual([...IDS].sort())
  })

  it.each(IDS)('%s: same placeholders in every locale, and formats with sample values', (id) => {
    // `count` may only pick a plural form, which a language without plurals does not need.
    const values = (message: string) => placeholders(message).filter((name) => name !== 'count')
    for (const locale of LOCALES) {
      expect(values(CATALOGUES[locale][id]), locale).toEqual(values(ZH_CN[id]))
      for (const name of placeholders(CATALOGUES[locale][id])) expect(Object.keys(SAMPLES), `sample for {${name}}`).toContain(name)
      const text = t(locale, id, SAMPLES)
      expect(text.trim()).not.toBe('')
      expect(text).not.toMatch(/[{}]/)
      for (const name of placeholders(CATALOGUES[locale][id])) {
        if (typeof SAMPLES[name] === 'string' && !selectors(CATALOGUES[locale][id]).has(name)) expect(text).toContain(SAMPLES[name])
      }
    }
  })

  it('plurals follow the language: English says key or keys, Chinese needs no plural', () => {
    expect(t('en', 'claim.delivered.keysLabel', { order: 'o-1', count: 1 })).toBe('Key for order o-1:')
    expect(t('en', 'claim.delivered.keysLabel', { order: 'o-1', count: 3 })).toBe('Keys for order o-1:')
    expect(t('zh-CN', 'claim.delivered.keysLabel', { order: 'o-1', count: 3 })).toBe('订单 o-1 的卡密：')
  })

  it("times are in the buyer's zone, named: Beijing time in Chinese, UTC in English", () => {
    const at = Date.UTC(2026, 8, 21, 14, 14)
    expect(t('zh-CN', 'time.zoned', { time: at })).toBe('2026年9月21日 22:14（北京时间）')
    expect(t('en', 'time.zoned', { time: at })).toBe('21 September 2026 at 14:14 UTC')
  })

  it('values are text: braces, quotes and markup in a value are never read as a message', () => {
    expect(t('en', 'status.title', { name: "{order} 'x' <b>" })).toBe("Status of {order} 'x' <b>")
    expect(t('en', 'status.deliveredCount', { count: 12345 })).toBe('Orders delivered by partners: 12345')
  })

  it('a missing value is an error, not a half-filled sentence; an unknown id does not typecheck', () => {
    expect(() => t('en', 'status.title')).toThrow(/name/)
    // @ts-expect-error: not a message id
    expect(() => t('en', 'status.titel')).toThrow()
  })

  it('translator fixes the locale; formatParts keeps object values for a renderer to mark up', () => {
    expect(translator('en')('claim.title')).toBe("Claim your order's key")
    const link = { href: 'https://claim.example/' }
    const parts = formatParts('en', 'mail.claimPage', { claimUrl: link })
    expect(parts).toContain(link)
    expect(parts.map((part) => (typeof part === 'string' ? part : part.href)).join('')).toBe(t('en', 'mail.claimPage', { claimUrl: link.href }))
  })
})
