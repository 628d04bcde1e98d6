// The shop → node half for Dujiao-Next: polls the orders table and tells the node about paid child
// orders Dujiao-Next has not served (escrow), what became of them (tombstones), and the platform's
// health.
//
// Changed orders are followed by (updated_at, id): GORM stamps updated_at on every update it makes.
// Each poll starts `overlapSeconds` behind the cursor (a transaction that committed late is still
// seen; known orders are recognised in standin_orders). Orders already told to the node are also
// read again by number every poll (../shop-db/order-report.ts), so a change that did not stamp
// updated_at (GORM's soft delete sets deleted_at only) is not missed.
import { z } from 'zod'
import type { Logger, NodeIngress } from '../contract.js'
import { HealthReporter, Repeater } from '../shop-db/bridge-support.js'
import type { BridgeConfig, HealthConfig } from '../shop-db/config.js'
import { HealthProbe, type HealthReading } from '../shop-db/health.js'
import { addPoll, emptyPoll, type PollResult, recheckTold, type ReportOptions, type ReportStore, reportRows } from '../shop-db/order-report.js'
import { readFenced } from '../shop-db/sql-fence.js'
import { recordHandDeliveries } from '../shop-db/sql-hand-delivered.js'
import { arrayRows, inList, selectRows, type SqlDatabase } from '../shop-db/sql.js'
import { TIME_SQL, type TimeSql } from './dialect.js'
import { decide, stranded, toAdapterOrder } from './orders.js'
import { checkShopSchema, ensureStandinTables, FULFILLMENT, orderSelect, OrderRow, type OrderState } from './schema.js'

export interface DujiaoNextBridgeOptions {
  readonly db: SqlDatabase
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

interface Cursor {
  /** updated_at as exact UTC text. */
  readonly updated: string
  readonly lastId: string
}

const CURSOR = 'orders'
const CursorRow = z.object({ updated: z.string(), last_id: z.string() })
const TimeRow = z.object({ t: z.string() })
const KnownRow = z.object({ order_no: z.string(), state: z.string() })
/** Only child orders (they have items) are Standin's orders; parents are read for their buyer. */
const HAS_ITEM = 'i.product_id IS NOT NULL'

export class DujiaoNextBridge {
  private readonly now: () => number
  private readonly health: HealthReporter
  private readonly repeater: Repeater
  private readonly report: ReportOptions
  private readonly store: ReportStore<OrderRow, OrderState>
  private readonly time: TimeSql
  private readonly select: string

  private constructor(private readonly o: DujiaoNextBridgeOptions) {
    this.now = o.now ?? Date.now
    this.time = TIME_SQL[o.db.dialect]
    this.select = orderSelect(o.db.dialect)
    const probe = new HealthProbe({ name: 'Dujiao-Next', db: o.db, shopUrl: o.shopUrl, config: o.health })
    this.health = new HealthReporter({ probe, node: o.node, repeatMs: o.health.repeatMs, now: this.now })
    this.repeater = new Repeater(o.logger)
    this.report = { shop: 'Dujiao-Next', node: o.node, logger: o.logger, now: this.now, batchSize: o.bridge.batchSize }
    this.store = this.reportStore()
  }

  static async open(options: DujiaoNextBridgeOptions): Promise<DujiaoNextBridge> {
    await checkShopSchema(options.db)
    await ensureStandinTables(options.db)
    return new DujiaoNextBridge(options)
  }

  /** One pass: orders changed since the cursor, then every order already told to the node. */
  async pollOnce(): Promise<PollResult> {
    const total = emptyPoll()
    const fenced = await readFenced(this.o.db)
    let cursor = await this.cursor()
    const [from] = await selectRows(this.o.db, TimeRow, `SELECT ${this.time.shift('$1', '$2')} AS t`, [cursor.updated, this.o.bridge.overlapSeconds])
    let position: Cursor = { updated: from?.t ?? cursor.updated, lastId: '0' }
    for (;;) {
      const rows = await selectRows(
        this.o.db,
        OrderRow,
        `${this.select} WHERE ${HAS_ITEM} AND ${this.time.after('o.updated_at', '$1', 'o.id', '$2')}
         ORDER BY ${this.time.order('o.updated_at', 'o.id')} LIMIT $3`,
        [position.updated, position.lastId, this.o.bridge.batchSize],
      )
      if (rows.length === 0) break
      addPoll(total, await reportRows(this.report, this.store, rows, fenced))
      const last = rows.at(-1) as OrderRow
      position = { updated: last.updated, lastId: last.id }
      if (position.updated > cursor.updated || (position.updated === cursor.updated && BigInt(position.lastId) > BigInt(cursor.lastId))) {
        cursor = position
        await this.saveCursor(cursor)
      }
      if (rows.length < this.o.bridge.batchSize) break
    }
    addPoll(total, await recheckTold(this.report, this.store, fenced))
    return total
  }

  /** The SQL of reporting (../shop-db/order-report.ts) on Dujiao-Next's database. */
  private reportStore(): ReportStore<OrderRow, OrderState> {
    const db = this.o.db
    const dialect = db.dialect
    const mapping = { minorDigits: this.o.minorDigits, locale: this.o.buyerLocale, claimKey: this.o.claimKey }
    return {
      orderNo: (row) => row.order_no,
      known: async (orderNos) =>
        new Map(
          (await selectRows(db, KnownRow, `SELECT order_no, state FROM standin_orders WHERE ${inList(dialect, 'order_no', '$1')}`, [orderNos])).map(
            (k): [string, OrderState] => [k.order_no, k.state as OrderState],
          ),
        ),
      decide,
      map: (row, nowMs) => toAdapterOrder(row, Math.min(row.paid_at_ms === null ? nowMs : Number(row.paid_at_ms), nowMs), mapping),
      recordIntent: async (fresh) => {
        await db.query(
          `INSERT INTO standin_orders (order_no, state, paid_at_ms, note, changed_ms)
           SELECT t.no, 'submitting', t.paid, NULL, $3 FROM ${arrayRows(dialect, 't', [
             ['no', '$1', 'text'],
             ['paid', '$2', 'bigint'],
           ])} WHERE true ON CONFLICT DO NOTHING`,
          [fresh.map(({ row }) => row.order_no), fresh.map(({ order }) => order.paidAt), this.now()],
        )
      },
      setStates: async (states) => {
        await db.query(
          `INSERT INTO standin_orders (order_no, state, paid_at_ms, note, changed_ms)
           SELECT t.no, t.st, NULL, t.note, $4 FROM ${arrayRows(dialect, 't', [
             ['no', '$1', 'text'],
             ['st', '$2', 'text'],
             ['note', '$3', 'text'],
           ])} WHERE true
           ON CONFLICT (order_no) DO UPDATE SET state = EXCLUDED.state, note = EXCLUDED.note, changed_ms = EXCLUDED.changed_ms`,
          [states.map((s) => s.order), states.map((s) => s.state), states.map((s) => (s.note === null ? null : s.note.slice(0, 500))), this.now()],
        )
      },
      toldPage: async (after, limit) =>
        (
          await selectRows(
            db,
            z.object({ order_no: z.string() }),
            "SELECT order_no FROM standin_orders WHERE state IN ('submitting', 'escrowed') AND order_no > $1 ORDER BY order_no LIMIT $2",
            [after, limit],
          )
        ).map((r) => r.order_no),
      rowsByNumber: (orderNos) => selectRows(db, OrderRow, `${this.select} WHERE ${inList(dialect, 'o.order_no', '$1')}`, [orderNos]),
      recordHandDeliveries: async (rows) => {
        await recordHandDeliveries(
          { db, logger: this.o.logger, now: this.now },
          {
            shop: 'Dujiao-Next',
            noun: 'key',
            idsField: 'cardSecretIds',
            unsoldSql: `SELECT id FROM card_secrets WHERE ${inList(dialect, 'secret', '$1')} AND status = 'available' AND deleted_at IS NULL`,
          },
          rows.filter((row) => row.fulfillment_type === FULFILLMENT.manual).map((row) => ({ order: row.order_no, text: row.payload })),
        )
      },
    }
  }

  /** The saved cursor; the first time, the newest order's updated_at minus the lookback (saved at once). */
  private async cursor(): Promise<Cursor> {
    const [saved] = await selectRows(this.o.db, CursorRow, 'SELECT updated, CAST(last_id AS TEXT) AS last_id FROM standin_cursor WHERE name = $1', [CURSOR])
    if (saved !== undefined) return { updated: saved.updated, lastId: saved.last_id }
    const [start] = await selectRows(this.o.db, TimeRow, this.time.newestMinus('orders', 'updated_at', '$1', '$2'), [
      this.now(),
      this.o.bridge.firstStartLookbackSeconds,
    ])
    const cursor: Cursor = { updated: start?.t as string, lastId: '0' }
    const older = await selectRows(
      this.o.db,
      OrderRow,
      `${this.select} WHERE ${HAS_ITEM} AND o.deleted_at IS NULL AND o.status = 'paid' AND ${this.time.before('o.updated_at', '$1')}`,
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
    await this.o.db.query(
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
