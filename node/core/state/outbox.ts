// Buyer mails waiting to be sent: the one module that reads and writes `outbox` rows
// (origin!order). A mail is queued in the same synced unit that reserves the order's keys, so a
// crash can delay it but never lose it; it is deleted once the relay took it (at least once).
import { z } from 'zod'
import { Id, Locale, ShopId as ShopIdSchema, TimeMs, WellFormedString } from '../../../protocol/index.js'
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

  /** The relay took it. Unsynced: losing this write only means the buyer may get the same mail twice. */
  async sent(key: string): Promise<void> {
    await this.store.write([{ type: 'del', section: 'outbox', key }], { sync: false })
  }

  async retryLater(key: string, item: OutboxItem): Promise<void> {
    await this.store.write([{ type: 'put', section: 'outbox', key, value: item }], { sync: false })
  }
}
