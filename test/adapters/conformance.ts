// The adapter conformance suite: what every adapter must do, checked through the two halves it
// implements (adapters/README.md, "The contract"):
//   - the node → shop `Adapter` port, called directly;
//   - the shop → node bridge, observed at a FAKE node (fake-node.ts: the real node's intake rules,
//     in memory) after `rig.sync()` has let the bridge report everything due.
// A `ConformanceShop` drives the shop as its operator and buyers would (create paid orders, sell,
// deliver by hand, cancel, take the platform down) and reads its state back.
//
// Usage, for a new adapter:
//   describeAdapterConformance('my shop', async () => ({ adapter, shop, node, sync, fence, stop }))
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { Adapter, CardKey, PartnerDelivery } from '../../adapters/contract.js'
import type { Money } from '../../protocol/index.js'
import type { FakeNode } from './fake-node.js'

/** A paid order as the shop created it: what the node must be told. */
export interface ExpectedOrder {
  readonly order: string
  readonly sku: string
  readonly qty: number
  readonly amount: Money
  readonly email: string | null
  readonly claimSecret: string
}

export type ShopOrderStatus = 'paid' | 'delivered' | 'delivered-by-partner' | 'cancelled'

export interface ConformanceShop {
  /** A sku the shop sells from stock and may consign, with `initialKeys` keys in stock at start. */
  readonly sku: string
  readonly initialKeys: number
  /** A paid order the shop has not delivered (and will not by itself during the test). */
  createPaidOrder(input: { qty: number; email: string | null }): Promise<ExpectedOrder>
  /** The shop (its operator or pipeline) delivers a paid order from its own stock now; rejects if the shop refuses. */
  deliverByShop(order: string): Promise<void>
  /** The shop cancels (refunds) a paid order. */
  cancel(order: string): Promise<void>
  /** A buyer buys `qty` keys and the shop delivers them at once: the keys, or null when out of stock. */
  sell(qty: number): Promise<CardKey[] | null>
  /** Key ids the shop could still sell. */
  sellableKeyIds(): Promise<Set<string>>
  /** Key ids the shop itself delivered to buyers. */
  soldKeyIds(): Promise<Set<string>>
  orderView(order: string): Promise<{ status: ShopOrderStatus; keys: string[] }>
  /** Partner deliveries for orders the shop had already delivered itself (counted, never silent). */
  duplicateWriteBacks(): Promise<number>
  setPlatform(platform: 'up' | 'down'): Promise<void>
  fenced(): Promise<boolean>
}

export interface ConformanceRig {
  readonly adapter: Adapter
  readonly shop: ConformanceShop
  readonly node: FakeNode
  /** Lets the bridge report everything due (orders, tombstones, health) to `node`. */
  sync(): Promise<void>
  /**
   * What the adapter's documented fence does about the shop's own delivery of an escrowed order:
   * stop it, or (when the shop software cannot be stopped) let it through and report it to the
   * node as delivered, so a partner's second delivery is detected and counted.
   */
  readonly fence: 'prevents-own-delivery' | 'detects-own-delivery'
  stop(): Promise<void>
}

/** A syntactically valid shop id for the partner in write-backs. */
export const PARTNER_ID = `12D3KooW${'PartnerB'.repeat(5)}Shop`
export const OTHER_PARTNER_ID = `12D3KooW${'PartnerC'.repeat(5)}Shop`

export function partnerDelivery(order: string, sku: string, keys: CardKey[], fulfiller = PARTNER_ID): PartnerDelivery {
  return { order, sku, keys, fulfiller, fulfillerName: 'Shop B', epoch: 2, deliveredAt: 1_790_000_000_000, channel: 'email+claim-page' }
}

function submissionsOf(node: FakeNode, order: string): number {
  return node.calls.filter((c) => c.path === '/v1/adapter/orders' && c.body.orders.some((o) => o.order === order)).length
}

function tombstonesOf(node: FakeNode, path: '/v1/adapter/orders/delivered' | '/v1/adapter/orders/cancelled', order: string): number {
  return node.calls.filter((c) => c.path === path && c.body.orders.some((o) => o.order === order)).length
}

const lastHealth = (node: FakeNode) => node.calls.filter((c) => c.path === '/v1/adapter/health').at(-1)?.body.platform

export function describeAdapterConformance(name: string, factory: () => Promise<ConformanceRig>, options: { timeoutMs?: number } = {}): void {
  const timeout = options.timeoutMs ?? 30_000
  describe(`adapter conformance: ${name}`, () => {
    let rig: ConformanceRig
    beforeEach(async () => {
      rig = await factory()
    }, 120_000)
    afterEach(async () => {
      await rig?.stop()
    })

    it(
      'reports each paid order once, with its amount in minor units and the claim secret',
      async () => {
        const { shop, node } = rig
        const expected = [
          await shop.createPaidOrder({ qty: 1, email: 'buyer1@example.com' }),
          await shop.createPaidOrder({ qty: 3, email: null }),
          await shop.createPaidOrder({ qty: 2, email: 'buyer3@example.com' }),
        ]
        await rig.sync()
        await rig.sync()
        for (const order of expected) {
          const held = node.escrow.get(order.order)?.order
          expect(held, order.order).toMatchObject({
            order: order.order,
            sku: order.sku,
            qty: order.qty,
            amount: order.amount,
            claimSecret: order.claimSecret,
            buyer: { email: order.email },
          })
          expect(submissionsOf(node, order.order)).toBe(1)
        }
        expect(node.duplicateSubmissions).toEqual([])
        expect(node.refused).toEqual([])
      },
      timeout,
    )

    it(
      'reports a delivered and a cancelled order as tombstones, once each',
      async () => {
        const { shop, node } = rig
        const delivered = await shop.createPaidOrder({ qty: 1, email: 'd@example.com' })
        const cancelled = await shop.createPaidOrder({ qty: 1, email: 'c@example.com' })
        await rig.sync()
        await shop.deliverByShop(delivered.order)
        await shop.cancel(cancelled.order)
        await rig.sync()
        await rig.sync()
        expect(node.escrow.get(delivered.order)?.state).toBe('delivered')
        expect(node.escrow.get(cancelled.order)?.state).toBe('cancelled')
        expect(tombstonesOf(node, '/v1/adapter/orders/delivered', delivered.order)).toBe(1)
        expect(tombstonesOf(node, '/v1/adapter/orders/cancelled', cancelled.order)).toBe(1)
        expect((await shop.orderView(delivered.order)).status).toBe('delivered')
        expect((await shop.orderView(cancelled.order)).status).toBe('cancelled')
      },
      timeout,
    )

    it(
      'reports platform health down, then up',
      async () => {
        const { shop, node } = rig
        await rig.sync()
        await shop.setPlatform('down')
        await rig.sync()
        expect(lastHealth(node)).toBe('down')
        await shop.setPlatform('up')
        await rig.sync()
        expect(lastHealth(node)).toBe('up')
      },
      timeout,
    )

    it(
      'takeStock removes keys the shop then never sells, even with sales racing the consignment',
      async () => {
        const { shop, adapter } = rig
        const initial = await shop.sellableKeyIds()
        expect(initial.size).toBe(shop.initialKeys)
        // Sales and consignments at once, then sell until the shop is out of stock.
        const sales = Array.from({ length: 12 }, (_, i) => shop.sell((i % 2) + 1))
        const takes = Array.from({ length: 3 }, () => adapter.takeStock(shop.sku, 8))
        const [taken] = await Promise.all([Promise.all(takes), Promise.all(sales)])
        const takenIds = taken.flat().map((k) => k.keyId)
        expect(new Set(takenIds).size).toBe(takenIds.length)
        for (let i = 0; i < shop.initialKeys; i++) if ((await shop.sell(1)) === null) break

        const sold = await shop.soldKeyIds()
        const sellable = await shop.sellableKeyIds()
        expect(sellable.size).toBe(0)
        expect(takenIds.filter((id) => sold.has(id))).toEqual([])
        expect(takenIds.length + sold.size).toBe(shop.initialKeys) // every key went exactly one way
        for (const id of takenIds) expect(initial.has(id)).toBe(true)
        expect(await adapter.takeStock(shop.sku, 5)).toEqual([])
      },
      timeout,
    )

    it(
      'returnStock puts keys back on sale; a repeat is a no-op; keys that never left are refused',
      async () => {
        const { shop, adapter } = rig
        const taken = await adapter.takeStock(shop.sku, 3)
        expect(taken).toHaveLength(3)
        const before = await shop.sellableKeyIds()
        for (const { keyId } of taken) expect(before.has(keyId)).toBe(false)
        await adapter.returnStock(shop.sku, taken)
        const after = await shop.sellableKeyIds()
        for (const { keyId } of taken) expect(after.has(keyId)).toBe(true)
        await adapter.returnStock(shop.sku, taken)
        expect((await shop.sellableKeyIds()).size).toBe(after.size)
        await expect(adapter.returnStock(shop.sku, [{ keyId: '999999999', key: 'NOT-OURS' }])).rejects.toThrow()
        await expect(adapter.returnStock(shop.sku, [{ keyId: taken[0]!.keyId, key: 'ANOTHER-TEXT' }])).rejects.toThrow()
        await expect(adapter.takeStock('no-such-sku', 1)).rejects.toThrow()
        expect((await shop.sellableKeyIds()).size).toBe(after.size)
      },
      timeout,
    )

    it(
      'a key given back is sold by the shop but never consigned again (the node refuses a key id it has seen)',
      async () => {
        const { shop, adapter } = rig
        const first = await adapter.takeStock(shop.sku, 3)
        expect(first).toHaveLength(3)
        await adapter.returnStock(shop.sku, first)
        const returned = new Set(first.map((k) => k.keyId))
        const rest = await adapter.takeStock(shop.sku, shop.initialKeys)
        expect(rest.length).toBe(shop.initialKeys - 3)
        expect(rest.filter((k) => returned.has(k.keyId))).toEqual([])
        expect(await adapter.takeStock(shop.sku, 5)).toEqual([])
        expect(await shop.sellableKeyIds()).toEqual(returned)
      },
      timeout,
    )

    it(
      'writeBack marks the order delivered with the partner keys, idempotently; a shop-delivered order is a counted duplicate',
      async () => {
        const { shop, adapter, node } = rig
        const keys = await adapter.takeStock(shop.sku, 2)
        const order = await shop.createPaidOrder({ qty: 2, email: 'wb@example.com' })
        await rig.sync()
        const delivery = partnerDelivery(order.order, order.sku, keys)
        await adapter.writeBack(delivery)
        await adapter.writeBack(delivery)
        expect(await shop.orderView(order.order)).toEqual({ status: 'delivered-by-partner', keys: keys.map((k) => k.keyId) })
        expect(await shop.duplicateWriteBacks()).toBe(0)
        // The partner's keys can never go back on sale.
        await expect(adapter.returnStock(shop.sku, keys)).rejects.toThrow()
        await rig.sync()
        expect(tombstonesOf(node, '/v1/adapter/orders/delivered', order.order)).toBe(0) // the node learnt it from the partner

        const own = await shop.createPaidOrder({ qty: 1, email: 'own@example.com' })
        await rig.sync()
        await shop.deliverByShop(own.order)
        const ownKeys = (await shop.orderView(own.order)).keys
        const late = await adapter.takeStock(shop.sku, 1)
        await adapter.writeBack(partnerDelivery(own.order, own.sku, late, OTHER_PARTNER_ID))
        expect(await shop.duplicateWriteBacks()).toBe(1)
        expect(await shop.orderView(own.order)).toEqual({ status: 'delivered', keys: ownKeys })
      },
      timeout,
    )

    it(
      'fence: the flag is kept and idempotent; the shop’s own delivery of an escrowed order is stopped or reported, per the adapter',
      async () => {
        const { shop, adapter, node } = rig
        const order = await shop.createPaidOrder({ qty: 1, email: 'f@example.com' })
        await rig.sync()
        await adapter.setFenced(true)
        await adapter.setFenced(true)
        expect(await shop.fenced()).toBe(true)
        if (rig.fence === 'prevents-own-delivery') {
          await expect(shop.deliverByShop(order.order)).rejects.toThrow()
          expect((await shop.orderView(order.order)).status).toBe('paid')
        } else {
          await shop.deliverByShop(order.order)
          await rig.sync()
          expect(node.escrow.get(order.order)?.state).toBe('delivered')
        }
        await adapter.setFenced(false)
        expect(await shop.fenced()).toBe(false)
        if (rig.fence === 'prevents-own-delivery') {
          await shop.deliverByShop(order.order)
          await rig.sync()
          expect(node.escrow.get(order.order)?.state).toBe('delivered')
        }
      },
      timeout,
    )
  })
}
