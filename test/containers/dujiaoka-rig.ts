// Wiring for the dujiaoka container tests: a fresh database per rig with the FAKE dujiaoka's
// tables (dujiaoka-shop.ts), the real adapter and bridge against it, the FAKE node of
// test/adapters/fake-node.ts, and the FAKE shop front of db-rig.ts for the health probe.
import type { RowDataPacket } from 'mysql2'
import type { Adapter, NodeIngress } from '../../adapters/contract.js'
import { createDujiaokaAdapter } from '../../adapters/dujiaoka/adapter.js'
import { DujiaokaBridge } from '../../adapters/dujiaoka/bridge.js'
import { ConsignConfig } from '../../adapters/dujiaoka/config.js'
import { BridgeConfig, DbConfig, HealthConfig } from '../../adapters/shop-db/config.js'
import { createMysqlPool, type Pool } from '../../adapters/mysql/db.js'
import { AdapterClient } from '../../adapters/generic/client.js'
import type { ConformanceRig } from '../adapters/conformance.js'
import { type FakeNode, startFakeNode } from '../adapters/fake-node.js'
import { NODE_SECRET, portFor, recordingLogger } from '../adapters/helpers.js'
import { type Front, sharedShopParts, startFront, syncOf } from './db-rig.js'
import { FakeDujiaoka, type GoodsSpec } from './dujiaoka-shop.js'
import { type MariaDb, ROOT_PASSWORD, ROOT_USER } from './mariadb.js'

/** Goods 1: stocked keys; 2: none (paid orders become status 6); 3: manual (status 2). */
export const STOCK_GOODS = 1
export const EMPTY_GOODS = 2
export const MANUAL_GOODS = 3
export const DEFAULT_GOODS: GoodsSpec[] = [
  { name: 'Steam 50', price: '12.34', keys: 40 },
  { name: 'Steam 100 (sold out)', price: '0.99', keys: 0 },
  { name: 'Game top-up (manual)', price: '100.00', keys: 0, type: 2 },
]

export interface DujiaokaRig {
  readonly database: string
  readonly shop: FakeDujiaoka
  readonly pool: Pool
  readonly adapter: Adapter
  readonly node: FakeNode
  readonly front: Front
  readonly logger: ReturnType<typeof recordingLogger>
  bridge: DujiaokaBridge
  /** Opens a new bridge (a restarted process) over its own pool and `ingress` (default: the fake node). */
  openBridge(ingress?: NodeIngress): Promise<DujiaokaBridge>
  stop(): Promise<void>
}

export interface RigOptions {
  goods?: GoodsSpec[]
  consign?: Partial<ConsignConfig>
  bridge?: Partial<BridgeConfig>
  statementTimeoutMs?: number
}

export async function dujiaokaRig(db: MariaDb, options: RigOptions = {}): Promise<DujiaokaRig> {
  const database = await db.createDatabase('dujiaoka')
  const connection = { host: db.host, port: db.port, user: ROOT_USER, password: ROOT_PASSWORD, database }
  const shop = await FakeDujiaoka.install(connection, options.goods ?? DEFAULT_GOODS)
  const pools: Pool[] = []
  const newPool = () => {
    const pool = createMysqlPool(DbConfig.parse({ ...connection, connections: 10, statementTimeoutMs: options.statementTimeoutMs }))
    pools.push(pool)
    return pool
  }
  const pool = newPool()
  const logger = recordingLogger()
  const adapter = await createDujiaokaAdapter({ pool, logger, consign: ConsignConfig.parse({ settleMs: 150, settleTimeoutMs: 10_000, ...options.consign }) })
  const node = await startFakeNode(NODE_SECRET)
  const front = await startFront()
  const bridges: DujiaokaBridge[] = []
  const openBridge = async (ingress?: NodeIngress) => {
    const bridge = await DujiaokaBridge.open({
      pool: bridges.length === 0 ? pool : newPool(),
      node: ingress ?? new AdapterClient({ baseUrl: node.url, secret: NODE_SECRET }),
      shopUrl: front.url,
      // Small pages, so a handful of orders already spans several.
      bridge: BridgeConfig.parse({ batchSize: 7, overlapSeconds: 5, ...options.bridge }),
      health: HealthConfig.parse({ timeoutMs: 2_000, downAfterFailures: 2 }),
      money: { currency: 'CNY', minorDigits: 2 },
      buyerLocale: 'zh-CN',
      claimKey: NODE_SECRET,
      logger,
    })
    bridges.push(bridge)
    return bridge
  }
  const rig: DujiaokaRig = {
    database,
    shop,
    pool,
    adapter,
    node,
    front,
    logger,
    bridge: await openBridge(),
    openBridge,
    async stop() {
      for (const bridge of bridges) await bridge.close().catch(() => undefined)
      for (const p of pools) await p.end().catch(() => undefined)
      await shop.end()
      await node.stop()
      await front.stop()
    },
  }
  return rig
}

async function keyIdsInOrder(shop: FakeDujiaoka, info: string | null): Promise<string[]> {
  const lines = (info ?? '').split('\n').filter(Boolean)
  if (lines.length === 0) return []
  const [rows] = await shop.pool.query<RowDataPacket[]>('SELECT id, carmi FROM carmis WHERE carmi IN (?)', [lines])
  const byText = new Map(rows.map((r) => [String(r.carmi), String(r.id)]))
  return lines.flatMap((line) => (byText.has(line) ? [byText.get(line) as string] : []))
}

/** The dujiaoka rig as a conformance rig; `overHttp` drives the port through callback-adapter → callback-host. */
export async function dujiaokaConformanceRig(db: MariaDb, overHttp: boolean): Promise<ConformanceRig> {
  const rig = await dujiaokaRig(db)
  const { shop } = rig
  const { adapter, stop: stopHost } = await portFor(rig.adapter, overHttp, rig.logger)
  let searchPwd = 0
  return {
    adapter,
    node: rig.node,
    fence: 'detects-own-delivery',
    shop: {
      sku: String(STOCK_GOODS),
      initialKeys: 40,
      async createPaidOrder({ qty, email }) {
        const password = `pw-${++searchPwd}`
        const order = await shop.createOrder({ goodsId: EMPTY_GOODS, qty, email: email ?? '', searchPwd: password })
        await shop.pay(order) // no keys: status 6, paid and waiting
        return { order, sku: String(EMPTY_GOODS), qty, amount: { minorUnits: 99 * qty, currency: 'CNY' }, email, claimSecret: password }
      },
      async deliverByShop(order) {
        await shop.deliverByHand(order, STOCK_GOODS)
      },
      async cancel(order) {
        await shop.setStatus(order, 5)
      },
      async sell(qty) {
        const order = await shop.createOrder({ goodsId: STOCK_GOODS, qty, email: 'buyer@example.com', searchPwd: 'x' })
        await shop.pay(order)
        const view = await shop.order(order)
        if (view.status !== 4) return null
        const ids = await keyIdsInOrder(shop, view.info)
        const texts = (view.info ?? '').split('\n')
        return ids.map((keyId, i) => ({ keyId, key: texts[i] as string }))
      },
      sellableKeyIds: () => shop.sellableKeyIds(STOCK_GOODS),
      soldKeyIds: () => shop.deliveredKeyIds(),
      async orderView(order) {
        const view = await shop.order(order)
        const [applied] = await shop.pool.query<RowDataPacket[]>("SELECT 1 FROM standin_writebacks WHERE order_sn = ? AND result = 'applied'", [order])
        const status =
          view.status === 4 ? (applied.length > 0 ? 'delivered-by-partner' : 'delivered') : view.status === 5 || view.status === -1 ? 'cancelled' : 'paid'
        return { status, keys: await keyIdsInOrder(shop, view.info) }
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
