// Buyer mails, sent from a durable outbox: the reservation that commits a key to an order also
// queues its mail, so a crash can delay a mail but never lose it (at-least-once delivery).
import { assert, type ShopId } from '../../protocol/index.js'
import type { Background } from './background.js'
import { deliveryEmail } from './delivery-mail.js'
import type { Federation } from './federation.js'
import type { Timers } from './lifecycle.js'
import type { EventSink } from './events.js'
import type { Clock, Logger, Mailer } from './ports.js'
import type { OutboxItem, OutboxRows } from './state/outbox.js'
import { MAILS_IN_FLIGHT, MAIL_BACKOFF_BASE_MS, MAX_MAILS_PER_ROUND, MAX_MAIL_ATTEMPTS, MAX_MAIL_BACKOFF_MS } from './limits.js'

export class Outbox {
  private busy = false
  /** drain() was asked for while a round ran: mails queued since may not be in that round. */
  private again = false
  sent = 0
  failed = 0

  constructor(
    private readonly deps: {
      readonly me: ShopId
      readonly myName: string
      readonly claimUrl: (origin: ShopId) => string | null
      readonly federation: Federation
      readonly rows: OutboxRows
      readonly mailer: Mailer
      readonly clock: Clock
      readonly timers: Timers
      readonly logger: Logger
      readonly background: Background
      readonly emit: EventSink
    },
  ) {}

  async drain(): Promise<void> {
    if (this.busy) {
      this.again = true
      return
    }
    this.busy = true
    this.again = false
    try {
      const now = this.deps.clock.now()
      const due = await this.deps.rows.due(now, MAX_MAIL_ATTEMPTS, MAX_MAILS_PER_ROUND)
      assert(due.length <= MAX_MAILS_PER_ROUND, `${due.length} mails in one round`)
      let next = 0
      const worker = async () => {
        while (next < due.length) {
          const [key, item] = due[next++] as [string, OutboxItem]
          await this.sendOne(key, item, now)
        }
      }
      await Promise.all(Array.from({ length: MAILS_IN_FLIGHT }, worker))
      // More are waiting: the round was full, or mails were queued while it ran (else they would
      // wait for the next heartbeat's drain).
      if (due.length === MAX_MAILS_PER_ROUND || this.again) this.deps.timers.set(0, () => this.deps.background.run('outbox.drain', () => this.drain()))
    } finally {
      this.busy = false
    }
  }

  private async sendOne(key: string, item: OutboxItem, now: number): Promise<void> {
    const originName = this.deps.federation.cardOf(item.origin)?.name ?? item.origin
    const mail = deliveryEmail({
      locale: item.locale,
      to: item.to,
      originName,
      fulfillerName: this.deps.myName,
      order: item.order,
      keys: item.keys,
      claimUrl: this.deps.claimUrl(item.origin),
    })
    try {
      await this.deps.mailer.send(mail)
      await this.deps.rows.sent(key)
      this.sent++
    } catch (error) {
      const attempts = item.attempts + 1
      const backoffMs = Math.min(MAX_MAIL_BACKOFF_MS, MAIL_BACKOFF_BASE_MS * 2 ** attempts)
      if (attempts >= MAX_MAIL_ATTEMPTS) this.failed++
      this.deps.logger.warn(
        { order: item.order, attempts, err: String(error) },
        attempts >= MAX_MAIL_ATTEMPTS ? 'giving up mailing the buyer; the claim page still shows the key' : 'mail failed; will retry',
      )
      await this.deps.rows.retryLater(key, { ...item, attempts, nextAt: now + backoffMs })
      // The alert names the order, never the buyer's address or the relay's words (they may quote it).
      this.deps.emit(this.deps.clock.now(), { kind: 'mail-failing', origin: item.origin, order: item.order, attempts, gaveUp: attempts >= MAX_MAIL_ATTEMPTS })
    }
  }
}
