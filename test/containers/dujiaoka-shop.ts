// A FAKE dujiaoka for the container tests: dujiaoka 2.0.6's `goods`, `carmis` and `orders` tables
// (the columns the adapter relies on and the NOT NULL ones without a default that every insert
// must give, types as its install SQL makes them: BIGINT ids that the driver returns as text,
// 3-byte utf8 for key texts, order numbers and emails, a nullable search_pwd, TIMESTAMP NULL,
// DECIMAL prices, soft deletes), and its order flow reproduced in SQL. It stands in for the PHP shop, which
// cannot run here; what matters to the adapter is the database and how dujiaoka uses it:
//   - payment (OrderProcessService::completedOrder): one transaction; automatic goods read unsold
//     keys WITHOUT a lock, save the order with their text in `info` and status 4 (or status 6 when
//     short), then mark those keys sold by id (the SoftDeletes scope adds `deleted_at IS NULL`);
//     manual goods go to status 2;
//   - its sessions run in +08:00 (Asia/Shanghai), unlike the adapter's UTC ones.
import type { Pool, PoolConnection, ResultSetHeader, RowDataPacket } from 'mysql2/promise'
import mysql from 'mysql2/promise'

const DDL = [
  `CREATE TABLE goods (
    id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    group_id INT NOT NULL,
    gd_name VARCHAR(200) NOT NULL,
    gd_description VARCHAR(200) NOT NULL,
    gd_keywords VARCHAR(200) NOT NULL,
    type TINYINT NOT NULL DEFAULT 1 COMMENT '1 automatic, 2 manual',
    is_open TINYINT NOT NULL DEFAULT 1 COMMENT '1 on sale, 0 off sale',
    actual_price DECIMAL(10,2) NOT NULL,
    in_stock INT NOT NULL DEFAULT 0,
    sales_volume INT NOT NULL DEFAULT 0,
    created_at TIMESTAMP NULL DEFAULT NULL,
    updated_at TIMESTAMP NULL DEFAULT NULL,
    deleted_at TIMESTAMP NULL DEFAULT NULL
  ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`,
  `CREATE TABLE carmis (
    id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    goods_id INT NOT NULL,
    status TINYINT NOT NULL DEFAULT 1 COMMENT '1 unsold, 2 sold',
    is_loop TINYINT NOT NULL DEFAULT 0,
    carmi TEXT CHARACTER SET utf8 COLLATE utf8_unicode_ci NOT NULL,
    created_at TIMESTAMP NULL DEFAULT NULL,
    updated_at TIMESTAMP NULL DEFAULT NULL,
    deleted_at TIMESTAMP NULL DEFAULT NULL,
    KEY carmis_goods_id_index (goods_id)
  ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`,
  `CREATE TABLE orders (
    id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    order_sn VARCHAR(150) CHARACTER SET utf8 COLLATE utf8_unicode_ci NOT NULL,
    goods_id INT NOT NULL,
    title VARCHAR(200) NOT NULL DEFAULT '',
    type TINYINT NOT NULL DEFAULT 1,
    email VARCHAR(200) CHARACTER SET utf8 COLLATE utf8_unicode_ci NOT NULL DEFAULT '',
    goods_price DECIMAL(10,2) NOT NULL DEFAULT 0,
    buy_amount INT NOT NULL DEFAULT 1,
    total_price DECIMAL(10,2) NOT NULL DEFAULT 0,
    actual_price DECIMAL(10,2) NOT NULL DEFAULT 0,
    search_pwd VARCHAR(200) NULL DEFAULT NULL,
    buy_ip VARCHAR(50) NOT NULL,
    info TEXT NULL,
    status TINYINT NOT NULL DEFAULT 1,
    created_at TIMESTAMP NULL DEFAULT NULL,
    updated_at TIMESTAMP NULL DEFAULT NULL,
    deleted_at TIMESTAMP NULL DEFAULT NULL,
    UNIQUE KEY orders_order_sn_unique (order_sn)
  ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`,
]

export const INSUFFICIENT_KEYS_INFO = '库存不足 (not enough keys)'

export interface GoodsSpec {
  readonly name: string
  readonly price: string
  readonly keys: number
  readonly type?: 1 | 2
  /** Reusable keys (is_loop = 1), besides `keys`. */
  readonly loopKeys?: number
  /** Off sale (下架, `is_open = 0`). */
  readonly open?: boolean
}

export interface PayHooks {
  /** Runs after the sale read its keys (no lock) and before it writes anything. */
  afterRead?: (connection: PoolConnection) => Promise<void>
  /** Runs after the order was saved (the sale's first write) and before it marks the keys sold. */
  afterOrderSaved?: (connection: PoolConnection) => Promise<void>
}

export class FakeDujiaoka {
  private orderNo = 0

  private constructor(readonly pool: Pool) {}

  /** Creates the tables and goods (ids 1, 2, … in order) with their keys, in database `database`. */
  static async install(
    options: { host: string; port: number; user: string; password: string; database: string },
    goods: readonly GoodsSpec[],
  ): Promise<FakeDujiaoka> {
    const pool = mysql.createPool({ ...options, connectionLimit: 20, dateStrings: true, multipleStatements: false })
    pool.pool.on('connection', (connection) => {
      connection.query("SET time_zone = '+08:00'", (error) => {
        if (error) connection.destroy()
      })
    })
    for (const statement of DDL) await pool.query(statement)
    for (const [i, spec] of goods.entries()) {
      await pool.query(
        "INSERT INTO goods (group_id, gd_name, gd_description, gd_keywords, type, is_open, actual_price, created_at, updated_at) VALUES (1, ?, '', '', ?, ?, ?, NOW(), NOW())",
        [spec.name, spec.type ?? 1, spec.open === false ? 0 : 1, spec.price],
      )
      const goodsId = i + 1
      const keys = Array.from({ length: spec.keys }, (_, k) => [goodsId, 1, 0, `G${goodsId}-KEY-${String(k + 1).padStart(4, '0')}`])
      const loops = Array.from({ length: spec.loopKeys ?? 0 }, (_, k) => [goodsId, 1, 1, `G${goodsId}-LOOP-${k + 1}`])
      const rows = [...keys, ...loops]
      if (rows.length > 0)
        await pool.query(
          'INSERT INTO carmis (goods_id, status, is_loop, carmi, created_at, updated_at) VALUES ' + rows.map(() => '(?, ?, ?, ?, NOW(), NOW())').join(', '),
          rows.flat(),
        )
    }
    return new FakeDujiaoka(pool)
  }

  /** Checkout: an order waiting for payment (status 1), priced in SQL like dujiaoka's bcmul. `searchPwd` null: none stored. */
  async createOrder(input: { goodsId: number; qty: number; email: string; searchPwd?: string | null }): Promise<string> {
    const orderSn = `SN${String(++this.orderNo).padStart(6, '0')}${Math.random().toString(36).slice(2, 8).toUpperCase()}`
    await this.pool.query(
      `INSERT INTO orders (order_sn, goods_id, title, type, email, goods_price, buy_amount, total_price, actual_price, search_pwd, buy_ip, status, created_at, updated_at)
       SELECT ?, id, CONCAT(gd_name, 'x', ?), type, ?, actual_price, ?, actual_price * ?, actual_price * ?, ?, '127.0.0.1', 1, NOW(), NOW() FROM goods WHERE id = ?`,
      [orderSn, input.qty, input.email, input.qty, input.qty, input.qty, input.searchPwd === undefined ? '' : input.searchPwd, input.goodsId],
    )
    return orderSn
  }

  /** The payment callback (completedOrder), with hooks to hold it between its steps. */
  async pay(orderSn: string, hooks: PayHooks = {}): Promise<void> {
    const connection = await this.pool.getConnection()
    try {
      await connection.beginTransaction()
      const [[order]] = await connection.query<RowDataPacket[]>('SELECT id, goods_id, type, buy_amount FROM orders WHERE order_sn = ? AND deleted_at IS NULL', [
        orderSn,
      ])
      if (order === undefined) throw new Error(`no order ${orderSn}`)
      if (Number(order.type) === 1) {
        const [keys] = await connection.query<RowDataPacket[]>(
          'SELECT id, carmi, is_loop FROM carmis WHERE goods_id = ? AND status = 1 AND deleted_at IS NULL LIMIT ?',
          [order.goods_id, Number(order.buy_amount)],
        )
        await hooks.afterRead?.(connection)
        if (keys.length !== Number(order.buy_amount)) {
          await connection.query('UPDATE orders SET info = ?, status = 6, updated_at = NOW() WHERE id = ?', [INSUFFICIENT_KEYS_INFO, order.id])
        } else {
          await connection.query('UPDATE orders SET info = ?, status = 4, updated_at = NOW() WHERE id = ?', [
            keys.map((k) => String(k.carmi)).join('\n'),
            order.id,
          ])
          await hooks.afterOrderSaved?.(connection)
          const sold = keys.filter((k) => Number(k.is_loop) === 0).map((k) => k.id)
          if (sold.length > 0) await connection.query('UPDATE carmis SET status = 2, updated_at = NOW() WHERE id IN (?) AND deleted_at IS NULL', [sold])
        }
      } else {
        await connection.query('UPDATE orders SET status = 2, updated_at = NOW() WHERE id = ?', [order.id])
      }
      await connection.query('UPDATE goods SET sales_volume = sales_volume + ? WHERE id = ?', [order.buy_amount, order.goods_id])
      await connection.commit()
    } catch (error) {
      await connection.rollback().catch(() => undefined)
      throw error
    } finally {
      connection.release()
    }
  }

  /**
   * The operator completes an order by hand in the admin panel, pasting the texts of unsold keys of
   * `fromGoods`: as in dujiaoka's admin, only the order's info and status change; the keys' rows
   * stay as they were (unsold), and dujiaoka could sell them again.
   */
  async deliverByHand(orderSn: string, fromGoods: number): Promise<string[]> {
    const [[order]] = await this.pool.query<RowDataPacket[]>('SELECT buy_amount FROM orders WHERE order_sn = ?', [orderSn])
    const [keys] = await this.pool.query<RowDataPacket[]>(
      'SELECT id, carmi FROM carmis WHERE goods_id = ? AND status = 1 AND is_loop = 0 AND deleted_at IS NULL LIMIT ?',
      [fromGoods, Number(order?.buy_amount ?? 1)],
    )
    if (keys.length === 0) throw new Error('no keys left to deliver by hand')
    await this.pool.query('UPDATE orders SET info = ?, status = 4, updated_at = NOW() WHERE order_sn = ?', [
      keys.map((k) => String(k.carmi)).join('\n'),
      orderSn,
    ])
    return keys.map((k) => String(k.id))
  }

  async setStatus(orderSn: string, status: number): Promise<void> {
    const [result] = await this.pool.query<ResultSetHeader>('UPDATE orders SET status = ?, updated_at = NOW() WHERE order_sn = ?', [status, orderSn])
    if (result.affectedRows !== 1) throw new Error(`no order ${orderSn}`)
  }

  async order(orderSn: string): Promise<{ status: number; info: string | null; updatedAt: string }> {
    const [[row]] = await this.pool.query<RowDataPacket[]>('SELECT status, info, updated_at FROM orders WHERE order_sn = ?', [orderSn])
    if (row === undefined) throw new Error(`no order ${orderSn}`)
    return { status: Number(row.status), info: row.info === null ? null : String(row.info), updatedAt: String(row.updated_at) }
  }

  /** carmis ids of keys dujiaoka could still sell (unsold, not deleted, not reusable). */
  async sellableKeyIds(goodsId: number): Promise<Set<string>> {
    const [rows] = await this.pool.query<RowDataPacket[]>('SELECT id FROM carmis WHERE goods_id = ? AND status = 1 AND is_loop = 0 AND deleted_at IS NULL', [
      goodsId,
    ])
    return new Set(rows.map((r) => String(r.id)))
  }

  /** carmis ids whose text reached a buyer through dujiaoka itself (`info` of completed orders not written back by Standin). */
  async deliveredKeyIds(): Promise<Set<string>> {
    const [orders] = await this.pool.query<RowDataPacket[]>(
      "SELECT o.info FROM orders o WHERE o.status = 4 AND o.info IS NOT NULL AND NOT EXISTS (SELECT 1 FROM standin_writebacks w WHERE w.order_sn = o.order_sn AND w.result = 'applied')",
    )
    return this.idsOf(orders.flatMap((o) => String(o.info).split('\n')))
  }

  /** carmis ids of key texts (tests use unique texts). */
  async idsOf(texts: readonly string[]): Promise<Set<string>> {
    if (texts.length === 0) return new Set()
    const [rows] = await this.pool.query<RowDataPacket[]>('SELECT id FROM carmis WHERE carmi IN (?)', [[...new Set(texts)]])
    return new Set(rows.map((r) => String(r.id)))
  }

  async end(): Promise<void> {
    await this.pool.end()
  }
}
