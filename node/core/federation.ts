// The agreement in force and the partners it names: who we replicate to, whose feeds we hold,
// and the box keys we seal escrow to. Everything here was verified before the engine started.
import {
  type Agreement,
  assert,
  fromBase64url,
  type Recipient,
  type ShopCard,
  type ShopId,
  type Signed,
  type Terms,
  verifyAgreement,
  verifyDocument,
} from '../../protocol/index.js'

export class Federation {
  readonly terms: Terms
  readonly termsHash: string
  readonly partners: readonly ShopId[]
  private readonly cards = new Map<ShopId, ShopCard>()
  private readonly recipientList: Recipient[]

  /** Every agreement we signed that receipts may still refer to (terms changes), by hash. */
  private readonly termsByHash = new Map<string, Terms>()

  constructor(me: ShopId, myBoxKey: Uint8Array, agreement: Agreement, cards: readonly Signed<ShopCard>[], earlier: readonly Agreement[] = []) {
    const verified = verifyAgreement(agreement)
    if (!verified.ok) throw new Error(`agreement: ${verified.error.message}`)
    assert(verified.value.missing.length === 0, `agreement is not signed by ${verified.value.missing.join(', ')}`)
    assert(agreement.terms.parties.includes(me), 'we are not a party to this agreement')
    this.terms = agreement.terms
    this.termsHash = verified.value.hash
    this.partners = agreement.terms.parties.filter((p) => p !== me)
    this.termsByHash.set(this.termsHash, this.terms)
    for (const old of earlier) {
      const checked = verifyAgreement(old)
      if (checked.ok && checked.value.missing.length === 0 && old.terms.parties.includes(me)) this.termsByHash.set(checked.value.hash, old.terms)
    }
    for (const raw of cards) {
      const card = verifyDocument('shop-card', raw)
      if (!card.ok) throw new Error(`shop card: ${card.error.message}`)
      if (this.partners.includes(card.value.body.id)) this.cards.set(card.value.body.id, card.value.body)
    }
    for (const partner of this.partners) assert(this.cards.has(partner), `no shop card for partner ${partner}`)
    this.recipientList = [{ id: me, boxKey: myBoxKey }, ...this.partners.map((p) => ({ id: p, boxKey: fromBase64url((this.cards.get(p) as ShopCard).boxKey) }))]
  }

  isPartner(id: string): boolean {
    return this.partners.includes(id)
  }

  cardOf(id: ShopId): ShopCard | undefined {
    return this.cards.get(id)
  }

  recipients(): readonly Recipient[] {
    return this.recipientList
  }

  /** Entries and receipts may name the terms in force when they were made, not only today's. */
  knowsTerms(hash: string): boolean {
    return this.termsByHash.has(hash)
  }

  termsFor(hash: string): Terms | undefined {
    return this.termsByHash.get(hash)
  }
}
