// A real browser (Debian's Chromium, driven by playwright-core) against the real server on a
// loopback port: a buyer opens the claim link, fills the form, submits it and sees the key; a
// wrong secret shows no key. No JavaScript is involved: plain HTML forms must be enough.
import type { AddressInfo } from 'node:net'
import type { FastifyInstance } from 'fastify'
import pino from 'pino'
import { type Browser, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildHttpServer } from '../../node/http/index.js'
import { FakeApi } from '../http/fake-api.js'
import { SECRET, TOKEN } from '../http/helpers.js'
import { deliveredOrder, KEYS, ORDER, SECRET_OK, SHOP } from '../http/public-helpers.js'
import { hasChromium, LAUNCH_TIMEOUT_MS, launchChromium, PAGE_TIMEOUT_MS } from './chromium.js'

describe.skipIf(!hasChromium)('claim page in a real browser', () => {
  let app: FastifyInstance
  let browser: Browser
  let base: string
  const api = new FakeApi()
  api.onClaim = deliveredOrder

  beforeAll(async () => {
    app = await buildHttpServer({ api, adapterSecret: SECRET, adminToken: TOKEN, logger: pino({ level: 'silent' }) })
    await app.listen({ host: '127.0.0.1', port: 0 })
    base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
    browser = await launchChromium()
  }, LAUNCH_TIMEOUT_MS + 10_000)

  afterAll(async () => {
    await browser?.close()
    await app?.close()
  })

  async function claim(page: Page, secret: string): Promise<void> {
    await page.goto(`${base}/claim?shop=${SHOP}`, { timeout: PAGE_TIMEOUT_MS })
    expect(await page.getAttribute('html', 'lang')).toBe('zh-CN')
    expect(await page.inputValue('#shop')).toBe(SHOP)
    await page.fill('#order', ORDER)
    await page.fill('#secret', secret)
    await Promise.all([page.waitForURL(`${base}/claim?lang=zh-CN`, { timeout: PAGE_TIMEOUT_MS }), page.click('button[type=submit]')])
  }

  it("the right secret shows the keys, styled, with nothing refused by the page's CSP", async () => {
    const context = await browser.newContext({ locale: 'zh-CN' })
    const page = await context.newPage()
    const consoleErrors: string[] = []
    page.on('console', (message) => {
      if (message.type() === 'error') consoleErrors.push(message.text())
    })
    await claim(page, SECRET_OK)
    expect(await page.textContent('h1')).toBe('您的订单已发货')
    expect(await page.textContent('#keys')).toBe(KEYS.join('\n'))
    expect(await page.textContent('body')).toContain('Moon Shop')
    // The inline stylesheet is allowed by its hash: the keys block really is monospace.
    // (A string expression: this project's TypeScript lib has no DOM types.)
    expect(await page.evaluate("getComputedStyle(document.getElementById('keys')).fontFamily")).toMatch(/monospace/)
    expect(consoleErrors).toEqual([])
    await context.close()
  })

  it('a wrong secret shows the neutral answer and no key', async () => {
    const context = await browser.newContext({ locale: 'zh-CN' })
    const page = await context.newPage()
    await claim(page, 'wrong-secret')
    expect(await page.textContent('h1')).toBe('未找到发货记录')
    expect(await page.locator('#keys').count()).toBe(0)
    const content = await page.content()
    for (const key of KEYS) expect(content).not.toContain(key)
    await context.close()
  })

  it('an English browser gets the English page, and the language link switches to Chinese', async () => {
    const context = await browser.newContext({ locale: 'en-US' })
    const page = await context.newPage()
    await page.goto(`${base}/claim?shop=${SHOP}`, { timeout: PAGE_TIMEOUT_MS })
    expect(await page.getAttribute('html', 'lang')).toBe('en')
    expect(await page.textContent('h1')).toBe("Claim your order's key")
    await page.click('a[hreflang=zh-CN]')
    await page.waitForURL(/lang=zh-CN/, { timeout: PAGE_TIMEOUT_MS })
    expect(await page.textContent('h1')).toBe('领取订单卡密')
    expect(await page.inputValue('#shop')).toBe(SHOP)
    await context.close()
  })
})
