// The origin's return: once its platform is up and it has caught up with its
// partners' feeds, it writes every partner delivery back into the shop through the adapter,
// signs `handback` with the receipts it acknowledges, and lifts its fence. Receipts that arrive
// later are written back and acknowledged with `receipt.ack`.
import { LIMITS, type ReceiptRef, type ShopId } from '../../protocol/index.js'
import type { EventSink } from './events.js'
import type { Federation } from './federation.js'
import type { FeedWriter } from './feed-writer.js'
import type { Adapter, Clock, Logger } from './ports.js'
import type { State } from './state/index.js'
import type { ReceiptRow } from './state/receipts.js'
import { Tx } from './state/tx.js'
import { MAX_WRITE_BACKS_PER_CALL } from './limits.js'

export class Handback {
  private busy = false

  constructor(
    private readonly deps: {
      readonly me: ShopId
      readonly federation: Federation
      readonly state: State
      readonly writer: FeedWriter
      readonly adapter: Adapter
      readonly clock: Clock
      readonly logger: Logger
      readonly emit: EventSink
    },
  ) {}

  /** Receipts for our orders not yet written back, with an epoch we hold authority for. */
  private async pending(maxEpoch: number): Promise<ReceiptRow[]> {
    const out: ReceiptRow[] = []
    for await (const row of this.deps.state.receipts.of(this.deps.me)) {
      if (row.ackedAt === null && row.receipt.epoch <= maxEpoch) out.push(row)
      if (out.length >= LIMITS.maxAcksPerRecord) break
    }
    return out
  }

  /**
   * Writes back what partners delivered. `epoch` set: this is the handback for that takeover;
   * null: a later receipt.ack. Returns false if the adapter failed (retried on the next tick).
   */
  async run(epoch: number | null, ownEpoch: number): Promise<boolean> {
    if (this.busy) return false
    this.busy = true
    try {
      const receipts = await this.pending(ownEpoch)
      if (receipts.length === 0 && epoch === null) return true
      for (let i = 0; i < receipts.length; i += MAX_WRITE_BACKS_PER_CALL) {
        const chunk = receipts.slice(i, i + MAX_WRITE_BACKS_PER_CALL)
        for (const row of chunk) {
          const keys = await this.deps.state.keys.ownKeys(row.receipt.keyIds)
          await this.deps.adapter.writeBack({
            order: row.receipt.order,
            sku: row.receipt.sku,
            keys,
            fulfiller: row.fulfiller,
            fulfillerName: this.deps.federation.cardOf(row.fulfiller)?.name ?? row.fulfiller,
            epoch: row.receipt.epoch,
            deliveredAt: row.receipt.time,
            channel: row.receipt.channel,
          })
        }
      }
      const refs: ReceiptRef[] = receipts.map((r) => ({
        fulfiller: r.fulfiller,
        order: r.receipt.order,
        receipt: r.hash,
        ...(r.dispute ? { dispute: r.dispute } : {}),
      }))
      const now = this.deps.clock.now()
      const record = epoch !== null ? { type: 'handback' as const, epoch, receipts: refs, time: now } : { type: 'receipt.ack' as const, receipts: refs }
      // Receipts we took are already applied to their orders; the acknowledgement is all that is left.
      const tx = new Tx()
      this.deps.state.receipts.acked(tx, receipts, now)
      await this.deps.writer.append([record], [], tx)
      if (epoch !== null) this.deps.emit(now, { kind: 'handback', origin: this.deps.me, epoch, receipts: refs.length })
      this.deps.logger.info(
        { epoch, receipts: refs.length },
        epoch !== null ? 'handed back: partner deliveries written to the shop' : 'acknowledged late receipts',
      )
      return true
    } catch (error) {
      this.deps.logger.error({ err: String(error) }, 'write-back to the shop failed; retrying')
      return false
    } finally {
      this.busy = false
    }
  }
}
