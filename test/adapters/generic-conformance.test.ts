// The generic adapter passes the conformance suite: the node side is the real callback adapter
// (HMAC-signed HTTP), the shop is the shop simulator (a FAKE card shop, examples/shop-simulator/simulator.ts,
// standing in for shop software that implements the generic webhook API), the node is the FAKE
// node of fake-node.ts. Deliveries are delayed by an hour so paid orders wait until the test acts.
import { createCallbackAdapter } from '../../node/shop/callback-adapter.js'
import { MAX_DELIVER_DELAY_MS, startShopSimulator } from '../../examples/shop-simulator/simulator.js'
import type { CardKey } from '../../adapters/contract.js'
import { type ConformanceRig, describeAdapterConformance } from './conformance.js'
import { startFakeNode } from './fake-node.js'
import { CALLBACK_SECRET, NODE_SECRET, recordingLogger } from './helpers.js'

const SKU = 'steam-50'
const KEYS = 60
const PRICE = 1_234

async function until(condition: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = performance.now() + timeoutMs
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 2))
  }
}

async function genericRig(): Promise<ConformanceRig> {
  const node = await startFakeNode(NODE_SECRET)
  const sim = await startShopSimulator({
    name: 'Shop A',
    node: { baseUrl: node.url, secret: NODE_SECRET },
    callbackSecret: CALLBACK_SECRET,
    skus: [{ sku: SKU, priceMinorUnits: PRICE, currency: 'CNY', keys: KEYS }],
    deliverDelayMs: MAX_DELIVER_DELAY_MS,
  })
  const adapter = createCallbackAdapter({ baseUrl: sim.url, secret: CALLBACK_SECRET, logger: recordingLogger(), retries: 0 })
  const keyIds = (keys: readonly CardKey[]) => keys.map((k) => k.keyId)
  return {
    adapter,
    node,
    fence: 'prevents-own-delivery',
    shop: {
      sku: SKU,
      initialKeys: KEYS,
      async createPaidOrder({ qty, email }) {
        const order = await sim.buy({ sku: SKU, qty, email, locale: 'en' })
        return { order: order.order, sku: SKU, qty, amount: { minorUnits: PRICE * qty, currency: 'CNY' }, email, claimSecret: order.claimSecret }
      },
      async deliverByShop(order) {
        sim.deliverNow(order)
      },
      async cancel(order) {
        sim.cancel(order, 'refunded')
      },
      async sell(qty) {
        let order
        try {
          order = await sim.buy({ sku: SKU, qty, email: null, locale: 'en' })
        } catch {
          return null // out of stock
        }
        return sim.deliverNow(order.order).keys
      },
      sellableKeyIds: async () => new Set(sim.keyIds('stock')),
      soldKeyIds: async () => new Set(sim.keyIds('sold')),
      async orderView(id) {
        const order = sim.order(id)
        if (order === undefined) throw new Error(`no order ${id}`)
        return { status: order.status, keys: keyIds(order.keys) }
      },
      duplicateWriteBacks: async () => sim.state().duplicates.count,
      async setPlatform(platform) {
        await sim.setPlatform(platform)
      },
      fenced: async () => sim.fenced,
    },
    async sync() {
      // Not sim.idle(): it also waits for the hour-long delivery timers. Checkout awaits its escrow
      // call, so what can still be in flight is tombstones (and health, awaited by setPlatform).
      await until(() => sim.state().pendingTombstones === 0, 'tombstones taken by the node')
    },
    async stop() {
      await sim.stop()
      await node.stop()
    },
  }
}

describeAdapterConformance('generic (callback adapter + shop simulator)', genericRig)
