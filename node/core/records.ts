// Dispatches the verified records of a feed we hold to the modules that own them, all within the
// one unit (Tx) that stores the entries. Order records go in runs so a batch of 1,000 escrowed
// orders costs one pass. Effects that talk to the outside (adapter calls, mails, control
// messages) run only after that unit is durable.
import type { FeedEntry, FeedRecord, ShopId } from '../../protocol/index.js'
import type { Allotments } from './allotments.js'
import type { Escrow } from './escrow.js'
import type { Failover } from './failover.js'
import type { Fulfilment } from './fulfilment.js'
import type { Logger } from './ports.js'
import type { PartnerReceipts } from './partner-receipts.js'
import type { Revocations } from './revocations.js'
import type { Settlement } from './settlement.js'
import type { State } from './state/index.js'
import type { Tx } from './state/tx.js'

export const ORDER_RECORDS: ReadonlySet<string> = new Set(['order.escrowed', 'order.delivered', 'order.cancelled'])

export interface RecordDeps {
  readonly state: State
  readonly settlement: Settlement
  readonly logger: Logger
  readonly escrow: Escrow
  readonly allotments: Allotments
  readonly failover: Failover
  readonly fulfilment: Fulfilment
  readonly receipts: PartnerReceipts
  readonly revocations: Revocations
  readonly onHandback: (origin: ShopId, epoch: number) => void
}

export type RecordApplier = (author: ShopId, entry: FeedEntry, records: readonly FeedRecord[], tx: Tx) => Promise<void>

export function recordApplier(deps: RecordDeps): RecordApplier {
  return async (author, entry, records, tx) => {
    const seq = entry.body.seq
    const receipts = records.flatMap((r) => (r.type === 'receipt' ? [r] : []))
    if (receipts.length > 1) await deps.receipts.prefetch(tx, author, receipts)
    let run: FeedRecord[] = []
    const flushRun = async () => {
      if (run.length > 0) await deps.escrow.applyRecords(tx, author, seq, run)
      // Orders escrowed while we deliver for their origin are stranded too: plan them once stored.
      // Whether a takeover runs is decided after the commit, not now: one may start in between.
      const escrowed = run.flatMap((r) => (r.type === 'order.escrowed' ? [r.order] : []))
      if (escrowed.length > 0)
        tx.afterCommit(() => {
          deps.receipts.ordersKnown(author, escrowed)
          deps.fulfilment.planEscrowedLater(author, escrowed)
        })
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
          await deps.allotments.applyConsigned(tx, author, record)
          break
        case 'allotment.recall':
          deps.allotments.applyRecall(tx, author, record.allotment, record.holder)
          break
        case 'allotment.released':
          await deps.allotments.applyReleased(tx, author, record.origin, record.allotment, record.keyIds)
          break
        case 'allotment.billed':
          await deps.allotments.applyBilled(tx, author, record, seq)
          break
        case 'takeover.request':
          deps.failover.requestInFeed(tx, author, record.request)
          break
        case 'handback':
          deps.state.authorities.ended(tx, author, record.epoch, record.time)
          await deps.receipts.acked(tx, author, record.receipts, record.time)
          tx.afterCommit(() => deps.onHandback(author, record.epoch))
          break
        case 'receipt.ack':
          await deps.receipts.acked(tx, author, record.receipts, entry.body.time)
          break
        case 'claim':
          deps.fulfilment.claimInFeed(tx, author, record.claim, seq)
          break
        case 'receipt':
          await deps.receipts.fromFeed(tx, author, record, seq)
          break
        case 'statement':
          await deps.settlement.onStatement(tx, author, record.statement)
          break
        case 'dispute':
          await deps.settlement.onDispute(tx, author, record.statement, record.lines)
          break
        case 'statement.accepted':
          await deps.settlement.onAccepted(tx, author, record.statement)
          break
        case 'payment.recorded':
          await deps.settlement.onPaymentRecorded(tx, author, record.statement, record.amount, record.reference)
          break
        case 'partner.revoked':
          deps.revocations.applyRecord(tx, author, record, entry.body)
          break
        case 'payment.confirmed':
          await deps.settlement.onPaymentConfirmed(tx, author, record.statement)
          break
        default:
          break
      }
    }
    await flushRun()
  }
}
