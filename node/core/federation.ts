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
  private partnerList: readonly ShopId[]
  private readonly cards = new Map<ShopId, ShopCard>()
  private recipientList: Recipient[]
  /** Parties a quorum revoked (D94): no partners of ours any more, though the terms still name them. */
  private readonly revokedSet = new Set<ShopId>()
  private revokedList: readonly ShopId[] = []
  private revocationsTaken = false

  /**
   * Every agreement entries and receipts may still refer to, by hash: the revisions we signed, and
   * for a shop that joined later those its partners signed before (D97).
   */
  private readonly termsByHash = new Map<string, Terms>()

  constructor(
    private readonly me: ShopId,
    private readonly myBoxKey: Uint8Array,
    agreement: Agreement,
    cards: readonly Signed<ShopCard>[],
    earlier: readonly Agreement[] = [],
  ) {
    const verified = verifyAgreement(agreement)
    if (!verified.ok) throw new Error(`agreement: ${verified.error.message}`)
    assert(verified.value.missing.length === 0, `agreement is not signed by ${verified.value.missing.join(', ')}`)
    assert(agreement.terms.parties.includes(me), 'we are not a party to this agreement')
    this.terms = agreement.terms
    this.termsHash = verified.value.hash
    this.partnerList = agreement.terms.parties.filter((p) => p !== me)
    this.termsByHash.set(this.termsHash, this.terms)
    for (const old of earlier) {
      const checked = verifyAgreement(old)
      if (checked.ok && checked.value.missing.length === 0) this.termsByHash.set(checked.value.hash, old.terms)
    }
    for (const raw of cards) {
      const card = verifyDocument('shop-card', raw)
      if (!card.ok) throw new Error(`shop card: ${card.error.message}`)
      if (this.partners.includes(card.value.body.id)) this.cards.set(card.value.body.id, card.value.body)
    }
    for (const partner of this.partners) assert(this.cards.has(partner), `no shop card for partner ${partner}`)
    this.recipientList = this.recipientsOf(me, myBoxKey)
  }

  private recipientsOf(me: ShopId, myBoxKey: Uint8Array): Recipient[] {
    return [{ id: me, boxKey: myBoxKey }, ...this.partners.map((p) => ({ id: p, boxKey: fromBase64url((this.cards.get(p) as ShopCard).boxKey) }))]
  }

  /** Partners under the terms in force, less those revoked. */
  get partners(): readonly ShopId[] {
    return this.partnerList
  }

  /**
   * Takes the revocations in force, once, before any part starts (revocations.ts): from then on the
   * revoked are no partners (nothing sealed to them, nothing taken from them) and their votes count
   * for no certificate. A revocation that takes force later restarts the engine (D94).
   */
  revoke(revoked: readonly ShopId[], canary?: 'seal-to-revoked'): void {
    const me = this.me
    assert(!this.revocationsTaken, 'revocations are taken once, before the engine starts')
    this.revocationsTaken = true
    for (const id of revoked) if (id !== me && this.terms.parties.includes(id)) this.revokedSet.add(id)
    if (this.revokedSet.size === 0) return
    this.revokedList = [...this.revokedSet]
    this.partnerList = this.partnerList.filter((p) => !this.revokedSet.has(p))
    if (canary !== 'seal-to-revoked') this.recipientList = this.recipientsOf(me, this.myBoxKey)
  }

  isRevoked(id: ShopId): boolean {
    return this.revokedSet.has(id)
  }

  revoked(): readonly ShopId[] {
    return this.revokedList
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
