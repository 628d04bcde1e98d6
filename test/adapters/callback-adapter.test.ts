// The node's callback adapter against the shop simulator, both real over HTTP on 127.0.0.1. The
// simulator's own node is a FAKE (test/adapters/fake-node.ts): the real node is tested in test/http
// and test/integration; here the subject is the node → shop webhook and the shop's bookkeeping.
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createCallbackAdapter } from '../../node/shop/callback-adapter.js'
import type { Adapter, CardKey, PartnerDelivery } from '../../node/core/ports.js'
import { CALLBACK_PATHS } from '../../protocol/index.js'
import { bob, carol } from '../protocol/fixtures.js'
import { CALLBACK_SECRET, postSigned, recordingLogger, rig, type Rig } from './helpers.js'

const SKU = 'steam-50'
let r: Rig
let adapter: Adapter
let logger: ReturnType<typeof recordingLogger>

beforeEach(async () => {
  r = await rig()
  logger = recordingLogger()
  adapter = createCallbackAdapter({ baseUrl: r.shop.url, secret: CALLBACK_SECRET, logger, backoffMs: 1 })
})
afterEach(async () => {
  await r.stop()
})

const delivery = (order: string, keys: CardKey[], fulfiller = bob.identity.id): PartnerDelivery => ({
  order,
  sku: SKU,
  keys,
  fulfiller,
  fulfillerName: 'Shop B',
  epoch: 2,
  deliveredAt: Date.now(),
  channel: 'email+claim-page',
})

const buy = () => r.shop.buy({ sku: SKU, qty: 1, email: 'buyer@example.com', locale: 'en' })
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

describe('fence', () => {
  it('stops the shop delivering; unfence resumes the stranded orders', async () => {
    await adapter.setFenced(true)
    expect(r.shop.fenced).toBe(true)
    const order = await buy()
    await r.shop.idle()
    await pause(30) // several delivery delays
    expect(r.shop.order(order.order)?.status).toBe('paid')
    expect(r.shop.keyIds('sold')).toEqual([])

    await adapter.setFenced(false)
    await r.shop.idle()
    expect(r.shop.order(order.order)).toMatchObject({ status: 'delivered', deliveredBy: { by: 'shop' } })
    expect(r.shop.order(order.order)?.keys).toHaveLength(1)
  })

  it('a fence that lands while a delivery is scheduled still stops it', async () => {
    await r.stop()
    r = await rig({ deliverDelayMs: 500 }) // ample time for the fence to land first, even on a loaded machine
    adapter = createCallbackAdapter({ baseUrl: r.shop.url, secret: CALLBACK_SECRET, logger, backoffMs: 1 })
    const order = await buy()
    await adapter.setFenced(true)
    await r.shop.idle()
    expect(r.shop.order(order.order)?.status).toBe('paid')
  })

  it('the same fence sent twice in one millisecond is not refused as a replay', async () => {
    await Promise.all([adapter.setFenced(true), adapter.setFenced(true)])
    expect(r.shop.fenced).toBe(true)
  })
})

describe('take and return stock', () => {
  it('takes up to count keys, which the shop never sells afterwards', async () => {
    const taken = await adapter.takeStock(SKU, 20)
    expect(taken).toHaveLength(20)
    expect(new Set(taken.map((k) => k.keyId)).size).toBe(20)
    expect(r.shop.state().stock[SKU]).toMatchObject({ inStock: 30, consigned: 20 })

    // Only 30 left: one more than that is refused at checkout, not sold from the consignment.
    const orders = await Promise.all(Array.from({ length: 30 }, buy))
    await expect(buy()).rejects.toMatchObject({ status: 409, code: 'out_of_stock' })
    await r.shop.idle()
    const sold = new Set(orders.flatMap((o) => r.shop.order(o.order)?.keys.map((k) => k.keyId) ?? []))
    expect(sold.size).toBe(30)
    for (const key of taken) expect(sold.has(key.keyId)).toBe(false)
    expect(await adapter.takeStock(SKU, 5)).toEqual([]) // nothing unsold is left
  })

  it('returns keys to stock; a second return of the same keys is a no-op', async () => {
    const taken = await adapter.takeStock(SKU, 10)
    await adapter.returnStock(SKU, taken.slice(0, 4))
    await adapter.returnStock(SKU, taken.slice(0, 4))
    expect(r.shop.state().stock[SKU]).toMatchObject({ inStock: 44, consigned: 6 })
  })

  it('refuses keys the shop never had (400) and keys already delivered (409), changing nothing', async () => {
    const taken = await adapter.takeStock(SKU, 3)
    const before = r.shop.state().stock[SKU]!
    await expect(adapter.returnStock(SKU, [taken[0]!, { keyId: 'k-999999', key: 'STEAM-FAKE-FAKE-FAKE' }])).rejects.toMatchObject({ status: 400 })
    await expect(adapter.returnStock(SKU, [{ ...taken[0]!, key: 'STEAM-WRONG' }])).rejects.toThrow(/never in this shop's stock/)
    const order = await buy()
    await r.shop.idle()
    const soldKey = r.shop.order(order.order)!.keys[0]!
    await expect(adapter.returnStock(SKU, [taken[1]!, soldKey])).rejects.toMatchObject({ status: 409 })
    expect(r.shop.state().stock[SKU]).toMatchObject({ inStock: before.inStock - 1, consigned: 3 })
  })

  it('an unknown sku is an error from the shop', async () => {
    await expect(adapter.takeStock('no-such-sku', 1)).rejects.toThrow(/404.*unknown sku/)
  })
})

describe('write-back', () => {
  it('marks stranded orders delivered by the partner, idempotently, and counts duplicates', async () => {
    const selfDelivered = await buy()
    await r.shop.idle()
    await r.shop.setPlatform('down')
    const stranded = await buy()
    const untouched = await buy()
    const [k1, k2, k3] = await adapter.takeStock(SKU, 3)

    await adapter.writeBack(delivery(stranded.order, [k1!]))
    await adapter.writeBack(delivery(stranded.order, [k1!])) // retried write-back: same effect
    expect(r.shop.order(stranded.order)).toMatchObject({
      status: 'delivered-by-partner',
      keys: [k1],
      deliveredBy: { by: 'partner', fulfiller: bob.identity.id, fulfillerName: 'Shop B', epoch: 2 },
    })

    // The shop had delivered this one itself: a partner delivering it too is a duplicate, counted once.
    await adapter.writeBack(delivery(selfDelivered.order, [k2!]))
    await adapter.writeBack(delivery(selfDelivered.order, [k2!]))
    // A second partner delivering the stranded order is another duplicate.
    await adapter.writeBack(delivery(stranded.order, [k3!], carol.identity.id))
    const state = r.shop.state()
    expect(state.duplicates).toEqual({ count: 2, orders: [selfDelivered.order, stranded.order] })
    expect(state.writeBacks).toMatchObject({ applied: 1, repeated: 2, keyConflicts: 0 })
    expect(state.stock[SKU]).toMatchObject({ consigned: 0, partnerDelivered: 3 })

    // Back up: the shop delivers what nobody delivered, and never re-delivers the partner's order.
    await r.shop.setPlatform('up')
    await r.shop.idle()
    expect(r.shop.order(stranded.order)?.status).toBe('delivered-by-partner')
    expect(r.shop.order(untouched.order)?.status).toBe('delivered')
  })

  it('a partner key the shop still had in stock is counted as a key conflict and leaves the stock', async () => {
    await r.shop.setPlatform('down')
    const stranded = await buy()
    const inStock = await adapter.takeStock(SKU, 1)
    await adapter.returnStock(SKU, inStock) // back on the shelf, yet a partner claims to have delivered it
    await adapter.writeBack(delivery(stranded.order, inStock))
    expect(r.shop.state().writeBacks.keyConflicts).toBe(1)
    expect(r.shop.keyIds('stock')).not.toContain(inStock[0]!.keyId)
  })
})

describe('refused callbacks change nothing', () => {
  const take = { sku: SKU, count: 5 }
  const path = CALLBACK_PATHS.takeStock

  it('bad signature → 401', async () => {
    const reply = await postSigned(r.shop.url, { path, body: take, secret: 'not-the-callback-secret-0123456789' })
    expect(reply).toMatchObject({ status: 401, json: { error: 'unauthorized' } })
    expect(r.shop.state().stock[SKU]).toMatchObject({ inStock: 50, consigned: 0 })
  })

  it('stale timestamp → 401', async () => {
    const reply = await postSigned(r.shop.url, { path, body: take, timestampMs: Date.now() - 6 * 60 * 1000 })
    expect(reply.status).toBe(401)
    expect(reply.json.message).toMatch(/^stale timestamp/)
    expect(r.shop.state().stock[SKU]?.inStock).toBe(50)
  })

  it('missing headers → 401', async () => {
    expect((await postSigned(r.shop.url, { path, body: take, omit: 'signature' })).status).toBe(401)
    expect((await postSigned(r.shop.url, { path, body: take, omit: 'timestamp' })).status).toBe(401)
    expect(r.shop.state().stock[SKU]?.inStock).toBe(50)
  })

  it('a replayed take-stock → 409, and stock moved once', async () => {
    const timestampMs = Date.now()
    const first = await postSigned(r.shop.url, { path, body: take, timestampMs })
    expect(first.status).toBe(200)
    expect(first.json.keys).toHaveLength(5)
    const replay = await postSigned(r.shop.url, { path, body: take, timestampMs })
    expect(replay).toMatchObject({ status: 409, json: { error: 'replayed' } })
    expect(r.shop.state().stock[SKU]).toMatchObject({ inStock: 45, consigned: 5 })
  })

  it('a replayed fence → 409 and the fence stays as the node last set it', async () => {
    const timestampMs = Date.now() // after the shop started: only the replay is refused
    expect((await postSigned(r.shop.url, { path: CALLBACK_PATHS.fence, body: { fenced: true }, timestampMs })).status).toBe(200)
    await adapter.setFenced(false)
    expect((await postSigned(r.shop.url, { path: CALLBACK_PATHS.fence, body: { fenced: true }, timestampMs })).status).toBe(409)
    expect(r.shop.fenced).toBe(false)
  })

  it('the adapter with the wrong secret gets a 401 error and does not retry it', async () => {
    const wrong = createCallbackAdapter({ baseUrl: r.shop.url, secret: 'not-the-callback-secret-0123456789', logger, backoffMs: 1 })
    await expect(wrong.setFenced(true)).rejects.toMatchObject({ status: 401 })
    expect(logger.lines.filter((l) => l.message.includes('retrying'))).toEqual([])
    expect(r.shop.fenced).toBe(false)
  })

  it('a signed body that fails its schema → 400 naming the field, nothing changes', async () => {
    const reply = await postSigned(r.shop.url, { path, body: { sku: SKU, count: 0 } })
    expect(reply.status).toBe(400)
    expect(reply.json.message).toMatch(/^body\.count: /)
    expect(r.shop.state().stock[SKU]?.inStock).toBe(50)
  })
})
