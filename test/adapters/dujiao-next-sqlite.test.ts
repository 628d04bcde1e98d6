// The Dujiao-Next adapter on SQLite, Dujiao-Next's default engine: a FAKE Dujiao-Next
// (dujiao-next-sqlite-shop.ts: its GORM tables on SQLite, its values as glebarez/sqlite writes them,
// its transactions) in a database file of a temporary directory, and the real adapter and bridge on
// their own connection to the same file (better-sqlite3, built from source at npm install; without
// it this suite fails rather than skips). The conformance suite, then what differs from
// PostgreSQL: times written in other zones, a checkout whose read went stale, a cross-process run
// of purchases against consignments, the write-back's stored values, the schema check.
import { spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createDujiaoNextAdapter } from '../../adapters/dujiao-next/adapter.js'
import { DujiaoNextConfig } from '../../adapters/dujiao-next/config.js'
import { openDujiaoNextDatabase } from '../../adapters/dujiao-next/database.js'
import type { SqlDatabase } from '../../adapters/shop-db/sql.js'
import type { AdapterOrder } from '../../protocol/index.js'
import { checkKeys, conformanceRigOf, DEFAULT_PRODUCTS, type DujiaoNextRigCore, openBridge, rigOn, STOCK, WAITING } from '../containers/dujiao-next-rig.js'
import { describeAdapterConformance, partnerDelivery } from './conformance.js'
import { FakeDujiaoNextSqlite } from './dujiao-next-sqlite-shop.js'
import { recordingLogger } from './helpers.js'

/** Purchases each buyer process makes in the cross-process run, and how many buyers. */
const BUYER_PURCHASES = 12
const BUYERS = 2
/** Consignments of three keys at most while they buy. */
const CONSIGNMENT_ROUNDS = 6
/** Longest the cross-process run may take before the test fails, in ms. */
const CROSS_PROCESS_TIMEOUT_MS = 60_000

let dir: string
let files = 0

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'standin-dujiao-next-sqlite-'))
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

function openDb(path: string): SqlDatabase {
  return openDujiaoNextDatabase(DujiaoNextConfig.shape.db.parse({ driver: 'sqlite', path }), null)
}

interface SqliteRig extends DujiaoNextRigCore {
  readonly shop: FakeDujiaoNextSqlite
}

async function sqliteRig(): Promise<SqliteRig> {
  const shop = await FakeDujiaoNextSqlite.install(join(dir, `shop-${++files}.db`), DEFAULT_PRODUCTS)
  const core = await rigOn(shop, openDb(shop.path))
  return {
    ...core,
    shop,
    async stop() {
      await core.stop()
    },
  }
}

async function rows(rig: SqliteRig, sql: string, params: unknown[] = []): Promise<Record<string, unknown>[]> {
  return (await rig.db.query(sql, params)).rows as Record<string, unknown>[]
}

/** Runs the buyer script in another process; its purchases, one per line. */
function buyerProcess(path: string): Promise<{ ok: boolean; keys?: { keyId: string; key: string }[]; reason?: string }[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/adapters/dujiao-next-sqlite-buyer.ts', path, String(STOCK), String(BUYER_PURCHASES), '1'], {
      cwd: process.cwd(),
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let out = ''
    let err = ''
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()))
    const timer = setTimeout(() => child.kill('SIGKILL'), CROSS_PROCESS_TIMEOUT_MS)
    child.on('close', (code) => {
      clearTimeout(timer)
      if (code !== 0) reject(new Error(`buyer exited ${code}: ${err}`))
      else
        resolve(
          out
            .trim()
            .split('\n')
            .filter(Boolean)
            .map((line) => JSON.parse(line) as { ok: boolean; keys?: { keyId: string; key: string }[] }),
        )
    })
  })
}

describe('Dujiao-Next adapter on SQLite', () => {
  describeAdapterConformance('Dujiao-Next on SQLite (port in-process)', async () => {
    const rig = await sqliteRig()
    return conformanceRigOf(rig.shop, rig, false)
  })
  describeAdapterConformance('Dujiao-Next on SQLite (stock node → callback API → Dujiao-Next)', async () => {
    const rig = await sqliteRig()
    return conformanceRigOf(rig.shop, rig, true)
  })

  it('follows orders whatever zone their times were written in, and escrows the paid time to the millisecond', async () => {
    const rig = await sqliteRig()
    try {
      await rig.bridge.pollOnce() // the cursor starts
      const first = await rig.shop.createOrder({ productId: WAITING, qty: 2, email: 'a@example.com', password: 'pw-a' })
      await rig.shop.pay(first.parent)
      expect(await rig.bridge.pollOnce()).toMatchObject({ escrowed: 1 })
      // The same instant, written at UTC−05:00: its text sorts five hours before the cursor's.
      const second = await rig.shop.createOrder({ productId: WAITING, qty: 1, email: 'b@example.com', password: 'pw-b' })
      await rig.shop.pay(second.parent)
      const [stamp] = await rows(rig, 'SELECT updated_at FROM orders WHERE order_no = $1', [second.child])
      const western = String(stamp?.updated_at).replace(/^(.*?)(\.\d+)?\+00:00$/, (_all, time: string, fraction: string | undefined) => {
        const at = new Date(`${time.replace(' ', 'T')}${fraction ?? ''}Z`).getTime() - 5 * 3_600_000
        return `${new Date(at).toISOString().slice(0, 19).replace('T', ' ')}${fraction ?? ''}-05:00`
      })
      expect(western).toMatch(/-05:00$/)
      await rig.db.query('UPDATE orders SET updated_at = $1 WHERE order_no = $2', [western, second.child])
      expect(await rig.bridge.pollOnce()).toMatchObject({ escrowed: 1 })
      expect([...rig.node.escrow.keys()].sort()).toEqual([first.child, second.child].sort())
      // paid_at is the parent's, written by the fake at UTC+08:00, as Dujiao-Next's time.Now() in China.
      const [paid] = await rows(rig, 'SELECT paid_at FROM orders WHERE order_no = $1', [first.parent])
      expect(String(paid?.paid_at)).toMatch(/\+08:00$/)
      const held = rig.node.escrow.get(first.child)?.order as AdapterOrder
      const wall = /^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d)(\.\d+)?\+08:00$/.exec(String(paid?.paid_at))
      const expected = new Date(`${wall?.[1]}T${wall?.[2]}${(wall?.[3] ?? '').slice(0, 4)}+08:00`).getTime()
      expect(held).toMatchObject({ qty: 2, amount: { minorUnits: 198, currency: 'CNY' }, claimSecret: 'pw-a', paidAt: expected })
    } finally {
      await rig.stop()
    }
  })

  it('a checkout whose read went stale under a consignment sells nothing; buyers in another process never get a consigned key', async () => {
    const rig = await sqliteRig()
    try {
      // A checkout reads two available keys, then a consignment commits before it reserves them.
      let taken: { keyId: string }[] = []
      const checkout = rig.shop.createOrder(
        { productId: STOCK, qty: 2, email: 'held@example.com', password: 'p' },
        {
          afterRead: async () => {
            taken = await rig.adapter.takeStock(rig.skuOf(STOCK), 40)
          },
        },
      )
      await expect(checkout).rejects.toThrow(/keys|busy|taken/i)
      expect(taken).toHaveLength(40)
      await checkKeys(rig.db, 40)
      await rig.adapter
        .returnStock(
          rig.skuOf(STOCK),
          (await rows(rig, 'SELECT id, secret FROM standin_card_rows')).map((r) => ({ keyId: String(r.id), key: String(r.secret) })),
        )
        .catch(() => undefined)
    } finally {
      await rig.stop()
    }

    // Cross-process: buyer processes buy one key at a time while this one consigns three at a time.
    const fresh = await sqliteRig()
    try {
      let running = BUYERS
      const buyers = Array.from({ length: BUYERS }, () => buyerProcess(fresh.shop.path).finally(() => running--))
      // Consign only once the buyers are buying (their first order is in the file), while they still are.
      const started = Date.now()
      while ((await rows(fresh, 'SELECT COUNT(*) AS n FROM orders'))[0]?.n === 0 && Date.now() - started < CROSS_PROCESS_TIMEOUT_MS)
        await new Promise((resolve) => setTimeout(resolve, 5))
      const consigned: string[] = []
      let rounds = 0
      let busy = 0
      for (; rounds < CONSIGNMENT_ROUNDS && running === BUYERS; rounds++) {
        try {
          consigned.push(...(await fresh.adapter.takeStock(fresh.skuOf(STOCK), 3)).map((k) => k.keyId))
        } catch (error) {
          expect(String(error)).toMatch(/unavailable|SQLITE_BUSY/) // the buyers held the database past the busy timeout: nothing taken
          busy++
        }
        await new Promise((resolve) => setTimeout(resolve, 10))
      }
      const bought = (await Promise.all(buyers)).flat()
      const boughtIds = bought.flatMap((b) => b.keys?.map((k) => k.keyId) ?? [])
      expect(bought).toHaveLength(BUYERS * BUYER_PURCHASES)
      expect(boughtIds.length).toBeGreaterThan(0)
      expect(rounds - busy).toBeGreaterThan(0) // consignments did run while both buyers were buying
      expect(consigned.length).toBeGreaterThan(0)
      expect(new Set([...boughtIds, ...consigned]).size).toBe(boughtIds.length + consigned.length)
      await checkKeys(fresh.db, 40)
    } finally {
      await fresh.stop()
    }
  })

  it("a write-back stores Dujiao-Next's values: the fulfillment, the child delivered, the parent's status, times it can parse", async () => {
    const rig = await sqliteRig()
    try {
      const order = await rig.shop.createOrder({ productId: WAITING, qty: 2, email: 'w@example.com', password: 'pw' })
      await rig.shop.pay(order.parent)
      await rig.bridge.pollOnce()
      const keys = await rig.adapter.takeStock(rig.skuOf(STOCK), 2)
      await rig.adapter.writeBack(partnerDelivery(order.child, rig.skuOf(WAITING), keys))
      const view = await rig.shop.order(order.child)
      expect(view).toMatchObject({ status: 'delivered', fulfillment: { type: 'manual', status: 'delivered', payload: keys.map((k) => k.key).join('\n') } })
      expect((await rig.shop.order(order.parent))?.status).toBe('delivered')
      const [fulfillment] = await rows(
        rig,
        'SELECT f.delivered_at, f.created_at FROM fulfillments f JOIN orders o ON o.id = f.order_id WHERE o.order_no = $1',
        [order.child],
      )
      for (const time of [fulfillment?.delivered_at, fulfillment?.created_at]) expect(String(time)).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}\+00:00$/)
      const reserved = await rows(
        rig,
        "SELECT COUNT(*) AS n FROM card_secrets c JOIN orders o ON o.id = c.order_id WHERE o.order_no = $1 AND c.status = 'reserved'",
        [order.child],
      )
      expect(Number(reserved[0]?.n)).toBe(0)
      const used = await rows(
        rig,
        "SELECT c.id FROM card_secrets c JOIN orders o ON o.id = c.order_id WHERE o.order_no = $1 AND c.status = 'used' ORDER BY c.id",
        [order.child],
      )
      expect(used.map((r) => String(r.id)).sort()).toEqual(keys.map((k) => k.keyId).sort())
    } finally {
      await rig.stop()
    }
  })

  it('refuses to start, naming each missing column, and creates nothing; refuses a file that does not exist', async () => {
    const shop = await FakeDujiaoNextSqlite.install(join(dir, `shop-${++files}.db`), DEFAULT_PRODUCTS)
    const db = openDb(shop.path)
    try {
      await db.query('DROP INDEX idx_card_secrets_reserved_at') // SQLite drops no column an index uses
      await db.query('ALTER TABLE card_secrets DROP COLUMN reserved_at')
      await db.query('ALTER TABLE orders DROP COLUMN guest_password')
      const logger = recordingLogger()
      const refused = createDujiaoNextAdapter({ db, logger })
      await expect(refused).rejects.toThrow(/card_secrets\.reserved_at \(reservations\)/)
      await expect(refused).rejects.toThrow(/orders\.guest_password.*SQLite file/)
      await expect(openBridge(db, logger, 'http://127.0.0.1:9/', 'http://127.0.0.1:9/')).rejects.toThrow(
        /lacks columns the adapter needs: .*card_secrets\.reserved_at/,
      )
      const tables = await db.query("SELECT name FROM sqlite_schema WHERE name LIKE 'standin_%'")
      expect(tables.rows).toEqual([])
    } finally {
      await db.end()
      await shop.end()
    }
    expect(() => openDb(join(dir, 'no-such.db'))).toThrow(/no-such\.db|unable to open/)
  })

  it('the config takes a SQLite file by absolute path; a relative one is refused by name', () => {
    const base = { version: 1, shopUrl: 'http://127.0.0.1:8080/', node: null, callback: { port: 9300 } }
    expect(DujiaoNextConfig.parse({ ...base, db: { driver: 'sqlite', path: '/srv/dujiao-next/db/dujiao.db' } }).db).toEqual({
      driver: 'sqlite',
      path: '/srv/dujiao-next/db/dujiao.db',
      busyTimeoutMs: 5_000,
    })
    const bad = DujiaoNextConfig.safeParse({ ...base, db: { driver: 'sqlite', path: 'db/dujiao.db', host: 'x' } })
    expect(bad.success).toBe(false)
    expect(bad.error?.issues.map((i) => i.path.join('.')).sort()).toEqual(['db', 'db.path'])
  })
})
