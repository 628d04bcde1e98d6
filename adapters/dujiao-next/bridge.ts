// The shop → node half for Dujiao-Next: polls the orders table and tells the node about paid child
// orders Dujiao-Next has not served (escrow), what became of them (tombstones), and the platform's
// health.
//
// Changed orders are followed by (updated_at, id): GORM stamps updated_at on every update it makes.
// Each poll starts `overlapSeconds` behind the cursor (a transaction that committed late is still
// seen; known orders are recognised in standin_orders). Orders already told to the node are also
// read again by number every poll, so a change that did not stamp updated_at is not missed.
import { z } from 'zod'
import type { AdapterOrder } from '../../protocol/index.js'
import type { Logger, NodeIngress } from '../contract.js'
import { type PgPool, selectRows } from '../postgres/db.js'
import { readFenced } from '../postgres/fence.js'
import { type PgKeyTable, recordHandDeliveries } from '../postgres/hand-delivered.js'
import { HealthReporter, Repeater } from '../shop-db/bridge-support.js'
import type { BridgeConfig, HealthConfig } from '../shop-db/config.js'
import { HealthProbe, type HealthReading } from '../shop-db/health.js'
import { type Action, decide, stranded, toAdapterOrder } from './orders.js'
import { checkShopSchema, ensureStandinTables, FULFILLMENT, ORDER_SELECT, OrderRow, type OrderState } from './schema.js'

export interface DujiaoNextBridgeOptions {
  readonly pool: PgPool
  readonly node: NodeIngress
  readonly shopUrl: string
  readonly bridge: BridgeConfig
  readonly health: HealthConfig
  readonly minorDigits: number
  readonly buyerLocale: 'zh-CN' | 'en'
  readonly claimKey: string
  readonly logger: Logger
  readonly now?: () => number
}

export interface PollResult {
  escrowed: number
  delivered: number
  cancelled: number
  invalid: number
}

interface Cursor {
  /** updated_at as exact UTC text. */
  readonly updated: string
  readonly lastId: string
}

const CURSOR = 'orders'
const CursorRow = z.object({ updated: z.string(), last_id: z.string() })
const KnownRow = z.object({ order_no: z.string(), state: z.string() })
/** Dujiao-Next's keys, for the hand-delivery record's warning. */
const HAND_KEYS: PgKeyTable = {
  shop: 'Dujiao-Next',
  noun: 'key',
  idsField: 'cardSecretIds',
  unsoldSql: "SELECT id FROM card_secrets WHERE secret = ANY($1) AND status = 'available' AND deleted_at IS NULL",
}
/** Only child orders (they have items) are Standin's orders; parents are read for their buyer. */
const HAS_ITEM = 'i.product_id IS NOT NULL'

const zero = (): PollResult => ({ escrowed: 0, delivered: 0, cancelled: 0, invalid: 0 })
function add(total: PollResult, r: PollResult): void {
  total.escrowed += r.escrowed
  total.delivered += r.delivered
  total.cancelled += r.cancelled
  total.invalid += r.invalid
}

export class DujiaoNextBridge {
  private readonly now: () => number
  private readonly health: HealthReporter
  private readonly repeater: Repeater

  private constructor(private readonly o: DujiaoNextBridgeOptions) {
    this.now = o.now ?? Date.now
    const probe = new HealthProbe({ name: 'Dujiao-Next', db: o.pool, shopUrl: o.shopUrl, config: o.health })
    this.health = new HealthReporter({ probe, node: o.node, repeatMs: o.health.repeatMs, now: this.now })
    this.repeater = new Repeater(o.logger)
  }

  static async open(options: DujiaoNextBridgeOptions): Promise<DujiaoNextBridge> {
    await checkShopSchema(options.pool)
    await ensureStandinTables(options.pool)
    return new DujiaoNextBridge(options)
  }

  /** One pass: orders changed since the cursor, then every order already told to the node. */
  async pollOnce(): Promise<PollResult> {
    const total = zero()
    const fenced = await readFenced(this.o.pool)
    let cursor = await this.cursor()
    const [from] = await selectRows(
      this.o.pool,
      z.object({ t: z.string() }),
      `SELECT to_char(($1::timestamptz - make_interval(secs => $2)) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS t`,
      [cursor.updated, this.o.bridge.overlapSeconds],
    )
    let position: Cursor = { updated: from?.t ?? cursor.updated, lastId: '0' }
    for (;;) {
      const rows = await selectRows(
        this.o.pool,
        OrderRow,
        `${ORDER_SELECT} WHERE ${HAS_ITEM} AND (o.updated_at > $1::timestamptz OR (o.updated_at = $1::timestamptz AND o.id > $2))
         ORDER BY o.updated_at, o.id LIMIT $3`,
        [position.updated, position.lastId, this.o.bridge.batchSize],
      )
      if (rows.length === 0) break
      add(total, await this.handle(rows, fenced))
      const last = rows.at(-1) as OrderRow
      position = { updated: last.updated, lastId: last.id }
      if (position.updated > cursor.updated || (position.updated === cursor.updated && BigInt(position.lastId) > BigInt(cursor.lastId))) {
        cursor = position
        await this.saveCursor(cursor)
      }
      if (rows.length < this.o.bridge.batchSize) break
    }
    add(total, await this.recheckTold(fenced))
    return total
  }

  /** Orders told to the node (escrowed or being submitted), read again by number. */
  private async recheckTold(fenced: boolean): Promise<PollResult> {
    const total = zero()
    let after = ''
    for (;;) {
      const told = await selectRows(
        this.o.pool,
        KnownRow,
        "SELECT order_no, state FROM standin_orders WHERE state IN ('submitting', 'escrowed') AND order_no > $1 ORDER BY order_no LIMIT $2",
        [after, this.o.bridge.batchSize],
      )
      if (told.length === 0) break
      after = (told.at(-1) as z.infer<typeof KnownRow>).order_no
      const rows = await selectRows(this.o.pool, OrderRow, `${ORDER_SELECT} WHERE o.order_no = ANY($1)`, [told.map((k) => k.order_no)])
      const present = new Set(rows.map((r) => r.order_no))
      const gone = told.filter((k) => !present.has(k.order_no)).map((k) => k.order_no)
      if (gone.length > 0) {
        await this.o.node.markCancelled(gone.map((order) => ({ order, reason: 'order removed from Dujiao-Next' })))
        await this.setStates(gone.map((order) => ({ order, state: 'cancelled', note: 'order removed from Dujiao-Next' })))
        total.cancelled += gone.length
      }
      add(total, await this.handle(rows, fenced))
      if (told.length < this.o.bridge.batchSize) break
    }
    return total
  }

  private async handle(rows: readonly OrderRow[], fenced: boolean): Promise<PollResult> {
    if (rows.length === 0) return zero()
    const known = new Map(
      (await selectRows(this.o.pool, KnownRow, 'SELECT order_no, state FROM standin_orders WHERE order_no = ANY($1)', [rows.map((r) => r.order_no)])).map(
        (k): [string, OrderState] => [k.order_no, k.state as OrderState],
      ),
    )
    const escrow: { row: OrderRow; order: AdapterOrder }[] = []
    const delivered: OrderRow[] = []
    const cancelled: { row: OrderRow; reason: string }[] = []
    let invalid = 0
    for (const row of rows) {
      const action: Action = decide(row, known.get(row.order_no))
      if (action.kind === 'escrow') {
        const paidAtMs = Math.min(row.paid_at_ms === null ? this.now() : Number(row.paid_at_ms), this.now())
        const mapped = toAdapterOrder(row, paidAtMs, { minorDigits: this.o.minorDigits, locale: this.o.buyerLocale, claimKey: this.o.claimKey })
        if (!mapped.ok) {
          invalid++
          this.o.logger.error(
            { order: row.order_no, reason: mapped.reason },
            'paid Dujiao-Next order cannot be escrowed; recorded as invalid in standin_orders',
          )
          await this.setStates([{ order: row.order_no, state: 'invalid', note: mapped.reason }])
          continue
        }
        for (const note of mapped.notes) this.o.logger.warn({ order: row.order_no }, note)
        escrow.push({ row, order: mapped.order })
      } else if (action.kind === 'delivered') {
        if (fenced)
          this.o.logger.error(
            { order: row.order_no },
            'Dujiao-Next delivered an escrowed order while the node had it fenced: a partner may deliver it too; reported as delivered so duplicates are counted',
          )
        delivered.push(row)
      } else if (action.kind === 'cancelled') cancelled.push({ row, reason: action.reason })
    }
    // (1) Intent before the node learns of them; (2) tell the node; (3) record what it took.
    const fresh = escrow.filter(({ row }) => !known.has(row.order_no))
    if (fresh.length > 0)
      await this.o.pool.query(
        `INSERT INTO standin_orders (order_no, state, paid_at_ms, note, changed_ms)
         SELECT no, 'submitting', paid, NULL, $3 FROM unnest($1::text[], $2::bigint[]) AS t(no, paid) ON CONFLICT DO NOTHING`,
        [fresh.map(({ row }) => row.order_no), fresh.map(({ order }) => order.paidAt), this.now()],
      )
    if (escrow.length > 0) {
      await this.o.node.submitOrders(escrow.map((e) => e.order))
      await this.setStates(escrow.map(({ row }) => ({ order: row.order_no, state: 'escrowed', note: null })))
    }
    if (delivered.length > 0) {
      await recordHandDeliveries(
        { pool: this.o.pool, logger: this.o.logger, now: this.now },
        HAND_KEYS,
        delivered.filter((row) => row.fulfillment_type === FULFILLMENT.manual).map((row) => ({ order: row.order_no, text: row.payload })),
      )
      await this.o.node.markDelivered(delivered.map((row) => ({ order: row.order_no, time: this.now() })))
      await this.setStates(delivered.map((row) => ({ order: row.order_no, state: 'delivered', note: null })))
    }
    if (cancelled.length > 0) {
      await this.o.node.markCancelled(cancelled.map(({ row, reason }) => ({ order: row.order_no, reason })))
      await this.setStates(cancelled.map(({ row, reason }) => ({ order: row.order_no, state: 'cancelled', note: reason })))
    }
    return { escrowed: escrow.length, delivered: delivered.length, cancelled: cancelled.length, invalid }
  }

  private async setStates(states: readonly { order: string; state: OrderState; note: string | null }[]): Promise<void> {
    if (states.length === 0) return
    await this.o.pool.query(
      `INSERT INTO standin_orders (order_no, state, paid_at_ms, note, changed_ms)
       SELECT no, st, NULL, note, $4 FROM unnest($1::text[], $2::text[], $3::text[]) AS t(no, st, note)
       ON CONFLICT (order_no) DO UPDATE SET state = EXCLUDED.state, note = EXCLUDED.note, changed_ms = EXCLUDED.changed_ms`,
      [states.map((s) => s.order), states.map((s) => s.state), states.map((s) => (s.note === null ? null : s.note.slice(0, 500))), this.now()],
    )
  }

  /** The saved cursor; the first time, the newest order's updated_at minus the lookback (saved at once). */
  private async cursor(): Promise<Cursor> {
    const [saved] = await selectRows(this.o.pool, CursorRow, 'SELECT updated, last_id::text AS last_id FROM standin_cursor WHERE name = $1', [CURSOR])
    if (saved !== undefined) return { updated: saved.updated, lastId: saved.last_id }
    const [start] = await selectRows(
      this.o.pool,
      z.object({ t: z.string() }),
      `SELECT to_char((COALESCE(MAX(updated_at), to_timestamp($1 / 1000.0)) - make_interval(secs => $2)) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS t FROM orders`,
      [this.now(), this.o.bridge.firstStartLookbackSeconds],
    )
    const cursor: Cursor = { updated: start?.t as string, lastId: '0' }
    const older = await selectRows(
      this.o.pool,
      OrderRow,
      `${ORDER_SELECT} WHERE ${HAS_ITEM} AND o.deleted_at IS NULL AND o.status = 'paid' AND o.updated_at < $1::timestamptz`,
      [cursor.updated],
    )
    const waiting = older.filter(stranded).length
    if (waiting > 0)
      this.o.logger.warn(
        { waiting, before: cursor.updated },
        'first start: paid orders still waiting from before the lookback are not escrowed: serve or refund them in Dujiao-Next, or raise bridge.firstStartLookbackSeconds before the first start',
      )
    await this.saveCursor(cursor)
    this.o.logger.info({ cursor: cursor.updated }, 'first start: following Dujiao-Next orders changed from here on')
    return cursor
  }

  private async saveCursor(cursor: Cursor): Promise<void> {
    await this.o.pool.query(
      `INSERT INTO standin_cursor (name, updated, last_id, moved_ms) VALUES ($1, $2, $3, $4)
       ON CONFLICT (name) DO UPDATE SET updated = EXCLUDED.updated, last_id = EXCLUDED.last_id, moved_ms = EXCLUDED.moved_ms`,
      [CURSOR, cursor.updated, cursor.lastId, this.now()],
    )
  }

  /** Probes the shop and reports to the node when the reading changed or `repeatMs` passed. */
  checkHealth(): Promise<HealthReading & { reported: boolean }> {
    return this.health.check()
  }

  /** Polls and probes on their intervals until close(); a failed round is logged and retried. */
  run(): void {
    this.repeater.every('Dujiao-Next poll', this.o.bridge.pollIntervalMs, () => this.pollOnce())
    this.repeater.every('Dujiao-Next health', this.o.health.intervalMs, () => this.checkHealth())
  }

  close(): Promise<void> {
    return this.repeater.close()
  }
}
