// A FAKE Dujiao-Next for the container tests: its PostgreSQL tables as GORM AutoMigrate makes them
// (bigint ids the driver returns as text, numeric(20,2) money, timestamptz times, soft deletes) and
// its transactions reproduced in SQL, from its Go source (internal/models, service/order_service.go,
// service/fulfillment_service.go, repository/card_secret_repository.go). It stands in for the Go
// shop, which cannot run here; what matters to the adapter is the database and how Dujiao-Next uses it:
//   - checkout: one transaction makes a parent order (what the buyer pays, no items) and one child
//     per line (order_no = the parent's + "-01") with its item; automatic goods reserve their keys
//     (SELECT … FOR UPDATE, then UPDATE to 'reserved' with the child's id);
//   - payment marks the parent paid (paid_at on the parent only) and the children paid, or
//     fulfilling for manual goods;
//   - automatic delivery (CreateAuto) takes the child's reserved keys, tops up from available ones
//     WITHOUT a row lock, marks them used, writes a fulfillment row and completes the child;
//   - manual delivery (CreateManual) writes a fulfillment row with the admin's text only;
//   - cancel and refund release the reserved keys; the parent's status follows its children's.
// Every UPDATE sets updated_at, as GORM does, and every read skips soft-deleted rows.
import { randomInt } from 'node:crypto'
import pg from 'pg'

export interface ProductSpec {
  readonly title: string
  readonly price: string
  readonly fulfillment: 'auto' | 'manual'
  readonly keys: number
  /** Default true. */
  readonly active?: boolean
}

/** Checkout found too few available keys (Dujiao-Next's ErrCardSecretInsufficient). */
export class InsufficientStock extends Error {
  override readonly name = 'InsufficientStock'
}

export interface OrderView {
  readonly status: string
  readonly fulfillment: { type: string; status: string; payload: string | null } | null
  /** Ids of the used keys attached to the order, in the order of the payload's lines when there is one, else by id. */
  readonly keyIds: string[]
  readonly deleted: boolean
}

export interface FulfilHooks {
  /** Runs after the keys were read and before they are written, so a test can interleave. */
  afterRead?: () => Promise<void>
}

/** GORM's columns on every model: created_at, updated_at and the soft-delete deleted_at. */
const STAMPS = 'created_at timestamptz, updated_at timestamptz, deleted_at timestamptz'

/** GORM names a plain `index` tag idx_<table>_<column>. */
function indexes(table: string, columns: readonly string[]): string[] {
  return columns.map((c) => `CREATE INDEX idx_${table}_${c} ON public.${table} (${c})`)
}

// GORM maps string to text, uint and int to bigint, *uint to a nullable bigint, time.Time to timestamptz.
const DDL = [
  `CREATE TABLE public.products (
    id bigserial PRIMARY KEY,
    slug text NOT NULL,
    title json,
    fulfillment_type varchar(20) NOT NULL DEFAULT 'manual',
    is_active boolean DEFAULT false,
    price_amount numeric(20,2) NOT NULL DEFAULT 0,
    ${STAMPS}
  )`,
  `CREATE UNIQUE INDEX idx_products_slug ON public.products (slug)`,
  ...indexes('products', ['is_active', 'created_at', 'updated_at', 'deleted_at']),
  `CREATE TABLE public.product_skus (
    id bigserial PRIMARY KEY,
    product_id bigint NOT NULL,
    sku_code varchar(64) NOT NULL,
    price_amount numeric(20,2) NOT NULL DEFAULT 0,
    is_active boolean DEFAULT true,
    ${STAMPS}
  )`,
  `CREATE UNIQUE INDEX idx_product_sku_code ON public.product_skus (product_id, sku_code)`,
  ...indexes('product_skus', ['is_active', 'created_at', 'updated_at', 'deleted_at']),
  `CREATE TABLE public.card_secrets (
    id bigserial PRIMARY KEY,
    product_id bigint NOT NULL,
    sku_id bigint NOT NULL DEFAULT 0,
    batch_id bigint,
    secret text NOT NULL,
    status text NOT NULL,
    order_id bigint,
    reserved_at timestamptz,
    used_at timestamptz,
    ${STAMPS}
  )`,
  `CREATE INDEX idx_card_secret_reserve ON public.card_secrets (product_id, sku_id, status)`,
  ...indexes('card_secrets', ['batch_id', 'order_id', 'reserved_at', 'used_at', 'created_at', 'updated_at', 'deleted_at']),
  `CREATE TABLE public.orders (
    id bigserial PRIMARY KEY,
    order_no text NOT NULL,
    parent_id bigint,
    user_id bigint NOT NULL DEFAULT 0,
    guest_email text,
    guest_password varchar(200),
    guest_locale varchar(20),
    status text NOT NULL,
    currency text NOT NULL,
    original_amount numeric(20,2) NOT NULL DEFAULT 0,
    discount_amount numeric(20,2) NOT NULL DEFAULT 0,
    total_amount numeric(20,2) NOT NULL DEFAULT 0,
    online_paid_amount numeric(20,2) NOT NULL DEFAULT 0,
    refunded_amount numeric(20,2) NOT NULL DEFAULT 0,
    expires_at timestamptz,
    paid_at timestamptz,
    canceled_at timestamptz,
    ${STAMPS}
  )`,
  `CREATE UNIQUE INDEX idx_orders_order_no ON public.orders (order_no)`,
  ...indexes('orders', ['parent_id', 'user_id', 'guest_email', 'status', 'expires_at', 'paid_at', 'canceled_at', 'created_at', 'updated_at', 'deleted_at']),
  `CREATE TABLE public.order_items (
    id bigserial PRIMARY KEY,
    order_id bigint NOT NULL,
    product_id bigint NOT NULL,
    sku_id bigint NOT NULL DEFAULT 0,
    title json NOT NULL,
    unit_price numeric(20,2) NOT NULL DEFAULT 0,
    total_price numeric(20,2) NOT NULL DEFAULT 0,
    quantity bigint NOT NULL,
    fulfillment_type text NOT NULL,
    ${STAMPS}
  )`,
  ...indexes('order_items', ['order_id', 'product_id', 'sku_id', 'created_at', 'updated_at', 'deleted_at']),
  // The unique index on order_id alone covers soft-deleted rows too: an order gets one fulfillment ever.
  `CREATE TABLE public.fulfillments (
    id bigserial PRIMARY KEY,
    order_id bigint NOT NULL,
    type text NOT NULL,
    status text NOT NULL,
    payload text,
    logistics_json json,
    delivered_by bigint,
    delivered_at timestamptz,
    ${STAMPS}
  )`,
  `CREATE UNIQUE INDEX idx_fulfillments_order_id ON public.fulfillments (order_id)`,
  ...indexes('fulfillments', ['delivered_by', 'delivered_at', 'created_at', 'updated_at', 'deleted_at']),
]

/** The parent's status from its (non-deleted) children's, as Dujiao-Next's calcParentStatus derives it; '' when none applies (no change). */
export function parentStatus(children: readonly string[]): string {
  const n = children.length
  if (n === 0) return ''
  const count = (s: string) => children.filter((c) => c === s).length
  if (count('canceled') === n) return 'canceled'
  if (count('refunded') === n) return 'refunded'
  if (count('refunded') + count('partially_refunded') > 0) return 'partially_refunded'
  if (count('completed') === n) return 'completed'
  const served = count('delivered') + count('completed')
  if (served === n) return 'delivered'
  if (served > 0) return 'partially_delivered'
  if (count('fulfilling') > 0) return 'fulfilling'
  if (count('paid') > 0) return 'paid'
  if (count('pending_payment') > 0) return 'pending_payment'
  return ''
}

/** Key rows in the order of a fulfillment payload's lines (rows not in it last); by id when there is no payload. */
export function inPayloadOrder<K extends { secret: string }>(rows: readonly K[], payload: string | null): K[] {
  if (payload === null) return [...rows]
  const lines = payload.split('\n')
  const at = (secret: string) => {
    const i = lines.indexOf(secret)
    return i < 0 ? Number.MAX_SAFE_INTEGER : i
  }
  return [...rows].sort((a, b) => at(a.secret) - at(b.secret))
}

/** Checkout, payment and automatic delivery, as a buyer's purchase goes: the child order's number, or null when checkout was short of keys or delivery did not deliver. */
export async function purchase(
  shop: Pick<FakeDujiaoNext, 'createOrder' | 'pay' | 'autoFulfil'>,
  productId: number,
  qty: number,
  email: string,
): Promise<string | null> {
  let orderNos: { parent: string; child: string }
  try {
    orderNos = await shop.createOrder({ productId, qty, email, password: null })
  } catch (error) {
    if (error instanceof InsufficientStock) return null
    throw error
  }
  await shop.pay(orderNos.parent)
  return (await shop.autoFulfil(orderNos.child)) === 'delivered' ? orderNos.child : null
}

/** 'DJ' + yyyyMMddHHmmss (the shop's local time) + 6 random digits, like Dujiao-Next's order numbers. */
function newOrderNo(): string {
  const d = new Date()
  const two = (n: number) => String(n).padStart(2, '0')
  const stamp = `${d.getFullYear()}${two(d.getMonth() + 1)}${two(d.getDate())}${two(d.getHours())}${two(d.getMinutes())}${two(d.getSeconds())}`
  return `DJ${stamp}${String(randomInt(0, 1_000_000)).padStart(6, '0')}`
}

interface OrderRow {
  id: string
  parent_id: string | null
  status: string
}

type Queryable = pg.Pool | pg.PoolClient

export class FakeDujiaoNext {
  private constructor(
    readonly pool: pg.Pool,
    private readonly skus: Map<number, number>,
  ) {}

  static async install(
    connection: { host: string; port: number; user: string; password: string; database: string },
    products: readonly ProductSpec[],
  ): Promise<FakeDujiaoNext> {
    const pool = new pg.Pool({ ...connection, max: 20 })
    const skus = new Map<number, number>()
    try {
      for (const statement of DDL) await pool.query(statement)
      for (const [i, spec] of products.entries()) {
        const title = JSON.stringify({ 'zh-CN': spec.title })
        const { rows: product } = await pool.query<{ id: string }>(
          `INSERT INTO products (slug, title, fulfillment_type, is_active, price_amount, created_at, updated_at)
           VALUES ($1, $2, $3, $4, $5, NOW(), NOW()) RETURNING id`,
          [`product-${i + 1}`, title, spec.fulfillment, spec.active ?? true, spec.price],
        )
        const productId = Number(product[0]?.id)
        if (productId !== i + 1) throw new Error(`product ${i + 1} got id ${productId}: install needs an empty database`)
        const { rows: sku } = await pool.query<{ id: string }>(
          `INSERT INTO product_skus (product_id, sku_code, price_amount, is_active, created_at, updated_at)
           VALUES ($1, 'DEFAULT', $2, true, NOW(), NOW()) RETURNING id`,
          [productId, spec.price],
        )
        const skuId = Number(sku[0]?.id)
        skus.set(productId, skuId)
        if (spec.keys > 0)
          await pool.query(
            `INSERT INTO card_secrets (product_id, sku_id, secret, status, created_at, updated_at)
             SELECT $1::bigint, $2::bigint, 'P' || $1::bigint || '-KEY-' || lpad(n::text, 4, '0'), 'available', NOW(), NOW() FROM generate_series(1, $3::int) AS n ORDER BY n`,
            [productId, skuId, spec.keys],
          )
      }
    } catch (error) {
      await pool.end()
      throw error
    }
    return new FakeDujiaoNext(pool, skus)
  }

  skuIdOf(productId: number): number {
    const skuId = this.skus.get(productId)
    if (skuId === undefined) throw new Error(`no product ${productId}`)
    return skuId
  }

  /** BEGIN … COMMIT on one client, ROLLBACK on any error; the client goes back to the pool either way. */
  private async tx<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect()
    try {
      await client.query('BEGIN')
      const result = await work(client)
      await client.query('COMMIT')
      return result
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined)
      throw error
    } finally {
      client.release()
    }
  }

  private async orderRow(db: Queryable, orderNo: string, lock = ''): Promise<OrderRow> {
    const { rows } = await db.query<OrderRow>(`SELECT id, parent_id, status FROM orders WHERE order_no = $1 AND deleted_at IS NULL ${lock}`, [orderNo])
    const row = rows[0]
    if (row === undefined) throw new Error(`no order ${orderNo}`)
    return row
  }

  /** syncParentStatus: the parent follows its children, changed only when its status differs. */
  private async syncParent(db: Queryable, parentId: string | null): Promise<void> {
    if (parentId === null) return
    const { rows } = await db.query<{ status: string }>('SELECT status FROM orders WHERE parent_id = $1 AND deleted_at IS NULL', [parentId])
    const next = parentStatus(rows.map((r) => r.status))
    if (next === '') return
    const canceled = next === 'canceled' ? ', canceled_at = NOW()' : ''
    await db.query(`UPDATE orders SET status = $2, updated_at = NOW()${canceled} WHERE id = $1 AND status <> $2 AND deleted_at IS NULL`, [parentId, next])
  }

  /** Checkout: one transaction; automatic goods reserve their keys under a row lock or nothing is created. */
  async createOrder(
    input: { productId: number; qty: number; email: string | null; password: string | null },
    hooks: FulfilHooks = {},
  ): Promise<{ parent: string; child: string }> {
    if (!Number.isInteger(input.qty) || input.qty < 1) throw new Error(`bad quantity ${input.qty}`)
    return this.tx(async (c) => {
      const { rows: products } = await c.query<{ title: string; fulfillment_type: string; sku_id: string; price: string; total: string }>(
        `SELECT p.title::text AS title, p.fulfillment_type, s.id AS sku_id, s.price_amount::text AS price, (s.price_amount * $2)::text AS total
         FROM products p JOIN product_skus s ON s.product_id = p.id AND s.sku_code = 'DEFAULT' AND s.deleted_at IS NULL
         WHERE p.id = $1 AND p.deleted_at IS NULL`,
        [input.productId, input.qty],
      )
      const product = products[0]
      if (product === undefined) throw new Error(`no product ${input.productId}`)
      const parentNo = newOrderNo()
      const childNo = `${parentNo}-01`
      const insertOrder = `INSERT INTO orders (order_no, parent_id, user_id, guest_email, guest_password, status, currency, original_amount, total_amount,
          expires_at, created_at, updated_at)
        VALUES ($1, $2, 0, $3, $4, 'pending_payment', 'CNY', $5, $5, NOW() + interval '15 minutes', NOW(), NOW()) RETURNING id`
      const { rows: parent } = await c.query<{ id: string }>(insertOrder, [parentNo, null, input.email, input.password, product.total])
      const { rows: child } = await c.query<{ id: string }>(insertOrder, [childNo, parent[0]?.id, input.email, input.password, product.total])
      const childId = child[0]?.id
      await c.query(
        `INSERT INTO order_items (order_id, product_id, sku_id, title, unit_price, total_price, quantity, fulfillment_type, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, NOW(), NOW())`,
        [childId, input.productId, product.sku_id, product.title, product.price, product.total, input.qty, product.fulfillment_type],
      )
      if (product.fulfillment_type === 'auto') {
        const { rows: keys } = await c.query<{ id: string }>(
          `SELECT id FROM card_secrets WHERE product_id = $1 AND sku_id = $2 AND status = 'available' AND deleted_at IS NULL ORDER BY id ASC LIMIT $3 FOR UPDATE`,
          [input.productId, product.sku_id, input.qty],
        )
        if (keys.length < input.qty) throw new InsufficientStock(`product ${input.productId}: ${keys.length} of ${input.qty} keys`)
        await hooks.afterRead?.()
        const ids = keys.map((k) => k.id)
        // A row taken between the read and the write (its status no longer 'available') fails the checkout.
        const reserved = await c.query(
          `UPDATE card_secrets SET status = 'reserved', order_id = $2, reserved_at = NOW(), updated_at = NOW()
           WHERE id = ANY($1::bigint[]) AND status = 'available' AND deleted_at IS NULL`,
          [ids, childId],
        )
        if (reserved.rowCount !== ids.length) throw new InsufficientStock(`product ${input.productId}: keys taken while reserving`)
      }
      return { parent: parentNo, child: childNo }
    })
  }

  /** markOrderPaid: paid_at is stamped on the parent only; manual children wait in 'fulfilling'. */
  async pay(parentNo: string): Promise<void> {
    await this.tx(async (c) => {
      const parent = await this.orderRow(c, parentNo, 'FOR UPDATE')
      if (parent.status !== 'pending_payment') throw new Error(`order ${parentNo} is ${parent.status}, not pending_payment`)
      await c.query(`UPDATE orders SET status = 'paid', paid_at = NOW(), online_paid_amount = total_amount, updated_at = NOW() WHERE id = $1`, [parent.id])
      await c.query(
        `UPDATE orders o SET updated_at = NOW(), status = CASE WHEN EXISTS (
           SELECT 1 FROM order_items i WHERE i.order_id = o.id AND i.deleted_at IS NULL AND i.fulfillment_type = 'manual') THEN 'fulfilling' ELSE 'paid' END
         WHERE o.parent_id = $1 AND o.status = 'pending_payment' AND o.deleted_at IS NULL`,
        [parent.id],
      )
    })
  }

  /** CreateAuto: the order is read (and its status checked) before the transaction, as Dujiao-Next does. */
  async autoFulfil(childNo: string, hooks: FulfilHooks = {}): Promise<'delivered' | 'insufficient' | 'exists' | 'not-paid'> {
    const child = await this.orderRow(this.pool, childNo)
    if (child.status !== 'paid') return 'not-paid'
    const { rows: items } = await this.pool.query<{ product_id: string; sku_id: string; quantity: string; fulfillment_type: string }>(
      'SELECT product_id, sku_id, quantity, fulfillment_type FROM order_items WHERE order_id = $1 AND deleted_at IS NULL ORDER BY id',
      [child.id],
    )
    if (items.length === 0 || items.some((i) => i.fulfillment_type.trim() !== 'auto')) throw new Error(`order ${childNo} is not for automatic delivery`)
    try {
      return await this.tx(async (c) => {
        // Any row, even a soft-deleted one: the unique index on order_id would refuse a second.
        const { rows: existing } = await c.query('SELECT id FROM fulfillments WHERE order_id = $1 FOR UPDATE', [child.id])
        if (existing.length > 0) return 'exists' as const
        const { rows: reserved } = await c.query<{ id: string; product_id: string; sku_id: string; secret: string }>(
          `SELECT id, product_id, sku_id, secret FROM card_secrets WHERE order_id = $1 AND status = 'reserved' AND deleted_at IS NULL ORDER BY id`,
          [child.id],
        )
        const chosen: { id: string; secret: string }[] = []
        for (const item of items) {
          const quantity = Number(item.quantity)
          const mine = reserved.filter((r) => r.product_id === item.product_id && r.sku_id === item.sku_id && !chosen.some((k) => k.id === r.id))
          const selected: { id: string; secret: string }[] = mine.slice(0, quantity)
          if (selected.length < quantity) {
            // The top-up takes available keys WITHOUT a row lock (ListAvailableByProduct); the guarded UPDATE below catches a race.
            const { rows: topUp } = await c.query<{ id: string; secret: string }>(
              `SELECT id, secret FROM card_secrets WHERE product_id = $1 AND sku_id = $2 AND status = 'available' AND deleted_at IS NULL ORDER BY id LIMIT $3`,
              [item.product_id, item.sku_id, quantity - selected.length],
            )
            selected.push(...topUp)
          }
          if (selected.length < quantity) throw new InsufficientStock(`order ${childNo}: ${selected.length} of ${quantity} keys`)
          chosen.push(...selected)
        }
        await hooks.afterRead?.()
        const ids = chosen.map((k) => k.id)
        const used = await c.query(
          `UPDATE card_secrets SET status = 'used', order_id = $2, used_at = NOW(), reserved_at = NULL, updated_at = NOW()
           WHERE id = ANY($1::bigint[]) AND status IN ('available', 'reserved') AND (order_id IS NULL OR order_id = $2) AND deleted_at IS NULL`,
          [ids, child.id],
        )
        if (used.rowCount !== ids.length) throw new InsufficientStock(`order ${childNo}: keys taken while marking them used`)
        await c.query(
          `INSERT INTO fulfillments (order_id, type, status, payload, delivered_at, created_at, updated_at) VALUES ($1, 'auto', 'delivered', $2, NOW(), NOW(), NOW())`,
          [child.id, chosen.map((k) => k.secret).join('\n')],
        )
        await c.query(`UPDATE orders SET status = 'completed', updated_at = NOW() WHERE id = $1`, [child.id])
        await this.syncParent(c, child.parent_id)
        return 'delivered' as const
      })
    } catch (error) {
      if (error instanceof InsufficientStock) return 'insufficient'
      throw error
    }
  }

  /** A buyer's purchase end to end; null when checkout was short of keys or delivery did not deliver. */
  async buy(productId: number, qty: number, email = 'buyer@example.com'): Promise<{ child: string; keys: { keyId: string; key: string }[] } | null> {
    const childNo = await purchase(this, productId, qty, email)
    if (childNo === null) return null
    const child = await this.orderRow(this.pool, childNo)
    const { rows } = await this.pool.query<{ payload: string | null }>('SELECT payload FROM fulfillments WHERE order_id = $1', [child.id])
    const keys = await this.usedKeysOf(child.id, rows[0]?.payload ?? null)
    return { child: childNo, keys: keys.map((k) => ({ keyId: k.id, key: k.secret })) }
  }

  /** The used keys attached to an order, in the payload's line order when there is one, else by id. */
  private async usedKeysOf(orderId: string, payload: string | null): Promise<{ id: string; secret: string }[]> {
    const { rows } = await this.pool.query<{ id: string; secret: string }>(
      `SELECT id, secret FROM card_secrets WHERE order_id = $1 AND status = 'used' AND deleted_at IS NULL ORDER BY id`,
      [orderId],
    )
    return inPayloadOrder(rows, payload)
  }

  /** CreateManual: an admin pastes text; no key row is touched. */
  async deliverManually(childNo: string, payload: string): Promise<void> {
    const child = await this.orderRow(this.pool, childNo)
    if (child.status !== 'paid' && child.status !== 'fulfilling') throw new Error(`order ${childNo} is ${child.status}, not paid or fulfilling`)
    const text = payload.trim()
    if (text === '') throw new Error('empty manual delivery')
    await this.tx(async (c) => {
      const { rows: existing } = await c.query('SELECT id FROM fulfillments WHERE order_id = $1 FOR UPDATE', [child.id])
      if (existing.length > 0) throw new Error(`order ${childNo} already has a fulfillment`)
      await c.query(
        `INSERT INTO fulfillments (order_id, type, status, payload, logistics_json, delivered_by, delivered_at, created_at, updated_at)
         VALUES ($1, 'manual', 'delivered', $2, '{}', 1, NOW(), NOW(), NOW())`,
        [child.id, text],
      )
      await c.query(`UPDATE orders SET status = 'delivered', updated_at = NOW() WHERE id = $1`, [child.id])
      await this.syncParent(c, child.parent_id)
    })
  }

  /** Ends a child (cancel or refund) and gives its still-reserved keys back to the stock. */
  private async endChild(childNo: string, status: 'canceled' | 'refunded'): Promise<void> {
    await this.tx(async (c) => {
      const child = await this.orderRow(c, childNo, 'FOR UPDATE')
      const canceled = status === 'canceled' ? ', canceled_at = NOW()' : ''
      await c.query(`UPDATE orders SET status = $2, updated_at = NOW()${canceled} WHERE id = $1`, [child.id, status])
      await c.query(
        `UPDATE card_secrets SET status = 'available', order_id = NULL, reserved_at = NULL, updated_at = NOW() WHERE order_id = $1 AND status = 'reserved'`,
        [child.id],
      )
      await this.syncParent(c, child.parent_id)
    })
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
    await this.pool.query(
      `UPDATE orders SET deleted_at = NOW(), updated_at = NOW()
       WHERE (order_no = $1 OR parent_id IN (SELECT id FROM orders WHERE order_no = $1)) AND deleted_at IS NULL`,
      [orderNo],
    )
  }

  /** The order as the tests see it, soft-deleted or not; null when there is no row. */
  async order(orderNo: string): Promise<OrderView | null> {
    const { rows } = await this.pool.query<{
      id: string
      status: string
      deleted: boolean
      f_type: string | null
      f_status: string | null
      payload: string | null
    }>(
      `SELECT o.id, o.status, o.deleted_at IS NOT NULL AS deleted, f.type AS f_type, f.status AS f_status, f.payload
       FROM orders o LEFT JOIN fulfillments f ON f.order_id = o.id AND f.deleted_at IS NULL WHERE o.order_no = $1`,
      [orderNo],
    )
    const row = rows[0]
    if (row === undefined) return null
    const fulfillment = row.f_type === null ? null : { type: row.f_type, status: row.f_status ?? '', payload: row.payload }
    const keys = await this.usedKeysOf(row.id, row.payload)
    return { status: row.status, fulfillment, keyIds: keys.map((k) => k.id), deleted: row.deleted }
  }

  /** Key ids Dujiao-Next could still sell. */
  async sellableKeyIds(productId: number): Promise<Set<string>> {
    const { rows } = await this.pool.query<{ id: string }>(
      `SELECT id FROM card_secrets WHERE product_id = $1 AND status = 'available' AND deleted_at IS NULL`,
      [productId],
    )
    return new Set(rows.map((r) => r.id))
  }

  /** Key ids marked used, of any product. */
  async usedKeyIds(): Promise<Set<string>> {
    const { rows } = await this.pool.query<{ id: string }>(`SELECT id FROM card_secrets WHERE status = 'used' AND deleted_at IS NULL`)
    return new Set(rows.map((r) => r.id))
  }

  async end(): Promise<void> {
    await this.pool.end()
  }
}
