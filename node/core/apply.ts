// Applying verified records from a feed we hold. Every module that reacts to records adds its
// store ops to the one synced batch that stores the entries; effects that talk to the outside
// (adapter calls, mails, control messages) run only after that batch is durable.
import type { FeedEntry, FeedRecord, ShopId } from '../../protocol/index.js'
import type { OrderRow } from './escrow.js'
import type { StoreOp } from './ports.js'

export interface ApplyBatch {
  /** Order rows read or written in this batch, keyed origin!order (null: known to be absent). */
  readonly rows: Map<string, OrderRow | null>
  /** Run in order once the batch is durable. */
  readonly afterCommit: (() => void)[]
  /** Receipt identities booked in this batch (idempotency before the batch is stored). */
  readonly booked: Map<string, string>
  /** Ledger values written earlier in this batch: later records must see them. */
  readonly ledger: Map<string, unknown>
}

export type RecordApplier = (author: ShopId, entry: FeedEntry, records: readonly FeedRecord[], batch: ApplyBatch) => Promise<StoreOp[]>

export function newBatch(): ApplyBatch {
  return { rows: new Map(), afterCommit: [], booked: new Map(), ledger: new Map() }
}
