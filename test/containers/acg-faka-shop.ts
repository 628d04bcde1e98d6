// A FAKE acg-faka for the container tests: acg-faka 3.x's commodity, card and order tables (the
// columns the adapter relies on and the NOT NULL ones every insert must give, types as its install
// SQL makes them: INT UNSIGNED ids, DATETIME wall-clock times, DECIMAL(10,2) prices, the card text
// in `secret`, a configurable table prefix), and its order flow reproduced in SQL. It stands in for
// the PHP shop, which cannot run here; what matters to the adapter is the database and how
// acg-faka uses it:
//   - payment (the callback's orderSuccess): one SERIALIZABLE transaction; refuses an order that
//     is not unpaid; sets status 1 and pay_time (China wall-clock text); automatic goods read
//     unsold cards of the commodity (oldest first) and, when there are enough, mark them sold to
//     the order and join their texts into `secret`; when there are too few, `secret` becomes the
//     apology text and `delivery_status` is still 1; manual goods get `delivery_status` 0;
//   - a person's delivery edits the order's `secret` only (the cards' rows are not touched).
import type { Pool, PoolConnection, RowDataPacket } from 'mysql2/promise'
import mysql from 'mysql2/promise'
import { APOLOGY_TEXT } from '../../adapters/acg-faka/schema.js'

export interface CommoditySpec {
  readonly name: string
  readonly price: string
  readonly cards: number
  /** 1: manual delivery. */
  readonly deliveryWay?: 0 | 1
  /** 0: off sale. */
  readonly status?: 0 | 1
}

export interface PayHooks {
  /** Runs after the sale read its cards and before it writes anything. */
  afterRead?: (connection: PoolConnection) => Promise<void>
}

function ddl(p: string): string[] {
  return [
    `CREATE TABLE \`${p}commodity\` (
      id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
      category_id INT UNSIGNED NOT NULL,
      name VARCHAR(255) NOT NULL,
      price DECIMAL(10,2) UNSIGNED NOT NULL DEFAULT 0.00,
      status TINYINT UNSIGNED NOT NULL DEFAULT 0 COMMENT '0 off sale, 1 on sale',
      create_time DATETIME NOT NULL,
      code VARCHAR(64) NOT NULL,
      delivery_way TINYINT UNSIGNED NOT NULL DEFAULT 0 COMMENT '0 automatic, 1 manual',
      delivery_message VARCHAR(255) NULL DEFAULT NULL,
      UNIQUE KEY code (code)
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8 COLLATE=utf8_general_ci`,
    `CREATE TABLE \`${p}card\` (
      id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
      owner INT UNSIGNED NOT NULL DEFAULT 0,
      commodity_id INT UNSIGNED NOT NULL,
      draft VARCHAR(255) NULL DEFAULT NULL,
      secret VARCHAR(760) NOT NULL,
      create_time DATETIME NOT NULL,
      purchase_time DATETIME NULL DEFAULT NULL,
      order_id INT UNSIGNED NULL DEFAULT NULL,
      status TINYINT UNSIGNED NOT NULL DEFAULT 0 COMMENT '0 unsold, 1 sold, 2 locked',
      note VARCHAR(64) NULL DEFAULT NULL,
      race VARCHAR(32) NULL DEFAULT NULL,
      KEY commodity_id (commodity_id), KEY order_id (order_id), KEY secret (secret), KEY status (status),
      CONSTRAINT \`${p}card_ibfk_1\` FOREIGN KEY (commodity_id) REFERENCES \`${p}commodity\` (id) ON DELETE CASCADE
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci`,
    `CREATE TABLE \`${p}order\` (
      id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
      owner INT UNSIGNED NOT NULL DEFAULT 0,
      user_id INT UNSIGNED NOT NULL DEFAULT 0,
      trade_no CHAR(19) NOT NULL,
      amount DECIMAL(10,2) UNSIGNED NOT NULL,
      commodity_id INT UNSIGNED NOT NULL,
      card_id INT UNSIGNED NULL DEFAULT NULL,
      card_num INT UNSIGNED NOT NULL DEFAULT 0,
      pay_id INT UNSIGNED NOT NULL,
      create_time DATETIME NOT NULL,
      create_ip VARCHAR(64) NOT NULL,
      create_device TINYINT UNSIGNED NOT NULL,
      pay_time DATETIME NULL DEFAULT NULL,
      status TINYINT UNSIGNED NOT NULL DEFAULT 0 COMMENT '0 unpaid, 1 paid',
      secret LONGTEXT NULL,
      password VARCHAR(32) NULL DEFAULT NULL,
      contact VARCHAR(32) NULL DEFAULT NULL,
      delivery_status TINYINT UNSIGNED NOT NULL DEFAULT 0 COMMENT '0 waiting, 1 delivered',
      race VARCHAR(32) NULL DEFAULT NULL,
      UNIQUE KEY trade_no (trade_no), KEY commodity_id (commodity_id), KEY delivery_status (delivery_status)
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci`,
  ]
}

/** China wall-clock text, as PHP's date('Y-m-d H:i:s') writes it for acg-faka. */
const CHINA_NOW = "DATE_FORMAT(CONVERT_TZ(UTC_TIMESTAMP(), '+00:00', '+08:00'), '%Y-%m-%d %H:%i:%s')"

export class FakeAcgFaka {
  private orderNo = 0

  private constructor(
    readonly pool: Pool,
    readonly prefix: string,
  ) {}

  static async install(
    options: { host: string; port: number; user: string; password: string; database: string },
    prefix: string,
    commodities: readonly CommoditySpec[],
  ): Promise<FakeAcgFaka> {
    const pool = mysql.createPool({ ...options, connectionLimit: 20, dateStrings: true })
    for (const statement of ddl(prefix)) await pool.query(statement)
    for (const [i, spec] of commodities.entries()) {
      await pool.query(
        `INSERT INTO \`${prefix}commodity\` (category_id, name, price, status, create_time, code, delivery_way) VALUES (1, ?, ?, ?, ${CHINA_NOW}, ?, ?)`,
        [spec.name, spec.price, spec.status ?? 1, `C${i + 1}`, spec.deliveryWay ?? 0],
      )
      const id = i + 1
      const cards = Array.from({ length: spec.cards }, (_, k) => [id, `A${id}-CARD-${String(k + 1).padStart(4, '0')}`])
      if (cards.length > 0)
        await pool.query(
          `INSERT INTO \`${prefix}card\` (commodity_id, secret, create_time) VALUES ${cards.map(() => `(?, ?, ${CHINA_NOW})`).join(', ')}`,
          cards.flat(),
        )
    }
    return new FakeAcgFaka(pool, prefix)
  }

  private get t() {
    return { order: `\`${this.prefix}order\``, card: `\`${this.prefix}card\``, commodity: `\`${this.prefix}commodity\`` }
  }

  /** Checkout: an unpaid order (status 0). `password` null: the commodity asks for none. */
  async createOrder(input: { commodityId: number; qty: number; contact: string; password?: string | null }): Promise<string> {
    const tradeNo = `${Date.now()}${String(++this.orderNo).padStart(6, '0')}`.slice(-19)
    await this.pool.query(
      `INSERT INTO ${this.t.order} (trade_no, amount, commodity_id, card_num, pay_id, create_time, create_ip, create_device, password, contact)
       SELECT ?, price * ?, id, ?, 2, ${CHINA_NOW}, '127.0.0.1', 0, ?, ? FROM ${this.t.commodity} WHERE id = ?`,
      [tradeNo, input.qty, input.qty, input.password === undefined ? null : input.password, input.contact, input.commodityId],
    )
    return tradeNo
  }

  /**
   * The payment callback, in one SERIALIZABLE transaction like acg-faka's. A deadlock fails the
   * callback; the payment gateway notifies again, so the fake tries again (up to 20 times).
   */
  async pay(tradeNo: string, hooks: PayHooks = {}): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.payOnce(tradeNo, hooks)
      } catch (error) {
        if ((error as { code?: unknown }).code !== 'ER_LOCK_DEADLOCK' || attempt >= 20) throw error
        await new Promise((resolve) => setTimeout(resolve, 10 * attempt))
      }
    }
  }

  private async payOnce(tradeNo: string, hooks: PayHooks): Promise<void> {
    const connection = await this.pool.getConnection()
    try {
      await connection.query('SET TRANSACTION ISOLATION LEVEL SERIALIZABLE')
      await connection.beginTransaction()
      const [[order]] = await connection.query<RowDataPacket[]>(`SELECT id, commodity_id, card_num, status FROM ${this.t.order} WHERE trade_no = ?`, [tradeNo])
      if (order === undefined) throw new Error(`no order ${tradeNo}`)
      if (Number(order.status) !== 0) throw new Error(`order ${tradeNo} is not unpaid`)
      const [[commodity]] = await connection.query<RowDataPacket[]>(`SELECT delivery_way, delivery_message FROM ${this.t.commodity} WHERE id = ?`, [
        order.commodity_id,
      ])
      await connection.query(`UPDATE ${this.t.order} SET status = 1, pay_time = ${CHINA_NOW} WHERE id = ?`, [order.id])
      if (Number(commodity?.delivery_way) === 0) {
        const [cards] = await connection.query<RowDataPacket[]>(
          `SELECT id, secret FROM ${this.t.card} WHERE commodity_id = ? AND status = 0 ORDER BY id ASC LIMIT ?`,
          [order.commodity_id, Number(order.card_num)],
        )
        await hooks.afterRead?.(connection)
        let secret = APOLOGY_TEXT
        if (cards.length === Number(order.card_num)) {
          await connection.query(`UPDATE ${this.t.card} SET purchase_time = ${CHINA_NOW}, order_id = ?, status = 1 WHERE id IN (?)`, [
            order.id,
            cards.map((c) => c.id),
          ])
          secret = cards.map((c) => String(c.secret)).join('\n')
        }
        await connection.query(`UPDATE ${this.t.order} SET secret = ?, delivery_status = 1 WHERE id = ?`, [secret, order.id])
      } else {
        await connection.query(`UPDATE ${this.t.order} SET secret = ?, delivery_status = 0 WHERE id = ?`, [
          String(commodity?.delivery_message ?? '正在发货中，请耐心等待，如有疑问，请联系客服。'),
          order.id,
        ])
      }
      await connection.commit()
    } catch (error) {
      await connection.rollback().catch(() => undefined)
      throw error
    } finally {
      connection.release()
    }
  }

  /** A person serves the order in the admin panel by pasting the texts of unsold cards of `fromCommodity` (their rows stay unsold). */
  async deliverByHand(tradeNo: string, fromCommodity: number): Promise<string[]> {
    const [[order]] = await this.pool.query<RowDataPacket[]>(`SELECT card_num FROM ${this.t.order} WHERE trade_no = ?`, [tradeNo])
    const [cards] = await this.pool.query<RowDataPacket[]>(
      `SELECT id, secret FROM ${this.t.card} WHERE commodity_id = ? AND status = 0 ORDER BY id ASC LIMIT ?`,
      [fromCommodity, Number(order?.card_num ?? 1)],
    )
    if (cards.length === 0) throw new Error('no cards left to deliver by hand')
    await this.pool.query(`UPDATE ${this.t.order} SET secret = ?, delivery_status = 1 WHERE trade_no = ?`, [
      cards.map((c) => String(c.secret)).join('\n'),
      tradeNo,
    ])
    return cards.map((c) => String(c.id))
  }

  /** The admin deletes an order (acg-faka has no refund status). */
  async deleteOrder(tradeNo: string): Promise<void> {
    await this.pool.query(`DELETE FROM ${this.t.order} WHERE trade_no = ?`, [tradeNo])
  }

  async order(tradeNo: string): Promise<{ id: string; status: number; deliveryStatus: number; secret: string | null; cards: string[] } | null> {
    const [[row]] = await this.pool.query<RowDataPacket[]>(`SELECT id, status, delivery_status, secret FROM ${this.t.order} WHERE trade_no = ?`, [tradeNo])
    if (row === undefined) return null
    const [cards] = await this.pool.query<RowDataPacket[]>(`SELECT id FROM ${this.t.card} WHERE order_id = ? ORDER BY id`, [row.id])
    return {
      id: String(row.id),
      status: Number(row.status),
      deliveryStatus: Number(row.delivery_status),
      secret: row.secret === null ? null : String(row.secret),
      cards: cards.map((c) => String(c.id)),
    }
  }

  /** Card ids acg-faka could still sell. */
  async sellableKeyIds(commodityId: number): Promise<Set<string>> {
    const [rows] = await this.pool.query<RowDataPacket[]>(`SELECT id FROM ${this.t.card} WHERE commodity_id = ? AND status = 0`, [commodityId])
    return new Set(rows.map((r) => String(r.id)))
  }

  /** Card ids of cards whose text reached a buyer through acg-faka itself (attached to an order not written back by Standin, or pasted by hand). */
  async deliveredKeyIds(): Promise<Set<string>> {
    const [attached] = await this.pool.query<RowDataPacket[]>(
      `SELECT c.id FROM ${this.t.card} c JOIN ${this.t.order} o ON o.id = c.order_id
       WHERE c.status = 1 AND NOT EXISTS (SELECT 1 FROM standin_writebacks w WHERE BINARY w.trade_no = BINARY o.trade_no AND w.result = 'applied')`,
    )
    const [pasted] = await this.pool.query<RowDataPacket[]>(
      `SELECT o.secret FROM ${this.t.order} o WHERE o.delivery_status = 1 AND o.secret IS NOT NULL
       AND NOT EXISTS (SELECT 1 FROM ${this.t.card} c WHERE c.order_id = o.id)
       AND NOT EXISTS (SELECT 1 FROM standin_writebacks w WHERE BINARY w.trade_no = BINARY o.trade_no AND w.result = 'applied')`,
    )
    const texts = pasted.flatMap((r) => String(r.secret).split('\n')).filter((l) => l !== APOLOGY_TEXT && l !== '')
    const ids = new Set(attached.map((r) => String(r.id)))
    for (const id of await this.idsOf(texts)) ids.add(id)
    return ids
  }

  /** Card ids of texts (in the card table; tests use unique texts). */
  async idsOf(texts: readonly string[]): Promise<Set<string>> {
    if (texts.length === 0) return new Set()
    const [rows] = await this.pool.query<RowDataPacket[]>(`SELECT id FROM ${this.t.card} WHERE secret IN (?)`, [[...new Set(texts)]])
    return new Set(rows.map((r) => String(r.id)))
  }

  async end(): Promise<void> {
    await this.pool.end()
  }
}
