// The console's pages past the overview (issue 19 item 2, D72) in a real browser (Debian's
// Chromium, playwright-core) against the real server on a loopback port: allotments, outages,
// settlement (and a statement's page), terms and the alert log, each in zh-CN and en, and each form
// on them. The engine API is faked (test/http/fake-api.ts: it records the calls and keeps a small
// statement book); the terms operations are a recording fake too; the alert log is a real Alerter
// without channels. A field that does not parse is refused with its name, and nothing is called.
import type { AddressInfo } from 'node:net'
import type { FastifyInstance } from 'fastify'
import pino from 'pino'
import { type Browser, type Page } from 'playwright-core'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { Alerter } from '../../node/alerts/alerter.js'
import type { IncidentReport } from '../../node/core/api-schemas.js'
import type { StatementState } from '../../node/core/state/ledger.js'
import { buildHttpServer } from '../../node/http/index.js'
import type { AcceptBody, ProposeBody, TermsOperations, TermsReply } from '../../node/terms/schemas.js'
import { FakeApi } from '../http/fake-api.js'
import { SECRET, TOKEN } from '../http/helpers.js'
import { alice, bob, carol } from '../protocol/fixtures.js'
import { hasChromium, LAUNCH_TIMEOUT_MS, launchChromium, watchedPage } from './chromium.js'

const LANGS = ['zh-CN', 'en'] as const
const T = 1_800_000_000_000
const hash = (c: string) => c.repeat(43)

/** A recording fake of the node's terms (node/terms): one revision in force, one waiting for us. */
class FakeTerms implements TermsOperations {
  readonly proposed: ProposeBody[] = []
  readonly accepted: AcceptBody[] = []
  list(): TermsReply {
    const parties = [
      { id: alice.identity.id, name: 'alice', signed: true },
      { id: bob.identity.id, name: 'bob', signed: true },
    ]
    const skus = [{ shop: alice.identity.id, shopName: 'alice', sku: 'steam-50', allotmentCap: 500, unitValue: { minorUnits: 5000, currency: 'CNY' } }]
    return {
      agreements: [
        { hash: hash('A'), id: 'circle', revision: 1, state: 'in-force', signedByUs: true, createdAt: T, parties, skus },
        {
          hash: hash('B'),
          id: 'circle',
          revision: 2,
          state: 'waiting',
          signedByUs: false,
          createdAt: T + 1,
          parties: [{ ...parties[0]!, signed: false }, parties[1]!],
          skus: [...skus, { ...skus[0]!, shop: bob.identity.id, shopName: 'bob', sku: 'gift-100', unitValue: { minorUnits: 10000, currency: 'CNY' } }],
        },
      ],
    }
  }
  propose(body: ProposeBody) {
    this.proposed.push(body)
    return { token: 'token', hash: hash('C'), missing: [bob.identity.id], next: 'Running partners get it from our node.' }
  }
  accept(body: AcceptBody) {
    this.accepted.push(body)
    return { token: 'token', hash: hash('B'), missing: [], next: 'In force.' }
  }
  handOvers = 0
  handOver() {
    this.handOvers++
    return { token: 'token', hash: hash('D'), missing: [bob.identity.id], next: 'Partners sign on their own.', successor: carol.identity.id }
  }
  refused(): boolean {
    return false
  }
}

function incident(): IncidentReport {
  return {
    id: 'bob!1',
    origin: bob.identity.id,
    epoch: 1,
    role: 'partner',
    openedAt: T,
    closedAt: T + 60_000,
    timeline: [
      // A report written before timeline steps had kinds: its English words are shown as they are.
      { at: T, what: 'an old step in English words', by: null },
      { at: T + 1_000, what: 'signed down-vote', kind: 'vote', params: {}, by: alice.identity.id },
      { at: T + 2_000, what: 'handback: 3 partner deliveries acknowledged', kind: 'handback', params: { receipts: '3' }, by: bob.identity.id },
    ],
    fulfillers: { [alice.identity.id]: { orders: 3, keys: 3, firstAt: T + 1_500, lastAt: T + 1_800, waitMsSum: 9_000, waitMsMax: 4_000 } },
    duplicates: [],
    keysUsed: 3,
  }
}

function statements(): StatementState[] {
  const line = (c: string, order: string) => ({ receipt: hash(c), origin: bob.identity.id, order, fulfiller: alice.identity.id, minorUnits: 5000, time: T })
  const base = { disputed: [], mismatches: [], acceptedMinorUnits: null, payment: null, settledAt: null }
  return [
    {
      ...base,
      hash: hash('R'),
      role: 'received',
      status: 'issued',
      statement: {
        id: 'st-in',
        issuer: bob.identity.id,
        counterparty: alice.identity.id,
        currency: 'CNY',
        terms: hash('A'),
        period: { fromMs: T - 86_400_000, toMs: T },
        lines: [line('x', 'order-1'), line('y', 'order-2')],
        totalMinorUnits: 10_000,
        time: T,
      },
    },
    {
      ...base,
      hash: hash('S'),
      role: 'issued',
      status: 'paid',
      acceptedMinorUnits: 5000,
      payment: { reference: 'bank-77', minorUnits: 5000 },
      statement: {
        id: 'st-out',
        issuer: alice.identity.id,
        counterparty: bob.identity.id,
        currency: 'CNY',
        terms: hash('A'),
        period: { fromMs: T - 86_400_000, toMs: T },
        lines: [line('z', 'order-9')],
        totalMinorUnits: 5000,
        time: T + 1,
      },
    },
  ]
}

describe.skipIf(!hasChromium)('console pages in a real browser', () => {
  let app: FastifyInstance
  let browser: Browser
  let base: string
  const api = new FakeApi()
  const terms = new FakeTerms()
  const alerter = new Alerter({ channels: [], secrets: {}, mailer: null, now: () => T, log: { warn: () => {} }, shopName: 'alice' })

  beforeAll(async () => {
    api.holdingsReply = [
      {
        holder: bob.identity.id,
        sku: 'steam-50',
        consigned: 6,
        held: 3,
        reserved: 0,
        delivered: 2,
        returned: 1,
        allotments: [{ allotment: 'al-77', consigned: 6, held: 3 }],
      },
    ]
    api.exposedReply = [{ keyId: 'key-9', holder: bob.identity.id, sku: 'steam-50', allotment: 'al-77', unitValue: { minorUnits: 5000, currency: 'CNY' } }]
    api.incidentsReply = [incident()]
    api.balancesReply = [{ counterparty: bob.identity.id, currency: 'CNY', owedToUs: 5000, owedByUs: 10_000, disputed: 0, creditBlocked: true }]
    // The same event twice: sent once (to no channel), then dropped as a repeat.
    alerter.raise({ kind: 'suspect', subject: bob.identity.id, params: { partner: 'bob', reason: 'silent' } }, T)
    alerter.raise({ kind: 'suspect', subject: bob.identity.id, params: { partner: 'bob', reason: 'silent' } }, T + 1_000)
    app = await buildHttpServer({ api, terms, alerts: alerter, adapterSecret: SECRET, adminToken: TOKEN, logger: pino({ level: 'silent' }) })
    await app.listen({ host: '127.0.0.1', port: 0 })
    base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
    browser = await launchChromium()
  }, LAUNCH_TIMEOUT_MS + 10_000)

  beforeEach(() => {
    api.statementBook.splice(0, api.statementBook.length, ...statements())
  })

  afterAll(async () => {
    await browser?.close()
    await app?.close()
  })

  /** A logged-in page in `lang`, recording CSP violations and failed requests. */
  async function open(lang: (typeof LANGS)[number], path: string): Promise<{ page: Page; problems: string[]; close: () => Promise<void> }> {
    const { ctx, page, problems } = await watchedPage(browser, lang)
    const link = await app.inject({ method: 'POST', url: '/v1/admin/console/link', headers: { authorization: `Bearer ${TOKEN}` }, payload: {} })
    await page.goto(`${base}${(link.json() as { path: string }).path}`)
    await page.goto(`${base}${path}?lang=${lang}`)
    expect(await page.getAttribute('html', 'lang')).toBe(lang)
    return { page, problems, close: () => ctx.close() }
  }

  /** Submits by clicking `selector` and waits for the page the form leads to. */
  async function submit(page: Page, selector: string, path: string): Promise<string> {
    await Promise.all([page.waitForURL(`${base}${path}`), page.click(selector)])
    return (await page.textContent('main')) ?? ''
  }

  const callsOf = (method: string) => api.calls.filter((c) => c.method === method)

  it.each(LANGS)('allotments (%s): holdings per partner and allotment; consign, recall and decide on a returned key', async (lang) => {
    const { page, problems, close } = await open(lang, '/console/allotments')
    const text = (await page.textContent('main')) ?? ''
    expect(text).toContain(lang === 'en' ? 'What each partner holds' : '各伙伴保管情况')
    expect(text).toContain('al-77')
    expect(text).toContain('key-9')
    expect(text).toContain('50.00 CNY')

    const consigns = callsOf('consign').length
    await page.selectOption('#consign-holder', bob.identity.id)
    await page.fill('#consign-sku', 'steam-50')
    await page.fill('#consign-count', '4')
    const consigned = await submit(page, '#consign-submit', '/console/allotments')
    expect(callsOf('consign').slice(consigns)).toEqual([{ method: 'consign', args: [bob.identity.id, 'steam-50', 4] }])
    expect(consigned).toContain(lang === 'en' ? 'Consigned 4 keys of steam-50 to bob' : '已向 bob 寄存 steam-50 卡密 4 个')

    const recalls = callsOf('recall').length
    await submit(page, 'button[data-recall="al-77"]', '/console/allotments')
    expect(callsOf('recall').slice(recalls)).toEqual([{ method: 'recall', args: [bob.identity.id, 'al-77'] }])

    const decisions = callsOf('decideKeys').length
    const decided = await submit(page, 'button[data-decide="key-9:bill"]', '/console/allotments')
    expect(callsOf('decideKeys').slice(decisions)).toEqual([{ method: 'decideKeys', args: [['key-9'], 'bill'] }])
    expect(decided).toContain(lang === 'en' ? 'Bill the partner' : '向伙伴记账')
    expect(problems).toEqual([])
    await close()
  })

  it.each(LANGS)('outages (%s): the timeline in the reader’s words, fulfillers, and the operator’s word on the platform', async (lang) => {
    const { page, problems, close } = await open(lang, '/console/outages')
    const text = (await page.textContent('main')) ?? ''
    expect(text).toContain(lang === 'en' ? 'signed down-vote' : '签署了故障投票')
    expect(text).toContain(lang === 'en' ? 'handback: 3 partner deliveries acknowledged' : '交还：已确认 3 笔伙伴代发')
    expect(text).toContain('an old step in English words')
    expect(text).toContain(lang === 'en' ? 'a partner’s outage' : '伙伴的故障')
    expect(text).toContain('3.0') // average wait of alice's 3 deliveries, in seconds

    const reports = callsOf('operatorReportsPlatform').length
    const done = await submit(page, '#platform-down', '/console/outages')
    expect(callsOf('operatorReportsPlatform').slice(reports)).toEqual([{ method: 'operatorReportsPlatform', args: ['down'] }])
    expect(done).toContain(lang === 'en' ? 'Reported our platform down' : '已报告平台故障')
    await submit(page, '#platform-up', '/console/outages')
    expect(callsOf('operatorReportsPlatform').slice(reports + 1)).toEqual([{ method: 'operatorReportsPlatform', args: ['up'] }])
    expect(problems).toEqual([])
    await close()
  })

  it.each(LANGS)('settlement (%s): balances, issue, accept with a disputed line, pay, confirm, export', async (lang) => {
    const { page, problems, close } = await open(lang, '/console/settlement')
    const text = (await page.textContent('main')) ?? ''
    expect(text).toContain('100.00 CNY')
    expect(text).toContain(lang === 'en' ? 'over the credit limit' : '已超信用额度')
    expect(text).toContain('st-in')

    const issued = await submit(page, '#issue-submit', '/console/settlement')
    expect(callsOf('issueStatement').at(-1)).toEqual({ method: 'issueStatement', args: [bob.identity.id] })
    expect(issued).toContain(lang === 'en' ? 'Nothing to state' : '没有可开具的内容')

    // The received statement: dispute order-2's line, accept, then record the payment.
    const received = `/console/settlement/s/${hash('R')}`
    await Promise.all([page.waitForURL(`${base}${received}`), page.click('a:text("st-in")')])
    await page.check('input[aria-label="order-2"]')
    await page.selectOption('#dispute-reason', 'already-delivered-by-origin')
    await page.fill('#dispute-note', 'we sent it at 10:02')
    const accepted = await submit(page, '#accept-submit', received)
    expect(callsOf('acceptStatement').at(-1)?.args).toEqual([
      hash('R'),
      [{ receipt: hash('y'), reason: 'already-delivered-by-origin', note: 'we sent it at 10:02' }],
    ])
    expect(accepted).toContain(lang === 'en' ? 'Accepted statement st-in, 1 line(s) disputed' : '已确认对账单 st-in，异议 1 行')
    expect(accepted).toContain(lang === 'en' ? 'we delivered it ourselves' : '我们自己已发货')
    await page.fill('#pay-reference', 'alipay-2026-1204')
    const paid = await submit(page, '#pay-submit', received)
    expect(callsOf('payStatement').at(-1)?.args).toEqual([hash('R'), 'alipay-2026-1204'])
    expect(paid).toContain('alipay-2026-1204')

    // The issued statement the partner paid: confirm.
    const issuedPath = `/console/settlement/s/${hash('S')}`
    await page.goto(`${base}${issuedPath}`)
    const confirmed = await submit(page, '#confirm-submit', issuedPath)
    expect(callsOf('confirmStatement').at(-1)?.args).toEqual([hash('S')])
    expect(confirmed).toContain(lang === 'en' ? 'Statement st-out is settled' : '对账单 st-out 已结清')

    const csv = await page.request.get(`${base}/console/settlement/export/csv`)
    expect(csv.status()).toBe(200)
    expect(csv.headers()['content-disposition']).toContain('standin-statements.csv')
    expect(await csv.text()).toContain('statement_id')
    // A statement that is not there: said on the settlement page.
    await page.goto(`${base}/console/settlement/s/${hash('Q')}`)
    expect(new URL(page.url()).pathname).toBe('/console/settlement')
    expect(await page.textContent('main')).toContain('0 statements match')
    expect(problems).toEqual([])
    await close()
  })

  it.each(LANGS)(
    'terms (%s): revisions and signatures; sign the waiting one; propose adding a sku or leaving a party out; hand over to a new identity',
    async (lang) => {
      const { page, problems, close } = await open(lang, '/console/terms')
      const text = (await page.textContent('main')) ?? ''
      expect(text).toContain(lang === 'en' ? 'circle, revision 2: waiting for signatures' : 'circle，修订版 2：等待签署')
      expect(text).toContain('gift-100')
      expect(text).toContain('100.00 CNY')

      const accepted = await submit(page, `button[data-accept="${hash('B')}"]`, '/console/terms')
      expect(terms.accepted.at(-1)).toEqual({ hash: hash('B') })
      expect(accepted).toContain('In force.')

      await page.fill('#propose-add', 'gift-200=200.50')
      await page.fill('#propose-cap', '40')
      await submit(page, '#propose-submit', '/console/terms')
      expect(terms.proposed.at(-1)).toEqual({
        addSkus: [{ sku: 'gift-200', unitMinorUnits: 20_050 }],
        removeSkus: [],
        cap: 40,
        removeParties: [],
        addParties: [],
      })
      // A shop added by the invite it printed (D97): the token goes to the terms as given.
      await page.fill('#propose-add-party', 'standin1.an-invite-token')
      await submit(page, '#propose-submit', '/console/terms')
      expect(terms.proposed.at(-1)).toMatchObject({ addSkus: [], addParties: ['standin1.an-invite-token'] })

      // A party left out (D95): what it holds of ours is recalled and its final statement issued first.
      const calls = api.calls.length
      await page.selectOption('#propose-remove-party', bob.identity.id)
      const removed = await submit(page, '#propose-submit', '/console/terms')
      expect(terms.proposed.at(-1)).toMatchObject({ addSkus: [], removeParties: [bob.identity.id] })
      expect(api.calls.slice(calls).map((c) => [c.method, ...c.args])).toEqual(
        expect.arrayContaining([
          ['recall', bob.identity.id, 'al-77'],
          ['issueStatement', bob.identity.id],
        ]),
      )
      expect(removed).toContain(lang === 'en' ? 'Recalled 1 allotment(s)' : '召回 1 批卡密')

      // This shop's place to a new identity (D99): every partner wound down, then the handover.
      const handOvers = terms.handOvers
      const recalls = api.calls.filter((c) => c.method === 'recall').length
      const handed = await submit(page, '#hand-over-submit', '/console/terms')
      expect(terms.handOvers).toBe(handOvers + 1)
      expect(api.calls.filter((c) => c.method === 'recall').length).toBe(recalls + 1)
      expect(handed).toContain(carol.identity.id)
      expect(handed).toContain('Partners sign on their own.')

      // Three decimals: refused with the field named, nothing proposed.
      const proposals = terms.proposed.length
      await page.fill('#propose-add', 'gift-200=1.234')
      const refused = await submit(page, '#propose-submit', '/console/terms')
      expect(refused).toContain('addSku')
      expect(refused).toContain(lang === 'en' ? 'Nothing was changed' : '未做任何更改')
      expect(terms.proposed).toHaveLength(proposals)
      expect(problems).toEqual([])
      await close()
    },
  )

  it.each(LANGS)('alert log (%s): each alert in the reader’s words, and what became of it', async (lang) => {
    const { page, problems, close } = await open(lang, '/console/alerts')
    const rows = await page.locator('main tbody tr').allTextContents()
    expect(rows).toHaveLength(2)
    // Newest first: the repeat, then the first one, which no channel took.
    expect(rows[0]).toContain(lang === 'en' ? 'a repeat within 10 minutes' : '10 分钟内的重复告警')
    expect(rows[1]).toContain(lang === 'en' ? 'no channel takes alerts' : '没有渠道接收')
    expect(rows[1]).toContain('bob')
    expect(problems).toEqual([])
    await close()
  })

  it('a form field that does not parse is refused with its name, and the engine is not called', async () => {
    const login = await app.inject({
      method: 'POST',
      url: '/console/login',
      payload: `token=${TOKEN}`,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    })
    const cookie = String(login.headers['set-cookie']).split(';')[0] as string
    const page = await app.inject({ method: 'GET', url: '/console/allotments', headers: { cookie } })
    const csrf = /name="csrf" value="([^"]+)"/.exec(page.body)?.[1] as string
    const consigns = callsOf('consign').length
    const posted = await app.inject({
      method: 'POST',
      url: '/console/allotments/consign',
      payload: `csrf=${encodeURIComponent(csrf)}&holder=${bob.identity.id}&sku=steam-50&count=0`,
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie },
    })
    expect(posted.statusCode).toBe(303)
    expect(callsOf('consign')).toHaveLength(consigns)
    const after = await app.inject({ method: 'GET', url: '/console/allotments', headers: { cookie } })
    // No language asked: Chinese first.
    expect(after.body).toMatch(/未做任何更改：count: /)
    // Shown once.
    const again = await app.inject({ method: 'GET', url: '/console/allotments', headers: { cookie } })
    expect(again.body).not.toMatch(/未做任何更改/)
  })
})
