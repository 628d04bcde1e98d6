// The operator console in a real browser (Debian's Chromium, driven by playwright-core) against the
// real server on a loopback port, with the engine API faked (test/http/fake-api.ts). Login by a
// one-time link (works once) and by the admin token; the overview and drills pages in zh-CN and
// en, with nothing refused by their CSP; running a drill from its form; a page without a session
// goes to the login page; a form with a wrong CSRF token changes nothing; a remote client is refused.
// Screenshots of the overview in both languages go to test-output/ (not the repository).
import { mkdirSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import type { FastifyInstance } from 'fastify'
import pino from 'pino'
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildHttpServer } from '../../node/http/index.js'
import { FakeApi } from '../http/fake-api.js'
import { SECRET, TOKEN } from '../http/helpers.js'
import { hasChromium, LAUNCH_TIMEOUT_MS, launchChromium, watchedPage } from './chromium.js'

const SCREENSHOTS = 'test-output/console'

describe.skipIf(!hasChromium)('operator console in a real browser', () => {
  let app: FastifyInstance
  let browser: Browser
  let base: string
  const api = new FakeApi()

  beforeAll(async () => {
    app = await buildHttpServer({ api, adapterSecret: SECRET, adminToken: TOKEN, logger: pino({ level: 'silent' }) })
    await app.listen({ host: '127.0.0.1', port: 0 })
    base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
    browser = await launchChromium()
    mkdirSync(SCREENSHOTS, { recursive: true })
  }, LAUNCH_TIMEOUT_MS + 10_000)

  afterAll(async () => {
    await browser?.close()
    await app?.close()
  })

  /** A one-time link as `standin console` gets it (admin API, bearer token, this machine). */
  async function link(): Promise<string> {
    const reply = await app.inject({ method: 'POST', url: '/v1/admin/console/link', headers: { authorization: `Bearer ${TOKEN}` }, payload: {} })
    expect(reply.statusCode).toBe(200)
    return `${base}${(reply.json() as { path: string }).path}`
  }

  /** A fresh browser context that records CSP violations and failed requests. */
  const context = (locale = 'zh-CN') => watchedPage(browser, locale)

  it('a one-time link logs in once; the overview shows the shop, its partners and escrow in zh-CN and en', async () => {
    // A browser that prefers Chinese gets Chinese; the language link switches, and a cookie keeps it.
    const { ctx, page, problems } = await context('zh-CN')
    const url = await link()
    await page.goto(url)
    expect(new URL(page.url()).pathname).toBe('/console/')
    expect(await page.getAttribute('html', 'lang')).toBe('zh-CN')
    const zh = await page.textContent('main')
    expect(zh).toContain('总览')
    expect(zh).toContain(FakeApi.self.name)
    expect(zh).toContain(FakeApi.partner.name)
    expect(zh).toContain('托管')
    await page.screenshot({ path: `${SCREENSHOTS}/overview.zh-CN.png`, fullPage: true })

    await page.click('a[hreflang=en]')
    expect(await page.getAttribute('html', 'lang')).toBe('en')
    const en = await page.textContent('main')
    expect(en).toContain('Partners')
    expect(en).toContain(FakeApi.partner.name)
    await page.screenshot({ path: `${SCREENSHOTS}/overview.en.png`, fullPage: true })
    // The language sticks (a cookie) on the next page.
    await page.click('a[href="/console/drills"]')
    expect(await page.getAttribute('html', 'lang')).toBe('en')
    expect(problems).toEqual([])

    // The same link again, in another browser: refused, and that browser is not logged in.
    const other = await context()
    const again = await other.page.goto(url)
    expect(again?.status()).toBe(401)
    expect(await other.page.textContent('main')).toContain('链接已失效或令牌不正确')
    await other.page.goto(`${base}/console/`)
    expect(new URL(other.page.url()).pathname).toBe('/console/login')
    await other.ctx.close()
    await ctx.close()
  })

  it.each(['zh-CN', 'en'] as const)(
    'revocations (%s): the overview shows who signed and our keys the partner holds; the form signs ours (D94)',
    async (lang) => {
      const { ctx, page, problems } = await context()
      await page.goto(await link())
      await page.goto(`${base}/console/?lang=${lang}`)
      const text = (await page.textContent('main')) ?? ''
      expect(text).toContain('key stolen')
      expect(text).toContain(lang === 'en' ? '3 of our keys are still consigned to it' : '仍有 3 个本店卡密寄存在它那里')
      const calls = api.calls.filter((c) => c.method === 'revokePartner').length
      await page.selectOption('#revoke-partner', FakeApi.partner.id)
      await page.fill('#revoke-reason', 'sells our keys elsewhere')
      await Promise.all([page.waitForURL(`${base}/console/`), page.click('#revoke-submit')])
      expect(api.calls.filter((c) => c.method === 'revokePartner').slice(calls)).toEqual([
        { method: 'revokePartner', args: [FakeApi.partner.id, 'sells our keys elsewhere'] },
      ])
      expect(await page.textContent('main')).toContain(lang === 'en' ? '1 of the 2 parties needed' : '已有 1 方，需 2 方')
      expect(problems).toEqual([])
      await ctx.close()
    },
  )

  it('the admin token logs in; a wrong one does not', async () => {
    const { ctx, page } = await context('en-GB')
    await page.goto(`${base}/console/login?lang=en`)
    await page.fill('#token', 'not-the-admin-token-at-all')
    await page.click('button[type=submit]')
    expect(await page.textContent('main')).toContain('The link has expired or the token is wrong')
    await page.fill('#token', TOKEN)
    await Promise.all([page.waitForURL(`${base}/console/`), page.click('main button[type=submit]')])
    expect(await page.textContent('main')).toContain('Partners')
    // Logging out ends the session.
    await Promise.all([page.waitForURL(`${base}/console/login`), page.click('header button[type=submit]')])
    await page.goto(`${base}/console/`)
    expect(new URL(page.url()).pathname).toBe('/console/login')
    await ctx.close()
  })

  it.each(['zh-CN', 'en'] as const)('drills (%s): the form runs a drill and the page shows its result per partner and sku', async (lang) => {
    const { ctx, page, problems } = await context()
    await page.goto(await link())
    await page.goto(`${base}/console/drills?lang=${lang}`)
    const calls = api.calls.filter((c) => c.method === 'drill').length
    await Promise.all([page.waitForURL(`${base}/console/drills`), page.click('main button[type=submit]')])
    expect(api.calls.filter((c) => c.method === 'drill')).toHaveLength(calls + 1)
    const text = await page.textContent('main')
    const drill = api.onDrill({})
    expect(text).toContain(drill.id)
    expect(text).toContain(drill.partners[0]?.name)
    expect(text).toContain('steam-50')
    expect(text).toContain(lang === 'en' ? 'all passed' : '全部通过')
    expect(problems).toEqual([])
    await ctx.close()
  })

  it('a form without the session or with a wrong CSRF token changes nothing', async () => {
    const calls = api.calls.filter((c) => c.method === 'drill').length
    const noSession = await app.inject({
      method: 'POST',
      url: '/console/drills',
      payload: 'csrf=x',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    })
    expect(noSession.statusCode).toBe(401)
    const login = await app.inject({
      method: 'POST',
      url: '/console/login',
      payload: `token=${TOKEN}`,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    })
    expect(login.statusCode).toBe(303)
    const cookie = String(login.headers['set-cookie']).split(';')[0] as string
    const wrong = await app.inject({
      method: 'POST',
      url: '/console/drills',
      payload: 'csrf=not-the-token',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie },
    })
    expect(wrong.statusCode).toBe(403)
    expect(api.calls.filter((c) => c.method === 'drill')).toHaveLength(calls)
    // Cookie flags: HttpOnly, SameSite=Strict, scoped to /console.
    expect(String(login.headers['set-cookie'])).toMatch(/HttpOnly/)
    expect(String(login.headers['set-cookie'])).toMatch(/SameSite=Strict/)
    expect(String(login.headers['set-cookie'])).toMatch(/Path=\/console/)
  })

  it('a client on another host is refused before anything else', async () => {
    const reply = await app.inject({ method: 'GET', url: '/console/login', remoteAddress: '192.0.2.9' })
    expect(reply.statusCode).toBe(403)
  })
})
