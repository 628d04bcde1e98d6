// Wiring for the Dujiao-Next tests: a FAKE Dujiao-Next on a fresh database (PostgreSQL:
// dujiao-next-shop.ts, a database per rig, plus a `users` table; SQLite:
// ../adapters/dujiao-next-sqlite-shop.ts, a file per rig), the real adapter and bridge against it,
// the FAKE node of test/adapters/fake-node.ts, and the FAKE shop front of db-rig.ts for the health
// probe. Dujiao-Next's queue worker is "down" for the orders createPaidOrder makes: they
// are paid, their keys reserved, and nothing delivers them (the stranded orders Standin exists for).
import { expect } from 'vitest'
import type { Adapter, Logger } from '../../adapters/contract.js'
import { createDujiaoNextAdapter } from '../../adapters/dujiao-next/adapter.js'
import { DujiaoNextBridge } from '../../adapters/dujiao-next/bridge.js'
import { AdapterClient } from '../../adapters/generic/client.js'
import { createPgPool, type PgPool, pgDatabase } from '../../adapters/postgres/db.js'
import { readFenced } from '../../adapters/shop-db/sql-fence.js'
import { BridgeConfig, HealthConfig } from '../../adapters/shop-db/config.js'
import type { SqlDatabase } from '../../adapters/shop-db/sql.js'
import { PgDbConfig } from '../../adapters/dujiao-next/config.js'
import type { ConformanceRig } from '../adapters/conformance.js'
import { type FakeNode, startFakeNode } from '../adapters/fake-node.js'
import { NODE_SECRET, portFor, recordingLogger } from '../adapters/helpers.js'
import { type Front, startFront, syncOf } from './db-rig.js'
import { FakeDujiaoNext, type ProductSpec } from './dujiao-next-shop.js'
import { PG_PASSWORD, PG_USER, type Postgres } from './postgres.js'

/** Product 1: stocked keys; 2: the backlog whose paid orders wait (the worker is down); 3: manual; 4: off sale. */
export const STOCK = 1
export const WAITING = 2
export const MANUAL = 3
export const OFF_SALE = 4
export const DEFAULT_PRODUCTS: ProductSpec[] = [
  { title: 'Steam 50', price: '12.34', fulfillment: 'auto', keys: 40 },
  { title: 'Backlog', price: '0.99', fulfillment: 'auto', keys: 200 },
  { title: 'Top-up (manual)', price: '100.00', fulfillment: 'manual', keys: 0 },
  { title: 'Off sale', price: '5.00', fulfillment: 'auto', keys: 5, active: false },
]

/** What the rigs and the conformance suite drive, the same on both engines. */
export type DujiaoNextShop = Pick<FakeDujiaoNext, 'skuIdOf' | 'createOrder' | 'pay' | 'autoFulfil' | 'buy' | 'cancel' | 'order' | 'sellableKeyIds' | 'end'>

/** The adapter's side of a rig, the same on both engines. */
export interface DujiaoNextRigCore {
  /** The adapter's handle on the shop's database. */
  readonly db: SqlDatabase
  readonly adapter: Adapter
  readonly node: FakeNode
  readonly front: Front
  readonly bridge: DujiaoNextBridge
  readonly logger: ReturnType<typeof recordingLogger>
  skuOf(product: number): string
  stop(): Promise<void>
}

export interface DujiaoNextRig extends DujiaoNextRigCore {
  readonly shop: FakeDujiaoNext
  readonly pool: PgPool
  readonly database: string
}

export async function installShop(db: Postgres, products: readonly ProductSpec[] = DEFAULT_PRODUCTS): Promise<{ shop: FakeDujiaoNext; database: string }> {
  const database = await db.createDatabase('dujiaonext')
  const shop = await FakeDujiaoNext.install({ host: db.host, port: db.port, user: PG_USER, password: PG_PASSWORD, database }, products)
  // Dujiao-Next's members (models/user.go); the adapter reads a member's email from here.
  await shop.pool.query(
    `CREATE TABLE IF NOT EXISTS users (id BIGSERIAL PRIMARY KEY, email TEXT NOT NULL UNIQUE, password_hash TEXT NOT NULL DEFAULT '',
      created_at TIMESTAMPTZ, updated_at TIMESTAMPTZ, deleted_at TIMESTAMPTZ)`,
  )
  return { shop, database }
}

export function poolFor(db: Postgres, database: string): PgPool {
  return createPgPool(PgDbConfig.parse({ host: db.host, port: db.port, user: PG_USER, password: PG_PASSWORD, database, connections: 10 }))
}

export async function dujiaoNextRig(server: Postgres, options: { products?: ProductSpec[] } = {}): Promise<DujiaoNextRig> {
  const { shop, database } = await installShop(server, options.products)
  const pool = poolFor(server, database)
  return { ...(await rigOn(shop, pgDatabase(pool))), shop, pool, database }
}

/** Every key of product STOCK is in exactly one place: in card_secrets (available, reserved or used) or consigned. */
export async function checkKeys(db: SqlDatabase, total: number): Promise<void> {
  const rows = async (sql: string, params: unknown[] = []) => (await db.query(sql, params)).rows as { id: unknown; status?: string; order_id?: unknown }[]
  const inTable = await rows('SELECT CAST(id AS TEXT) AS id, status, order_id FROM card_secrets WHERE product_id = $1', [STOCK])
  const consigned = new Set((await rows("SELECT CAST(card_id AS TEXT) AS id FROM standin_cards WHERE state = 'consigned'")).map((r) => String(r.id)))
  const shadow = new Set((await rows('SELECT CAST(id AS TEXT) AS id FROM standin_card_rows')).map((r) => String(r.id)))
  expect(shadow).toEqual(consigned)
  for (const key of inTable) {
    expect(consigned.has(String(key.id)), `key ${key.id} both in card_secrets and consigned`).toBe(false)
    if (key.status !== 'available') expect(key.order_id, `${key.status} key ${key.id} without an order`).not.toBeNull()
  }
  expect(inTable.length + consigned.size).toBe(total)
}

/** The bridge on `db`, reporting to the node at `nodeUrl` and probing `shopUrl`, with the tests' settings. */
export function openBridge(db: SqlDatabase, logger: Logger, nodeUrl: string, shopUrl: string, bridge = BridgeConfig.parse({})): Promise<DujiaoNextBridge> {
  return DujiaoNextBridge.open({
    db,
    node: new AdapterClient({ baseUrl: nodeUrl, secret: NODE_SECRET }),
    shopUrl,
    bridge,
    health: HealthConfig.parse({ timeoutMs: 2_000, downAfterFailures: 2 }),
    minorDigits: 2,
    buyerLocale: 'zh-CN',
    claimKey: NODE_SECRET,
    logger,
  })
}

/** The adapter, bridge, node and front against `shop`, whose database the adapter reaches through `db`. */
export async function rigOn(shop: DujiaoNextShop, db: SqlDatabase): Promise<DujiaoNextRigCore> {
  const logger = recordingLogger()
  const adapter = await createDujiaoNextAdapter({ db, logger })
  const node = await startFakeNode(NODE_SECRET)
  const front = await startFront()
  const bridge = await openBridge(db, logger, node.url, front.url, BridgeConfig.parse({ batchSize: 7, overlapSeconds: 5 }))
  return {
    db,
    adapter,
    node,
    front,
    bridge,
    logger,
    skuOf: (product) => `${product}:${shop.skuIdOf(product)}`,
    async stop() {
      await bridge.close()
      await db.end().catch(() => undefined)
      await shop.end()
      await node.stop()
      await front.stop()
    },
  }
}

/** The Dujiao-Next rig on PostgreSQL as a conformance rig; `overHttp` drives the port through callback-adapter → callback-host. */
export async function dujiaoNextConformanceRig(server: Postgres, overHttp: boolean): Promise<ConformanceRig> {
  const rig = await dujiaoNextRig(server)
  return conformanceRigOf(rig.shop, rig, overHttp)
}

/** A rig on either engine as a conformance rig. */
export async function conformanceRigOf(shop: DujiaoNextShop, rig: DujiaoNextRigCore, overHttp: boolean): Promise<ConformanceRig> {
  const { db } = rig
  const { adapter, stop: stopHost } = await portFor(rig.adapter, overHttp, rig.logger)
  let password = 0
  return {
    adapter,
    node: rig.node,
    fence: 'detects-own-delivery',
    shop: {
      sku: rig.skuOf(STOCK),
      initialKeys: 40,
      async createPaidOrder({ qty, email }) {
        const secret = `pw-${++password}`
        const { parent, child } = await shop.createOrder({ productId: WAITING, qty, email, password: secret })
        await shop.pay(parent) // and the worker never delivers it
        return { order: child, sku: rig.skuOf(WAITING), qty, amount: { minorUnits: 99 * qty, currency: 'CNY' }, email, claimSecret: secret }
      },
      async deliverByShop(order) {
        const result = await shop.autoFulfil(order)
        if (result !== 'delivered') throw new Error(`Dujiao-Next did not deliver ${order}: ${result}`)
      },
      async cancel(order) {
        await shop.cancel(order)
      },
      async sell(qty) {
        return (await shop.buy(STOCK, qty, 'buyer@example.com'))?.keys ?? null
      },
      sellableKeyIds: () => shop.sellableKeyIds(STOCK),
      async soldKeyIds() {
        const result = await db.query("SELECT CAST(id AS TEXT) AS id FROM card_secrets WHERE product_id = $1 AND status = 'used'", [STOCK])
        return new Set((result.rows as { id: string }[]).map((r) => r.id))
      },
      async orderView(order) {
        const view = await shop.order(order)
        if (view === null || view.deleted || ['canceled', 'refunded'].includes(view.status)) return { status: 'cancelled', keys: [] }
        const applied = await db.query("SELECT 1 FROM standin_writebacks WHERE order_no = $1 AND result = 'applied'", [order])
        const served = view.fulfillment !== null || ['delivered', 'completed'].includes(view.status)
        return { status: applied.rowCount ? 'delivered-by-partner' : served ? 'delivered' : 'paid', keys: view.keyIds }
      },
      async duplicateWriteBacks() {
        const result = await db.query("SELECT COUNT(*) AS n FROM standin_writebacks WHERE result = 'duplicate'")
        return Number((result.rows as { n: string | number }[])[0]?.n)
      },
      async setPlatform(platform) {
        rig.front.status = platform === 'up' ? 200 : 503
      },
      fenced: () => readFenced(db),
    },
    sync: syncOf(() => rig.bridge),
    async stop() {
      await stopHost()
      await rig.stop()
    },
  }
}
