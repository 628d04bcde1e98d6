// A shop behind a simulated node: in-memory stock, fence flag, write-backs. Used by the
// simulator in place of the generic adapter's HTTP callbacks (which test/adapters covers).
import type { CardKey, PartnerDelivery } from '../../protocol/index.js'
import type { Adapter, MailMessage, Mailer } from '../../node/core/ports.js'

export class SimShopAdapter implements Adapter {
  fenced = true
  readonly stock = new Map<string, CardKey[]>()
  readonly writeBacks: PartnerDelivery[] = []
  readonly taken: CardKey[] = []
  /** Keys given back to the stock, in order (a key a partner has seen must never be among them). */
  readonly returned: CardKey[] = []

  constructor(name: string, skus: Record<string, number>) {
    for (const [sku, count] of Object.entries(skus)) {
      this.stock.set(
        sku,
        Array.from({ length: count }, (_, i) => ({ keyId: `${name}-${sku}-${i}`, key: `KEY-${name}-${sku}-${i}` })),
      )
    }
  }

  async setFenced(fenced: boolean): Promise<void> {
    this.fenced = fenced
  }

  async takeStock(sku: string, count: number): Promise<CardKey[]> {
    const keys = (this.stock.get(sku) ?? []).splice(0, count)
    this.taken.push(...keys)
    return keys
  }

  async returnStock(sku: string, keys: readonly CardKey[]): Promise<void> {
    this.returned.push(...keys)
    this.stock.set(sku, [...(this.stock.get(sku) ?? []), ...keys])
  }

  async writeBack(delivery: PartnerDelivery): Promise<void> {
    this.writeBacks.push(delivery)
  }
}

export class SimMailer implements Mailer {
  readonly sent: MailMessage[] = []
  /** Set: every send fails as a relay that refuses would (the message quotes the recipient). */
  failing = false
  async send(message: MailMessage): Promise<void> {
    if (this.failing) throw new Error(`550 relay refused mail to <${message.to}>`)
    this.sent.push(message)
  }
}
