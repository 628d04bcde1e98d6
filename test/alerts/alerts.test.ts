// Alerts end to end against local stand-ins of each service (test/alerts/sinks.ts): the real
// services cannot be reached from here, so the sinks check each one's documented request format.
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { Alerter, type AlerterOptions } from '../../node/alerts/alerter.js'
import { type AlertEvent, ALERT_KINDS, type AlertKind, alertOf, renderAlert } from '../../node/alerts/events.js'
import { AlertChannelConfig } from '../../node/config/alerts.js'
import type { MailMessage } from '../../node/core/ports.js'
import { type ServiceKind, type ServiceSink, startServiceSink } from './sinks.js'

const NOW = 1_800_000_000_123
const TOKEN = '123456:SECRET-token-Zx9'
const SIGN = 'SECabcdef0123456789'
const SHOP = 'Moon Shop'

const PARAMS = {
  partner: 'shop-b',
  epoch: '3',
  voters: '2',
  reason: 'no heartbeat',
  receipts: '7',
  seq: '42',
  order: 'ord-9',
  fulfillers: 'shop-b, shop-c',
  fenced: 'true',
  what: 'claim',
  seconds: '90',
  statement: 'st-2026-11',
  sku: 'steam-50',
  count: '3',
  orders: 'ord-9, ord-10, ord-11',
  cause: 'keys',
  pending: '7',
  attempts: '3',
  gaveUp: 'false',
  lines: '12',
  mismatches: '1',
  owed: '500000',
  limit: '500000',
  by: 'shop-a',
  reached: 'false',
  us: 'false',
  revision: '3',
}
const KINDS = Object.keys(ALERT_KINDS) as AlertKind[]
const eventOf = (kind: AlertKind): AlertEvent => ({ kind, subject: `s-${kind}`, params: PARAMS })

const sinks: ServiceSink[] = []
afterEach(async () => {
  while (sinks.length > 0) await sinks.pop()?.close()
})

async function sinkFor(kind: ServiceKind): Promise<ServiceSink> {
  const sink = await startServiceSink(kind, { token: TOKEN, signSecret: SIGN, chatId: '-1001', nowMs: NOW })
  sinks.push(sink)
  return sink
}

function channelFor(kind: ServiceKind, base: string, locale: 'zh-CN' | 'en'): AlertChannelConfig {
  const common = { id: `c-${kind}`, kind, locale, minSeverity: 'info' }
  const extra = {
    telegram: { chatId: '-1001', apiBase: base },
    bark: { server: base },
    wecom: { url: `${base}/cgi-bin/webhook/send` },
    dingtalk: { url: `${base}/robot/send` },
    feishu: { url: `${base}/open-apis/bot/v2/hook` },
    webhook: { url: `${base}/standin-alerts` },
  }[kind]
  return AlertChannelConfig.parse({ ...common, ...extra })
}

function secretFor(kind: ServiceKind): string {
  return kind === 'dingtalk' || kind === 'feishu' ? `${TOKEN}:${SIGN}` : kind === 'webhook' ? SIGN : TOKEN
}

const warnings: object[] = []
function alerter(options: Partial<AlerterOptions> & Pick<AlerterOptions, 'channels' | 'secrets'>): Alerter {
  return new Alerter({ mailer: null, now: () => NOW, log: { warn: (o) => warnings.push(o) }, shopName: SHOP, sleep: async () => {}, ...options })
}

describe('each channel delivers each alert kind in its documented format', () => {
  const services: ServiceKind[] = ['telegram', 'bark', 'wecom', 'dingtalk', 'feishu', 'webhook']
  for (const service of services) {
    for (const locale of ['zh-CN', 'en'] as const) {
      it(`${service} (${locale})`, async () => {
        const sink = await sinkFor(service)
        const channel = channelFor(service, sink.base, locale)
        // Every kind once: more kinds than the rate limit lets through in one window.
        const a = alerter({ channels: [channel], secrets: { [channel.id]: secretFor(service) }, limits: { perChannelPerWindow: KINDS.length } })
        for (const kind of KINDS) a.raise(eventOf(kind), NOW)
        await a.idle()
        expect(sink.refused).toEqual([])
        expect(sink.accepted).toHaveLength(KINDS.length)
        KINDS.forEach((kind, i) => {
          expect(sink.accepted[i]).toContain(renderAlert(eventOf(kind), locale))
          expect(sink.accepted[i]).toContain(SHOP)
          expect(sink.accepted[i]).not.toContain('undefined')
        })
        expect(a.counts).toMatchObject({ sent: KINDS.length, failed: 0 })
      })
    }
  }

  it('email goes through the Mailer port', async () => {
    const mail: MailMessage[] = []
    const channel = AlertChannelConfig.parse({ id: 'mail', kind: 'email', to: 'owner@moon.example', minSeverity: 'info' })
    const a = alerter({ channels: [channel], secrets: {}, mailer: { send: async (m) => void mail.push(m) }, limits: { perChannelPerWindow: KINDS.length } })
    for (const kind of KINDS) a.raise(eventOf(kind), NOW)
    await a.idle()
    expect(mail.map((m) => m.text)).toEqual(KINDS.map((k) => renderAlert(eventOf(k), 'zh-CN')))
    expect(mail.every((m) => m.to === 'owner@moon.example' && m.subject.includes(SHOP))).toBe(true)
  })

  it('a wrong token is refused by the sink and the failure names neither token nor URL', async () => {
    const sink = await sinkFor('telegram')
    const channel = channelFor('telegram', sink.base, 'en')
    warnings.length = 0
    const a = alerter({ channels: [channel], secrets: { [channel.id]: 'wrong-token' } })
    a.raise(eventOf('fork'), NOW)
    await a.idle()
    expect(a.counts).toMatchObject({ sent: 0, failed: 1 })
    expect(sink.refused.length).toBe(3)
    expect(JSON.stringify(warnings)).not.toContain('wrong-token')
    expect(JSON.stringify(warnings)).toContain('HTTP 400')
  })

  it('an unreachable service: the error does not include the token', async () => {
    const sink = await sinkFor('wecom')
    const base = sink.base
    await sinks.pop()?.close()
    const channel = channelFor('wecom', base, 'en')
    const a = alerter({ channels: [channel], secrets: { [channel.id]: TOKEN } })
    await expect(a.sendNow(channel, eventOf('test'), NOW)).rejects.toThrow(/wecom: request failed/)
    await a.sendNow(channel, eventOf('test'), NOW).catch((err: Error) => expect(err.message).not.toContain(TOKEN))
  })
})

describe('Alerter limits (injected clock)', () => {
  function recording(limits: AlerterOptions['limits'], clock: { now: number }) {
    const mail: MailMessage[] = []
    const channel = AlertChannelConfig.parse({ id: 'mail', kind: 'email', to: 'o@moon.example', minSeverity: 'info' })
    const a = alerter({ channels: [channel], secrets: {}, mailer: { send: async (m) => void mail.push(m) }, limits, now: () => clock.now })
    return { a, mail }
  }

  it('drops the same kind and subject within the dedup window, not after it', async () => {
    const clock = { now: NOW }
    const { a, mail } = recording({ dedupWindowMs: 60_000 }, clock)
    a.raise(eventOf('suspect'), NOW)
    a.raise(eventOf('suspect'), NOW + 59_999)
    a.raise({ ...eventOf('suspect'), subject: 'other' }, NOW + 1)
    a.raise(eventOf('suspect'), NOW + 60_000)
    await a.idle()
    expect(mail).toHaveLength(3)
    expect(a.counts.deduplicated).toBe(1)
  })

  it('rate limits each channel per window, and sends again in the next window', async () => {
    const clock = { now: NOW }
    const { a, mail } = recording({ perChannelPerWindow: 2, rateWindowMs: 3_600_000 }, clock)
    for (const kind of ['suspect', 'certified', 'fork'] as const) a.raise(eventOf(kind), clock.now)
    await a.idle()
    expect(mail).toHaveLength(2)
    expect(a.counts.rateLimited).toBe(1)
    clock.now += 3_600_000
    a.raise(eventOf('fence'), clock.now)
    await a.idle()
    expect(mail).toHaveLength(3)
  })

  it('never blocks: a full queue drops and counts', async () => {
    let release: () => void = () => {}
    const held = new Promise<void>((resolve) => (release = resolve))
    const channel = AlertChannelConfig.parse({ id: 'mail', kind: 'email', to: 'o@moon.example', minSeverity: 'info' })
    const a = alerter({ channels: [channel], secrets: {}, mailer: { send: () => held }, limits: { maxQueued: 1 } })
    for (const kind of ['suspect', 'certified', 'fork', 'fence'] as const) a.raise(eventOf(kind), NOW)
    expect(a.counts.dropped).toBe(2)
    release()
    await a.idle()
    expect(a.counts.sent).toBe(2)
  })

  it('retries a bounded number of times', async () => {
    let calls = 0
    const channel = AlertChannelConfig.parse({ id: 'mail', kind: 'email', to: 'o@moon.example', minSeverity: 'info' })
    const a = alerter({
      channels: [channel],
      secrets: {},
      mailer: {
        send: async () => {
          if (calls++ < 2) throw new Error('busy')
        },
      },
    })
    a.raise(eventOf('fork'), NOW)
    await a.idle()
    expect(a.counts).toMatchObject({ sent: 1, failed: 0 })
    calls = -10
    a.raise(eventOf('fence'), NOW)
    await a.idle()
    expect(a.counts).toMatchObject({ sent: 1, failed: 1 })
  })

  it('stop() aborts the request in flight and the retry waiting, drops the queue, and takes no more', async () => {
    // A local webhook that takes the request and never answers.
    let received!: () => void
    let aborted!: () => void
    const requestIn = new Promise<void>((resolve) => (received = resolve))
    const requestClosed = new Promise<void>((resolve) => (aborted = resolve))
    const server = createServer((req) => {
      req.on('close', aborted)
      received()
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const { port } = server.address() as AddressInfo
    try {
      const hanging = AlertChannelConfig.parse({ id: 'hook', kind: 'webhook', url: `http://127.0.0.1:${port}/standin-alerts`, minSeverity: 'info' })
      const a = new Alerter({
        mailer: null,
        now: () => NOW,
        log: { warn: (o) => warnings.push(o) },
        shopName: SHOP,
        channels: [hanging],
        secrets: { hook: SIGN },
      })
      a.raise(eventOf('fork'), NOW)
      a.raise(eventOf('fence'), NOW)
      await requestIn
      await a.stop()
      await requestClosed
      expect(a.counts).toMatchObject({ sent: 0, failed: 1, dropped: 1 })
      a.raise(eventOf('suspect'), NOW)
      expect(a.counts.dropped).toBe(2)

      // A retry waiting out its backoff (a minute here) ends at stop too.
      let tries = 0
      const channel = AlertChannelConfig.parse({ id: 'mail', kind: 'email', to: 'o@moon.example', minSeverity: 'info' })
      const failing = new Alerter({
        now: () => NOW,
        log: { warn: () => undefined },
        shopName: SHOP,
        channels: [channel],
        secrets: {},
        limits: { retryBackoffMs: 60_000 },
        mailer: {
          send: async () => {
            tries++
            throw new Error('busy')
          },
        },
      })
      failing.raise(eventOf('fork'), NOW)
      await failing.stop()
      expect(tries).toBe(1)
      expect(failing.counts.failed).toBe(1)
    } finally {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
  })

  it('skips channels whose minimum severity the alert does not reach', async () => {
    const mail: MailMessage[] = []
    const channel = AlertChannelConfig.parse({ id: 'mail', kind: 'email', to: 'o@moon.example', minSeverity: 'critical' })
    const a = alerter({ channels: [channel], secrets: {}, mailer: { send: async (m) => void mail.push(m) }, limits: { perChannelPerWindow: KINDS.length } })
    a.raise(eventOf('handback'), NOW)
    a.raise(eventOf('fork'), NOW)
    await a.idle()
    expect(mail).toHaveLength(1)
  })
})

describe('alertOf: engine events to alerts', () => {
  it('maps the events the engine emits and ignores the rest', () => {
    expect(alertOf({ kind: 'own-takeover', epoch: 4, how: 'certificate', voters: [{ voter: 'b' as never, time: 1 }], pending: 7 })).toEqual({
      kind: 'own-takeover',
      subject: '',
      params: { epoch: '4', voters: '1', pending: '7' },
    })
    expect(alertOf({ kind: 'platform-silent', silentMs: 90_400 })?.params.seconds).toBe('90')
    expect(alertOf({ kind: 'refused', from: 'b' as never, what: 'claim', origin: null, order: 'o1', epoch: null, reason: 'late' })?.subject).toBe('b/claim')
    expect(alertOf({ kind: 'order-unserved', sku: 'steam-50', reason: 'no-partner-holds-enough', orders: ['o1', 'o2'], count: 5 })).toEqual({
      kind: 'order-unserved',
      subject: 'steam-50',
      params: { sku: 'steam-50', reason: 'no-partner-holds-enough', cause: 'keys', count: '5', orders: 'o1, o2' },
    })
    expect(alertOf({ kind: 'mail-failing', origin: 'a' as never, order: 'o1', attempts: 8, gaveUp: true })).toEqual({
      kind: 'mail-failing',
      subject: 'gave-up',
      params: { order: 'o1', attempts: '8', gaveUp: 'true' },
    })
    expect(alertOf({ kind: 'statement-received', from: 'b' as never, statement: 'st-1', lines: 3, mismatches: 0 })?.params).toEqual({
      partner: 'b',
      statement: 'st-1',
      lines: '3',
      mismatches: '0',
    })
    expect(alertOf({ kind: 'statement-disputed', by: 'b' as never, statement: 'st-1', lines: 2 })?.subject).toBe('st-1')
    expect(alertOf({ kind: 'credit-limit', origin: 'b' as never, owedMinorUnits: 600, limitMinorUnits: 500 })?.params).toEqual({
      partner: 'b',
      owed: '600',
      limit: '500',
    })
    expect(alertOf({ kind: 'rejoin', phase: 'started', reason: 'restored', seq: 9 })).toEqual({
      kind: 'rejoin-started',
      subject: '',
      params: { reason: 'restored', seq: '9' },
    })
    expect(alertOf({ kind: 'rejoin', phase: 'done', reason: 'recovered', seq: 12 })).toEqual({ kind: 'rejoined', subject: '', params: { seq: '12' } })
    // Revocations (D94): another party's signature asks the operator to decide; the quorum is critical.
    expect(alertOf({ kind: 'revocation', partner: 'shop-c', by: 'shop-a', reason: 'key stolen', reached: false })).toEqual({
      kind: 'revocation',
      subject: 'shop-c/shop-a',
      params: { partner: 'shop-c', by: 'shop-a', reason: 'key stolen', reached: 'false' },
    })
    expect(alertOf({ kind: 'partner-revoked', partner: 'shop-c', by: ['shop-a', 'shop-b'], us: false })).toEqual({
      kind: 'partner-revoked',
      subject: 'shop-c',
      params: { partner: 'shop-c', by: 'shop-a, shop-b', us: 'false' },
    })
    expect(alertOf({ kind: 'ack', partner: 'b' as never, seq: 1 })).toBeNull()
  })
})
