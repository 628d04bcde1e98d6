// The agreements this node holds (agreements/ in its data directory) and every change to them:
// our operator proposing or signing, and a partner's node passing on signatures. One home for the
// rules, used by the CLI (node stopped or running) and by the running node's exchange (D64, D65).
// Authority: only our operator signs for us (propose, sign); a partner can add its own and other
// parties' valid signatures to terms that name both of us, and nothing else.
import {
  type Agreement,
  type Identity,
  type ShopCard,
  type ShopId,
  type Signed,
  type SkuTerms,
  nextRevision,
  signTerms,
  successionTerms,
  verifySuccession,
  Terms,
  termsHash,
  verifyAgreement,
  formatZodError,
  minimumQuorum,
  verifyDocument,
} from '../../protocol/index.js'
import type { DataDir } from '../datadir.js'

/** Agreements a partner may leave with us that our operator has not signed (each is a file). */
export const MAX_UNSIGNED_FROM_PARTNERS = 8

export interface HeldAgreement {
  readonly hash: string
  readonly agreement: Agreement
  /** Parties whose signature is still missing. */
  readonly missing: readonly ShopId[]
  readonly signedByUs: boolean
  /** in-force: the one the node runs; superseded: an older revision; signed: complete, not in force. */
  readonly state: 'in-force' | 'superseded' | 'signed' | 'waiting'
}

export interface SkuChange {
  readonly add: readonly { sku: string; unitMinorUnits: number }[]
  readonly remove: readonly string[]
  readonly cap: number
  /** Parties the revision leaves out, with their skus (D95). */
  readonly removeParties?: readonly ShopId[]
  /** Shops the revision adds, by their signed cards from `standin invite` (D97). */
  readonly addParties?: readonly Signed<ShopCard>[]
}

export type Received =
  | { readonly kind: 'unchanged' }
  /** `signedForUs`: a partner's handover to its new identity, which the node signs without the operator (D99). */
  | { readonly kind: 'merged'; readonly hash: string; readonly complete: boolean; readonly signedForUs?: boolean }
  /** Earlier terms that terms naming us supersede, which a newcomer fetches from its partners (D97). */
  | { readonly kind: 'history'; readonly hash: string }
  /** The next revision, signed by every other party, without us: this shop was removed (D98). */
  | { readonly kind: 'removed'; readonly hash: string }
  | { readonly kind: 'refused'; readonly reason: string }
  /** A handover of this shop's own place that this node did not make: someone else holds its identity key (D99). */
  | { readonly kind: 'not-ours'; readonly hash: string }

export class TermsError extends Error {}

export class TermsBook {
  constructor(
    private readonly dir: DataDir,
    private readonly identity: Identity,
  ) {}

  get me(): ShopId {
    return this.identity.id
  }

  inForce(nowMs: number): Agreement | null {
    return this.dir.agreementInForce(nowMs, this.me)
  }

  held(nowMs: number): HeldAgreement[] {
    const inForce = this.inForce(nowMs)
    const inForceHash = inForce ? termsHash(inForce.terms) : null
    return this.dir
      .agreements()
      .map(({ hash, agreement, missing }) => ({
        hash,
        agreement,
        missing,
        signedByUs: this.signedByUs(agreement),
        state:
          hash === inForceHash
            ? ('in-force' as const)
            : missing.length === 0 && !agreement.terms.parties.includes(this.me)
              ? ('superseded' as const) // earlier terms, before this shop joined (D97)
              : missing.length > 0
                ? ('waiting' as const)
                : inForce && agreement.terms.revision < inForce.terms.revision
                  ? ('superseded' as const)
                  : ('signed' as const),
      }))
      .sort((a, b) => a.agreement.terms.revision - b.agreement.terms.revision || a.agreement.terms.createdAt - b.agreement.terms.createdAt)
  }

  /** Our signature is on it; on our own handover (D99), our successor's, which our operator made. */
  private signedByUs(agreement: Agreement): boolean {
    const signer = agreement.terms.succession?.body.predecessor === this.me ? agreement.terms.succession.body.successor : this.me
    return agreement.signatures.some((s) => s.signer === signer)
  }

  /** Terms naming us that our operator has not signed yet and that would still take effect. */
  awaitingUs(nowMs: number): HeldAgreement[] {
    return this.held(nowMs).filter(
      (h) => !h.signedByUs && h.state === 'waiting' && h.agreement.terms.expiresAt > nowMs && this.couldFollow(h.agreement.terms, nowMs),
    )
  }

  /** The one agreement `ref` names (a hash or its prefix); without `ref`, the one awaiting us. */
  find(ref: string | undefined, nowMs: number): HeldAgreement {
    if (ref === undefined) {
      const waiting = this.awaitingUs(nowMs)
      if (waiting.length === 1) return waiting[0] as HeldAgreement
      if (waiting.length === 0) throw new TermsError('no terms are waiting for our signature (`standin terms list` shows what we hold)')
      throw new TermsError(`${waiting.length} terms wait for our signature: name one by its hash (${waiting.map((w) => w.hash.slice(0, 12)).join(', ')})`)
    }
    const matches = this.held(nowMs).filter((h) => h.hash.startsWith(ref))
    if (matches.length !== 1) throw new TermsError(`${matches.length} agreements match ${ref} (\`standin terms list\` shows their hashes)`)
    return matches[0] as HeldAgreement
  }

  /**
   * Earlier terms we lack that terms naming us supersede, one per chain: a newcomer's partners
   * wrote entries under them, which it can only verify once it holds them (D97). Empty for a shop
   * that signed every revision since the first.
   */
  wantedHistory(nowMs: number): string[] {
    const held = this.held(nowMs)
    const byHash = new Map(held.map((h) => [h.hash, h.agreement]))
    const wanted = new Set<string>()
    for (const h of held) {
      if (!(h.state === 'in-force' || (h.state === 'waiting' && h.signedByUs))) continue
      let next = h.agreement.terms.supersedes
      // Each step goes one revision down, so the walk ends within the revisions held.
      for (let steps = 0; next !== null && steps <= held.length; steps++) {
        const earlier = byHash.get(next)
        if (!earlier) {
          wanted.add(next)
          break
        }
        next = earlier.terms.supersedes
      }
    }
    return [...wanted]
  }

  /**
   * Proof that this shop was removed (D95, D98): the revision after the terms in force, leaving
   * this shop out and naming no one new, signed by every party it names. Null while none is held.
   */
  removal(nowMs: number): Agreement | null {
    const current = this.inForce(nowMs)
    if (!current) return null
    return this.dir.agreements().find((a) => a.missing.length === 0 && this.removes(current, a.agreement))?.agreement ?? null
  }

  /** Stores `raw` if it is such proof (verified here); true when it is. */
  takeRemoval(raw: Agreement, nowMs: number): boolean {
    const current = this.inForce(nowMs)
    const verified = verifyAgreement(raw)
    if (!current || !verified.ok || verified.value.missing.length > 0 || !this.removes(current, raw)) return false
    this.dir.saveAgreement(raw)
    return true
  }

  private removes(current: Agreement, next: Agreement): boolean {
    const terms = next.terms
    return (
      terms.supersedes === termsHash(current.terms) &&
      terms.revision === current.terms.revision + 1 &&
      !terms.parties.includes(this.me) &&
      terms.parties.every((p) => current.terms.parties.includes(p))
    )
  }

  /** The terms in force a handover would revise (D99), or a TermsError: a shop hands over its place in terms in force only. */
  handoverBasis(nowMs: number): Agreement {
    const current = this.inForce(nowMs)
    if (!current) throw new TermsError('no terms in force: a shop hands over its place in terms in force only')
    return current
  }

  /**
   * Hands this shop's place in the terms in force to `successor` (D99): the next revision with the
   * successor where we are, our signed succession in it, signed by the successor; its card saved so
   * it travels with the revision. While one waits for the other parties, that one again.
   */
  handOver(successor: Identity, card: Signed<ShopCard>, nowMs: number): HeldAgreement {
    const current = this.handoverBasis(nowMs)
    const waiting = this.ownHandover(current, false)
    if (waiting) return this.find(termsHash(waiting.terms), nowMs)
    if (card.body.id !== successor.id) throw new TermsError("the successor's card names another shop")
    const terms = successionTerms(current.terms, this.identity, successor.id, nowMs)
    this.dir.saveCard(card)
    this.dir.saveAgreement({ terms, signatures: [signTerms(terms, successor)] })
    return this.find(termsHash(terms), nowMs)
  }

  /** Our handover of the terms in force once every party of it signed: the node then restarts as the successor (D99). */
  handedOver(nowMs: number): Agreement | null {
    const current = this.inForce(nowMs)
    return current ? this.ownHandover(current, true) : null
  }

  private ownHandover(current: Agreement, complete: boolean): Agreement | null {
    const hash = termsHash(current.terms)
    return (
      this.dir
        .agreements()
        .find(
          (a) => a.agreement.terms.succession?.body.predecessor === this.me && a.agreement.terms.supersedes === hash && (!complete || a.missing.length === 0),
        )?.agreement ?? null
    )
  }

  /** Our operator signs `agreement` (verified first); partners' cards come with it. */
  sign(agreement: Agreement, nowMs: number, cards: readonly Signed<ShopCard>[] = []): HeldAgreement {
    const verified = verifyAgreement(agreement)
    if (!verified.ok) throw new TermsError(`agreement: ${verified.error.message}`)
    if (!agreement.terms.parties.includes(this.me)) throw new TermsError('these terms do not name this shop as a party')
    for (const card of cards) this.dir.saveCard(card)
    const signed = agreement.signatures.some((s) => s.signer === this.me)
    this.dir.saveAgreement(signed ? agreement : { terms: agreement.terms, signatures: [...agreement.signatures, signTerms(agreement.terms, this.identity)] })
    return this.find(verified.value.hash, nowMs)
  }

  /** The next revision of the terms in force with skus of ours added or removed, or parties left out, signed by us. */
  propose(change: SkuChange, nowMs: number): HeldAgreement {
    const current = this.inForce(nowMs)
    if (!current) throw new TermsError('no terms in force to revise: the first terms come from `standin join`')
    const leaving = change.removeParties ?? []
    if (leaving.includes(this.me)) throw new TermsError('removeParties: a shop cannot remove itself; the others remove it')
    for (const party of leaving)
      if (!current.terms.parties.includes(party)) throw new TermsError(`removeParties: ${party} is not a party to the terms in force`)
    const joining = change.addParties ?? []
    for (const card of joining) {
      const checked = verifyDocument('shop-card', card)
      if (!checked.ok) throw new TermsError(`addParties: ${checked.error.message}`)
      if (card.body.validUntil <= nowMs) throw new TermsError(`addParties: the invite of ${card.body.name} has expired; ask for a new one`)
      if (current.terms.parties.includes(card.body.id)) throw new TermsError(`addParties: ${card.body.name} is a party already`)
    }
    // Sorted, as terms keep them (one order for every party's signature).
    const parties = [...current.terms.parties.filter((p) => !leaving.includes(p)), ...new Set(joining.map((c) => c.body.id))].sort()
    if (parties.length < 2) throw new TermsError('removeParties: terms need two parties at least')
    const skus: SkuTerms[] = current.terms.skus.filter((s) => !leaving.includes(s.shop) && !(s.shop === this.me && change.remove.includes(s.sku)))
    for (const removed of change.remove)
      if (!current.terms.skus.some((s) => s.shop === this.me && s.sku === removed))
        throw new TermsError(`--remove-sku ${removed}: the terms in force do not cover it`)
    for (const added of change.add) {
      if (skus.some((s) => s.shop === this.me && s.sku === added.sku)) throw new TermsError(`--add-sku ${added.sku}: the terms in force cover it already`)
      skus.push({
        shop: this.me,
        sku: added.sku,
        allotmentCap: change.cap,
        unitValue: { minorUnits: added.unitMinorUnits, currency: current.terms.settlement.currency },
      })
    }
    // Fewer parties: the quorum stays where it was, within what the smaller federation allows;
    // more parties: at least the majority the larger federation needs.
    const quorum = Math.max(minimumQuorum(parties.length), Math.min(current.terms.quorum, Math.max(2, parties.length - 1)))
    const next = Terms.safeParse({ ...nextRevision(current.terms, nowMs), parties, quorum, skus })
    if (!next.success) throw new TermsError(`terms: ${formatZodError(next.error)}`)
    return this.sign({ terms: next.data, signatures: [] }, nowMs, joining)
  }

  /**
   * Signatures a partner's node passed on (D65). It may add valid signatures to terms we hold, or
   * leave terms that name it and us, that it signed, and that would follow ours; never more than
   * MAX_UNSIGNED_FROM_PARTNERS we have not signed. Nothing here signs for us.
   */
  receive(from: ShopId, raw: Agreement, nowMs: number): Received {
    const verified = verifyAgreement(raw)
    if (!verified.ok) return { kind: 'refused', reason: verified.error.message }
    if (this.wantedHistory(nowMs).includes(verified.value.hash)) {
      // Authority: every party of those terms signed them, and terms we signed name their hash.
      if (verified.value.missing.length > 0) return { kind: 'refused', reason: 'earlier terms not signed by all their parties' }
      this.dir.saveAgreement(raw)
      return { kind: 'history', hash: verified.value.hash }
    }
    const { terms, signatures } = raw
    const hash = verified.value.hash
    const held = this.dir.agreements().find((a) => a.hash === hash)
    // Nothing new (earlier terms two partners both answered with, a repeat): nothing to judge.
    if (held && signatures.every((s) => held.agreement.signatures.some((h) => h.signer === s.signer))) return { kind: 'unchanged' }
    const handover = terms.succession?.body
    if (handover?.predecessor === this.me) {
      // Our own handover (D99): the parties pass their signatures back to us. One we never made
      // means another holds our identity key.
      if (!held) return { kind: 'not-ours', hash }
      return this.merge(raw, hash)
    }
    // Authority: every party that stays signed the revision that leaves us out (D98).
    if (!terms.parties.includes(this.me) && this.takeRemoval(raw, nowMs)) return { kind: 'removed', hash }
    // A handover comes from its predecessor, a party of the terms in force though not of these.
    const sender = handover?.predecessor === from ? handover.successor : from
    if (!terms.parties.includes(this.me) || !terms.parties.includes(sender)) return { kind: 'refused', reason: 'terms that do not name both of us' }
    if (terms.expiresAt <= nowMs) return { kind: 'refused', reason: 'expired terms' }
    if (!held) {
      if (!signatures.some((s) => s.signer === sender)) return { kind: 'refused', reason: 'terms its sender has not signed' }
      if (!this.couldFollow(terms, nowMs)) return { kind: 'refused', reason: 'terms that do not follow the terms in force' }
      if (this.held(nowMs).filter((h) => !h.signedByUs && h.state === 'waiting').length >= MAX_UNSIGNED_FROM_PARTNERS)
        return { kind: 'refused', reason: `already ${MAX_UNSIGNED_FROM_PARTNERS} proposals wait for our operator` }
    }
    if (!handover) return this.merge(raw, hash)
    // A partner hands its place to its new identity (D99). Authority: the predecessor's signed
    // succession and the successor's signature on terms that change nothing else; what our
    // operator signed stays as it was, so the node signs for it.
    const current = this.inForce(nowMs)
    const checked = current ? verifySuccession(current.terms, terms) : null
    if (!checked?.ok) return { kind: 'refused', reason: `a handover that does not verify: ${checked?.error.message ?? 'no terms in force'}` }
    if (!signatures.some((s) => s.signer === handover.successor)) return { kind: 'refused', reason: 'a handover its successor has not signed' }
    // One handover of a place per terms in force: the node signs it, so the operator's cap on
    // proposals does not bound it, and a partner must not fill our directory with handovers.
    const other = this.dir
      .agreements()
      .some(
        (a) => a.hash !== hash && a.agreement.terms.supersedes === terms.supersedes && a.agreement.terms.succession?.body.predecessor === handover.predecessor,
      )
    if (other) return { kind: 'refused', reason: 'a second handover of that place for the terms in force' }
    const ours = held?.agreement.signatures.some((s) => s.signer === this.me) ? [] : [signTerms(terms, this.identity)]
    return { ...this.merge({ terms, signatures: [...signatures, ...ours] }, hash), signedForUs: ours.length > 0 }
  }

  private merge(raw: Agreement, hash: string): Extract<Received, { kind: 'merged' }> {
    const merged = this.dir.saveAgreement(raw)
    const after = verifyAgreement(merged)
    return { kind: 'merged', hash, complete: after.ok && after.value.missing.length === 0 }
  }

  /** First terms while none are in force, or the next revision of the ones in force. */
  private couldFollow(terms: Terms, nowMs: number): boolean {
    const current = this.inForce(nowMs)
    if (!current) return terms.revision === 1
    return terms.supersedes === termsHash(current.terms) && terms.revision === current.terms.revision + 1
  }
}
