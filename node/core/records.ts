// Dispatches the verified records of a feed we hold to the modules that own them, building the
// ops for the one synced batch that stores the entries. Order records go in runs so a batch of
// 1,000 escrowed orders costs one pass.
import { type FeedEntry, type FeedRecord, hashOf, type Receipt, type ShopId } from '../../protocol/index.js'
import type { Allotments } from './allotments.js'
import { type Books, ConflictingReceiptError } from './books.js'
import { type Settlement, stage } from './settlement.js'
import type { ApplyBatch } from './apply.js'
import type { Escrow, OrderRow } from './escrow.js'
import type { EventSink } from './events.js'
import type { Failover } from './failover.js'
import { type Fulfilment, receiptKey, type ReceiptRow } from './fulfilment.js'
import { orderKey } from './keys.js'
import type { ReceiptGuard } from './receipt-guard.js'
import type { Clock, Logger, Store, StoreOp } from './ports.js'

const ORDER_RECORDS = new Set(['order.escrowed', 'order.delivered', 'order.cancelled'])

export interface RecordDeps {
  readonly books: Books
  readonly receiptGuard: ReceiptGuard
  readonly settlement: Settlement
  readonly me: ShopId
  readonly store: Store
  readonly clock: Clock
  readonly logger: Logger
  readonly emit: EventSink
  readonly escrow: Escrow
  readonly allotments: Allotments
  readonly failover: Failover
  readonly fulfilment: Fulfilment
  readonly onHandback: (origin: ShopId, epoch: number) => void
}

export function recordApplier(deps: RecordDeps) {
  return async (author: ShopId, entry: FeedEntry, records: readonly FeedRecord[], batch: ApplyBatch): Promise<StoreOp[]> => {
    const ops: StoreOp[] = []
    let run: FeedRecord[] = []
    const flushRun = async () => {
      if (run.length > 0) ops.push(...(await deps.escrow.applyRecords(author, entry.body.seq, run, batch.rows)))
      // Orders escrowed while we deliver for their origin are stranded too: plan them once stored.
      const escrowed = deps.fulfilment.isActive(author) ? run.flatMap((r) => (r.type === 'order.escrowed' ? [r.order] : [])) : []
      if (escrowed.length > 0) {
        batch.afterCommit.push(() => void deps.fulfilment.planEscrowed(author, escrowed).catch((error: unknown) => deps.logger.error({ origin: author, err: String(error) }, 'could not plan orders escrowed during a takeover')))
      }
      run = []
    }
    for (const record of records) {
      if (ORDER_RECORDS.has(record.type)) {
        run.push(record)
        continue
      }
      await flushRun()
      switch (record.type) {
        case 'allotment.consigned':
          ops.push(...(await deps.allotments.applyConsigned(author, record)))
          break
        case 'allotment.recall':
          deps.allotments.applyRecall(author, record.allotment, record.holder, batch)
          break
        case 'allotment.released':
          ops.push(...(await deps.allotments.applyReleased(author, record.origin, record.keyIds, batch)))
          break
        case 'takeover.request':
          batch.afterCommit.push(() => deps.failover.onAuthority(author, { kind: 'request', request: record.request }))
          break
        case 'handback':
          batch.afterCommit.push(() => deps.onHandback(author, record.epoch))
          break
        case 'claim':
          if (record.claim.body.claimant === author) deps.fulfilment.noteClaim(record.claim.body)
          break
        case 'receipt':
          ops.push(...(await applyReceipt(deps, author, record, batch)))
          break
        case 'statement':
          ops.push(...stage(await deps.settlement.onStatement(author, record.statement, batch.ledger), batch.ledger))
          break
        case 'dispute':
          ops.push(...stage(await deps.settlement.onDispute(author, record.statement, record.lines, batch.ledger), batch.ledger))
          break
        case 'statement.accepted':
          ops.push(...stage(await deps.settlement.onAccepted(author, record.statement, batch.ledger), batch.ledger))
          break
        case 'payment.recorded':
          ops.push(...stage(await deps.settlement.onPaymentRecorded(author, record.statement, record.amount, record.reference, batch.ledger), batch.ledger))
          break
        case 'payment.confirmed':
          ops.push(...stage(await deps.settlement.onPaymentConfirmed(author, record.statement, batch.ledger), batch.ledger))
          break
        default:
          break
      }
    }
    await flushRun()
    return ops
  }
}

async function applyReceipt(deps: RecordDeps, fulfiller: ShopId, receipt: Receipt, batch: ApplyBatch): Promise<StoreOp[]> {
  const { me } = deps
  const origin = receipt.origin
  if (origin === fulfiller) return []
  if (origin !== me) {
    const watch = deps.failover.watches.get(origin)
    if (watch && receipt.epoch < watch.view.epoch) {
      // An earlier epoch's receipt grants nothing now, but it is a fact: its keys went out. A
      // partner that was down during that epoch learns it only now and must record the order as
      // delivered, or a later takeover would deliver it again with other keys.
      deps.logger.info({ fulfiller, origin, order: receipt.order, epoch: receipt.epoch, current: watch.view.epoch }, 'receipt of an earlier epoch: recorded as delivered')
    }
  }
  let dispute: string | null = null
  if (origin === me) {
    const verdict = await deps.receiptGuard.judge(fulfiller, receipt, batch)
    if (verdict.kind === 'forged') {
      deps.logger.error({ fulfiller, order: receipt.order, reason: verdict.reason }, 'forged receipt refused: nothing stored, booked or written back')
      return []
    }
    if (verdict.kind === 'over-limit') {
      deps.logger.warn({ fulfiller, order: receipt.order, epoch: receipt.epoch, reason: verdict.reason }, 'receipt beyond the terms limits: applied, its fee booked disputed')
      dispute = 'outside-terms-limits'
    }
  }
  const hash = hashOf(receipt)
  const ops: StoreOp[] = [
    { type: 'put', section: 'receipts', key: receiptKey(origin, receipt.order, fulfiller), value: { receipt, hash, fulfiller, ackedAt: null } satisfies ReceiptRow },
    ...(await deps.allotments.applyDelivered(origin, fulfiller, receipt.sku, receipt.keyIds)),
  ]
  try {
    ops.push(...stage(await deps.books.bookReceipt(receipt, fulfiller, batch.booked, hash, dispute), batch.ledger))
  } catch (error) {
    if (!(error instanceof ConflictingReceiptError)) throw error
    deps.logger.error({ fulfiller, origin, order: receipt.order, reason: error.message }, 'conflicting receipt: not booked, kept for a dispute')
  }
  const key = orderKey(origin, receipt.order)
  if (!batch.rows.has(key)) batch.rows.set(key, (await deps.store.get<OrderRow>('orders', key)) ?? null)
  const row = batch.rows.get(key)
  if (row) {
    const ownDelivery = row.state === 'delivered' && row.fulfiller === undefined && origin === me
    const otherFulfiller = (row.state === 'reserved' || row.state === 'delivered') && row.fulfiller !== undefined && row.fulfiller !== fulfiller
    if (ownDelivery || otherFulfiller || row.originDelivered) {
      const fulfillers = [fulfiller, row.fulfiller ?? me].sort()
      batch.afterCommit.push(() => {
        deps.logger.warn({ origin, order: receipt.order, fulfillers }, 'duplicate delivery detected')
        deps.emit(deps.clock.now(), { kind: 'duplicate', origin, order: receipt.order, fulfillers })
      })
    } else if (row.state === 'escrowed' || row.state === 'claimed') {
      const next: OrderRow = { ...row, state: 'delivered', fulfiller, keyIds: receipt.keyIds, epoch: receipt.epoch, deliveredAt: receipt.time }
      batch.rows.set(key, next)
      ops.push({ type: 'put', section: 'orders', key, value: next })
      const counts = deps.escrow.countsOf(origin)
      counts.pending--
      counts.delivered++
      ops.push(deps.escrow.countsOp(origin))
    }
  }
  batch.afterCommit.push(() => deps.emit(receipt.time, { kind: 'delivered', origin, order: receipt.order, fulfiller, keyIds: [...receipt.keyIds], epoch: receipt.epoch, paidAt: row?.record.paidAt }))
  return ops
}
