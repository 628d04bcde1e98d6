// Terms as the operator changes them, from the CLI or the console (D64): tokens in and out, the
// next step in words, and the list of what this node holds. The rules themselves are the book's.
import {
  type Agreement,
  decodeToken,
  encodeToken,
  formatZodError,
  type Identity,
  type ShopCard,
  type Signed,
  signDocument,
  toBase64url,
  verifyAgreement,
} from '../../protocol/index.js'
import type { DataDir } from '../datadir.js'
import { type HeldAgreement, TermsBook, TermsError } from './book.js'
import { AcceptBody, ProposeBody, type TermsOperations, type TermsReply, type TermsResult } from './schemas.js'

const CARD_VALIDITY_MS = 365 * 86_400_000

export class TermsInputError extends Error {}

/** Our own signed shop card, from config; saved so every token we print carries it. `identity`: our successor's (D99). */
export function ownCard(dir: DataDir, nowMs: number, identity: Identity = dir.keys().identity): Signed<ShopCard> {
  const config = dir.config()
  const { box } = dir.keys()
  const card = signDocument(
    'shop-card',
    {
      id: identity.id,
      name: config.name,
      boxKey: toBase64url(box.publicKey),
      addrs: config.p2p.announce,
      claimUrl: `${config.http.publicUrl.replace(/\/$/, '')}/claim`,
      issuedAt: nowMs,
      validUntil: nowMs + CARD_VALIDITY_MS,
    },
    identity,
  )
  dir.saveCard(card)
  return card
}

export class TermsService {
  readonly book: TermsBook

  constructor(private readonly dir: DataDir) {
    this.book = new TermsBook(dir, dir.keys().identity)
  }

  list(nowMs: number): TermsReply {
    const names = this.names()
    return {
      agreements: this.book.held(nowMs).map((h) => ({
        hash: h.hash,
        id: h.agreement.terms.id,
        revision: h.agreement.terms.revision,
        state: h.state,
        signedByUs: h.signedByUs,
        createdAt: h.agreement.terms.createdAt,
        parties: h.agreement.terms.parties.map((id) => ({ id, name: names.get(id) ?? id, signed: !h.missing.includes(id) })),
        skus: h.agreement.terms.skus.map((s) => ({
          shop: s.shop,
          shopName: names.get(s.shop) ?? s.shop,
          sku: s.sku,
          allotmentCap: s.allotmentCap,
          unitValue: s.unitValue,
        })),
      })),
    }
  }

  /** The next revision of the terms in force, with skus of ours added or removed; signed by us. */
  propose(raw: unknown, nowMs: number): TermsResult {
    const body = ProposeBody.safeParse(raw)
    if (!body.success) throw new TermsInputError(formatZodError(body.error))
    return this.proposeParsed(body.data, nowMs)
  }

  proposeParsed(body: ProposeBody, nowMs: number): TermsResult {
    if (body.addSkus.length + body.removeSkus.length + body.removeParties.length + body.addParties.length === 0)
      throw new TermsInputError('addSkus: give a sku to add (<sku>=<unit value>) or one to remove, or a party to add or remove')
    const addParties = body.addParties.map((text, i) => {
      const token = decodeToken(text.trim())
      if (!token.ok) throw new TermsInputError(`addParties.${i}: ${token.error.message}`)
      if (token.value.kind !== 'invite')
        throw new TermsInputError(`addParties.${i}: a terms token; give the invite the new shop printed with \`standin invite\``)
      return token.value.card
    })
    return this.result(this.book.propose({ add: body.addSkus, remove: body.removeSkus, cap: body.cap, removeParties: body.removeParties, addParties }, nowMs))
  }

  /** Signs terms: a token another party sent, terms named by hash, or the one proposal waiting for us. */
  accept(raw: unknown, nowMs: number): TermsResult {
    const body = AcceptBody.safeParse(raw)
    if (!body.success) throw new TermsInputError(formatZodError(body.error))
    return this.acceptParsed(body.data, nowMs)
  }

  acceptParsed(body: AcceptBody, nowMs: number): TermsResult {
    ownCard(this.dir, nowMs)
    if (body.token !== undefined) {
      const token = decodeToken(body.token)
      if (!token.ok) throw new TermsInputError(token.error.message)
      if (token.value.kind !== 'terms') throw new TermsInputError('token: this is an invite; run `standin join <token>` instead')
      const verified = verifyAgreement(token.value.agreement)
      if (!verified.ok) throw new TermsInputError(`agreement: ${verified.error.message}`)
      // A node that was down when the others removed its shop learns it from their token (D98).
      if (!token.value.agreement.terms.parties.includes(this.book.me) && this.book.takeRemoval(token.value.agreement, nowMs))
        return {
          token: this.tokenFor(token.value.agreement),
          hash: verified.value.hash,
          missing: [],
          next: `every other party signed terms ${verified.value.hash.slice(0, 12)} (rev ${token.value.agreement.terms.revision}) without this shop: it was removed from the federation. A running node stands down at once and lifts the fence; take the Standin adapter out of the shop, then stop the node (D98).`,
        }
      return this.result(this.book.sign(token.value.agreement, nowMs, token.value.cards))
    }
    return this.result(this.book.sign(this.book.find(body.hash, nowMs).agreement, nowMs))
  }

  /**
   * `standin identity rotate` (D99): a new identity for this shop, and the revision of the terms in
   * force that hands it our place, signed by the new key, our succession in it signed by the old.
   * The partners' nodes sign it without their operators; once all have, our node restarts as the
   * successor. Run again while it waits, it prints the same revision.
   */
  handOver(nowMs: number): TermsResult & { successor: string } {
    const successor = this.dir.successorIdentity()
    const card = this.dir.cardOf(successor.id) ?? ownCard(this.dir, nowMs, successor)
    const held = this.book.handOver(successor, card, nowMs)
    const names = this.names()
    const waiting = held.missing.map((m) => names.get(m) ?? m)
    const next =
      waiting.length === 0
        ? `every party signed the handover to ${successor.id}: the running node restarts as it now (at its next start if it is stopped).`
        : `handover to ${successor.id} proposed (terms ${held.hash.slice(0, 12)}, rev ${held.agreement.terms.revision}). The partners' nodes sign it on their own once ours passes it on (the node must run); waiting for ${waiting.join(', ')}. Then this node restarts as the new identity; \`standin status\` shows it.`
    return { ...this.result(held), next, successor: successor.id }
  }

  /** The operations the admin API and console use (node/http/terms-routes.ts). */
  operations(now: () => number): TermsOperations {
    return {
      list: () => this.list(now()),
      propose: (body) => this.proposeParsed(body, now()),
      accept: (body) => this.acceptParsed(body, now()),
      handOver: () => this.handOver(now()),
      refused: (error) => error instanceof TermsError || error instanceof TermsInputError,
    }
  }

  /** First terms, signed by us, from the other parties' cards. */
  propose1(terms: Agreement['terms'], cards: readonly Signed<ShopCard>[], nowMs: number): TermsResult {
    return this.result(this.book.sign({ terms, signatures: [] }, nowMs, cards))
  }

  result(held: HeldAgreement): TermsResult {
    return { token: this.tokenFor(held.agreement), hash: held.hash, missing: [...held.missing], next: this.nextStep(held) }
  }

  private tokenFor(agreement: Agreement): string {
    const cards = this.dir.cards().filter((c) => agreement.terms.parties.includes(c.body.id))
    return encodeToken({ kind: 'terms', agreement, cards })
  }

  private names(): Map<string, string> {
    return new Map(this.dir.cards().map((c) => [c.body.id, c.body.name]))
  }

  /** What the operator does next, in words: whose signature is missing and how it reaches them. */
  private nextStep(held: HeldAgreement): string {
    const names = this.names()
    const short = held.hash.slice(0, 12)
    const rev = held.agreement.terms.revision
    if (held.missing.length === 0)
      return `terms ${short} (rev ${rev}) are signed by every party and in force here. Running partners' nodes get the last signature from this node; a stopped one at its next \`standin run\`.`
    const who = held.missing.map((m) => names.get(m) ?? m).join(', ')
    return `signed terms ${short} (rev ${rev}); waiting for ${who}. They sign once: with \`standin terms accept <token>\` (the token below, or the one they already have), or, if their node runs and got these terms from ours, with \`standin terms accept\`. The running nodes pass the signatures to each other; \`standin terms list\` shows when the terms are in force.`
  }
}
