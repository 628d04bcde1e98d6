// Wiring for the acg-faka container tests: a fresh database per rig with the FAKE acg-faka's tables
// (acg-faka-shop.ts, any table prefix), the real adapter and bridge against it, the FAKE node of
// test/adapters/fake-node.ts, and the FAKE shop front of the dujiaoka rig for the health probe.
import type { RowDataPacket } from 'mysql2'
import type { Adapter } from '../../adapters/contract.js'
import { createAcgFakaAdapter } from '../../adapters/acg-faka/adapter.js'
import { AcgFakaBridge } from '../../adapters/acg-faka/bridge.js'
import { AdapterClient } from '../../adapters/generic/client.js'
import { BridgeConfig, DbConfig, HealthConfig } from '../../adapters/shop-db/config.js'
import { createMysqlPool, type Pool } from '../../adapters/mysql/db.js'
import type { ConformanceRig } from '../adapters/conformance.js'
import { type FakeNode, startFakeNode } from '../adapters/fake-node.js'
import { NODE_SECRET, portFor, recordingLogger } from '../adapters/helpers.js'
import { type Front, sharedShopParts, startFront, syncOf } from './db-rig.js'
import { FakeAcgFaka, type CommoditySpec } from './acg-faka-shop.js'
import { type MariaDb, ROOT_PASSWORD, ROOT_USER } from './mariadb.js'

/** Commodity 1: stocked cards; 2: none (paid orders get the apology text); 3: manual delivery. */
export const STOCK = 1
export const EMPTY = 2
export const MANUAL = 3
export const DEFAULT_COMMODITIES: CommoditySpec[] = [
  { name: 'Steam 50', price: '12.34', cards: 40 },
  { name: 'Steam 100 (sold out)', price: '0.99', cards: 0 },
  { name: 'Top-up (manual)', price: '100.00', cards: 0, deliveryWay: 1 },
]

export interface AcgRig {
  readonly shop: FakeAcgFaka
  readonly pool: Pool
  readonly adapter: Adapter
  readonly node: FakeNode
  readonly front: Front
  readonly bridge: AcgFakaBridge
  readonly logger: ReturnType<typeof recordingLogger>
  stop(): Promise<void>
}

export async function acgRig(db: MariaDb, options: { prefix?: string; commodities?: CommoditySpec[] } = {}): Promise<AcgRig> {
  const prefix = options.prefix ?? 'acg_'
  const database = await db.createDatabase('acgfaka')
  const connection = { host: db.host, port: db.port, user: ROOT_USER, password: ROOT_PASSWORD, database }
  const shop = await FakeAcgFaka.install(connection, prefix, options.commodities ?? DEFAULT_COMMODITIES)
  const pool = createMysqlPool(DbConfig.parse({ ...connection, connections: 10 }))
  const logger = recordingLogger()
  const adapter = await createAcgFakaAdapter({ pool, logger, tablePrefix: prefix })
  const node = await startFakeNode(NODE_SECRET)
  const front = await startFront()
  const bridge = await AcgFakaBridge.open({
    pool,
    node: new AdapterClient({ baseUrl: node.url, secret: NODE_SECRET }),
    shopUrl: front.url,
    tablePrefix: prefix,
    shopTimeZone: '+08:00',
    bridge: BridgeConfig.parse({ batchSize: 7, overlapSeconds: 5 }),
    health: HealthConfig.parse({ timeoutMs: 2_000, downAfterFailures: 2 }),
    money: { currency: 'CNY', minorDigits: 2 },
    buyerLocale: 'zh-CN',
    claimKey: NODE_SECRET,
    logger,
  })
  return {
    shop,
    pool,
    adapter,
    node,
    front,
    bridge,
    logger,
    async stop() {
      await bridge.close()
      await pool.end().catch(() => undefined)
      await shop.end()
      await node.stop()
      await front.stop()
    },
  }
}

/** The acg-faka rig as a conformance rig; `overHttp` drives the port through callback-adapter → callback-host. */
export async function acgConformanceRig(db: MariaDb, overHttp: boolean): Promise<ConformanceRig> {
  const rig = await acgRig(db)
  const { shop } = rig
  const { adapter, stop: stopHost } = await portFor(rig.adapter, overHttp, rig.logger)
  let password = 0
  return {
    adapter,
    node: rig.node,
    fence: 'detects-own-delivery',
    shop: {
      sku: String(STOCK),
      initialKeys: 40,
      async createPaidOrder({ qty, email }) {
        const secret = `pw-${++password}`
        const order = await shop.createOrder({ commodityId: EMPTY, qty, contact: email ?? '13800000000', password: secret })
        await shop.pay(order) // no cards: the apology text, paid and not served
        return { order, sku: String(EMPTY), qty, amount: { minorUnits: 99 * qty, currency: 'CNY' }, email, claimSecret: secret }
      },
      async deliverByShop(order) {
        await shop.deliverByHand(order, STOCK)
      },
      async cancel(order) {
        await shop.deleteOrder(order)
      },
      async sell(qty) {
        const order = await shop.createOrder({ commodityId: STOCK, qty, contact: 'buyer@example.com' })
        await shop.pay(order)
        const view = await shop.order(order)
        if (view === null || view.cards.length !== qty) return null
        const texts = (view.secret ?? '').split('\n')
        return view.cards.map((keyId, i) => ({ keyId, key: texts[i] as string }))
      },
      sellableKeyIds: () => shop.sellableKeyIds(STOCK),
      soldKeyIds: () => shop.deliveredKeyIds(),
      async orderView(order) {
        const view = await shop.order(order)
        if (view === null) return { status: 'cancelled', keys: [] }
        const [applied] = await shop.pool.query<RowDataPacket[]>("SELECT 1 FROM standin_writebacks WHERE trade_no = ? AND result = 'applied'", [order])
        const texts = (view.secret ?? '').split('\n').filter(Boolean)
        const served = view.cards.length > 0 || (view.deliveryStatus === 1 && !texts.every((t) => t.startsWith('很抱歉')))
        const status = applied.length > 0 ? 'delivered-by-partner' : served ? 'delivered' : 'paid'
        return { status, keys: await idsInOrder(shop, texts) }
      },
      ...sharedShopParts(rig.pool, rig.front),
    },
    sync: syncOf(() => rig.bridge),
    async stop() {
      await stopHost()
      await rig.stop()
    },
  }
}

/** Card ids of `texts`, in the order of the lines (the order's text joins them in delivery order). */
async function idsInOrder(shop: FakeAcgFaka, texts: readonly string[]): Promise<string[]> {
  if (texts.length === 0) return []
  const [rows] = await shop.pool.query<RowDataPacket[]>(`SELECT id, secret FROM \`${shop.prefix}card\` WHERE secret IN (?)`, [[...texts]])
  const byText = new Map(rows.map((r) => [String(r.secret), String(r.id)]))
  return texts.flatMap((t) => (byText.has(t) ? [byText.get(t) as string] : []))
}
