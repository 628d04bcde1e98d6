// Partners' receipts for an origin's orders, as they arrive in the fulfillers' feeds: judged
// (receipt-guard.ts), then applied, held or refused. Applying one records the receipt, moves the
// keys and the order, and at the origin books its fee; a held one waits, changing nothing, until
// the authority for its epoch is adopted or the origin acknowledges it; a refused one is listed
// for the operator. The origin's handback and receipt.ack name the receipts it took: at a
// co-partner they settle those orders as delivered even where the authority never reached us.
import { hashOf, type Receipt, type ReceiptRef, type ShopId } from '../../protocol/index.js'
import type { Background } from './background.js'
import type { EventSink } from './events.js'
import type { Startable } from './lifecycle.js'
import type { Logger, Clock } from './ports.js'
import { KEYS_NOT_SEEN, ORDER_NOT_SEEN, type ReceiptGuard } from './receipt-guard.js'
import { ConflictingReceiptError } from './state/ledger.js'
import type { State } from './state/index.js'
import type { HeldReceipt } from './state/receipts.js'
import { Tx } from './state/tx.js'

export class PartnerReceipts implements Startable {
  /** Held receipts are judged again one batch at a time, so none is applied twice. */
  private rejudging: Promise<void> = Promise.resolve()

  constructor(
    private readonly deps: {
      readonly me: ShopId
      readonly state: State
      readonly guard: ReceiptGuard
      readonly clock: Clock
      readonly logger: Logger
      readonly emit: EventSink
      readonly background: Background
      /** Held receipts were applied: statements that arrived before them are matched again. */
      readonly onLateBooking: () => Promise<void>
    },
  ) {}

  /** The receipts of one of `fulfiller`'s entries are about to be applied one by one in `tx`: their rows are read at once. */
  prefetch(tx: Tx, fulfiller: ShopId, receipts: readonly Receipt[]): Promise<void> {
    return this.deps.guard.prefetch(tx, fulfiller, receipts)
  }

  /** A receipt in `fulfiller`'s feed entry `seq`, applied with that entry's unit. */
  async fromFeed(tx: Tx, fulfiller: ShopId, receipt: Receipt, seq: number): Promise<void> {
    const now = this.deps.clock.now()
    const hash = hashOf(receipt)
    const verdict = await this.deps.guard.judge(tx, fulfiller, receipt, now)
    if (verdict.kind === 'take') return this.apply(tx, fulfiller, receipt, hash, verdict)
    if (verdict.kind === 'hold' && this.deps.state.receipts.hold(tx, { receipt, hash, fulfiller, seq, heldAt: now, reason: verdict.reason })) {
      tx.afterCommit(() => {
        this.deps.logger.warn(
          { fulfiller, origin: receipt.origin, order: receipt.order, epoch: receipt.epoch, reason: verdict.reason },
          'receipt held: nothing changes until its authority is known',
        )
        // The epoch may have been adopted while this unit was being written: judge it again now.
        if (this.deps.state.authorities.get(receipt.origin, receipt.epoch)) this.adopted(receipt.origin, receipt.epoch)
      })
      return
    }
    this.refuse(
      tx,
      fulfiller,
      receipt,
      seq,
      verdict.kind === 'hold' ? `${verdict.reason}, and too many receipts of this partner are held already` : verdict.reason,
    )
  }

  private refuse(tx: Tx, fulfiller: ShopId, receipt: Receipt, seq: number, reason: string): void {
    const now = this.deps.clock.now()
    this.deps.state.refusals.add(tx, {
      from: fulfiller,
      kind: 'receipt',
      origin: receipt.origin,
      order: receipt.order,
      epoch: receipt.epoch,
      seq,
      reason,
      at: now,
    })
    tx.afterCommit(() => {
      this.deps.logger.error(
        { fulfiller, origin: receipt.origin, order: receipt.order, epoch: receipt.epoch, reason },
        'receipt refused: nothing stored, booked or written back',
      )
      this.deps.emit(now, { kind: 'refused', from: fulfiller, what: 'receipt', origin: receipt.origin, order: receipt.order, epoch: receipt.epoch, reason })
    })
  }

  private async apply(
    tx: Tx,
    fulfiller: ShopId,
    receipt: Receipt,
    hash: string,
    verdict: Extract<Awaited<ReturnType<ReceiptGuard['judge']>>, { kind: 'take' }>,
  ): Promise<void> {
    const { me, state } = this.deps
    const origin = receipt.origin
    if (verdict.dispute !== null)
      tx.afterCommit(() =>
        this.deps.logger.warn({ fulfiller, order: receipt.order, epoch: receipt.epoch, reason: verdict.dispute }, 'receipt applied, its fee booked disputed'),
      )
    state.receipts.record(tx, { receipt, hash, fulfiller, ackedAt: null, dispute: verdict.dispute })
    state.keys.count(tx, origin, receipt.sku, fulfiller, 'delivered', receipt.keyIds.length)
    if (origin === me) state.keys.receipted(tx, verdict.keys, fulfiller, receipt.order, receipt.epoch)
    else state.keys.peerMoved(tx, origin, verdict.peerKeys, 'delivered')
    try {
      await state.books.bookReceipts(tx, [receipt], fulfiller, [hash], verdict.dispute)
    } catch (error) {
      if (!(error instanceof ConflictingReceiptError)) throw error
      this.deps.logger.error({ fulfiller, origin, order: receipt.order, reason: error.message }, 'conflicting receipt: not booked, kept for a dispute')
    }
    const row = verdict.row
    if (row) {
      const grant = verdict.acked ? ({ by: 'origin-ack' } as const) : ({ by: 'receipt', epoch: receipt.epoch } as const)
      const applied = state.orders.partnerDelivered(tx, row, { fulfiller, keyIds: receipt.keyIds, epoch: receipt.epoch, at: receipt.time }, grant)
      const ownDelivery = row.state === 'delivered' && row.fulfiller === undefined && origin === me
      const otherFulfiller = (row.state === 'reserved' || row.state === 'delivered') && row.fulfiller !== undefined && row.fulfiller !== fulfiller
      if (!applied && (ownDelivery || otherFulfiller || row.originDelivered)) {
        const fulfillers = [fulfiller, row.fulfiller ?? me].sort()
        tx.afterCommit(() => {
          this.deps.logger.warn({ origin, order: receipt.order, fulfillers }, 'duplicate delivery detected')
          this.deps.emit(this.deps.clock.now(), { kind: 'duplicate', origin, order: receipt.order, fulfillers })
        })
      }
    }
    tx.afterCommit(() =>
      this.deps.emit(receipt.time, {
        kind: 'delivered',
        origin,
        order: receipt.order,
        fulfiller,
        keyIds: [...receipt.keyIds],
        epoch: receipt.epoch,
        paidAt: row?.record.paidAt,
      }),
    )
  }

  /**
   * The origin's handback or receipt.ack (its own signed word): at a co-partner the orders named
   * are delivered by their fulfillers, and receipts we held for them are taken.
   */
  async acked(tx: Tx, origin: ShopId, refs: readonly ReceiptRef[], at: number): Promise<void> {
    if (origin === this.deps.me) return
    const { state } = this.deps
    await this.mirrorDisputes(
      tx,
      origin,
      refs.filter((r) => r.fulfiller === this.deps.me && r.dispute !== undefined),
    )
    // One store read for all (a handback names every receipt of the outage); each ref then finds
    // its row in the unit, as an earlier ref of the same order left it.
    await state.orders.getMany(
      origin,
      refs.map((r) => r.order),
      tx,
    )
    for (const ref of refs) {
      const row = await state.orders.get(origin, ref.order, tx)
      if (row) state.orders.partnerDelivered(tx, row, { fulfiller: ref.fulfiller, keyIds: row.keyIds ?? [], epoch: row.epoch ?? 0, at }, { by: 'origin-ack' })
    }
    tx.afterCommit(() =>
      this.deps.background.run('receipts.rejudge', () =>
        this.rejudge(origin, (h) => refs.some((r) => r.order === h.receipt.order && r.fulfiller === h.fulfiller && r.receipt === h.hash)),
      ),
    )
  }

  /**
   * The origin took our deliveries but disputes their fees (beyond the limits, or the order was no
   * longer pending when our receipt reached it): our lines follow, so both books agree. Also a line
   * we already put on a statement: the origin's acknowledgement can come after it (it was down, or
   * a kill delayed its handback), and the origin never accepts a line it disputed (found by the
   * chaos run on 156726e: the fulfiller kept a stated line the origin had disputed).
   */
  private async mirrorDisputes(tx: Tx, origin: ShopId, refs: readonly ReceiptRef[]): Promise<void> {
    if (refs.length === 0) return
    const { me, state } = this.deps
    const rows = await state.receipts.getMany(
      origin,
      refs.map((r) => r.order),
      me,
      tx,
    )
    const disputed = rows.flatMap((row, i) => (row && row.hash === refs[i]?.receipt ? [{ row, reason: refs[i]?.dispute as string }] : []))
    const lines = await state.books.linesOfReceipts(
      tx,
      disputed.map((d) => d.row.receipt),
      disputed.map((d) => d.row.hash),
      me,
    )
    lines.forEach((book, i) => {
      if (book?.status === 'open' || book?.status === 'stated') state.books.transition(tx, [book], 'dispute', null, disputed[i]?.reason ?? 'other')
    })
  }

  /**
   * At start: receipts held for an order or keys that arrived before a crash cut their judging
   * short are judged again (nothing else would: the records they waited for are stored).
   */
  start(): void {
    for (const origin of this.deps.state.receipts.heldOrigins())
      this.deps.background.run('receipts.rejudge', () => this.rejudge(origin, (h) => h.reason === ORDER_NOT_SEEN || h.reason.startsWith(KEYS_NOT_SEEN)))
  }

  /** Orders of `origin` were escrowed here: receipts held for want of them are judged again. */
  ordersKnown(origin: ShopId, orders: readonly string[]): void {
    const waited = new Set(this.deps.state.receipts.heldAmong(origin, orders))
    if (waited.size === 0) return
    this.deps.background.run('receipts.rejudge', () => this.rejudge(origin, (h) => waited.has(h.receipt.order)))
  }

  /** A co-partner's keys of `origin` became known: receipts held for want of them are judged again. */
  keysKnown(origin: ShopId): void {
    this.deps.background.run('receipts.rejudge', () => this.rejudge(origin, (h) => h.reason.startsWith(KEYS_NOT_SEEN)))
  }

  /** An epoch of `origin` was adopted: receipts held for it are judged again. */
  adopted(origin: ShopId, epoch: number): void {
    this.deps.background.run('receipts.rejudge', () => this.rejudge(origin, (h) => h.receipt.epoch === epoch))
  }

  private rejudge(origin: ShopId, which: (held: HeldReceipt) => boolean): Promise<void> {
    const next = this.rejudging.then(() => this.rejudgeNow(origin, which))
    this.rejudging = next.catch(() => undefined) // the failure is the caller's (Background logs it)
    return next
  }

  private async rejudgeNow(origin: ShopId, which: (held: HeldReceipt) => boolean): Promise<void> {
    const taken = await this.deps.state.serially(() => this.takeHeld(origin, which))
    if (taken > 0) await this.deps.onLateBooking()
  }

  /** Judges the held receipts again in a turn (they change order rows); how many were taken. */
  private async takeHeld(origin: ShopId, which: (held: HeldReceipt) => boolean): Promise<number> {
    const held = (await this.deps.state.receipts.held(origin)).filter(which)
    if (held.length === 0) return 0
    const tx = new Tx()
    let taken = 0
    const fulfillers = new Set(held.map((h) => h.fulfiller))
    for (const fulfiller of fulfillers)
      await this.deps.guard.prefetch(
        tx,
        fulfiller,
        held.filter((h) => h.fulfiller === fulfiller).map((h) => h.receipt),
      )
    for (const h of held) {
      const verdict = await this.deps.guard.judge(tx, h.fulfiller, h.receipt, h.heldAt)
      if (verdict.kind === 'hold') {
        this.deps.state.receipts.heldFor(tx, h, verdict.reason)
        continue
      }
      this.deps.state.receipts.release(tx, h)
      if (verdict.kind === 'take') {
        await this.apply(tx, h.fulfiller, h.receipt, h.hash, verdict)
        taken++
      } else this.refuse(tx, h.fulfiller, h.receipt, h.seq, verdict.reason)
    }
    await this.deps.state.commit(tx)
    return taken
  }
}
