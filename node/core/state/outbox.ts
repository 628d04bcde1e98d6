// Buyer mails waiting to be sent: the one module that reads and writes `outbox` rows
// (origin!order). A mail is queued in the same synced unit that reserves the order's keys, so a
// crash can delay it but never lose it; it is deleted once the relay took it (at least once).
import { z } from 'zod'
import { assert, Id, Locale, ShopId as ShopIdSchema, TimeMs, WellFormedString } from '../../../protocol/index.js'
import { MAILS_IN_FLIGHT } from '../limits.js'
import type { Store } from '../ports.js'
import { orderKey } from './codec.js'
import { parseRow } from './rows.js'
import type { Tx } from './tx.js'

export const OutboxItem = z.object({
  origin: ShopIdSchema,
  order: Id,
  to: z.string().max(254),
  locale: Locale,
  keys: z.array(WellFormedString),
  attempts: z.number().int().nonnegative(),
  nextAt: TimeMs,
})
export type OutboxItem = z.infer<typeof OutboxItem>

export class OutboxRows {
  /** Keys of sent mails waiting for the next delete, and the promise that write settles. */
  private sentBatch: { keys: string[]; written: Promise<void> } | null = null
  /** The delete being written now; the next batch starts after it. */
  private writing: Promise<void> = Promise.resolve()

  constructor(private readonly store: Store) {}

  queue(tx: Tx, item: OutboxItem): void {
    tx.put('outbox', orderKey(item.origin, item.order), item)
  }

  /** Mails due at `now` that have attempts left, up to `limit`. */
  async due(now: number, maxAttempts: number, limit: number): Promise<[string, OutboxItem][]> {
    const out: [string, OutboxItem][] = []
    for await (const [key, value] of this.store.range('outbox', {})) {
      const item = parseRow(OutboxItem, 'outbox', key, value)
      if (item.nextAt <= now && item.attempts < maxAttempts) out.push([key, item])
      if (out.length >= limit) break
    }
    return out
  }

  /**
   * The relay took it: deleted once the write that carries it is done. Mails sent while one delete
   * is being written share the next one (a write per mail cost a sending partner 5 % of its CPU,
   * issue 22). Unsynced: losing this write only means the buyer may get the same mail twice.
   */
  sent(key: string): Promise<void> {
    if (this.sentBatch === null) {
      const keys: string[] = []
      const written = this.writing.then(() => {
        this.sentBatch = null // mails sent from here on go in the next write
        return this.store.write(
          keys.map((k) => ({ type: 'del' as const, section: 'outbox' as const, key: k })),
          { sync: false },
        )
      })
      this.sentBatch = { keys, written }
      this.writing = written.catch(() => undefined) // a failed write fails its own callers only
    }
    assert(this.sentBatch.keys.length < MAILS_IN_FLIGHT, 'more sent mails waiting than mails in flight')
    this.sentBatch.keys.push(key)
    return this.sentBatch.written
  }

  async retryLater(key: string, item: OutboxItem): Promise<void> {
    await this.store.write([{ type: 'put', section: 'outbox', key, value: item }], { sync: false })
  }
}
