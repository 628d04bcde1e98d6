// How a polling bridge reports what it read to the node, the same for every database adapter whose
// bridge decides order by order (acg-faka, Dujiao-Next). Per batch of rows:
//   (1) the intent, recorded before the node learns of an order (state `submitting`), so a crash
//       between the two re-sends instead of forgetting;
//   (2) the node told (escrow, then the tombstones);
//   (3) what the node took, recorded (`escrowed`, `delivered`, `cancelled`; `invalid` for an order
//       that cannot be escrowed, with the reason).
// Orders already told are read again by number every poll (`recheckTold`): nothing else would say
// that a person served, deleted or purged them. The SQL is each adapter's (`ReportStore`).
import type { AdapterOrder } from '../../protocol/index.js'
import type { Logger, NodeIngress } from '../contract.js'

/** What to tell the node about one order. */
export type Action =
  { readonly kind: 'escrow' } | { readonly kind: 'delivered' } | { readonly kind: 'cancelled'; readonly reason: string } | { readonly kind: 'none' }

/** An order row mapped to its escrow record, or why it cannot be. */
export type Mapped = { readonly ok: true; readonly order: AdapterOrder; readonly notes: string[] } | { readonly ok: false; readonly reason: string }

export type ReportedState = 'submitting' | 'escrowed' | 'delivered' | 'cancelled' | 'invalid'

export interface PollResult {
  escrowed: number
  delivered: number
  cancelled: number
  invalid: number
}

export const emptyPoll = (): PollResult => ({ escrowed: 0, delivered: 0, cancelled: 0, invalid: 0 })

export function addPoll(total: PollResult, r: PollResult): void {
  total.escrowed += r.escrowed
  total.delivered += r.delivered
  total.cancelled += r.cancelled
  total.invalid += r.invalid
}

/** The adapter's side: its rows, its decisions, its SQL. `K` is what it remembers of a told order. */
export interface ReportStore<Row, K> {
  orderNo(row: Row): string
  /** What was recorded of these orders (absent: never told). */
  known(orderNos: readonly string[]): Promise<Map<string, K>>
  decide(row: Row, known: K | undefined): Action
  /** The escrow record, read at `nowMs`. */
  map(row: Row, nowMs: number): Mapped
  /** (1) `submitting` for orders never recorded, with what the adapter keeps beside (ignoring ones already there). */
  recordIntent(fresh: readonly { readonly row: Row; readonly order: AdapterOrder }[]): Promise<void>
  setStates(states: readonly { readonly order: string; readonly state: ReportedState; readonly note: string | null }[]): Promise<void>
  /** A page of orders recorded as `submitting` or `escrowed`, after `after` in order-number order. */
  toldPage(after: string, limit: number): Promise<string[]>
  rowsByNumber(orderNos: readonly string[]): Promise<Row[]>
  /** Orders about to be reported delivered: record the texts a person pasted (hand-delivered.ts). */
  recordHandDeliveries(rows: readonly Row[]): Promise<void>
}

export interface ReportOptions {
  /** The shop software's name, in messages. */
  readonly shop: string
  readonly node: NodeIngress
  readonly logger: Logger
  readonly now: () => number
  readonly batchSize: number
}

/** Decides every row and tells the node, in the order (1) intent, (2) node, (3) record. */
export async function reportRows<Row, K>(o: ReportOptions, store: ReportStore<Row, K>, rows: readonly Row[], fenced: boolean): Promise<PollResult> {
  if (rows.length === 0) return emptyPoll()
  const known = await store.known(rows.map((r) => store.orderNo(r)))
  const escrow: { row: Row; order: AdapterOrder }[] = []
  const delivered: Row[] = []
  const cancelled: { row: Row; reason: string }[] = []
  let invalid = 0
  for (const row of rows) {
    const no = store.orderNo(row)
    const action = store.decide(row, known.get(no))
    if (action.kind === 'escrow') {
      const mapped = store.map(row, o.now())
      if (!mapped.ok) {
        invalid++
        o.logger.error({ order: no, reason: mapped.reason }, `paid ${o.shop} order cannot be escrowed; recorded as invalid in standin_orders`)
        await store.setStates([{ order: no, state: 'invalid', note: mapped.reason }])
        continue
      }
      for (const note of mapped.notes) o.logger.warn({ order: no }, note)
      escrow.push({ row, order: mapped.order })
    } else if (action.kind === 'delivered') {
      if (fenced)
        o.logger.error(
          { order: no },
          `${o.shop} delivered an escrowed order while the node had it fenced: a partner may deliver it too; reported as delivered so duplicates are counted`,
        )
      delivered.push(row)
    } else if (action.kind === 'cancelled') cancelled.push({ row, reason: action.reason })
  }
  const fresh = escrow.filter(({ row }) => !known.has(store.orderNo(row)))
  if (fresh.length > 0) await store.recordIntent(fresh)
  if (escrow.length > 0) {
    await o.node.submitOrders(escrow.map((e) => e.order))
    await store.setStates(escrow.map(({ row }) => ({ order: store.orderNo(row), state: 'escrowed', note: null })))
  }
  if (delivered.length > 0) {
    await store.recordHandDeliveries(delivered)
    await o.node.markDelivered(delivered.map((row) => ({ order: store.orderNo(row), time: o.now() })))
    await store.setStates(delivered.map((row) => ({ order: store.orderNo(row), state: 'delivered', note: null })))
  }
  if (cancelled.length > 0) {
    await o.node.markCancelled(cancelled.map(({ row, reason }) => ({ order: store.orderNo(row), reason })))
    await store.setStates(cancelled.map(({ row, reason }) => ({ order: store.orderNo(row), state: 'cancelled', note: reason })))
  }
  return { escrowed: escrow.length, delivered: delivered.length, cancelled: cancelled.length, invalid }
}

/** Orders told to the node (escrowed or being submitted), read again by number; one gone from the shop is cancelled. */
export async function recheckTold<Row, K>(o: ReportOptions, store: ReportStore<Row, K>, fenced: boolean): Promise<PollResult> {
  const total = emptyPoll()
  const gone = `order removed from ${o.shop}`
  let after = ''
  for (;;) {
    const told = await store.toldPage(after, o.batchSize)
    if (told.length === 0) break
    after = told.at(-1) as string
    const rows = await store.rowsByNumber(told)
    const present = new Set(rows.map((r) => store.orderNo(r)))
    const missing = told.filter((no) => !present.has(no))
    if (missing.length > 0) {
      await o.node.markCancelled(missing.map((order) => ({ order, reason: gone })))
      await store.setStates(missing.map((order) => ({ order, state: 'cancelled', note: gone })))
      total.cancelled += missing.length
    }
    addPoll(total, await reportRows(o, store, rows, fenced))
    if (told.length < o.batchSize) break
  }
  return total
}
