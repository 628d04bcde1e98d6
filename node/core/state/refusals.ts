// Evidence of what a partner sent and we refused (a receipt without authority, a claim by a
// partner holding no keys, …), for the operator: the signed entry or message it came in is the
// proof; this is the index that says what was wrong with it. Bounded per partner: the first
// MAX_REFUSALS_KEPT_PER_PEER are kept (the start of an attack is what matters), the rest counted.
import { z } from 'zod'
import { Epoch, Id, Seq, type ShopId, ShopId as ShopIdSchema, Text, TimeMs } from '../../../protocol/index.js'
import type { Store } from '../ports.js'
import { prefixRange } from './codec.js'
import { parseRow } from './rows.js'
import type { Tx } from './tx.js'
import { MAX_REFUSALS_KEPT_PER_PEER } from '../limits.js'

export const RefusalKind = z.enum(['receipt', 'claim', 'release', 'statement', 'certificate', 'request', 'vote'])
export type RefusalKind = z.infer<typeof RefusalKind>

export const RefusalRow = z.object({
  from: ShopIdSchema,
  kind: RefusalKind,
  origin: ShopIdSchema.nullable(),
  order: Id.nullable(),
  epoch: Epoch.nullable(),
  /** Seq of the sender's feed entry that carried it (null: a control message). */
  seq: Seq.nullable(),
  reason: Text,
  at: TimeMs,
})
export type RefusalRow = z.infer<typeof RefusalRow>

const rowKey = (from: ShopId, n: number) => `${from}!${String(n).padStart(8, '0')}`
const counterKey = (from: ShopId) => `count!${from}`

export class Refusals {
  /** Refusals counted per partner (kept or not). */
  private readonly counts = new Map<ShopId, number>()

  constructor(private readonly store: Store) {}

  async load(): Promise<void> {
    for await (const [key, value] of this.store.range('refusals', { gt: 'count!', lt: 'count!\xff' }))
      this.counts.set(key.slice('count!'.length), Number(value))
  }

  count(from: ShopId): number {
    return this.counts.get(from) ?? 0
  }

  /** Records a refusal with the unit that refused it (it commits with whatever else that unit does). */
  add(tx: Tx, row: RefusalRow): void {
    const staged = tx.seen('refusals', counterKey(row.from))
    const n = staged === undefined || staged === null ? this.count(row.from) : Number(staged)
    tx.put('refusals', counterKey(row.from), n + 1)
    if (n < MAX_REFUSALS_KEPT_PER_PEER) tx.put('refusals', rowKey(row.from, n), row)
    tx.afterCommit(() => this.counts.set(row.from, Math.max(this.count(row.from), n + 1)))
  }

  /** What was kept, per partner in the order refused. */
  async list(limit = MAX_REFUSALS_KEPT_PER_PEER): Promise<RefusalRow[]> {
    const out: RefusalRow[] = []
    for (const from of this.counts.keys()) {
      for await (const [key, value] of this.store.range('refusals', { ...prefixRange(from), limit })) out.push(parseRow(RefusalRow, 'refusals', key, value))
    }
    return out.sort((a, b) => a.at - b.at).slice(0, limit)
  }
}
