// Our own records, taken back from a partner after a restore (own-feed-rejoin.ts, D92), applied to
// our own rows within the unit that stores their entry. What each record did here when we wrote
// it is done again where its effect is a fact the record carries:
//   order.escrowed / .delivered / .cancelled   our orders (escrow.ts, grant own-record)
//   receipt        as a fulfiller: the keys it names are delivered, the order too, the fee booked
//   allotment.released  as a holder: the keys it names went back to their origin
//   handback       our epoch is at least the one it ended
//   claim          nothing: a claim only held orders for its time to live, long over or renewed
//   partner.revoked  our revocation of that partner stands again (revocations.ts)
// so a restored holder never hands out a key it delivered or released after the backup. A receipt
// or release naming keys we do not hold yet is deferred: their consignment comes back with the
// partner's feed, after ours (own-feed-rejoin.ts), and the record is applied again then. Every
// other type, and what still does not apply on that last pass, is returned as skipped: the
// operator sees them counted in `standin status` (README "Backup and restore").
import { type FeedRecord, hashOf, type Receipt, type ShopId } from '../../protocol/index.js'
import type { Escrow } from './escrow.js'
import { ORDER_RECORDS } from './records.js'
import type { State } from './state/index.js'
import type { KeyRow } from './state/keys.js'
import type { Tx } from './state/tx.js'

/**
 * Applies the records of our entry `seq` with `tx`. Resolves with the records to try again once
 * partners' feeds are caught up (none when `last`), and the types of those it will never apply.
 */
export type OwnRecordApplier = (
  seq: number,
  records: readonly FeedRecord[],
  tx: Tx,
  last: boolean,
) => Promise<{ readonly deferred: FeedRecord[]; readonly skipped: string[] }>

export interface OwnRecordDeps {
  readonly me: ShopId
  readonly state: State
  readonly escrow: Escrow
  /** Failover.handbackTakenBack: false when the epoch is not ours to raise now. */
  readonly handback: (tx: Tx, epoch: number) => boolean
  /** Revocations.applyRecord for our own record, taken back at entry `seq`. */
  readonly revoked: (tx: Tx, partner: ShopId, reason: string, seq: number) => void
}

export function ownRecordApplier({ me, state, escrow, handback, revoked }: OwnRecordDeps): OwnRecordApplier {
  /** Our free key rows for these ids of `origin`, or null when any is not a free key of ours. */
  const freeRows = async (origin: ShopId, keyIds: readonly string[], tx: Tx): Promise<KeyRow[] | null> => {
    const rows = await state.keys.getMany(origin, keyIds, tx)
    return rows.every((r) => r !== undefined && r.holder === me && r.state === 'consigned') ? (rows as KeyRow[]) : null
  }

  const receipt = async (r: Receipt, seq: number, tx: Tx): Promise<boolean> => {
    const rows = await freeRows(r.origin, r.keyIds, tx)
    if (rows === null) return false
    state.keys.retaken(tx, rows, { kind: 'delivered', order: r.order, epoch: r.epoch })
    state.keys.count(tx, r.origin, r.sku, me, 'delivered', r.keyIds.length)
    const order = await state.orders.get(r.origin, r.order, tx)
    if (order) state.orders.ownReceipt(tx, order, { keyIds: r.keyIds, epoch: r.epoch, at: r.time }, { by: 'own-receipt', seq })
    const hash = hashOf(r)
    await state.books.bookReceipts(tx, [r], me, [hash])
    state.receipts.record(tx, { receipt: r, hash, fulfiller: me, ackedAt: null })
    return true
  }

  const released = async (origin: ShopId, keyIds: readonly string[], tx: Tx): Promise<boolean> => {
    const rows = await freeRows(origin, keyIds, tx)
    if (rows === null) return false
    state.keys.retaken(tx, rows, { kind: 'returned' })
    for (const row of rows) state.keys.count(tx, origin, row.sku, me, 'returned', 1)
    return true
  }

  return async (seq, records, tx, last) => {
    const orders = records.filter((r) => ORDER_RECORDS.has(r.type))
    if (orders.length > 0) await escrow.applyRecords(tx, me, seq, orders)
    const deferred: FeedRecord[] = []
    const skipped: string[] = []
    for (const record of records) {
      if (ORDER_RECORDS.has(record.type) || record.type === 'claim') continue
      if (record.type === 'receipt' || record.type === 'allotment.released') {
        const applied = record.type === 'receipt' ? await receipt(record, seq, tx) : await released(record.origin, record.keyIds, tx)
        // Its keys are not here (yet): try again once partners' feeds are back, or give up.
        if (!applied && last) skipped.push(record.type)
        else if (!applied) deferred.push(record)
        continue
      }
      if (record.type === 'partner.revoked') {
        revoked(tx, record.partner, record.reason, seq)
        continue
      }
      if (record.type !== 'handback' || !handback(tx, record.epoch)) skipped.push(record.type)
    }
    return { deferred, skipped }
  }
}
