// The claim page: form in both languages, the keys for the right order and secret only, one
// neutral answer otherwise, field-naming 400s, refusals as pages, and no secrets in logs or caches.
import { createHash } from 'node:crypto'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { UnavailableError } from '../../node/core/api.js'
import { ClaimGuard, FAILED_CLAIM_WINDOW_MS, MAX_FAILED_CLAIMS_PER_ORDER } from '../../node/http/public/claim-guard.js'
import { CLAIM_BODY_LIMIT_BYTES } from '../../node/http/public-routes.js'
import { harness, type Harness } from './helpers.js'
import { deliveredOrder, htmlLang, KEYS, keysBlock, ORDER, postClaim, SECRET_OK, SHOP, status } from './public-helpers.js'

let h: Harness
beforeEach(async () => {
  h = await harness()
  h.api.onClaim = deliveredOrder
})
afterEach(async () => {
  await h.app.close()
})

const claimCalls = () => h.api.calls.filter((c) => c.method === 'claim')

describe('GET /claim', () => {
  it('renders the form in Chinese by default, with the shop id from ?shop= prefilled', async () => {
    const response = await h.app.inject({ url: `/claim?shop=${SHOP}` })
    expect(response.statusCode).toBe(200)
    expect(response.headers['content-type']).toBe('text/html; charset=utf-8')
    expect(htmlLang(response.body)).toBe('zh-CN')
    expect(response.body).toContain('领取订单卡密')
    expect(response.body).toContain('查询密码')
    expect(response.body).toContain(`name="shop" value="${SHOP}"`)
    expect(response.body).toMatch(/<form method="post" action="\/claim\?lang=zh-CN"/)
    for (const name of ['shop', 'order', 'secret']) expect(response.body).toContain(`name="${name}"`)
    // Works without JavaScript or anything fetched from elsewhere.
    expect(response.body).not.toMatch(/<script|<link|<img|src=/i)
    expect(h.api.calls).toEqual([])
  })

  it.each([
    ['?lang=en', {}, 'en'],
    ['?lang=zh-CN', { 'accept-language': 'en-US,en;q=0.9' }, 'zh-CN'],
    ['', { 'accept-language': 'en-US,en;q=0.9' }, 'en'],
    ['', { 'accept-language': 'fr-FR, en;q=0.5, zh;q=0.4' }, 'en'],
    ['', { 'accept-language': 'zh-TW,zh;q=0.9,en;q=0.8' }, 'zh-CN'],
    ['', { 'accept-language': 'en;q=0.1, zh-CN' }, 'zh-CN'],
    ['', { 'accept-language': 'de, fr' }, 'zh-CN'],
    ['?lang=fr', { 'accept-language': 'en' }, 'en'],
    ['?lang=en-GB', {}, 'en'],
    ['?lang=zh-cn', { 'accept-language': 'en' }, 'zh-CN'],
    ['', { 'accept-language': 'zh-HK, en;q=0.5' }, 'zh-CN'],
    ['', { 'accept-language': 'en-GB;q=0, zh;q=0.2' }, 'zh-CN'],
  ])('language: %s %j → %s', async (query, headers, lang) => {
    const response = await h.app.inject({ url: `/claim${query}`, headers })
    expect(htmlLang(response.body)).toBe(lang)
    expect(response.body).toContain(lang === 'en' ? 'Claim your order&#39;s key' : '领取订单卡密')
    expect(response.body).toContain(`action="/claim?lang=${lang}"`)
  })

  it('links to the same page in the other language', async () => {
    const response = await h.app.inject({ url: `/claim?shop=${SHOP}&lang=en` })
    expect(response.body).toContain(`<a href="/claim?shop=${SHOP}&amp;lang=zh-CN" hreflang="zh-CN" lang="zh-CN">中文</a>`)
  })

  it('escapes a hostile ?shop= value', async () => {
    const hostile = '"><script>alert(1)</script>'
    const response = await h.app.inject({ url: `/claim?shop=${encodeURIComponent(hostile)}` })
    expect(response.statusCode).toBe(200)
    expect(response.body).not.toContain('<script>')
    expect(response.body).toContain('value="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"')
  })

  it('sends no-store, no-referrer, nosniff, no framing and a CSP that allows nothing but its own style, on pages and refusals alike', async () => {
    const form = await h.app.inject({ url: '/claim' })
    const refused = await h.app.inject({ method: 'POST', url: '/claim', headers: { 'content-type': 'application/json' }, payload: '{}' })
    expect(refused.statusCode).toBe(415)
    for (const response of [form, refused]) {
      expect(response.headers['cache-control']).toBe('no-store')
      expect(response.headers['referrer-policy']).toBe('no-referrer')
      expect(response.headers['x-content-type-options']).toBe('nosniff')
      expect(response.headers['x-frame-options']).toBe('DENY')
      const csp = String(response.headers['content-security-policy'])
        .split(';')
        .map((directive) => directive.trim())
      expect(csp).toEqual([
        "default-src 'none'",
        expect.stringMatching(/^style-src 'sha256-[A-Za-z0-9+/=]+'$/),
        "form-action 'self'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
      ])
    }
    // The hash is of the page's one stylesheet, so the browser applies it and nothing else.
    const style = /<style>([\s\S]*?)<\/style>/.exec(form.body)?.[1] ?? ''
    expect(String(form.headers['content-security-policy'])).toContain(`'sha256-${createHash('sha256').update(style).digest('base64')}'`)
  })
})

describe('POST /claim', () => {
  it('the right order and secret → the keys in a copyable monospace block, who delivered and when', async () => {
    const response = await postClaim(h.app, { shop: SHOP, order: ORDER, secret: SECRET_OK }, { url: '/claim?lang=en' })
    expect(response.statusCode).toBe(200)
    expect(keysBlock(response.body)).toBe(KEYS.join('\n'))
    expect(response.body).toContain('Moon Shop')
    expect(response.body).toContain('21 September 2026 at 14:14 UTC')
    expect(response.body).toContain(`Keys for order ${ORDER}:`)
    expect(response.headers['cache-control']).toBe('no-store')
    expect(response.headers['referrer-policy']).toBe('no-referrer')
    expect(claimCalls()).toEqual([{ method: 'claim', args: [{ shop: SHOP, order: ORDER, secret: SECRET_OK }] }])
  })

  it('in Chinese, names the origin shop when this node knows it, in Beijing time', async () => {
    h.api.statuses.set(SHOP, status({ name: '星光数码' }))
    const response = await postClaim(h.app, { shop: SHOP, order: ORDER, secret: SECRET_OK })
    expect(htmlLang(response.body)).toBe('zh-CN')
    expect(response.body).toContain('您的订单已发货')
    expect(response.body).toContain('「星光数码」的平台出现故障，其合作店铺「Moon Shop」于2026年9月21日 22:14（北京时间）根据互助协议代为发货。')
    expect(keysBlock(response.body)).toBe(KEYS.join('\n'))
  })

  it('trims spaces around the shop id and order number (copied from an email), not the secret', async () => {
    const ok = await postClaim(h.app, { shop: ` ${SHOP} `, order: `\t${ORDER} `, secret: SECRET_OK })
    expect(keysBlock(ok.body)).toBe(KEYS.join('\n'))
    const spaced = await postClaim(h.app, { shop: SHOP, order: ORDER, secret: ` ${SECRET_OK}` })
    expect(keysBlock(spaced.body)).toBeUndefined()
  })

  it('escapes keys and names', async () => {
    h.api.onClaim = () => ({ status: 'delivered', order: ORDER, keys: ['<img src=x onerror=alert(1)>'], deliveredAt: 0, fulfillerName: '<b>Moon</b>' })
    const response = await postClaim(h.app, { shop: SHOP, order: ORDER, secret: SECRET_OK })
    expect(response.body).not.toContain('<img')
    expect(response.body).not.toContain('<b>')
    expect(response.body).toContain('&lt;img src=x onerror=alert(1)&gt;')
    expect(keysBlock(response.body)).toBe('<img src=x onerror=alert(1)>')
  })

  it('wrong secret and unknown order get the same neutral page, without any key', async () => {
    const wrongSecret = await postClaim(h.app, { shop: SHOP, order: ORDER, secret: 'not-the-secret' })
    const unknownOrder = await postClaim(h.app, { shop: SHOP, order: 'order-999', secret: 'whatever' })
    for (const response of [wrongSecret, unknownOrder]) {
      expect(response.statusCode).toBe(200)
      expect(response.body).toContain('本节点没有与该订单号和查询密码对应的发货记录')
      expect(keysBlock(response.body)).toBeUndefined()
      for (const key of KEYS) expect(response.body).not.toContain(key)
      expect(response.body).not.toContain('not-the-secret')
      expect(response.headers['cache-control']).toBe('no-store')
    }
    // Apart from the order number typed back into the form, the two pages are byte for byte equal.
    expect(unknownOrder.body.replaceAll('order-999', ORDER)).toBe(wrongSecret.body)
  })

  it('the neutral page in English', async () => {
    const response = await postClaim(h.app, { shop: SHOP, order: 'nope', secret: 'x' }, { url: '/claim?lang=en' })
    expect(response.body).toContain('This node has no delivery for this order number and secret.')
  })

  it('pending → partners are working on it', async () => {
    const response = await postClaim(h.app, { shop: SHOP, order: 'order-8', secret: 'claim-secret-8' }, { url: '/claim?lang=en' })
    expect(response.statusCode).toBe(200)
    expect(response.body).toContain('The shop&#39;s partners are working on order order-8.')
    expect(keysBlock(response.body)).toBeUndefined()
  })

  describe('delivered by another partner (issue 17, item 3)', () => {
    const elsewhere = (claimUrl: string | null, fulfillerName = 'Moon Shop') => {
      h.api.onClaim = (f) => (f.secret === SECRET_OK ? { status: 'elsewhere', order: f.order, fulfillerName, claimUrl } : { status: 'not-found' })
    }

    it("sends the buyer to the fulfiller's claim page, shop and order filled in, never the secret", async () => {
      elsewhere('https://moon.example/claim')
      const response = await postClaim(h.app, { shop: SHOP, order: ORDER, secret: SECRET_OK }, { url: '/claim?lang=en' })
      expect(response.statusCode).toBe(200)
      expect(response.body).toContain('Partner shop Moon Shop delivered order order-7.')
      expect(response.body).toContain(
        `<a href="https://moon.example/claim?shop=${SHOP}&amp;order=order-7&amp;lang=en" rel="noreferrer">Open Moon Shop&#39;s claim page</a>`,
      )
      expect(response.body).not.toContain(SECRET_OK)
      expect(keysBlock(response.body)).toBeUndefined()
      const zh = await postClaim(h.app, { shop: SHOP, order: ORDER, secret: SECRET_OK })
      expect(zh.body).toContain('前往「Moon Shop」的领取页面')
    })

    it('a wrong secret still gets the neutral answer', async () => {
      elsewhere('https://moon.example/claim')
      const response = await postClaim(h.app, { shop: SHOP, order: ORDER, secret: 'wrong' }, { url: '/claim?lang=en' })
      expect(response.body).toContain('This node has no delivery for this order number and secret.')
      expect(response.body).not.toContain('moon.example')
    })

    it.each([['javascript:alert(1)'], ['data:text/html,hi'], ['not a url'], [null]])(
      'no link from claim URL %s, and a hostile name is escaped',
      async (url) => {
        elsewhere(url, '<b>Moon</b>')
        const response = await postClaim(h.app, { shop: SHOP, order: ORDER, secret: SECRET_OK }, { url: '/claim?lang=en' })
        expect(response.body).toContain('That shop has no public claim page')
        expect(response.body).toContain('&lt;b&gt;Moon&lt;/b&gt;')
        expect(response.body).not.toMatch(/javascript:|data:text/)
      },
    )
  })

  it.each([
    ['zh-CN', { order: ORDER, secret: 'x' }, ['店铺编号：必填']],
    ['en', { shop: SHOP, secret: 'x' }, ['Order number: required']],
    ['en', { shop: SHOP, order: ORDER, secret: '' }, ['Query secret: required']],
    ['en', { shop: 'shop-a', order: ORDER, secret: 'x' }, ['Shop id: should be 12D3KooW followed by 44 letters and digits']],
    ['zh-CN', { shop: SHOP, order: 'order 7', secret: 'x' }, ['订单号：只能包含字母、数字和符号，不能有空格']],
    ['en', { shop: SHOP, order: 'o'.repeat(129), secret: 'x' }, ['Order number: too long']],
    ['en', { shop: SHOP, order: ORDER, secret: 's'.repeat(129) }, ['Query secret: too long']],
    ['en', { shop: SHOP, order: ORDER, secret: 'x', admin: '1' }, ['unexpected field &quot;admin&quot; in the form']],
    ['en', {}, ['Shop id: required', 'Order number: required', 'Query secret: required']],
  ] as const)('%s: bad form %j → 400 naming the field', async (lang, fields, messages) => {
    const response = await postClaim(h.app, fields as Record<string, string>, { url: `/claim?lang=${lang}` })
    expect(response.statusCode).toBe(400)
    expect(htmlLang(response.body)).toBe(lang)
    for (const message of messages) expect(response.body).toContain(`<li>${message}</li>`)
    expect(claimCalls()).toEqual([])
  })

  it('a field sent twice, or a __proto__ field, is refused, and the form keeps what was typed except the secret', async () => {
    const response = await postClaim(h.app, `shop=${SHOP}&order=${ORDER}&order=other&secret=${SECRET_OK}&__proto__=x`, { url: '/claim?lang=en' })
    expect(response.statusCode).toBe(400)
    expect(response.body).toContain('<li>Order number: sent more than once</li>')
    expect(response.body).toContain('<li>unexpected field &quot;__proto__&quot; in the form</li>')
    expect(response.body).toContain(`name="shop" value="${SHOP}"`)
    expect(response.body).toContain(`name="order" value="${ORDER}"`)
    expect(response.body).not.toContain(SECRET_OK)
    expect(claimCalls()).toEqual([])
  })

  it('accepts the form media type with a charset parameter, and UTF-8 secrets', async () => {
    h.api.onClaim = (f) => ({ status: 'pending', order: f.secret === '查询密码-密钥' ? 'matched' : 'unmatched' })
    const response = await postClaim(
      h.app,
      { shop: SHOP, order: ORDER, secret: '查询密码-密钥' },
      {
        url: '/claim?lang=en',
        headers: { 'content-type': 'Application/X-WWW-Form-Urlencoded; charset=UTF-8' },
      },
    )
    expect(response.statusCode).toBe(200)
    expect(response.body).toContain('working on order matched.')
  })

  it('JSON (or anything but a urlencoded form) → 415 page', async () => {
    const response = await h.app.inject({
      method: 'POST',
      url: '/claim?lang=en',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ shop: SHOP, order: ORDER, secret: SECRET_OK }),
    })
    expect(response.statusCode).toBe(415)
    expect(response.headers['content-type']).toBe('text/html; charset=utf-8')
    expect(response.body).toContain('The request could not be read')
    expect(claimCalls()).toEqual([])
  })

  it(`a body over ${CLAIM_BODY_LIMIT_BYTES} bytes → 413 page`, async () => {
    const response = await postClaim(h.app, { shop: SHOP, order: ORDER, secret: 'x'.repeat(CLAIM_BODY_LIMIT_BYTES) })
    expect(response.statusCode).toBe(413)
    expect(htmlLang(response.body)).toBe('zh-CN')
    expect(response.body).toContain('无法处理该请求')
    expect(claimCalls()).toEqual([])
  })

  it('engine unavailable → 503 page with Retry-After; any other failure → 500 page without details', async () => {
    h.api.onClaim = () => {
      throw new UnavailableError('store closed')
    }
    const unavailable = await postClaim(h.app, { shop: SHOP, order: ORDER, secret: SECRET_OK }, { url: '/claim?lang=en' })
    expect(unavailable.statusCode).toBe(503)
    expect(unavailable.headers['retry-after']).toBe('5')
    expect(unavailable.body).toContain('Temporarily unavailable')
    expect(unavailable.body).not.toContain('store closed')

    h.api.onClaim = () => {
      throw new Error('internal detail: level iterator failed')
    }
    const failed = await postClaim(h.app, { shop: SHOP, order: ORDER, secret: SECRET_OK })
    expect(failed.statusCode).toBe(500)
    expect(failed.body).toContain('出错了')
    expect(failed.body).not.toContain('internal detail')
  })

  it('never logs the keys, the secret or the body', async () => {
    await postClaim(h.app, { shop: SHOP, order: ORDER, secret: SECRET_OK })
    await postClaim(h.app, { shop: SHOP, order: ORDER, secret: 'wrong-secret-guess' })
    await postClaim(h.app, { shop: 'bad', order: ORDER, secret: 'bad-form-secret' })
    const logged = JSON.stringify(h.logs)
    expect(logged).toContain('claim answered')
    for (const secret of [...KEYS, SECRET_OK, 'wrong-secret-guess', 'bad-form-secret']) expect(logged).not.toContain(secret)
  })
})

describe('rate limits', () => {
  it(`an order that drew ${MAX_FAILED_CLAIMS_PER_ORDER} wrong secrets takes no claims from any address until the window ends; other orders are unaffected`, async () => {
    for (let i = 0; i < MAX_FAILED_CLAIMS_PER_ORDER; i++) {
      // Spread over addresses, as a guesser would to get round the per-address limit.
      const guess = await h.app.inject({
        method: 'POST',
        url: '/claim',
        remoteAddress: `203.0.113.${i + 1}`,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: `shop=${SHOP}&order=${ORDER}&secret=guess-${i}`,
      })
      expect(guess.statusCode).toBe(200)
    }
    const closed = await postClaim(h.app, { shop: SHOP, order: ORDER, secret: SECRET_OK }, { url: '/claim?lang=en' })
    expect(closed.statusCode).toBe(429)
    expect(Number(closed.headers['retry-after'])).toBe(FAILED_CLAIM_WINDOW_MS / 1_000)
    expect(closed.body).toContain('Too many wrong secrets for this order')
    expect(closed.body).not.toContain(KEYS[0])
    expect(claimCalls()).toHaveLength(MAX_FAILED_CLAIMS_PER_ORDER) // the right secret never reached the engine
    expect((await postClaim(h.app, { shop: SHOP, order: 'order-8', secret: 'claim-secret-8' })).statusCode).toBe(200)
    h.clock.now += FAILED_CLAIM_WINDOW_MS
    const reopened = await postClaim(h.app, { shop: SHOP, order: ORDER, secret: SECRET_OK })
    expect(reopened.statusCode).toBe(200)
    expect(reopened.body).toContain(KEYS[0])
  })

  it('the per-order guard forgets the least recently failed order first, and stays within its capacity', () => {
    let now = 0
    const guard = new ClaimGuard(() => now, 2, 60_000, 3)
    for (const order of ['o1', 'o2', 'o3', 'o1', 'o4']) guard.recordFailure('shop', order)
    expect(guard.size).toBe(3)
    expect(guard.closedForSeconds('shop', 'o1')).toBe(60) // two failures: closed
    expect(guard.closedForSeconds('shop', 'o2')).toBe(0) // forgotten
    now = 59_500
    expect(guard.closedForSeconds('shop', 'o1')).toBe(1)
    now = 60_000
    expect(guard.closedForSeconds('shop', 'o1')).toBe(0)
  })

  it('POST /claim → 429 page with Retry-After once the per-minute limit is used up; GETs count apart', async () => {
    await h.app.close()
    h = await harness({ publicRateLimits: { claimPostsPerMinute: 3, pageGetsPerMinute: 5 } })
    for (let i = 0; i < 3; i++) expect((await postClaim(h.app, { shop: SHOP, order: ORDER, secret: 'guess' })).statusCode).toBe(200)
    const limited = await postClaim(h.app, { shop: SHOP, order: ORDER, secret: 'guess' }, { url: '/claim?lang=en' })
    expect(limited.statusCode).toBe(429)
    expect(limited.headers['retry-after']).toMatch(/^\d+$/)
    expect(limited.headers['content-type']).toBe('text/html; charset=utf-8')
    expect(limited.body).toContain('Too many requests')
    expect(limited.body).toMatch(/Please try again in \d+ seconds\./)
    expect(limited.headers['content-security-policy']).toMatch(/^default-src 'none'/)
    expect(claimCalls()).toHaveLength(3)

    // Another address has its own allowance, and page views are counted separately.
    const fromElsewhere = await h.app.inject({
      method: 'POST',
      url: '/claim',
      remoteAddress: '203.0.113.9',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: `shop=${SHOP}&order=${ORDER}&secret=guess`,
    })
    expect(fromElsewhere.statusCode).toBe(200)
    for (let i = 0; i < 5; i++) expect((await h.app.inject({ url: '/claim' })).statusCode).toBe(200)
    const pageLimited = await h.app.inject({ url: '/claim' })
    expect(pageLimited.statusCode).toBe(429)
    expect(pageLimited.body).toContain('请求过于频繁')
  })

  it('defaults: 30 posts and 120 page views a minute per address', async () => {
    const { PUBLIC_RATE_LIMITS } = await import('../../node/http/public-routes.js')
    expect(PUBLIC_RATE_LIMITS).toEqual({ claimPostsPerMinute: 30, pageGetsPerMinute: 120 })
    const response = await h.app.inject({ url: '/claim' })
    expect(response.headers['x-ratelimit-limit']).toBe('120')
    const post = await postClaim(h.app, { shop: SHOP, order: ORDER, secret: 'x' })
    expect(post.headers['x-ratelimit-limit']).toBe('30')
  })

  it('the adapter and admin APIs are not limited by the public limits', async () => {
    await h.app.close()
    h = await harness({ publicRateLimits: { claimPostsPerMinute: 1, pageGetsPerMinute: 1 } })
    for (let i = 0; i < 5; i++) expect((await h.app.inject({ url: '/healthz' })).headers['x-ratelimit-limit']).toBeUndefined()
  })
})
