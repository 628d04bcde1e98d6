// Issue 17, item 5, with real processes: shop A's software is SIGKILLed (its node keeps running),
// with paid orders waiting. Its health reports stop. After the terms' missedHealthReports ×
// healthReportMs the node calls the platform `unknown`, warns the operator, and partners see
// `unknown` in its heartbeats — but nobody takes over on silence alone (adapters/README.md,
// "Silence": a silent shop may still be delivering). The operator, who knows the shop is
// stopped, runs `standin platform down`: partners then deliver every waiting order, once.
import { afterEach, describe, expect, it } from 'vitest'
import type { PartnerStatus, SelfStatus } from '../../node/core/api-schemas.js'
import { killShop, shopPost } from '../../examples/demo/shops.js'
import { cliAsync, waitFor } from './cluster.js'
import { allot, type Federation, keysToOrders, mails, sleep, startFederation, stopFederation, testTerms } from './federation-env.js'

const HEALTH_REPORT_MS = 1_000
const MISSED_REPORTS = 3
const ORDERS = 3
/** After the silence: several takeover delays of the local preset (1 s), in which nobody may take over. */
const QUIET_WATCH_MS = 5_000

let f: Federation | undefined
afterEach(async () => {
  await stopFederation(f)
  f = undefined
})

describe('a shop that goes silent', () => {
  it('is `unknown` after the missed reports, warns its operator, is not taken over until the operator says it is down', async () => {
    f = await startFederation({
      shopProcesses: ['A'],
      terms: (ids) => ({ ...testTerms(ids), timing: { healthReportMs: HEALTH_REPORT_MS, missedHealthReports: MISSED_REPORTS } }),
    })
    const fed = f
    const shopA = fed.shopProcesses.get('A')
    if (!shopA) throw new Error('no shop process A')
    await allot(fed, 'A', 'B', ORDERS)
    const orders: string[] = []
    for (let i = 0; i < ORDERS; i++)
      orders.push((await shopPost<{ order: string }>(shopA, '/buy', { sku: 'steam-50', qty: 1, email: `silent-${i}@example.com` })).order)
    const self = () => fed.cluster.admin<SelfStatus>('A', '/v1/admin/self')
    expect((await self()).health).toMatchObject({ silent: false, source: 'adapter', silentAfterMs: HEALTH_REPORT_MS * MISSED_REPORTS })

    await killShop(shopA, 'SIGKILL')
    const killedAt = Date.now()
    const silent = await waitFor(
      'A calls its silent shop unknown',
      async () => {
        const s = await self()
        return s.health.silent ? s : undefined
      },
      60_000,
    )
    // Not before the reports were missed: the last one came at most one interval before the kill.
    expect(Date.now() - killedAt).toBeGreaterThanOrEqual(HEALTH_REPORT_MS * (MISSED_REPORTS - 1))
    expect(silent.platform).toBe('unknown')
    expect(fed.cluster.node('A').output).toContain('no health report from the shop for longer than the terms allow')
    const status = await cliAsync(['status', '-d', fed.cluster.node('A').dir])
    expect(status).toMatch(/platform +unknown: ADAPTER SILENT .* if the shop is stopped, run: standin platform down/)

    // Partners hear `unknown` in A's heartbeats, and do nothing about it.
    for (const name of ['B', 'C']) {
      await waitFor(
        `${name} sees A's platform unknown`,
        async () => {
          const { partners } = await fed.cluster.admin<{ partners: PartnerStatus[] }>(name, '/v1/admin/partners')
          return partners.find((p) => p.name === 'Shop A')?.platform === 'unknown' ? true : undefined
        },
        30_000,
      )
    }
    await sleep(QUIET_WATCH_MS)
    for (const name of ['B', 'C']) {
      const { partners } = await fed.cluster.admin<{ partners: PartnerStatus[] }>(name, '/v1/admin/partners')
      expect(partners.find((p) => p.name === 'Shop A')?.phase).toBe('healthy')
    }
    expect((await self()).takenOver).toBeNull()
    expect(mails(fed, orders).filter((m) => m.order !== null)).toEqual([])

    // The operator's word: the shop is stopped. Partners deliver every waiting order, once.
    const said = await cliAsync(['platform', 'down', '-d', fed.cluster.node('A').dir])
    expect(said).toMatch(/platform down \(your word\)\. Partners took over/)
    const delivered = await waitFor(
      'every waiting order mailed by a partner',
      () => {
        const got = mails(fed, orders).filter((m) => m.order !== null)
        return new Set(got.map((m) => m.order)).size === ORDERS ? got : undefined
      },
      60_000,
    )
    expect(delivered).toHaveLength(ORDERS)
    for (const orderSet of keysToOrders(delivered).values()) expect(orderSet.size).toBe(1)
    const after = await self()
    expect(after).toMatchObject({ platform: 'down', fenced: true, health: { source: 'operator', silent: false } })
    expect(after.takenOver?.how).toBe('request')
  }, 300_000)
})
