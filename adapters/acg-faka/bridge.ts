// The shop → node half for acg-faka: polls the order table and tells the node about paid orders
// the shop could not serve (escrow), what became of them (tombstones), and the platform's health.
//
// acg-faka's order table has no updated_at. New paid orders are followed by (pay_time, id), each
// poll starting `overlapSeconds` behind the cursor (a payment that committed late is still seen;
// known orders are recognised in standin_orders). Orders already told to the node are read again
// by number every poll, since nothing else would say that a person served or deleted them.
// pay_time is acg-faka's wall-clock text (PHP's zone): only compared with other pay_time values,
// and read as an instant in `shopTimeZone`, capped at our clock.
import { z } from 'zod'
import type { Logger, NodeIngress } from '../contract.js'
import type { BridgeConfig, HealthConfig, MoneyConfig } from '../shop-db/config.js'
import { type Pool, selectRows } from '../mysql/db.js'
import { readFenced } from '../mysql/fence.js'
import { HealthReporter, Repeater } from '../shop-db/bridge-support.js'
import { type KeyTable, recordHandDeliveries, sha256Hex } from '../mysql/hand-delivered.js'
import { HealthProbe, type HealthReading } from '../shop-db/health.js'
import { addPoll, emptyPoll, type PollResult, recheckTold, type ReportOptions, type ReportStore, reportRows } from '../shop-db/order-report.js'
import { decide, type Known, stranded, toAdapterOrder } from './orders.js'
import { checkShopSchema, ensureStandinTables, OrderRow, orderSelect, type OrderState, type Tables, tablesOf, wallClockMs, wallClockText } from './schema.js'

export interface AcgBridgeOptions {
  readonly pool: Pool
  readonly node: NodeIngress
  readonly shopUrl: string
  readonly tablePrefix: string
  readonly shopTimeZone: string
  readonly bridge: BridgeConfig
  readonly health: HealthConfig
  readonly money: MoneyConfig
  readonly buyerLocale: 'zh-CN' | 'en'
  readonly claimKey: string
  readonly logger: Logger
  readonly now?: () => number
}

interface Cursor {
  readonly payTime: string
  readonly lastId: string
}

const CURSOR = 'orders'
const CursorRow = z.object({ pay_time: z.string(), last_id: z.string() })
const KnownRow = z.object({ trade_no: z.string(), state: z.string(), secret_sha: z.string().nullable() })

export class AcgFakaBridge {
  private readonly t: Tables
  private readonly now: () => number
  /** acg-faka's cards, for the hand-delivery record's warning (../mysql/hand-delivered.ts). */
  private readonly handKeys: KeyTable
  private readonly health: HealthReporter
  private readonly repeater: Repeater
  private readonly report: ReportOptions
  private readonly store: ReportStore<OrderRow, Known>

  private constructor(private readonly o: AcgBridgeOptions) {
    this.t = tablesOf(o.tablePrefix)
    this.now = o.now ?? Date.now
    this.handKeys = { shop: 'acg-faka', noun: 'card', idsField: 'cardIds', unsoldSql: `SELECT id FROM \`${this.t.card}\` WHERE secret IN (?) AND status = 0` }
    const probe = new HealthProbe({ name: 'acg-faka', db: o.pool, shopUrl: o.shopUrl, config: o.health })
    this.health = new HealthReporter({ probe, node: o.node, repeatMs: o.health.repeatMs, now: this.now })
    this.repeater = new Repeater(o.logger)
    this.report = { shop: 'acg-faka', node: o.node, logger: o.logger, now: this.now, batchSize: o.bridge.batchSize }
    this.store = this.reportStore()
  }

  static async open(options: AcgBridgeOptions): Promise<AcgFakaBridge> {
    const t = tablesOf(options.tablePrefix)
    await checkShopSchema(options.pool, t)
    await ensureStandinTables(options.pool, t)
    return new AcgFakaBridge(options)
  }

  /** One pass: new paid orders from the cursor, then every order already told to the node. */
  async pollOnce(): Promise<PollResult> {
    const total = emptyPoll()
    const fenced = await readFenced(this.o.pool)
    let cursor = await this.cursor()
    const from = wallClockText(wallClockMs(cursor.payTime, this.o.shopTimeZone) - this.o.bridge.overlapSeconds * 1_000, this.o.shopTimeZone)
    let position: Cursor = { payTime: from, lastId: '0' }
    for (;;) {
      const rows = await selectRows(
        this.o.pool,
        OrderRow,
        `${orderSelect(this.t)} WHERE o.status = 1 AND o.pay_time IS NOT NULL AND (o.pay_time > ? OR (o.pay_time = ? AND o.id > ?)) ORDER BY o.pay_time, o.id LIMIT ?`,
        [position.payTime, position.payTime, position.lastId, this.o.bridge.batchSize],
      )
      if (rows.length === 0) break
      addPoll(total, await reportRows(this.report, this.store, rows, fenced))
      const last = rows.at(-1) as OrderRow
      position = { payTime: last.pay_time as string, lastId: last.id }
      if (position.payTime > cursor.payTime || (position.payTime === cursor.payTime && BigInt(position.lastId) > BigInt(cursor.lastId))) {
        cursor = position
        await this.saveCursor(cursor)
      }
      if (rows.length < this.o.bridge.batchSize) break
    }
    addPoll(total, await recheckTold(this.report, this.store, fenced))
    return total
  }

  /** The SQL of reporting (../shop-db/order-report.ts) on acg-faka's database. */
  private reportStore(): ReportStore<OrderRow, Known> {
    const pool = this.o.pool
    const zone = this.o.shopTimeZone
    const mapping = { money: this.o.money, locale: this.o.buyerLocale, claimKey: this.o.claimKey }
    return {
      orderNo: (row) => row.trade_no,
      known: async (orderNos) =>
        new Map(
          (await selectRows(pool, KnownRow, 'SELECT trade_no, state, secret_sha FROM standin_orders WHERE trade_no IN (?)', [orderNos])).map(
            (k): [string, Known] => [k.trade_no, { state: k.state as OrderState, secretSha: k.secret_sha }],
          ),
        ),
      decide,
      map: (row, nowMs) => toAdapterOrder(row, Math.min(wallClockMs(row.pay_time ?? wallClockText(nowMs, zone), zone), nowMs), mapping),
      // With the order's text, to see a person's delivery (a new text) later.
      recordIntent: async (fresh) => {
        await pool.query('INSERT IGNORE INTO standin_orders (trade_no, state, paid_at_ms, secret_sha, note, changed_ms) VALUES ?', [
          fresh.map(({ row, order }) => [row.trade_no, 'submitting', order.paidAt, sha256Hex(row.secret ?? ''), null, this.now()]),
        ])
      },
      setStates: async (states) => {
        await pool.query(
          `INSERT INTO standin_orders (trade_no, state, paid_at_ms, secret_sha, note, changed_ms) VALUES ?
           ON DUPLICATE KEY UPDATE state = VALUES(state), note = VALUES(note), changed_ms = VALUES(changed_ms)`,
          [states.map((st) => [st.order, st.state, null, null, st.note === null ? null : st.note.slice(0, 500), this.now()])],
        )
      },
      toldPage: async (after, limit) =>
        (
          await selectRows(
            pool,
            KnownRow,
            "SELECT trade_no, state, secret_sha FROM standin_orders WHERE state IN ('submitting', 'escrowed') AND trade_no > ? ORDER BY trade_no LIMIT ?",
            [after, limit],
          )
        ).map((k) => k.trade_no),
      rowsByNumber: (orderNos) => selectRows(pool, OrderRow, `${orderSelect(this.t)} WHERE o.trade_no IN (?)`, [orderNos]),
      recordHandDeliveries: async (rows) => {
        await recordHandDeliveries(
          { pool, logger: this.o.logger, now: this.now },
          this.handKeys,
          rows.filter((row) => row.cards < row.card_num).map((row) => ({ order: row.trade_no, text: row.secret })),
        )
      },
    }
  }

  /** The saved cursor; the first time, the newest paid order's pay_time minus the lookback (saved at once). */
  private async cursor(): Promise<Cursor> {
    const [saved] = await selectRows(this.o.pool, CursorRow, 'SELECT pay_time, last_id FROM standin_cursor WHERE name = ?', [CURSOR])
    if (saved !== undefined) return { payTime: saved.pay_time, lastId: saved.last_id }
    const [newest] = await selectRows(
      this.o.pool,
      z.object({ latest: z.string().nullable() }),
      `SELECT MAX(pay_time) AS latest FROM \`${this.t.order}\` WHERE status = 1`,
    )
    const zone = this.o.shopTimeZone
    const latestMs = newest?.latest ? wallClockMs(newest.latest, zone) : this.now()
    const start: Cursor = { payTime: wallClockText(latestMs - this.o.bridge.firstStartLookbackSeconds * 1_000, zone), lastId: '0' }
    const older = await selectRows(this.o.pool, OrderRow, `${orderSelect(this.t)} WHERE o.status = 1 AND o.pay_time < ?`, [start.payTime])
    const waiting = older.filter(stranded).length
    if (waiting > 0)
      this.o.logger.warn(
        { waiting, before: start.payTime },
        'first start: paid orders still waiting from before the lookback are not escrowed: serve or refund them in acg-faka, or raise bridge.firstStartLookbackSeconds before the first start',
      )
    await this.saveCursor(start)
    this.o.logger.info({ cursor: start.payTime }, 'first start: following acg-faka orders paid from here on')
    return start
  }

  private async saveCursor(cursor: Cursor): Promise<void> {
    await this.o.pool.query(
      `INSERT INTO standin_cursor (name, pay_time, last_id, moved_ms) VALUES (?, ?, ?, ?)
       ON DUPLICATE KEY UPDATE pay_time = VALUES(pay_time), last_id = VALUES(last_id), moved_ms = VALUES(moved_ms)`,
      [CURSOR, cursor.payTime, cursor.lastId, this.now()],
    )
  }

  /** Probes the shop and reports to the node when the reading changed or `repeatMs` passed. */
  checkHealth(): Promise<HealthReading & { reported: boolean }> {
    return this.health.check()
  }

  /** Polls and probes on their intervals until close(); a failed round is logged and retried. */
  run(): void {
    this.repeater.every('acg-faka poll', this.o.bridge.pollIntervalMs, () => this.pollOnce())
    this.repeater.every('acg-faka health', this.o.health.intervalMs, () => this.checkHealth())
  }

  close(): Promise<void> {
    return this.repeater.close()
  }
}
