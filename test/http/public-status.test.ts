// The outage notice: each state in plain words in both languages, counts, the claim link, 404 for
// shops this node does not know, the JSON view, and escaping of whatever a shop calls itself.
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { ErrorReply } from '../../protocol/index.js'
import { ShopStatusView } from '../../node/core/api-schemas.js'
import { carol } from '../protocol/fixtures.js'
import { harness, type Harness, TOKEN } from './helpers.js'
import { htmlLang, SHOP, status } from './public-helpers.js'

let h: Harness
beforeEach(async () => {
  h = await harness()
})
afterEach(async () => {
  await h.app.close()
})

const page = (url: string, headers: Record<string, string> = {}) => h.app.inject({ url, headers })

describe('GET /status/:shop', () => {
  it.each([
    ['operating', 'en', 'Operating normally.'],
    ['suspected-outage', 'en', 'An outage is suspected; its partner shops are checking.'],
    ['partners-delivering', 'en', 'The shop&#39;s platform is down; its partner shops are delivering paid orders.'],
    ['recovered', 'en', 'Recovered: the shop is operating normally again.'],
    ['operating', 'zh-CN', '正常营业。'],
    ['suspected-outage', 'zh-CN', '疑似出现故障，其合作店铺正在确认。'],
    ['partners-delivering', 'zh-CN', '店铺平台暂时无法使用，其合作店铺正在为已付款订单代发货。'],
    ['recovered', 'zh-CN', '已恢复，店铺恢复正常营业。'],
  ] as const)('%s in %s: %s', async (state, lang, words) => {
    h.api.statuses.set(SHOP, status({ state }))
    const response = await page(`/status/${SHOP}?lang=${lang}`)
    expect(response.statusCode).toBe(200)
    expect(htmlLang(response.body)).toBe(lang)
    expect(response.body).toContain(`<p class="state">${words}</p>`)
    expect(response.body).toContain(lang === 'en' ? 'Status of Star Digital' : '「Star Digital」的运行状态')
    expect(h.api.calls).toEqual([{ method: 'shopStatus', args: [SHOP] }])
  })

  it('during an outage: since when, how many orders partners delivered, and a link to the claim page', async () => {
    h.api.statuses.set(SHOP, status())
    const zh = await page(`/status/${SHOP}`)
    expect(zh.body).toContain('自2026年9月21日 22:13（北京时间）起')
    expect(zh.body).toContain('合作店铺已代发订单：12 笔')
    expect(zh.body).toContain('等待发货的已付款订单：3 笔')
    expect(zh.body).toContain(`<a href="https://moon.example/claim?shop=${SHOP}&amp;lang=zh-CN">领取订单卡密</a>`)
    const en = await page(`/status/${SHOP}`, { 'accept-language': 'en-GB,en;q=0.9' })
    expect(en.body).toContain('Since 21 September 2026 at 14:13 UTC')
    expect(en.body).toContain('Orders delivered by partners: 12')
    expect(en.body).toContain(`<a href="https://moon.example/claim?shop=${SHOP}&amp;lang=en">Claim your order&#39;s key</a>`)
    expect(en.headers['cache-control']).toBe('no-store')
  })

  it('operating normally: no counts and no claim link', async () => {
    h.api.statuses.set(SHOP, status({ state: 'operating', since: null, deliveredByPartners: 0, pending: 0 }))
    const response = await page(`/status/${SHOP}?lang=en`)
    expect(response.body).not.toContain('Since')
    expect(response.body).not.toContain('Orders delivered by partners')
    expect(response.body).not.toContain('/claim')
  })

  it("without a published claim URL, or with one that is not a web link, links to this node's claim page", async () => {
    h.api.statuses.set(SHOP, status({ claimUrl: null }))
    expect((await page(`/status/${SHOP}?lang=en`)).body).toContain(`<a href="/claim?shop=${SHOP}&amp;lang=en">`)
    h.api.statuses.set(SHOP, status({ claimUrl: 'javascript:alert(1)' }))
    const hostile = await page(`/status/${SHOP}?lang=en`)
    expect(hostile.body).not.toContain('javascript:')
    expect(hostile.body).toContain(`<a href="/claim?shop=${SHOP}&amp;lang=en">`)
  })

  it('escapes the shop name', async () => {
    h.api.statuses.set(SHOP, status({ name: '<img src=x onerror=alert(1)>' }))
    const response = await page(`/status/${SHOP}`)
    expect(response.body).not.toContain('<img')
    expect(response.body).toContain('<h1>「&lt;img src=x onerror=alert(1)&gt;」的运行状态</h1>')
    expect(response.body).toContain('<title>「&lt;img src=x onerror=alert(1)&gt;」的运行状态</title>')
  })

  it("a shop this node does not know → 404 page in the buyer's language", async () => {
    const response = await page(`/status/${carol.identity.id}?lang=en`)
    expect(response.statusCode).toBe(404)
    expect(response.headers['content-type']).toBe('text/html; charset=utf-8')
    expect(response.body).toContain('This node has no status for this shop.')
    expect(h.api.calls).toEqual([{ method: 'shopStatus', args: [carol.identity.id] }])
  })

  it('something that is not a shop id → the same 404 page, and the engine is not asked', async () => {
    const hostile = '<script>alert(1)</script>'
    const response = await page(`/status/${encodeURIComponent(hostile)}`)
    expect(response.statusCode).toBe(404)
    expect(response.body).toContain('本节点没有该店铺的运行状态。')
    expect(response.body).not.toContain('<script>')
    expect(h.api.calls).toEqual([])
  })
})

describe('GET /status/:shop.json', () => {
  it('is the ShopStatusView', async () => {
    const view = status({ name: '<img src=x onerror=alert(1)>' })
    h.api.statuses.set(SHOP, view)
    const response = await page(`/status/${SHOP}.json`)
    expect(response.statusCode).toBe(200)
    expect(response.headers['content-type']).toMatch(/^application\/json/)
    expect(ShopStatusView.parse(response.json())).toEqual(view)
  })

  it('unknown or malformed shop → 404 ErrorReply', async () => {
    for (const shop of [carol.identity.id, 'not-a-shop']) {
      const response = await page(`/status/${shop}.json`)
      expect(response.statusCode).toBe(404)
      expect(ErrorReply.parse(response.json())).toEqual({ error: 'not_found', message: 'shop: this node has no status for this shop' })
    }
  })

  it('rate limited → 429 as JSON', async () => {
    await h.app.close()
    h = await harness({ publicRateLimits: { pageGetsPerMinute: 1 } })
    h.api.statuses.set(SHOP, status())
    expect((await page(`/status/${SHOP}.json`)).statusCode).toBe(200)
    const limited = await page(`/status/${SHOP}.json`)
    expect(limited.statusCode).toBe(429)
    expect(ErrorReply.parse(limited.json()).error).toBe('rate_limited')
    expect(limited.headers['retry-after']).toMatch(/^\d+$/)
  })
})

describe('wiring', () => {
  it('the public pages are in the OpenAPI document and counted in /metrics by route', async () => {
    const operator = { authorization: `Bearer ${TOKEN}` }
    const doc = (await h.app.inject({ url: '/docs/json', headers: operator })).json() as { paths: Record<string, unknown> }
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/claim', '/status/{shop}', '/status/{shop}.json']))
    h.api.statuses.set(SHOP, status())
    await page(`/status/${SHOP}`)
    const metrics = await h.app.inject({ url: '/metrics', headers: operator })
    expect(metrics.body).toContain('standin_http_requests_total{method="GET",route="/status/:shop",status="200"} 1')
  })
})
