// The shop → node half for dujiaoka: polls `orders` and tells the node what it must know.
//
// Cursor. Orders are read in (updated_at, id) order, `batchSize` per page, from a cursor kept in
// `standin_cursor`. Each poll starts `overlapSeconds` behind the cursor, because an order whose
// transaction commits late can carry an updated_at older than rows already read; what was already
// told is recognised in `standin_orders`, so the overlap re-reads but never re-reports. With no
// cursor yet, the first poll starts `firstStartLookbackSeconds` behind the newest order, not at the
// beginning of the shop's history.
//
// Restart safety. For each page: (1) orders about to be escrowed are recorded as `submitting` with
// the paidAt we will send, (2) the node is called, (3) the new states and the cursor are written in
// one transaction. A crash between (1) and (3) re-reads the page and resubmits identical orders,
// which the node counts as duplicates: at-least-once to the node, nothing lost, nothing doubled.
//
// One bridge per database: it holds a GET_LOCK named after its database on a dedicated connection.
import { createHash } from 'node:crypto'
import type { RowDataPacket } from 'mysql2'
import { z } from 'zod'
import { type AdapterOrder, formatZodError } from '../../protocol/index.js'
import type { Logger, NodeIngress } from '../contract.js'
import { AdapterRequestError } from '../generic/client.js'
import type { BridgeConfig, HealthConfig, MoneyConfig } from '../shop-db/config.js'
import { inTransaction, type Pool, type PoolConnection, selectRows } from '../mysql/db.js'
import { HealthProbe, type HealthReading } from '../shop-db/health.js'
import { HealthReporter, Repeater } from '../shop-db/bridge-support.js'
import type { Action } from '../shop-db/order-report.js'
import { decide, type OrderMapping, toAdapterOrder } from './orders.js'
import { detectConflicts } from './conflicts.js'
import { recordHandDeliveries } from '../mysql/hand-delivered.js'
import { checkShopSchema } from './schema-check.js'
import {
  CARMI_STATUS,
  dbTimeMs,
  dbTimeText,
  ensureStandinTables,
  MANUAL_TYPE,
  ORDER_COLUMNS,
  ORDER_STATUS,
  OrderRow,
  type OrderState,
  PAID_WAITING,
  RowId,
} from './schema.js'
import { readFenced } from '../mysql/fence.js'

/** Pages one poll reads at most; a poll that stops here continues at the next one. */
export const MAX_PAGES_PER_POLL = 10_000
/**
 * GET_LOCK names are server-wide and at most 64 characters, and one MariaDB often serves several
 * shops (a database each): the lock names the database, by a hash that always fits.
 */
export function bridgeLockName(database: string): string {
  return `standin_bridge:${createHash('sha256').update(database, 'utf8').digest('hex').slice(0, 32)}`
}
const CurrentDatabase = z.object({ db: z.string().min(1) })
const CURSOR_NAME = 'orders'
/** dujiaoka's keys, for the hand-delivery record's warning (carmis rows still unsold). */
const HAND_KEYS = {
  shop: 'dujiaoka',
  noun: 'key',
  idsField: 'carmisIds',
  unsoldSql: `SELECT id FROM carmis WHERE carmi IN (?) AND status = ${CARMI_STATUS.unsold} AND deleted_at IS NULL`,
}

export interface BridgeOptions {
  readonly pool: Pool
  readonly node: NodeIngress
  readonly shopUrl: string
  readonly bridge: BridgeConfig
  readonly health: HealthConfig
  readonly money: MoneyConfig
  readonly buyerLocale: OrderMapping['locale']
  /** Keys derived claim secrets (adapter.json `claimKey`). */
  readonly claimKey: string
  readonly logger: Logger
  readonly now?: () => number
}

export interface PollResult {
  readonly pages: number
  readonly read: number
  readonly escrowed: number
  readonly delivered: number
  readonly cancelled: number
  readonly invalid: number
  /** Shop-delivered orders whose keys were also consigned: each one is a duplicate to reconcile. */
  readonly conflicts: number
}

const StateRow = z.object({ order_sn: z.string(), state: z.string(), paid_at_ms: z.union([z.number(), z.string()]).nullable() })
const CursorRow = z.object({ updated_at: z.string(), last_id: RowId })
const NewestRow = z.object({ latest: z.string().nullable() })
const SkewRow = z.object({ aheadSeconds: z.coerce.number().nullable() })
/** How far ahead of the server's UTC clock the newest updated_at may be before we say so. */
const MAX_AHEAD_SECONDS = 600

/** Takes the one-bridge lock on a connection of its own; refuses if another bridge holds it. */
async function takeBridgeLock(pool: Pool): Promise<{ connection: PoolConnection; name: string }> {
  const connection = await pool.getConnection()
  try {
    const [current] = await selectRows(connection, CurrentDatabase, 'SELECT DATABASE() AS db')
    if (current === undefined) throw new Error('bridge: the connection has no database selected (db.database)')
    const name = bridgeLockName(current.db)
    const [rows] = await connection.query<RowDataPacket[]>('SELECT GET_LOCK(?, 0) AS got', [name])
    if (rows[0]?.got !== 1) throw new Error(`another Standin bridge holds the lock '${name}' of database '${current.db}'; run one bridge per shop`)
    return { connection, name }
  } catch (error) {
    connection.release()
    throw error
  }
}

/** Says so at start when dujiaoka's times run ahead of UTC (its zone and the server's differ). */
async function warnIfTimesRunAhead(pool: Pool, logger: Logger): Promise<void> {
  const [skew] = await selectRows(
    pool,
    SkewRow,
    'SELECT TIMESTAMPDIFF(SECOND, UTC_TIMESTAMP(), MAX(updated_at)) AS aheadSeconds FROM orders WHERE updated_at >= ?',
    [dbTimeText(0)],
  )
  const aheadSeconds = skew?.aheadSeconds ?? 0
  if (aheadSeconds <= MAX_AHEAD_SECONDS) return
  logger.warn(
    { aheadHours: Math.round(aheadSeconds / 360) / 10 },
    "orders.updated_at runs ahead of UTC: dujiaoka writes China time ('PRC') into a server set to another zone. Times sent to the node are capped at now; a server time_zone of +08:00 makes new values right",
  )
}
const CountRow = z.object({ n: z.coerce.number().int().min(0) })

interface Cursor {
  updatedAt: string
  id: string
}

interface Plan {
  escrow: { row: OrderRow; order: AdapterOrder }[]
  delivered: OrderRow[]
  cancelled: { row: OrderRow; reason: string }[]
  /** State changes to write with the cursor. */
  states: Map<string, { state: OrderState; paidAtMs: number | null; note: string | null }>
}

export class DujiaokaBridge {
  private readonly now: () => number
  private readonly health: HealthReporter
  private readonly repeater: Repeater

  private constructor(
    private readonly o: BridgeOptions,
    /** The connection holding the one-bridge lock; null after it was found lost and not taken back. */
    private lock: PoolConnection | null,
    private readonly lockName: string,
  ) {
    this.now = o.now ?? Date.now
    const probe = new HealthProbe({ name: 'dujiaoka', db: o.pool, shopUrl: o.shopUrl, config: o.health })
    this.health = new HealthReporter({ probe, node: o.node, repeatMs: o.health.repeatMs, now: this.now })
    this.repeater = new Repeater(o.logger)
  }

  /** Creates Standin's tables if needed and takes the one-bridge lock (refuses if another bridge holds it). */
  static async open(options: BridgeOptions): Promise<DujiaokaBridge> {
    await checkShopSchema(options.pool)
    await ensureStandinTables(options.pool)
    const lock = await takeBridgeLock(options.pool)
    await warnIfTimesRunAhead(options.pool, options.logger)
    return new DujiaokaBridge(options, lock.connection, lock.name)
  }

  /**
   * The lock lives as long as its connection, and a server drops idle ones (wait_timeout, 8 h by
   * default): a second bridge could then start beside us. Each poll checks it, which also keeps
   * the connection from idling out, and takes it back if it is free; if another bridge has it,
   * the poll fails saying so and nothing is read.
   */
  private async holdLock(): Promise<void> {
    const held = this.lock
    if (held !== null) {
      const mine = await held.query<RowDataPacket[]>('SELECT IS_USED_LOCK(?) = CONNECTION_ID() AS mine', [this.lockName]).then(
        ([rows]) => rows[0]?.mine === 1,
        () => false,
      )
      if (mine) return
      this.lock = null
      held.destroy()
    }
    this.lock = (await takeBridgeLock(this.o.pool)).connection
    this.o.logger.warn({ lock: this.lockName }, 'bridge: the one-bridge lock was lost with its connection (idle timeout or kill); taken again')
  }

  // ---- orders ----

  /** Reads every order changed since the cursor (page by page) and reports what is due. */
  async pollOnce(): Promise<PollResult> {
    const total = { pages: 0, read: 0, escrowed: 0, delivered: 0, cancelled: 0, invalid: 0, conflicts: 0 }
    await this.holdLock()
    const saved = (await this.readCursor()) ?? (await this.startCursor())
    // Start behind the cursor by the overlap; id 0 takes every row of that second.
    let position: Cursor = { updatedAt: dbTimeText(dbTimeMs(saved.updatedAt) - this.o.bridge.overlapSeconds * 1_000), id: '0' }
    const fenced = await readFenced(this.o.pool)
    while (total.pages < MAX_PAGES_PER_POLL && !this.repeater.closed) {
      // Raw rows: each is validated on its own, so one malformed order cannot stop the stream.
      const [raw] = await this.o.pool.query<RowDataPacket[]>(
        `SELECT ${ORDER_COLUMNS} FROM orders WHERE updated_at IS NOT NULL AND (updated_at > ? OR (updated_at = ? AND id > ?)) ORDER BY updated_at, id LIMIT ?`,
        [position.updatedAt, position.updatedAt, position.id, this.o.bridge.batchSize],
      )
      if (raw.length === 0) break
      total.pages++
      total.read += raw.length
      const last = raw[raw.length - 1] as RowDataPacket
      position = { updatedAt: String(last.updated_at), id: String(last.id) }
      // Never move the saved cursor backwards (the overlap re-reads rows behind it).
      const page = await this.handlePage(raw, fenced, compareCursor(position, saved) > 0 ? position : null)
      total.escrowed += page.escrowed
      total.delivered += page.delivered
      total.cancelled += page.cancelled
      total.invalid += page.invalid
      total.conflicts += page.conflicts
      if (raw.length < this.o.bridge.batchSize) break
    }
    return total
  }

  /** Tells the node about one page, then records the new states and `cursor` (if any) in one transaction. */
  private async handlePage(raw: RowDataPacket[], fenced: boolean, cursor: Cursor | null) {
    const known = new Map(
      (
        await selectRows(this.o.pool, StateRow, 'SELECT order_sn, state, paid_at_ms FROM standin_orders WHERE order_sn IN (?)', [
          raw.map((r) => String(r.order_sn)),
        ])
      ).map((s) => [s.order_sn, s]),
    )
    const plan: Plan = { escrow: [], delivered: [], cancelled: [], states: new Map() }
    let invalid = 0
    const rows: OrderRow[] = []
    for (const candidate of raw) {
      const parsed = OrderRow.safeParse(candidate)
      if (parsed.success) {
        rows.push(parsed.data)
        continue
      }
      const orderSn = typeof candidate.order_sn === 'string' && candidate.order_sn !== '' ? candidate.order_sn : null
      if (orderSn === null || known.get(orderSn)?.state === 'invalid') continue
      invalid++
      const reason = formatZodError(parsed.error)
      this.o.logger.error(
        { order: orderSn, id: String(candidate.id), reason },
        'dujiaoka order row is malformed; recorded as invalid in standin_orders and skipped',
      )
      plan.states.set(orderSn, { state: 'invalid', paidAtMs: null, note: reason.slice(0, 500) })
    }
    const conflicts = await detectConflicts({ pool: this.o.pool, logger: this.o.logger, now: this.now }, rows)
    for (const row of rows) {
      const before = known.get(row.order_sn)
      const action: Action = decide(row, before?.state as OrderState | undefined)
      if (action.kind === 'escrow') {
        // paidAt is fixed the first time we see the order paid, so a resubmission is identical.
        const paidAtMs = before?.paid_at_ms === null || before === undefined ? this.seenAt(row.updated_at) : Number(before.paid_at_ms)
        const mapped = toAdapterOrder(row, paidAtMs, { money: this.o.money, locale: this.o.buyerLocale, claimKey: this.o.claimKey })
        if (!mapped.ok) {
          invalid++
          this.o.logger.error({ order: row.order_sn, reason: mapped.reason }, 'paid dujiaoka order cannot be escrowed; recorded as invalid in standin_orders')
          plan.states.set(row.order_sn, { state: 'invalid', paidAtMs, note: mapped.reason.slice(0, 500) })
          continue
        }
        for (const note of mapped.notes) this.o.logger.warn({ order: row.order_sn }, note)
        plan.escrow.push({ row, order: mapped.order })
      } else if (action.kind === 'delivered') {
        if (fenced) {
          this.o.logger.error(
            { order: row.order_sn },
            'dujiaoka delivered an escrowed order while the node had it fenced: a partner may deliver it too; reported as delivered so duplicates are counted',
          )
        }
        plan.delivered.push(row)
      } else if (action.kind === 'cancelled') {
        plan.cancelled.push({ row, reason: action.reason })
      }
    }
    // Orders a person completed: their key texts must never be consigned (../mysql/hand-delivered.ts).
    const byHand = rows.filter(
      (row) => row.deleted_at === null && row.status === ORDER_STATUS.completed && (row.type === MANUAL_TYPE || plan.delivered.includes(row)),
    )
    if (byHand.length > 0)
      await recordHandDeliveries(
        { pool: this.o.pool, logger: this.o.logger, now: this.now },
        HAND_KEYS,
        byHand.map((row) => ({ order: row.order_sn, text: row.info })),
      )
    // (1) Record intent before anyone outside learns of the orders.
    const fresh = plan.escrow.filter(({ row }) => known.get(row.order_sn) === undefined)
    if (fresh.length > 0) {
      const at = this.now()
      await this.o.pool.query('INSERT IGNORE INTO standin_orders (order_sn, state, paid_at_ms, note, changed_ms) VALUES ?', [
        fresh.map(({ order }) => [order.order, 'submitting', order.paidAt, null, at]),
      ])
    }
    // (2) Tell the node.
    const escrowed = await this.submit(plan)
    if (plan.delivered.length > 0) {
      await this.o.node.markDelivered(plan.delivered.map((row) => ({ order: row.order_sn, time: this.seenAt(row.updated_at) })))
      for (const row of plan.delivered) plan.states.set(row.order_sn, { state: 'delivered', paidAtMs: null, note: null })
    }
    if (plan.cancelled.length > 0) {
      await this.o.node.markCancelled(plan.cancelled.map(({ row, reason }) => ({ order: row.order_sn, reason })))
      for (const { row, reason } of plan.cancelled) plan.states.set(row.order_sn, { state: 'cancelled', paidAtMs: null, note: reason })
    }
    // (3) States and cursor together, only after the node has taken everything in the page.
    if (plan.states.size > 0 || cursor !== null) await this.commitPage(plan.states, cursor)
    return { escrowed, delivered: plan.delivered.length, cancelled: plan.cancelled.length, invalid, conflicts }
  }

  /** Submits the page's orders; a 409 (an order changed since it was escrowed) is isolated order by order. */
  private async submit(plan: Plan): Promise<number> {
    if (plan.escrow.length === 0) return 0
    const send = async (items: Plan['escrow']): Promise<void> => {
      try {
        await this.o.node.submitOrders(items.map((i) => i.order))
        for (const { order } of items) plan.states.set(order.order, { state: 'escrowed', paidAtMs: order.paidAt, note: null })
      } catch (error) {
        if (!isConflict(error)) throw error
        const body = (error as AdapterRequestError).body
        if (items.length > 1) {
          for (const item of items) await send([item])
          return
        }
        const [{ order }] = items as [Plan['escrow'][number]]
        this.o.logger.error(
          { order: order.order, err: body.slice(0, 300) },
          'the node holds this order with other content (changed in dujiaoka after escrow); recorded as conflict',
        )
        plan.states.set(order.order, { state: 'conflict', paidAtMs: order.paidAt, note: body.slice(0, 500) })
      }
    }
    await send(plan.escrow)
    return plan.escrow.filter(({ order }) => plan.states.get(order.order)?.state === 'escrowed').length
  }

  private async commitPage(states: Plan['states'], cursor: Cursor | null): Promise<void> {
    const at = this.now()
    await inTransaction(this.o.pool, async (connection) => {
      if (states.size > 0) {
        await connection.query(
          `INSERT INTO standin_orders (order_sn, state, paid_at_ms, note, changed_ms) VALUES ?
           ON DUPLICATE KEY UPDATE state = VALUES(state), paid_at_ms = COALESCE(paid_at_ms, VALUES(paid_at_ms)), note = VALUES(note), changed_ms = VALUES(changed_ms)`,
          [[...states].map(([order, s]) => [order, s.state, s.paidAtMs, s.note, at])],
        )
      }
      if (cursor !== null) {
        await connection.query(
          `INSERT INTO standin_cursor (name, updated_at, last_id, moved_ms) VALUES (?, ?, ?, ?)
           ON DUPLICATE KEY UPDATE updated_at = VALUES(updated_at), last_id = VALUES(last_id), moved_ms = VALUES(moved_ms)`,
          [CURSOR_NAME, cursor.updatedAt, cursor.id, at],
        )
      }
    })
  }

  /**
   * An order's updated_at as an instant, but never later than now. dujiaoka writes China
   * wall-clock text (Laravel 'PRC') that the server reads in its own zone; on a UTC server every
   * value runs 8 h ahead, and a paidAt that far ahead would hold partners' takeover back by as much.
   */
  private seenAt(updatedAt: string): number {
    return Math.min(dbTimeMs(updatedAt), this.now())
  }

  /** The first poll's cursor (see BridgeConfig.firstStartLookbackSeconds), saved at once so it is decided once. */
  private async startCursor(): Promise<Cursor> {
    const [newest] = await selectRows(this.o.pool, NewestRow, 'SELECT MAX(updated_at) AS latest FROM orders WHERE updated_at >= ?', [dbTimeText(0)])
    // Relative to dujiaoka's own newest value, so a server clock or zone off from ours does not matter.
    const latestMs = newest?.latest == null ? 0 : dbTimeMs(newest.latest)
    const start: Cursor = { updatedAt: dbTimeText(latestMs - this.o.bridge.firstStartLookbackSeconds * 1_000), id: '0' }
    const [older] = await selectRows(
      this.o.pool,
      CountRow,
      'SELECT COUNT(*) AS n FROM orders WHERE status IN (?) AND deleted_at IS NULL AND updated_at IS NOT NULL AND updated_at < ?',
      [[...PAID_WAITING], start.updatedAt],
    )
    if ((older?.n ?? 0) > 0) {
      this.o.logger.warn(
        { waiting: older?.n, before: start.updatedAt, lookbackSeconds: this.o.bridge.firstStartLookbackSeconds },
        'first start: paid orders still waiting from before the lookback are not escrowed; deliver or refund them in dujiaoka (or raise bridge.firstStartLookbackSeconds before the first start)',
      )
    }
    await this.o.pool.query('INSERT IGNORE INTO standin_cursor (name, updated_at, last_id, moved_ms) VALUES (?, ?, ?, ?)', [
      CURSOR_NAME,
      start.updatedAt,
      start.id,
      this.now(),
    ])
    this.o.logger.info({ from: start.updatedAt }, 'first start: reading orders changed since')
    return (await this.readCursor()) ?? start
  }

  private async readCursor(): Promise<Cursor | null> {
    const [row] = await selectRows(this.o.pool, CursorRow, 'SELECT updated_at, last_id FROM standin_cursor WHERE name = ?', [CURSOR_NAME])
    return row === undefined ? null : { updatedAt: row.updated_at, id: row.last_id }
  }

  // ---- health ----

  /** Probes the shop and reports to the node when the reading changed or `repeatMs` passed. */
  checkHealth(): Promise<HealthReading & { reported: boolean }> {
    return this.health.check()
  }

  // ---- running ----

  /** Polls and probes on their intervals until close(); failures are logged and retried next time. */
  run(): void {
    this.repeater.every('health check', this.o.health.intervalMs, () => this.checkHealth())
    this.repeater.every('order poll', this.o.bridge.pollIntervalMs, () => this.pollOnce())
  }

  async close(): Promise<void> {
    if (this.repeater.closed) return
    await this.repeater.close()
    if (this.lock === null) return
    await this.lock.query('SELECT RELEASE_LOCK(?)', [this.lockName]).catch(() => undefined)
    this.lock.release()
    this.lock = null
  }
}

/** The node's 409 `conflict` (an order id it holds with other content), not a 409 `replayed`. */
function isConflict(error: unknown): boolean {
  if (!(error instanceof AdapterRequestError) || error.status !== 409) return false
  try {
    return (JSON.parse(error.body) as { error?: unknown }).error === 'conflict'
  } catch {
    return false
  }
}

function compareCursor(a: Cursor, b: Cursor): number {
  if (a.updatedAt !== b.updatedAt) return a.updatedAt < b.updatedAt ? -1 : 1
  return BigInt(a.id) < BigInt(b.id) ? -1 : BigInt(a.id) > BigInt(b.id) ? 1 : 0
}
