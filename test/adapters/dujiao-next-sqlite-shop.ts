// A FAKE Dujiao-Next on SQLite for the tests: the port of ../containers/dujiao-next-shop.ts (the
// PostgreSQL fake; read it for what the shop does) to the other engine Dujiao-Next supports. The
// Go shop opens its file with the pure-Go driver glebarez/sqlite (modernc) in WAL mode with
// busy_timeout=5000 and synchronous=NORMAL, and GORM AutoMigrate makes its tables with that
// driver's types: integer ids (better-sqlite3 returns numbers; every public result gives them as
// decimal strings, as the PostgreSQL fake does), decimal(20,2) money (NUMERIC affinity: the driver
// binds shopspring's text, '12.34', and SQLite keeps a REAL or an INTEGER), datetime times (the
// driver writes Go's text '2006-01-02 15:04:05.999999999-07:00': GORM's own stamps created_at and
// updated_at in UTC, the times Dujiao-Next takes from time.Now() in the server's zone, +08:00),
// numeric booleans (1/0) and soft deletes.
//
// What differs from PostgreSQL is the locking. GORM drops FOR UPDATE on SQLite, so a transaction
// is a plain deferred BEGIN, its reads, its writes: its first read fixes a snapshot and its first
// write asks for the one write lock. When another connection committed after the snapshot was
// taken, that write fails (SQLITE_BUSY_SNAPSHOT: waiting cannot help); when another holds the lock
// past the busy timeout, it fails with SQLITE_BUSY. Either way the transaction rolls back:
//   - checkout reads the product and the available keys, then writes the orders and reserves the
//     keys; a busy write is a failed checkout (InsufficientStock, no order);
//   - automatic delivery reads the order, its reserved keys and the top-up, then writes; a busy
//     write is a failed delivery ('insufficient', the child stays paid);
//   - payment, manual delivery, cancel and refund throw the driver's error.
// So each transaction does ALL its reads before its first write, and the hooks run between the
// two: a test can let another connection commit there without either waiting for the other's lock.
//
// One better-sqlite3 connection per instance, as Dujiao-Next's SQLite pool effectively is, and
// one operation at a time on it (a queue). better-sqlite3 is synchronous: a statement waiting for
// the lock (busy_timeout) blocks the process, so races between writers belong in other processes
// (dujiao-next-sqlite-buyer.ts). A hook must not call the instance it runs in (that operation is
// the one waiting for the hook): it is refused; use a second instance from attach().
//
// better-sqlite3 is an optional dependency: it is loaded when a shop is installed or attached.
import { AsyncLocalStorage } from 'node:async_hooks'
import { randomInt } from 'node:crypto'
import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import type BetterSqlite3 from 'better-sqlite3'
import {
  type FulfilHooks,
  inPayloadOrder,
  InsufficientStock,
  type OrderView,
  parentStatus,
  type ProductSpec,
  purchase,
} from '../containers/dujiao-next-shop.js'

export { InsufficientStock, parentStatus }
export type { FulfilHooks, OrderView, ProductSpec }

/** The server's zone, where Dujiao-Next's time.Now() times are shown (China). */
const SHOP_OFFSET_MINUTES = 8 * 60

/** Time as glebarez/sqlite writes a time.Time: Go's '2006-01-02 15:04:05.999999999-07:00' (trailing zero digits of the fraction trimmed, no dot when it is zero), shown at UTC + offsetMinutes. */
export function goTime(ms: number, offsetMinutes: number): string {
  const shown = new Date(Math.trunc(ms) + offsetMinutes * 60_000)
  const pad = (n: number, width = 2) => String(n).padStart(width, '0')
  const date = `${pad(shown.getUTCFullYear(), 4)}-${pad(shown.getUTCMonth() + 1)}-${pad(shown.getUTCDate())}`
  const clock = `${pad(shown.getUTCHours())}:${pad(shown.getUTCMinutes())}:${pad(shown.getUTCSeconds())}`
  const millis = shown.getUTCMilliseconds()
  const fraction = millis === 0 ? '' : `.${pad(millis, 3).replace(/0+$/, '')}`
  const offset = Math.abs(offsetMinutes)
  return `${date} ${clock}${fraction}${offsetMinutes < 0 ? '-' : '+'}${pad(Math.floor(offset / 60))}:${pad(offset % 60)}`
}

/** GORM's stamps (created_at, updated_at): NowFunc is UTC. */
const stamp = (ms: number) => goTime(ms, 0)
/** Times Dujiao-Next takes from time.Now(): the server's zone. */
const local = (ms: number) => goTime(ms, SHOP_OFFSET_MINUTES)

/** Cents of a decimal text ('12.34', '100.00', '5'), rounded half away from zero to 2 places as numeric(20,2) would. */
function centsOf(text: string): bigint {
  const match = /^(-?)(\d+)(?:\.(\d*))?$/.exec(text.trim())
  if (match === null) throw new Error(`bad price ${JSON.stringify(text)}`)
  const digits = (match[3] ?? '').padEnd(3, '0')
  let cents = BigInt(match[2] ?? '0') * 100n + BigInt(digits.slice(0, 2))
  if (Number(digits[2]) >= 5) cents += 1n
  return match[1] === '-' ? -cents : cents
}

/** Cents of a money column as SQLite returns it (a REAL such as 12.34 or an INTEGER): Go's shopspring reads the float's shortest text. */
function centsOfColumn(value: unknown): bigint {
  if (typeof value === 'number') return BigInt(Math.round(value * 100))
  if (typeof value === 'bigint') return value * 100n
  return centsOf(String(value))
}

/** shopspring decimal's Value(): its String(), trailing zeros of the fraction trimmed ('12.3', '100'). */
function goDecimal(cents: bigint): string {
  const sign = cents < 0n ? '-' : ''
  const abs = cents < 0n ? -cents : cents
  const fraction = String(abs % 100n)
    .padStart(2, '0')
    .replace(/0+$/, '')
  return `${sign}${abs / 100n}${fraction === '' ? '' : `.${fraction}`}`
}

/** GORM's columns on every model: created_at, updated_at and the soft-delete deleted_at. */
const STAMPS = 'created_at datetime, updated_at datetime, deleted_at datetime'

/** GORM names a plain `index` tag idx_<table>_<column>. */
function indexes(table: string, columns: readonly string[]): string[] {
  return columns.map((c) => `CREATE INDEX idx_${table}_${c} ON ${table} (${c})`)
}

// glebarez/sqlite maps an auto-increment uint primary key to integer PRIMARY KEY AUTOINCREMENT, uint,
// int and *uint to integer, string to text (or its type tag's varchar(n)), time.Time to datetime,
// bool to numeric, the money type (decimal(20,2)) and json as tagged.
const DDL = [
  `CREATE TABLE products (
    id integer PRIMARY KEY AUTOINCREMENT,
    slug text NOT NULL,
    title json,
    fulfillment_type varchar(20) NOT NULL DEFAULT 'manual',
    is_active numeric DEFAULT false,
    price_amount decimal(20,2) NOT NULL DEFAULT 0,
    ${STAMPS}
  )`,
  `CREATE UNIQUE INDEX idx_products_slug ON products (slug)`,
  ...indexes('products', ['is_active', 'created_at', 'updated_at', 'deleted_at']),
  `CREATE TABLE product_skus (
    id integer PRIMARY KEY AUTOINCREMENT,
    product_id integer NOT NULL,
    sku_code varchar(64) NOT NULL,
    price_amount decimal(20,2) NOT NULL DEFAULT 0,
    is_active numeric DEFAULT true,
    ${STAMPS}
  )`,
  `CREATE UNIQUE INDEX idx_product_sku_code ON product_skus (product_id, sku_code)`,
  ...indexes('product_skus', ['is_active', 'created_at', 'updated_at', 'deleted_at']),
  `CREATE TABLE card_secrets (
    id integer PRIMARY KEY AUTOINCREMENT,
    product_id integer NOT NULL,
    sku_id integer NOT NULL DEFAULT 0,
    batch_id integer,
    secret text NOT NULL,
    status text NOT NULL,
    order_id integer,
    reserved_at datetime,
    used_at datetime,
    ${STAMPS}
  )`,
  `CREATE INDEX idx_card_secret_reserve ON card_secrets (product_id, sku_id, status)`,
  ...indexes('card_secrets', ['batch_id', 'order_id', 'reserved_at', 'used_at', 'created_at', 'updated_at', 'deleted_at']),
  `CREATE TABLE orders (
    id integer PRIMARY KEY AUTOINCREMENT,
    order_no text NOT NULL,
    parent_id integer,
    user_id integer NOT NULL DEFAULT 0,
    guest_email text,
    guest_password varchar(200),
    guest_locale varchar(20),
    status text NOT NULL,
    currency text NOT NULL,
    original_amount decimal(20,2) NOT NULL DEFAULT 0,
    discount_amount decimal(20,2) NOT NULL DEFAULT 0,
    total_amount decimal(20,2) NOT NULL DEFAULT 0,
    online_paid_amount decimal(20,2) NOT NULL DEFAULT 0,
    refunded_amount decimal(20,2) NOT NULL DEFAULT 0,
    expires_at datetime,
    paid_at datetime,
    canceled_at datetime,
    ${STAMPS}
  )`,
  `CREATE UNIQUE INDEX idx_orders_order_no ON orders (order_no)`,
  ...indexes('orders', ['parent_id', 'user_id', 'guest_email', 'status', 'expires_at', 'paid_at', 'canceled_at', 'created_at', 'updated_at', 'deleted_at']),
  `CREATE TABLE order_items (
    id integer PRIMARY KEY AUTOINCREMENT,
    order_id integer NOT NULL,
    product_id integer NOT NULL,
    sku_id integer NOT NULL DEFAULT 0,
    title json NOT NULL,
    unit_price decimal(20,2) NOT NULL DEFAULT 0,
    total_price decimal(20,2) NOT NULL DEFAULT 0,
    quantity integer NOT NULL,
    fulfillment_type text NOT NULL,
    ${STAMPS}
  )`,
  ...indexes('order_items', ['order_id', 'product_id', 'sku_id', 'created_at', 'updated_at', 'deleted_at']),
  // The unique index on order_id alone covers soft-deleted rows too: an order gets one fulfillment ever.
  `CREATE TABLE fulfillments (
    id integer PRIMARY KEY AUTOINCREMENT,
    order_id integer NOT NULL,
    type text NOT NULL,
    status text NOT NULL,
    payload text,
    logistics_json json,
    delivered_by integer,
    delivered_at datetime,
    ${STAMPS}
  )`,
  `CREATE UNIQUE INDEX idx_fulfillments_order_id ON fulfillments (order_id)`,
  ...indexes('fulfillments', ['delivered_by', 'delivered_at', 'created_at', 'updated_at', 'deleted_at']),
  // Dujiao-Next's members (models/user.go); the adapter reads a member's email from here.
  `CREATE TABLE users (
    id integer PRIMARY KEY AUTOINCREMENT,
    email text NOT NULL UNIQUE,
    password_hash text NOT NULL DEFAULT '',
    ${STAMPS}
  )`,
]

/** 'DJ' + yyyyMMddHHmmss (the shop's local time, +08:00) + 6 random digits, like Dujiao-Next's order numbers. */
function newOrderNo(): string {
  const digits = local(Date.now()).slice(0, 19).replace(/\D/g, '')
  return `DJ${digits}${String(randomInt(0, 1_000_000)).padStart(6, '0')}`
}

/** SQLite's "busy" result codes: SQLITE_BUSY (another connection holds the write lock), SQLITE_BUSY_SNAPSHOT (it committed after our read), … */
function busyCode(error: unknown): string | null {
  const code = (error as { code?: unknown } | null)?.code
  return typeof code === 'string' && code.startsWith('SQLITE_BUSY') ? code : null
}

function loadDriver(): typeof BetterSqlite3 {
  try {
    return createRequire(import.meta.url)('better-sqlite3') as typeof BetterSqlite3
  } catch (error) {
    throw new Error(`better-sqlite3 (an optional dependency) is not installed: ${error instanceof Error ? error.message : String(error)}`)
  }
}

/** Dujiao-Next's DSN settings, on every connection (journal_mode=WAL also stays in the file). */
function open(path: string, fileMustExist: boolean): BetterSqlite3.Database {
  const Driver = loadDriver()
  const db = new Driver(path, { fileMustExist, timeout: 5000 })
  try {
    db.pragma('journal_mode = WAL')
    db.pragma('busy_timeout = 5000')
    db.pragma('synchronous = NORMAL')
  } catch (error) {
    db.close()
    throw error
  }
  return db
}

interface OrderRow {
  id: number
  parent_id: number | null
  status: string
}

/** The instance whose operation is running (a hook calling its own instance would wait for itself). */
const running = new AsyncLocalStorage<FakeDujiaoNextSqlite>()

export class FakeDujiaoNextSqlite {
  private queue: Promise<unknown> = Promise.resolve()

  private constructor(
    readonly path: string,
    private readonly db: BetterSqlite3.Database,
    private readonly skus: Map<number, number>,
  ) {}

  /** Creates the database file (it must not exist), its tables, the products, one 'DEFAULT' sku each and their keys. */
  static async install(path: string, products: readonly ProductSpec[]): Promise<FakeDujiaoNextSqlite> {
    if (existsSync(path)) throw new Error(`${path} exists: install makes a new database file`)
    const db = open(path, false)
    const skus = new Map<number, number>()
    try {
      const now = stamp(Date.now())
      db.transaction(() => {
        for (const statement of DDL) db.exec(statement)
        const insertProduct = db.prepare(
          `INSERT INTO products (slug, title, fulfillment_type, is_active, price_amount, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
        )
        const insertSku = db.prepare(
          `INSERT INTO product_skus (product_id, sku_code, price_amount, is_active, created_at, updated_at) VALUES (?, 'DEFAULT', ?, 1, ?, ?)`,
        )
        const insertKey = db.prepare(
          `INSERT INTO card_secrets (product_id, sku_id, secret, status, created_at, updated_at) VALUES (?, ?, ?, 'available', ?, ?)`,
        )
        for (const [i, spec] of products.entries()) {
          const title = JSON.stringify({ 'zh-CN': spec.title })
          const price = goDecimal(centsOf(spec.price))
          const productId = Number(
            insertProduct.run(`product-${i + 1}`, title, spec.fulfillment, (spec.active ?? true) ? 1 : 0, price, now, now).lastInsertRowid,
          )
          if (productId !== i + 1) throw new Error(`product ${i + 1} got id ${productId}: install needs an empty database`)
          const skuId = Number(insertSku.run(productId, price, now, now).lastInsertRowid)
          skus.set(productId, skuId)
          for (let n = 1; n <= spec.keys; n++) insertKey.run(productId, skuId, `P${productId}-KEY-${String(n).padStart(4, '0')}`, now, now)
        }
      })()
    } catch (error) {
      db.close()
      throw error
    }
    return new FakeDujiaoNextSqlite(path, db, skus)
  }

  /** Opens a file install() made (from another process, or a second connection in this one). */
  static async attach(path: string): Promise<FakeDujiaoNextSqlite> {
    const db = open(path, true)
    try {
      const rows = db.prepare(`SELECT product_id, id FROM product_skus WHERE sku_code = 'DEFAULT' AND deleted_at IS NULL ORDER BY product_id`).all() as {
        product_id: number
        id: number
      }[]
      return new FakeDujiaoNextSqlite(path, db, new Map(rows.map((r) => [r.product_id, r.id])))
    } catch (error) {
      db.close()
      throw error
    }
  }

  skuIdOf(productId: number): number {
    const skuId = this.skus.get(productId)
    if (skuId === undefined) throw new Error(`no product ${productId}`)
    return skuId
  }

  /** The tests' own reads (or writes): the rows of one statement, after the operations already queued. */
  async query<T = Record<string, unknown>>(sql: string, params: readonly unknown[] = []): Promise<T[]> {
    return this.serial(async () => {
      const statement = this.db.prepare(sql)
      if (statement.reader) return statement.all(...params) as T[]
      statement.run(...params)
      return []
    })
  }

  /** One operation at a time on the connection, in call order. */
  private serial<T>(work: () => Promise<T>): Promise<T> {
    if (running.getStore() === this) {
      return Promise.reject(new Error('a hook called the shop instance whose operation is waiting for it: use a second instance (FakeDujiaoNextSqlite.attach)'))
    }
    const result = this.queue.then(() => running.run(this, work))
    this.queue = result.catch(() => undefined)
    return result
  }

  /**
   * Deferred BEGIN … COMMIT (GORM's transaction on SQLite), ROLLBACK on any error: `read` (which may
   * wait for a test's hook), then `write` and COMMIT without yielding. Holding SQLite's write lock
   * across an await would let the adapter, in this same process, block the event loop waiting for
   * a lock only this process can release.
   */
  private async tx<R, T>(read: () => R | Promise<R>, write: (read: R) => T): Promise<T> {
    this.db.exec('BEGIN')
    try {
      const result = write(await read())
      this.db.exec('COMMIT')
      return result
    } catch (error) {
      if (this.db.inTransaction) {
        try {
          this.db.exec('ROLLBACK')
        } catch {
          // The first error is the one to report.
        }
      }
      throw error
    }
  }

  private all<T>(sql: string, ...params: unknown[]): T[] {
    return this.db.prepare(sql).all(...params) as T[]
  }

  private run(sql: string, ...params: unknown[]): BetterSqlite3.RunResult {
    return this.db.prepare(sql).run(...params)
  }

  private orderRow(orderNo: string): OrderRow {
    const row = this.all<OrderRow>('SELECT id, parent_id, status FROM orders WHERE order_no = ? AND deleted_at IS NULL', orderNo)[0]
    if (row === undefined) throw new Error(`no order ${orderNo}`)
    return row
  }

  /** syncParentStatus: the parent follows its children, changed only when its status differs. */
  private syncParent(parentId: number | null, now: number): void {
    if (parentId === null) return
    const rows = this.all<{ status: string }>('SELECT status FROM orders WHERE parent_id = ? AND deleted_at IS NULL', parentId)
    const next = parentStatus(rows.map((r) => r.status))
    if (next === '') return
    const canceledAt = next === 'canceled' ? local(now) : null
    this.run(
      `UPDATE orders SET status = ?, updated_at = ?, canceled_at = coalesce(?, canceled_at) WHERE id = ? AND status <> ? AND deleted_at IS NULL`,
      next,
      stamp(now),
      canceledAt,
      parentId,
      next,
    )
  }

  /**
   * Checkout: one transaction; automatic goods reserve their keys or nothing is created. All reads
   * come first (no row lock on SQLite), then the hook, then the writes, whose guarded reservation
   * catches a key taken since. A busy write (another connection holds the lock or committed after
   * our reads) fails the checkout too: InsufficientStock, whatever the goods.
   */
  async createOrder(
    input: { productId: number; qty: number; email: string | null; password: string | null },
    hooks: FulfilHooks = {},
  ): Promise<{ parent: string; child: string }> {
    if (!Number.isInteger(input.qty) || input.qty < 1) throw new Error(`bad quantity ${input.qty}`)
    return this.serial(async () => {
      try {
        return await this.tx(
          async () => {
            const product = this.all<{ title: string; fulfillment_type: string; sku_id: number; price: unknown }>(
              `SELECT p.title AS title, p.fulfillment_type, s.id AS sku_id, s.price_amount AS price
             FROM products p JOIN product_skus s ON s.product_id = p.id AND s.sku_code = 'DEFAULT' AND s.deleted_at IS NULL
             WHERE p.id = ? AND p.deleted_at IS NULL`,
              input.productId,
            )[0]
            if (product === undefined) throw new Error(`no product ${input.productId}`)
            const auto = product.fulfillment_type === 'auto'
            let ids: number[] = []
            if (auto) {
              ids = this.all<{ id: number }>(
                `SELECT id FROM card_secrets WHERE product_id = ? AND sku_id = ? AND status = 'available' AND deleted_at IS NULL ORDER BY id ASC LIMIT ?`,
                input.productId,
                product.sku_id,
                input.qty,
              ).map((k) => k.id)
              if (ids.length < input.qty) throw new InsufficientStock(`product ${input.productId}: ${ids.length} of ${input.qty} keys`)
              await hooks.afterRead?.()
            }
            return { product, auto, ids }
          },
          ({ product, auto, ids }) => {
            const now = Date.now()
            const unitCents = centsOfColumn(product.price)
            const price = goDecimal(unitCents)
            const total = goDecimal(unitCents * BigInt(input.qty))
            const parentNo = newOrderNo()
            const childNo = `${parentNo}-01`
            const insertOrder = `INSERT INTO orders (order_no, parent_id, user_id, guest_email, guest_password, status, currency, original_amount, total_amount,
              expires_at, created_at, updated_at)
            VALUES (?, ?, 0, ?, ?, 'pending_payment', 'CNY', ?, ?, ?, ?, ?)`
            const orderValues = [input.email, input.password, total, total, local(now + 15 * 60_000), stamp(now), stamp(now)]
            const parentId = Number(this.run(insertOrder, parentNo, null, ...orderValues).lastInsertRowid)
            const childId = Number(this.run(insertOrder, childNo, parentId, ...orderValues).lastInsertRowid)
            this.run(
              `INSERT INTO order_items (order_id, product_id, sku_id, title, unit_price, total_price, quantity, fulfillment_type, created_at, updated_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
              childId,
              input.productId,
              product.sku_id,
              product.title,
              price,
              total,
              input.qty,
              product.fulfillment_type,
              stamp(now),
              stamp(now),
            )
            if (auto) {
              // A row taken between the read and the write (its status no longer 'available') fails the checkout.
              const reserved = this.run(
                `UPDATE card_secrets SET status = 'reserved', order_id = ?, reserved_at = ?, updated_at = ?
               WHERE id IN (SELECT value FROM json_each(?)) AND status = 'available' AND deleted_at IS NULL`,
                childId,
                local(now),
                stamp(now),
                JSON.stringify(ids),
              )
              if (reserved.changes !== ids.length) throw new InsufficientStock(`product ${input.productId}: keys taken while reserving`)
            }
            return { parent: parentNo, child: childNo }
          },
        )
      } catch (error) {
        const busy = busyCode(error)
        if (busy !== null) throw new InsufficientStock(`product ${input.productId}: checkout failed, ${busy} (another connection wrote the database)`)
        throw error
      }
    })
  }

  /** markOrderPaid: paid_at is stamped on the parent only; manual children wait in 'fulfilling'. */
  async pay(parentNo: string): Promise<void> {
    await this.serial(() =>
      this.tx(
        () => undefined,
        () => {
          const now = Date.now()
          const parent = this.orderRow(parentNo)
          if (parent.status !== 'pending_payment') throw new Error(`order ${parentNo} is ${parent.status}, not pending_payment`)
          this.run(
            `UPDATE orders SET status = 'paid', paid_at = ?, online_paid_amount = total_amount, updated_at = ? WHERE id = ?`,
            local(now),
            stamp(now),
            parent.id,
          )
          this.run(
            `UPDATE orders SET updated_at = ?, status = CASE WHEN EXISTS (
             SELECT 1 FROM order_items i WHERE i.order_id = orders.id AND i.deleted_at IS NULL AND i.fulfillment_type = 'manual') THEN 'fulfilling' ELSE 'paid' END
           WHERE parent_id = ? AND status = 'pending_payment' AND deleted_at IS NULL`,
            stamp(now),
            parent.id,
          )
        },
      ),
    )
  }

  /** CreateAuto: the order is read (and its status checked) before the transaction, as Dujiao-Next does; a busy write is a failed delivery. */
  async autoFulfil(childNo: string, hooks: FulfilHooks = {}): Promise<'delivered' | 'insufficient' | 'exists' | 'not-paid'> {
    return this.serial(async () => {
      const child = this.orderRow(childNo)
      if (child.status !== 'paid') return 'not-paid'
      const items = this.all<{ product_id: number; sku_id: number; quantity: number; fulfillment_type: string }>(
        'SELECT product_id, sku_id, quantity, fulfillment_type FROM order_items WHERE order_id = ? AND deleted_at IS NULL ORDER BY id',
        child.id,
      )
      if (items.length === 0 || items.some((i) => i.fulfillment_type.trim() !== 'auto')) throw new Error(`order ${childNo} is not for automatic delivery`)
      try {
        return await this.tx(
          async () => {
            // Any row, even a soft-deleted one: the unique index on order_id would refuse a second.
            if (this.all('SELECT id FROM fulfillments WHERE order_id = ?', child.id).length > 0) return null
            const reserved = this.all<{ id: number; product_id: number; sku_id: number; secret: string }>(
              `SELECT id, product_id, sku_id, secret FROM card_secrets WHERE order_id = ? AND status = 'reserved' AND deleted_at IS NULL ORDER BY id`,
              child.id,
            )
            const chosen: { id: number; secret: string }[] = []
            for (const item of items) {
              const quantity = Number(item.quantity)
              const mine = reserved.filter((r) => r.product_id === item.product_id && r.sku_id === item.sku_id && !chosen.some((k) => k.id === r.id))
              const selected: { id: number; secret: string }[] = mine.slice(0, quantity)
              if (selected.length < quantity) {
                // The top-up takes available keys (ListAvailableByProduct); the guarded UPDATE below catches a race.
                const topUp = this.all<{ id: number; secret: string }>(
                  `SELECT id, secret FROM card_secrets WHERE product_id = ? AND sku_id = ? AND status = 'available' AND deleted_at IS NULL ORDER BY id LIMIT ?`,
                  item.product_id,
                  item.sku_id,
                  quantity - selected.length,
                )
                selected.push(...topUp)
              }
              if (selected.length < quantity) throw new InsufficientStock(`order ${childNo}: ${selected.length} of ${quantity} keys`)
              chosen.push(...selected)
            }
            await hooks.afterRead?.()
            return chosen
          },
          (chosen) => {
            if (chosen === null) return 'exists' as const
            const now = Date.now()
            const ids = chosen.map((k) => k.id)
            const used = this.run(
              `UPDATE card_secrets SET status = 'used', order_id = ?, used_at = ?, reserved_at = NULL, updated_at = ?
             WHERE id IN (SELECT value FROM json_each(?)) AND status IN ('available', 'reserved') AND (order_id IS NULL OR order_id = ?) AND deleted_at IS NULL`,
              child.id,
              local(now),
              stamp(now),
              JSON.stringify(ids),
              child.id,
            )
            if (used.changes !== ids.length) throw new InsufficientStock(`order ${childNo}: keys taken while marking them used`)
            this.run(
              `INSERT INTO fulfillments (order_id, type, status, payload, delivered_at, created_at, updated_at) VALUES (?, 'auto', 'delivered', ?, ?, ?, ?)`,
              child.id,
              chosen.map((k) => k.secret).join('\n'),
              local(now),
              stamp(now),
              stamp(now),
            )
            this.run(`UPDATE orders SET status = 'completed', updated_at = ? WHERE id = ?`, stamp(now), child.id)
            this.syncParent(child.parent_id, now)
            return 'delivered' as const
          },
        )
      } catch (error) {
        if (error instanceof InsufficientStock || busyCode(error) !== null) return 'insufficient'
        throw error
      }
    })
  }

  /** A buyer's purchase end to end; null when checkout was short of keys (or busy) or delivery did not deliver. */
  async buy(productId: number, qty: number, email = 'buyer@example.com'): Promise<{ child: string; keys: { keyId: string; key: string }[] } | null> {
    const childNo = await purchase(this, productId, qty, email)
    if (childNo === null) return null
    return this.serial(async () => {
      const child = this.orderRow(childNo)
      const payload = this.all<{ payload: string | null }>('SELECT payload FROM fulfillments WHERE order_id = ?', child.id)[0]?.payload ?? null
      const keys = this.usedKeysOf(child.id, payload)
      return { child: childNo, keys: keys.map((k) => ({ keyId: String(k.id), key: k.secret })) }
    })
  }

  /** The used keys attached to an order, in the payload's line order when there is one, else by id. */
  private usedKeysOf(orderId: number, payload: string | null): { id: number; secret: string }[] {
    const rows = this.all<{ id: number; secret: string }>(
      `SELECT id, secret FROM card_secrets WHERE order_id = ? AND status = 'used' AND deleted_at IS NULL ORDER BY id`,
      orderId,
    )
    return inPayloadOrder(rows, payload)
  }

  /** CreateManual: an admin pastes text; no key row is touched. */
  async deliverManually(childNo: string, payload: string): Promise<void> {
    await this.serial(async () => {
      const child = this.orderRow(childNo)
      if (child.status !== 'paid' && child.status !== 'fulfilling') throw new Error(`order ${childNo} is ${child.status}, not paid or fulfilling`)
      const text = payload.trim()
      if (text === '') throw new Error('empty manual delivery')
      await this.tx(
        () => undefined,
        () => {
          const now = Date.now()
          if (this.all('SELECT id FROM fulfillments WHERE order_id = ?', child.id).length > 0) throw new Error(`order ${childNo} already has a fulfillment`)
          this.run(
            `INSERT INTO fulfillments (order_id, type, status, payload, logistics_json, delivered_by, delivered_at, created_at, updated_at)
           VALUES (?, 'manual', 'delivered', ?, '{}', 1, ?, ?, ?)`,
            child.id,
            text,
            local(now),
            stamp(now),
            stamp(now),
          )
          this.run(`UPDATE orders SET status = 'delivered', updated_at = ? WHERE id = ?`, stamp(now), child.id)
          this.syncParent(child.parent_id, now)
        },
      )
    })
  }

  /** Ends a child (cancel or refund) and gives its still-reserved keys back to the stock. */
  private async endChild(childNo: string, status: 'canceled' | 'refunded'): Promise<void> {
    await this.serial(() =>
      this.tx(
        () => undefined,
        () => {
          const now = Date.now()
          const child = this.orderRow(childNo)
          const canceledAt = status === 'canceled' ? local(now) : null
          this.run(
            `UPDATE orders SET status = ?, updated_at = ?, canceled_at = coalesce(?, canceled_at) WHERE id = ?`,
            status,
            stamp(now),
            canceledAt,
            child.id,
          )
          this.run(
            `UPDATE card_secrets SET status = 'available', order_id = NULL, reserved_at = NULL, updated_at = ? WHERE order_id = ? AND status = 'reserved'`,
            stamp(now),
            child.id,
          )
          this.syncParent(child.parent_id, now)
        },
      ),
    )
  }

  /** An admin's cancel or the payment timeout. */
  async cancel(childNo: string): Promise<void> {
    await this.endChild(childNo, 'canceled')
  }

  async refund(childNo: string): Promise<void> {
    await this.endChild(childNo, 'refunded')
  }

  /** GORM's soft delete of an order, and of its children when it is a parent. */
  async softDelete(orderNo: string): Promise<void> {
    await this.serial(async () => {
      const now = Date.now()
      this.run(
        `UPDATE orders SET deleted_at = ?, updated_at = ?
         WHERE (order_no = ? OR parent_id IN (SELECT id FROM orders WHERE order_no = ?)) AND deleted_at IS NULL`,
        local(now),
        stamp(now),
        orderNo,
        orderNo,
      )
    })
  }

  /** The order as the tests see it, soft-deleted or not; null when there is no row. */
  async order(orderNo: string): Promise<OrderView | null> {
    return this.serial(async () => {
      const row = this.all<{ id: number; status: string; deleted: number; f_type: string | null; f_status: string | null; payload: string | null }>(
        `SELECT o.id, o.status, o.deleted_at IS NOT NULL AS deleted, f.type AS f_type, f.status AS f_status, f.payload
         FROM orders o LEFT JOIN fulfillments f ON f.order_id = o.id AND f.deleted_at IS NULL WHERE o.order_no = ?`,
        orderNo,
      )[0]
      if (row === undefined) return null
      const fulfillment = row.f_type === null ? null : { type: row.f_type, status: row.f_status ?? '', payload: row.payload }
      const keys = this.usedKeysOf(row.id, row.payload)
      return { status: row.status, fulfillment, keyIds: keys.map((k) => String(k.id)), deleted: row.deleted === 1 }
    })
  }

  /** Key ids Dujiao-Next could still sell. */
  async sellableKeyIds(productId: number): Promise<Set<string>> {
    return this.serial(async () => {
      const rows = this.all<{ id: number }>(`SELECT id FROM card_secrets WHERE product_id = ? AND status = 'available' AND deleted_at IS NULL`, productId)
      return new Set(rows.map((r) => String(r.id)))
    })
  }

  /** Key ids marked used, of any product. */
  async usedKeyIds(): Promise<Set<string>> {
    return this.serial(async () => {
      const rows = this.all<{ id: number }>(`SELECT id FROM card_secrets WHERE status = 'used' AND deleted_at IS NULL`)
      return new Set(rows.map((r) => String(r.id)))
    })
  }

  /** Closes the connection after the operations already queued. */
  async end(): Promise<void> {
    await this.serial(async () => {
      this.db.close()
    })
  }
}
