// The simulated shop against a FAKE node (test/adapters/fake-node.ts; the real node is tested in
// test/http and test/integration): escrow before delivery, platform outages, an unreachable node,
// and invariant 1 (adapters/README.md §5) under concurrent buys while the node takes stock for consignments.
import { afterEach, describe, expect, it } from 'vitest'
import { createCallbackAdapter } from '../../node/shop/callback-adapter.js'
import type { CardKey } from '../../node/core/ports.js'
import { CALLBACK_SECRET, closedPort, recordingLogger, rig, type Rig } from './helpers.js'

const SKU = 'steam-50'
let r: Rig | null = null
afterEach(async () => {
  await r?.stop()
  r = null
})

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
async function until(condition: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await pause(2)
  }
}

async function buyOverHttp(url: string, body: unknown) {
  const response = await fetch(`${url}/buy`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
  return { status: response.status, json: (await response.json()) as Record<string, unknown> }
}

describe('escrow first', () => {
  it('does not deliver until the node acknowledged the escrow, then tells the node it delivered', async () => {
    r = await rig({ deliverDelayMs: 0 })
    const { node, shop } = r
    const release = node.holdEscrow()
    const pending = shop.buy({ sku: SKU, qty: 2, email: 'buyer@example.com', locale: 'zh-CN' })
    await until(() => node.calls.some((c) => c.path === '/v1/adapter/orders'), 'the escrow call')
    await pause(20)
    const [held] = shop.orders()
    expect(held).toMatchObject({ status: 'paid', escrow: 'pending', keys: [] })
    expect(shop.keyIds('sold')).toEqual([])

    release()
    const order = await pending
    await shop.idle()
    expect(shop.order(order.order)).toMatchObject({ status: 'delivered', escrow: 'escrowed' })
    const submit = node.calls.find((c) => c.path === '/v1/adapter/orders')!
    expect(submit.body).toEqual({
      orders: [
        {
          order: order.order,
          sku: SKU,
          qty: 2,
          amount: { minorUnits: 10_000, currency: 'CNY' },
          paidAt: order.paidAt,
          buyer: { email: 'buyer@example.com', locale: 'zh-CN' },
          claimSecret: order.claimSecret,
        },
      ],
    })
    await until(() => node.calls.some((c) => c.path === '/v1/adapter/orders/delivered'), 'the tombstone')
    const tombstone = node.calls.find((c) => c.path === '/v1/adapter/orders/delivered')!
    expect(tombstone.body).toEqual({ orders: [{ order: order.order, time: shop.order(order.order)!.deliveredAt }] })
    expect(tombstone.at).toBeGreaterThan(node.escrowAckedAt(order.order)!)
  })

  it('every one of 50 orders is escrowed (acknowledged) before its tombstone', async () => {
    r = await rig({ deliverDelayMs: 0 })
    const orders = await Promise.all(Array.from({ length: 50 }, (_, i) => r!.shop.buy({ sku: SKU, qty: 1, email: `b${i}@example.com`, locale: 'en' })))
    await r.shop.idle()
    await until(() => r!.shop.state().pendingTombstones === 0, 'all tombstones')
    const tombstoned = new Map(
      r.node.calls.flatMap((c) => (c.path === '/v1/adapter/orders/delivered' ? c.body.orders.map((o) => [o.order, c.at] as const) : [])),
    )
    expect(tombstoned.size).toBe(50)
    for (const { order } of orders) expect(tombstoned.get(order)!).toBeGreaterThan(r.node.escrowAckedAt(order)!)
  })
})

describe('platform', () => {
  it('down: health reported, orders stay paid (stranded) but escrowed; up: reported and delivered', async () => {
    r = await rig()
    const { node, shop } = r
    expect(node.calls.filter((c) => c.path === '/v1/adapter/health').map((c) => c.body)).toEqual([{ platform: 'up', detail: 'Shop A: simulated platform up' }])

    const down = await fetch(`${shop.url}/platform`, { method: 'POST', body: JSON.stringify({ platform: 'down' }) })
    expect(await down.json()).toEqual({ platform: 'down', reported: true, error: null })
    expect(node.calls.at(-1)).toMatchObject({ path: '/v1/adapter/health', body: { platform: 'down' } })

    const order = await shop.buy({ sku: SKU, qty: 1, email: null, locale: 'en' })
    await shop.idle()
    await pause(30)
    expect(shop.order(order.order)).toMatchObject({ status: 'paid', escrow: 'escrowed' })
    expect(shop.state()).toMatchObject({ platform: 'down', health: { reported: 'down' }, orders: { paid: 1, escrowed: 1 } })

    await shop.setPlatform('up')
    await shop.idle()
    expect(node.calls.filter((c) => c.path === '/v1/adapter/health').at(-1)?.body).toMatchObject({ platform: 'up' })
    expect(shop.order(order.order)?.status).toBe('delivered')
  })
})

describe('the node refuses or is unreachable', () => {
  it('the order is never lost: still paid, the error recorded, delivered (no partner knows it)', async () => {
    const port = await closedPort()
    r = await rig({ node: { baseUrl: `http://127.0.0.1:${port}`, secret: 'whatever-0123456789' } })
    const { shop } = r
    expect(shop.state().health.error).toMatch(/fetch failed/)
    const order = await shop.buy({ sku: SKU, qty: 1, email: 'buyer@example.com', locale: 'en' })
    expect(order).toMatchObject({ status: 'paid', escrow: 'failed' })
    expect(order.escrowError).toMatch(/fetch failed/)
    await shop.idle()
    expect(shop.order(order.order)?.status).toBe('delivered')
    expect(shop.state().pendingTombstones).toBe(1) // kept for retry
  })

  it('a refusal (503) is recorded the same way', async () => {
    r = await rig()
    r.node.failWith = 503
    const order = await r.shop.buy({ sku: SKU, qty: 1, email: null, locale: 'en' })
    expect(order.escrow).toBe('failed')
    expect(order.escrowError).toMatch(/503/)
    expect(r.shop.state().orders).toMatchObject({ total: 1, escrowFailed: 1 })
  })

  it('tombstones the node did not take are sent again once it answers', async () => {
    r = await rig({ deliverDelayMs: 0 })
    const order = await r.shop.buy({ sku: SKU, qty: 1, email: null, locale: 'en' })
    r.node.failWith = 503
    await r.shop.idle()
    expect(r.shop.state().pendingTombstones).toBe(1)
    r.node.failWith = null
    await until(() => r!.shop.state().pendingTombstones === 0, 'the retried tombstone')
    expect(r.node.calls.filter((c) => c.path === '/v1/adapter/orders/delivered').flatMap((c) => c.body.orders.map((o) => o.order))).toEqual([order.order])
  })
})

describe('invariant 1 under load', () => {
  it('200 concurrent buys while the node takes stock: no key is both sold and consigned, and counts add up', async () => {
    const INITIAL = 600
    r = await rig({ skus: [{ sku: SKU, priceMinorUnits: 5_000, currency: 'CNY', keys: INITIAL }], deliverDelayMs: 1 })
    const { shop } = r
    const adapter = createCallbackAdapter({ baseUrl: shop.url, secret: CALLBACK_SECRET, logger: recordingLogger() })

    // 200 buys of 1–3 keys (400 wanted) racing 10 consignments of 30 (300 wanted): 700 > 600.
    const buys = Array.from({ length: 200 }, (_, i) => buyOverHttp(shop.url, { sku: SKU, qty: (i % 3) + 1, email: `b${i}@example.com` }))
    const takes = Array.from({ length: 10 }, () => adapter.takeStock(SKU, 30))
    const [bought, taken] = await Promise.all([Promise.all(buys), Promise.all(takes)])
    await shop.idle()

    const accepted = bought.filter((b) => b.status === 201)
    const refused = bought.filter((b) => b.status === 409)
    expect(accepted.length + refused.length).toBe(200)
    for (const b of refused) expect(b.json.error).toBe('out_of_stock')

    const takenKeys: CardKey[] = taken.flat()
    const takenIds = new Set(takenKeys.map((k) => k.keyId))
    expect(takenIds.size).toBe(takenKeys.length) // no key handed out twice
    const orders = shop.orders()
    expect(orders.filter((o) => o.status !== 'delivered')).toEqual([]) // every paid order delivered
    const soldIds = orders.flatMap((o) => o.keys.map((k) => k.keyId))
    const soldSet = new Set(soldIds)
    expect(soldSet.size).toBe(soldIds.length) // no key sold to two orders
    for (const o of orders) expect(o.keys).toHaveLength(o.qty)

    expect([...soldSet].filter((id) => takenIds.has(id))).toEqual([]) // sold ∩ taken = ∅
    expect(new Set(shop.keyIds('sold'))).toEqual(soldSet)
    expect(new Set(shop.keyIds('consigned'))).toEqual(takenIds)
    const counts = shop.state().stock[SKU]!
    expect(counts.inStock + counts.sold + counts.consigned).toBe(INITIAL)
    expect(counts.sold).toBe(accepted.reduce((sum, b) => sum + (b.json.qty as number), 0))
    expect(counts.reserved).toBe(0)
    // The race was real: demand exceeded stock, so someone went without.
    expect(refused.length > 0 || takenKeys.length < 300).toBe(true)

    // And the consigned keys stay out of sale afterwards too.
    const later = await Promise.all(Array.from({ length: counts.inStock }, () => shop.buy({ sku: SKU, qty: 1, email: null, locale: 'en' })))
    await shop.idle()
    for (const o of later) expect(takenIds.has(shop.order(o.order)!.keys[0]!.keyId)).toBe(false)
    await expect(shop.buy({ sku: SKU, qty: 1, email: null, locale: 'en' })).rejects.toMatchObject({ status: 409 })
  })
})

describe('HTTP control API', () => {
  it('refuses bad buys with 400 naming the field, and unknown routes with 404', async () => {
    r = await rig()
    expect(await buyOverHttp(r.shop.url, { sku: SKU, qty: 0, email: null })).toMatchObject({ status: 400, json: { error: 'invalid' } })
    expect((await buyOverHttp(r.shop.url, { sku: SKU, email: 'not-an-email' })).json.message).toMatch(/^body\.email: /)
    expect((await buyOverHttp(r.shop.url, { sku: 'nope', email: null })).json.message).toBe('body.sku: unknown sku nope')
    expect((await fetch(`${r.shop.url}/nope`)).status).toBe(404)
    expect((await fetch(`${r.shop.url}/buy`, { method: 'POST', body: 'x'.repeat(20_000) })).status).toBe(413)
    expect(r.shop.state().orders.total).toBe(0)
  })

  it('GET /state and /orders/<id> show what the shop holds', async () => {
    r = await rig()
    const { json } = await buyOverHttp(r.shop.url, { sku: SKU, qty: 1, email: 'buyer@example.com', locale: 'en' })
    await r.shop.idle()
    const state = (await (await fetch(`${r.shop.url}/state`)).json()) as Record<string, unknown>
    expect(state).toMatchObject({
      name: 'Shop A',
      platform: 'up',
      fenced: false,
      orders: { total: 1, delivered: 1 },
      stock: { [SKU]: { inStock: 49, sold: 1 } },
    })
    const order = (await (await fetch(`${r.shop.url}/orders/${json.order as string}`)).json()) as Record<string, unknown>
    expect(order).toMatchObject({ order: json.order, status: 'delivered', deliveredBy: { by: 'shop' } })
    expect((order.keys as CardKey[])[0]?.key).toMatch(/^STEAM-[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}$/)
  })

  it('binds to 127.0.0.1 only', async () => {
    r = await rig()
    expect(new URL(r.shop.url).hostname).toBe('127.0.0.1')
  })
})
