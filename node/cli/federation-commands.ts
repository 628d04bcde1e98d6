// invite, join and terms: how shops exchange cards and sign the agreement, by copying tokens.
import {
  type Agreement,
  decodeToken,
  encodeToken,
  formatZodError,
  type ShopCard,
  type Signed,
  signDocument,
  signTerms,
  termsHash,
  toBase64url,
  verifyAgreement,
} from '../../protocol/index.js'
import { JoinArgs } from './schemas.js'
import { DataDir } from '../datadir.js'
import { draftTerms } from './terms-draft.js'

const CARD_VALIDITY_MS = 365 * 86_400_000

/** Our own signed shop card, from config; saved so every token we print carries it. */
export function ownCard(dir: DataDir, nowMs: number): Signed<ShopCard> {
  const config = dir.config()
  const { identity, box } = dir.keys()
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

export function invite(dirPath: string): string {
  return encodeToken({ kind: 'invite', card: ownCard(new DataDir(dirPath), Date.now()) })
}

function termsTokenFor(dir: DataDir, agreement: Agreement): string {
  const cards = dir.cards().filter((c) => agreement.terms.parties.includes(c.body.id))
  return encodeToken({ kind: 'terms', agreement, cards })
}

export function join(raw: { dir: string; tokens: string[]; preset: string; id: string; termsFile?: string }): string {
  const args = JoinArgs.safeParse(raw)
  if (!args.success) throw new Error(`arguments: ${formatZodError(args.error)}`)
  const dir = new DataDir(args.data.dir)
  const me = ownCard(dir, Date.now())
  const parties = [me.body.id]
  const cards: Signed<ShopCard>[] = []
  for (const [i, text] of args.data.tokens.entries()) {
    const token = decodeToken(text)
    if (!token.ok) throw new Error(`token ${i + 1}: ${token.error.message}`)
    cards.push(...(token.value.kind === 'invite' ? [token.value.card] : token.value.cards))
  }
  parties.push(...cards.map((card) => card.body.id))
  if (new Set(parties).size < 2) throw new Error("join needs at least one other shop's invite token")
  const terms = draftTerms({ id: args.data.id, parties, preset: args.data.preset, nowMs: Date.now(), termsFile: args.data.termsFile })
  // Partners' cards are stored only once the terms are valid, so a refused terms file writes nothing.
  for (const card of cards) dir.saveCard(card)
  const agreement = dir.saveAgreement({ terms, signatures: [signTerms(terms, dir.keys().identity)] })
  return termsTokenFor(dir, agreement)
}

/** Verifies a terms token, signs it if we have not yet, stores it, and prints the merged token. */
export function accept(dirPath: string, text: string): { token: string; missing: readonly string[]; hash: string } {
  const dir = new DataDir(dirPath)
  const token = decodeToken(text)
  if (!token.ok) throw new Error(token.error.message)
  if (token.value.kind !== 'terms') throw new Error('token: this is an invite; run `standin join <token>` instead')
  const verified = verifyAgreement(token.value.agreement)
  if (!verified.ok) throw new Error(`agreement: ${verified.error.message}`)
  const { identity } = dir.keys()
  const terms = token.value.agreement.terms
  if (!terms.parties.includes(identity.id)) throw new Error('these terms do not name this shop as a party')
  ownCard(dir, Date.now())
  for (const card of token.value.cards) dir.saveCard(card)
  const signed = token.value.agreement.signatures.some((s) => s.signer === identity.id)
  const agreement = dir.saveAgreement(signed ? token.value.agreement : { terms, signatures: [...token.value.agreement.signatures, signTerms(terms, identity)] })
  const after = verifyAgreement(agreement)
  if (!after.ok) throw new Error(after.error.message)
  return { token: termsTokenFor(dir, agreement), missing: after.value.missing, hash: termsHash(terms) }
}

export function listTerms(dirPath: string): string {
  const dir = new DataDir(dirPath)
  const names = new Map(dir.cards().map((c) => [c.body.id, c.body.name]))
  const inForce = dir.agreementInForce(Date.now())
  const rows = dir.agreements().map(({ hash, agreement, missing }) => {
    const state =
      missing.length === 0
        ? inForce && termsHash(inForce.terms) === hash
          ? 'IN FORCE'
          : 'signed'
        : `waiting for ${missing.map((m) => names.get(m) ?? m).join(', ')}`
    return `${hash.slice(0, 12)}  ${agreement.terms.id} rev ${agreement.terms.revision}  parties: ${agreement.terms.parties.map((p) => names.get(p) ?? p).join(', ')}  ${state}`
  })
  return rows.length > 0 ? rows.join('\n') : 'no terms yet: `standin join <invite token>` proposes some'
}

export function showTerms(dirPath: string, hashPrefix: string): string {
  const matches = new DataDir(dirPath).agreements().filter((a) => a.hash.startsWith(hashPrefix))
  if (matches.length !== 1) throw new Error(`${matches.length} agreements match ${hashPrefix}`)
  return JSON.stringify(matches[0]?.agreement, null, 2)
}
