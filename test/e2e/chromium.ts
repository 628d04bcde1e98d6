// The real browser of the e2e tests: Debian's Chromium, driven by playwright-core, headless, with
// nothing of its own going to the network. Provisioned by `../shared/ci/provision.sh chromium`.
import { existsSync } from 'node:fs'
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core'
import { requireOrSkip } from '../support/requirements.js'

const CHROMIUM = '/usr/bin/chromium'
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]
/** Chromium's first start on 2 slow cores can take several seconds. */
export const LAUNCH_TIMEOUT_MS = 60_000
export const PAGE_TIMEOUT_MS = 15_000

export const hasChromium = requireOrSkip('chromium', existsSync(CHROMIUM), `no ${CHROMIUM}; run ../shared/ci/provision.sh chromium`)

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, timeout: LAUNCH_TIMEOUT_MS })
}

/** A fresh browser context and page that record console errors (CSP violations) and failed requests. */
export async function watchedPage(browser: Browser, locale: string): Promise<{ ctx: BrowserContext; page: Page; problems: string[] }> {
  const ctx = await browser.newContext({ locale })
  const page = await ctx.newPage()
  page.setDefaultTimeout(PAGE_TIMEOUT_MS)
  const problems: string[] = []
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(m.text())
  })
  page.on('requestfailed', (r) => problems.push(`${r.url()} ${r.failure()?.errorText ?? ''}`))
  return { ctx, page, problems }
}
