// `npm run demo` — the federation story on one machine. Three shops (A, B, C), each a Standin node
// process plus a simulated shop process behind the generic adapter, and a local SMTP sink as the
// buyers' mailbox. A consigns keys to B and C; buyers pay A; A's platform and node are SIGKILLed
// mid-stream; B and C certify and deliver the stranded orders; A restarts and hands back.
// Ends with one `DEMO RESULT {...}` line and exits 0 only if every stranded order was delivered
// exactly once and no key went to two orders.
import '../../node/polyfills.js'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { ShopStatusView } from '../../node/core/api-schemas.js'
import { Cluster, cliAsync, freePort, waitFor } from '../support/processes.js'
import { startSink } from '../support/smtp-sink.js'
import { killShop, type ShopProcess, shopPost, shopState, startShopProcess } from './shops.js'

const NAMES = ['A', 'B', 'C'] as const
const KEYS_PER_PARTNER = 60
const BUY_EVERY_MS = 60
const BUY_FOR_MS = 2_500
const OWN_DELIVERY_DELAY_MS = 1_200
const KEY = /STEAM-[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}/g

const started = Date.now()
const say = (message: string) => console.log(`[${((Date.now() - started) / 1000).toFixed(1).padStart(5)} s] ${message}`)

interface SavedOrder {
  order: string
  status: string
}

async function main(): Promise<number> {
  const sink = await startSink()
  const shopPorts = Object.fromEntries(await Promise.all(NAMES.map(async (n) => [n, await freePort()] as const)))
  say('creating shops A, B, C: standin init, invite, join, terms accept')
  const cluster = await Cluster.create([...NAMES], {
    preset: 'local',
    initArgs: (n) => [
      '--callback-url',
      `http://127.0.0.1:${shopPorts[n]}`,
      '--smtp',
      `127.0.0.1:${sink.port}`,
      '--mail-from',
      `Shop ${n} <shop-${n.toLowerCase()}@example.com>`,
    ],
    terms: (ids) => ({
      skus: Object.values(ids).map((shop) => ({ shop, sku: 'steam-50', allotmentCap: 500, unitValue: { minorUnits: 5_000, currency: 'CNY' } })),
    }),
  })
  const shops = new Map<string, ShopProcess>()
  const stateFile = (n: string) => join(cluster.root, `shop-${n}.json`)
  const startShop = async (n: string) => {
    const node = cluster.node(n)
    shops.set(
      n,
      await startShopProcess({
        name: `Shop ${n}`,
        port: shopPorts[n] as number,
        nodeUrl: node.baseUrl,
        requestSecret: node.adapter.requestSecret,
        callbackSecret: node.adapter.callbackSecret,
        stateFile: stateFile(n),
        keys: 400,
        deliverDelayMs: OWN_DELIVERY_DELAY_MS,
      }),
    )
  }
  try {
    await Promise.all(NAMES.map(startShop))
    await Promise.all(NAMES.map((n) => cluster.start(n)))
    await waitFor('the federation connected', async () => {
      for (const n of NAMES) {
        const { partners } = await cluster.admin<{ partners: { connected: boolean }[] }>(n, '/v1/admin/partners')
        if (!partners.every((p) => p.connected)) return undefined
      }
      return true
    })
    say(`nodes running; SMTP sink on 127.0.0.1:${sink.port}`)
    for (const partner of ['B', 'C'])
      say(await cliAsync(['allot', '-d', cluster.node('A').dir, '--to', `Shop ${partner}`, '--sku', 'steam-50', '--count', String(KEYS_PER_PARTNER)]))

    say(`buyers pay Shop A: one order every ${BUY_EVERY_MS} ms; A delivers its own orders after ${OWN_DELIVERY_DELAY_MS} ms`)
    const shopA = shops.get('A') as ShopProcess
    let bought = 0
    const buyUntil = Date.now() + BUY_FOR_MS
    while (Date.now() < buyUntil) {
      await shopPost(shopA, '/buy', { sku: 'steam-50', qty: 1, email: `buyer${bought}@example.com`, locale: bought % 2 === 0 ? 'zh-CN' : 'en' })
      bought++
      await new Promise((r) => setTimeout(r, BUY_EVERY_MS))
    }

    await Promise.all([killShop(shopA, 'SIGKILL'), cluster.kill('A', 'SIGKILL')])
    const crashAt = Date.now()
    const saved = JSON.parse(readFileSync(stateFile('A'), 'utf8')) as { orders: SavedOrder[] }
    const stranded = saved.orders.filter((o) => o.status === 'paid').map((o) => o.order)
    say(`✖ SIGKILL: Shop A's platform and node are dead with ${stranded.length} of ${bought} paid orders not yet delivered`)

    const aId = cluster.node('A').id
    let lastState = ''
    const delivered = await waitFor(
      'partners delivering every stranded order',
      async () => {
        const view = (await (await fetch(`${cluster.node('B').baseUrl}/status/${aId}.json`)).json()) as ShopStatusView
        if (view.state !== lastState) {
          lastState = view.state
          say(`Shop B's outage notice for Shop A: ${view.state}`)
        }
        const got = new Set(sink.received.flatMap((r) => ((r.mail.text ?? '').match(/[0-9a-f]{6}-\d+/g) ?? []).filter((o) => stranded.includes(o))))
        return stranded.every((o) => got.has(o)) ? got.size : undefined
      },
      90_000,
      50,
    )
    const firstMailAt = Math.min(...sink.received.map((r) => r.at))
    say(`first key reached a buyer ${firstMailAt - crashAt} ms after the crash; all ${delivered} stranded orders delivered by mail`)

    const mails = sink.received.map((r) => {
      const text = r.mail.text ?? ''
      const tokens = text.match(/[0-9a-f]{6}-\d+/g) ?? []
      return { from: r.from, order: tokens.find((t) => stranded.includes(t)) ?? '?', keys: [...new Set(text.match(KEY) ?? [])] }
    })
    const perOrder = new Map<string, number>()
    const keyOrders = new Map<string, Set<string>>()
    const byPartner: Record<string, number> = {}
    for (const m of mails) {
      perOrder.set(m.order, (perOrder.get(m.order) ?? 0) + 1)
      byPartner[m.from] = (byPartner[m.from] ?? 0) + 1
      for (const k of m.keys) keyOrders.set(k, (keyOrders.get(k) ?? new Set()).add(m.order))
    }
    for (const [from, count] of Object.entries(byPartner)) say(`  ${from} delivered ${count}`)

    say('Shop A restarts: node first, then its platform (its database survived the crash)')
    await cluster.start('A')
    await startShop('A')
    await shopPost(shops.get('A') as ShopProcess, '/platform', { platform: 'up' })
    const handedBack = await waitFor(
      'handback and write-back',
      async () => {
        const state = await shopState<{
          fenced: boolean
          orders: { 'delivered-by-partner': number; paid: number }
          duplicates: { count: number }
          writeBacks: { keyConflicts: number }
        }>(shops.get('A') as ShopProcess)
        return !state.fenced && state.orders['delivered-by-partner'] >= stranded.length ? state : undefined
      },
      60_000,
    ).catch(() => null)
    say(
      handedBack
        ? `handback: Shop A wrote ${handedBack.orders['delivered-by-partner']} partner deliveries into its records and delivers again`
        : 'handback did not complete in time',
    )
    console.log(`\n${await cliAsync(['incidents', '-d', cluster.node('A').dir])}\n`)

    say('settlement: B and C state what A owes them for their deliveries')
    for (const partner of ['B', 'C']) console.log(`${await cliAsync(['settle', 'issue', '-d', cluster.node(partner).dir, 'Shop A'])}\n`)
    await waitFor(
      "A's books showing both statements",
      async () => {
        const { statements } = await cluster.admin<{ statements: { role: string }[] }>('A', '/v1/admin/statements')
        return statements.filter((st) => st.role === 'received').length >= 2 || undefined
      },
      30_000,
    )
    const { balances } = await cluster.admin<{ balances: { counterparty: string; currency: string; owedByUs: number }[] }>('A', '/v1/admin/balances')
    const owedByA: Record<string, { minorUnits: number; currency: string }> = {}
    for (const partner of ['B', 'C']) {
      const b = balances.find((x) => x.counterparty === cluster.node(partner).id)
      owedByA[`Shop ${partner}`] = { minorUnits: b?.owedByUs ?? 0, currency: b?.currency ?? 'CNY' }
    }
    say(
      `Shop A's books: ${Object.entries(owedByA)
        .map(([n, m]) => `owes ${n} ${(m.minorUnits / 100).toFixed(2)} ${m.currency}`)
        .join(', ')}`,
    )

    const duplicates = [...perOrder.entries()].filter(([o, n]) => o !== '?' && n > 1).length + (handedBack?.duplicates.count ?? 0)
    const keysReused = [...keyOrders.values()].filter((orders) => orders.size > 1).length + (handedBack?.writeBacks.keyConflicts ?? 0)
    const deliveredByPartners = stranded.filter((o) => (perOrder.get(o) ?? 0) >= 1).length
    const escrowed = saved.orders.length
    const result = {
      escrowed,
      stranded: stranded.length,
      deliveredByPartners,
      keysReused,
      duplicates,
      handback: handedBack !== null,
      crashToFirstKeyMs: firstMailAt - crashAt,
      owedByA,
    }
    console.log(`DEMO RESULT ${JSON.stringify(result)}`)
    const exactlyOnce = stranded.every((o) => perOrder.get(o) === 1)
    return exactlyOnce && keysReused === 0 && result.handback ? 0 : 1
  } finally {
    for (const shop of shops.values()) await killShop(shop, 'SIGTERM')
    await cluster.stop()
    await sink.close()
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`demo failed: ${error instanceof Error ? error.stack : String(error)}`)
    process.exit(1)
  },
)
