// Issue 17, item 3, in a real browser against three real nodes: a buyer who gave no email follows
// the outage notice of the shop they bought from, or tries another partner's claim page, and is
// sent to the partner that delivered the order, where the key shows. Only B holds keys, so only B
// can deliver; A (the origin) and C learn from B's receipt who delivered, never the key.
import { type Browser, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { waitFor } from '../integration/cluster.js'
import { allot, type Federation, shop, startFederation, stopFederation } from '../integration/federation-env.js'
import { hasChromium, launchChromium, PAGE_TIMEOUT_MS } from './chromium.js'

const KEY_PATTERN = /STEAM-[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}/g

describe.skipIf(!hasChromium)('a claim page finds the partner that delivered', () => {
  let f: Federation
  let browser: Browser
  let order: string
  let secret: string

  beforeAll(async () => {
    f = await startFederation()
    await allot(f, 'A', 'B', 3)
    browser = await launchChromium()
    const a = shop(f, 'A')
    await a.setPlatform('down')
    const bought = await a.buy({ sku: 'steam-50', qty: 1, email: null, locale: 'zh-CN' })
    order = bought.order
    secret = bought.claimSecret
    // B's receipt reached C and A: both answer for the order (claimed with the right secret).
    for (const name of ['A', 'C']) {
      await waitFor(`${name} knows B delivered ${order}`, async () => ((await postClaim(name, secret)).includes('Shop B') ? true : undefined), 60_000)
    }
  }, 180_000)

  afterAll(async () => {
    await browser?.close()
    await stopFederation(f)
  })

  async function postClaim(name: string, withSecret: string): Promise<string> {
    const body = new URLSearchParams({ shop: f.cluster.node('A').id, order, secret: withSecret })
    const response = await fetch(`${f.cluster.node(name).baseUrl}/claim?lang=en`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body,
    })
    return response.text()
  }

  async function fillAndSubmit(page: Page, lang: string): Promise<void> {
    await page.fill('#secret', secret)
    await Promise.all([page.waitForURL(/\/claim\?lang=/, { timeout: PAGE_TIMEOUT_MS }), page.click('button[type=submit]')])
    expect(await page.getAttribute('html', 'lang')).toBe(lang)
  }

  /** On the fulfiller's page after following the link: the form is filled but for the secret. */
  async function keysAtFulfiller(page: Page, lang: string): Promise<string[]> {
    expect(page.url().startsWith(`${f.cluster.node('B').baseUrl}/claim?`)).toBe(true)
    expect(await page.inputValue('#shop')).toBe(f.cluster.node('A').id)
    expect(await page.inputValue('#order')).toBe(order)
    expect(await page.inputValue('#secret')).toBe('')
    await fillAndSubmit(page, lang)
    const keys = (await page.textContent('#keys')) ?? ''
    return keys.match(KEY_PATTERN) ?? []
  }

  it("from the origin's outage notice: its claim page sends the buyer to B, which shows the key", async () => {
    const context = await browser.newContext({ locale: 'zh-CN' })
    const page = await context.newPage()
    const a = f.cluster.node('A')
    await page.goto(`${a.baseUrl}/status/${a.id}`, { timeout: PAGE_TIMEOUT_MS })
    await Promise.all([page.waitForURL(/\/claim\?/, { timeout: PAGE_TIMEOUT_MS }), page.click('a:has-text("领取订单卡密")')])
    await page.fill('#order', order)
    await fillAndSubmit(page, 'zh-CN')
    expect(await page.textContent('h1')).toBe('您的订单已由另一家合作店铺发货')
    expect(await page.locator('#keys').count()).toBe(0)
    await Promise.all([page.waitForURL(/\/claim\?/, { timeout: PAGE_TIMEOUT_MS }), page.click('a:has-text("前往「Shop B」的领取页面")')])
    const keys = await keysAtFulfiller(page, 'zh-CN')
    expect(keys).toHaveLength(1)
    expect(await page.textContent('body')).toContain('Shop B')
    await context.close()
  })

  it("from a co-partner's claim page (C, which delivered nothing): sent to B, never shown a key", async () => {
    const context = await browser.newContext({ locale: 'en-US' })
    const page = await context.newPage()
    const c = f.cluster.node('C')
    await page.goto(`${c.baseUrl}/claim?shop=${f.cluster.node('A').id}`, { timeout: PAGE_TIMEOUT_MS })
    await page.fill('#order', order)
    await fillAndSubmit(page, 'en')
    expect(await page.textContent('h1')).toBe('Another partner shop delivered your order')
    const atC = await page.content()
    expect(atC.match(KEY_PATTERN)).toBeNull()
    expect(atC).not.toContain(secret)
    await Promise.all([page.waitForURL(/\/claim\?/, { timeout: PAGE_TIMEOUT_MS }), page.click('a:has-text("Open Shop B\'s claim page")')])
    const keys = await keysAtFulfiller(page, 'en')
    expect(keys).toHaveLength(1)
    await context.close()
  })

  it('a wrong secret at A and C gets the neutral answer, naming no partner', async () => {
    for (const name of ['A', 'C']) {
      const page = await postClaim(name, 'not-the-secret')
      expect(page).toContain('No delivery found')
      expect(page).not.toContain('Shop B')
    }
  })
})
