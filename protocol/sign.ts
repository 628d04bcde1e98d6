// Domain-separated signatures: every signature covers "standin/1/" + type + "\n" + canonical(body),
// so a signature made for one kind of document can never be replayed as another.
import type { z } from 'zod'
import { canonicalBytes, concatBytes, documentBytes, fromBase64url, hashOf, toBase64url, utf8 } from './encoding.js'
import { assert, fail, ok, type Result } from './errors.js'
import type { Identity } from './identity.js'
import { PROTOCOL_VERSION } from './limits.js'
import { Agreement, Succession, Terms } from './schemas/agreement.js'
import { FeedAck, Claim, DownVote, DrillReport, DrillRequest, Heartbeat, LeaseGrant, TakeoverRequest } from './schemas/control.js'
import { FeedEntryBody } from './schemas/feed.js'
import type { PartySignature, ShopId } from './schemas/primitives.js'
import { signatureSchemeInUse } from './signature-scheme.js'
import { ShopCard } from './schemas/shop-card.js'
import type { Signed } from './schemas/signed.js'
import { formatZodError } from './validate.js'

/** Every single-signer document type, its schema and the body field that names its signer. */
export const DOCUMENTS = {
  'shop-card': { schema: ShopCard, signer: (b: ShopCard) => b.id },
  'feed-entry': { schema: FeedEntryBody, signer: (b: FeedEntryBody) => b.author },
  heartbeat: { schema: Heartbeat, signer: (b: Heartbeat) => b.from },
  lease: { schema: LeaseGrant, signer: (b: LeaseGrant) => b.grantor },
  'down-vote': { schema: DownVote, signer: (b: DownVote) => b.voter },
  'takeover-request': { schema: TakeoverRequest, signer: (b: TakeoverRequest) => b.origin },
  claim: { schema: Claim, signer: (b: Claim) => b.claimant },
  'feed-ack': { schema: FeedAck, signer: (b: FeedAck) => b.holder },
  'drill-request': { schema: DrillRequest, signer: (b: DrillRequest) => b.origin },
  'drill-report': { schema: DrillReport, signer: (b: DrillReport) => b.holder },
  succession: { schema: Succession, signer: (b: Succession) => b.predecessor },
} as const

export type DocumentType = keyof typeof DOCUMENTS | 'terms'
type BodyOf<T extends keyof typeof DOCUMENTS> = z.infer<(typeof DOCUMENTS)[T]['schema']>

export function signingBytes(type: DocumentType, body: unknown): Uint8Array {
  const encoded = typeof body === 'object' && body !== null ? documentBytes(body) : canonicalBytes(body)
  return concatBytes(utf8(`standin/${PROTOCOL_VERSION}/${type}\n`), encoded)
}

export function signBytes(identity: Identity, message: Uint8Array): string {
  return toBase64url(signatureSchemeInUse.current.sign(identity, message))
}

export function verifyBytes(signer: ShopId, message: Uint8Array, sig: string): boolean {
  let sigBytes: Uint8Array
  try {
    sigBytes = fromBase64url(sig)
  } catch {
    return false
  }
  return signatureSchemeInUse.current.verify(signer, message, sigBytes)
}

/** Signs our own document. The body is validated first: signing something invalid is our bug. */
export function signDocument<T extends keyof typeof DOCUMENTS>(type: T, body: BodyOf<T>, identity: Identity): Signed<BodyOf<T>> {
  const doc = DOCUMENTS[type]
  const parsed = doc.schema.safeParse(body)
  assert(parsed.success, `signing an invalid ${type}: ${parsed.success ? '' : formatZodError(parsed.error)}`)
  const signer = (doc.signer as (b: unknown) => string)(parsed.data)
  assert(signer === identity.id, `a ${type} names its signer, and it is not us`)
  return { body: parsed.data as BodyOf<T>, sig: signBytes(identity, signingBytes(type, parsed.data)) }
}

/** Parses and verifies a signed document received from anyone. Nothing is trusted before this. */
export function verifyDocument<T extends keyof typeof DOCUMENTS>(type: T, raw: unknown): Result<Signed<BodyOf<T>>> {
  if (typeof raw !== 'object' || raw === null) return fail('invalid', `${type}: must be an object`)
  const { body, sig } = raw as { body?: unknown; sig?: unknown }
  if (typeof sig !== 'string') return fail('invalid', `${type}.sig: must be a string`)
  const keys = Object.keys(raw)
  if (keys.length !== 2 || !keys.includes('body') || !keys.includes('sig')) return fail('invalid', `${type}: must have exactly the fields body and sig`)
  const doc = DOCUMENTS[type]
  const parsed = doc.schema.safeParse(body)
  if (!parsed.success) return fail('invalid', `${type}.body: ${formatZodError(parsed.error)}`)
  const signer = (doc.signer as (b: unknown) => string)(parsed.data)
  if (!verifyBytes(signer, signingBytes(type, parsed.data), sig)) return fail('bad-signature', `${type}: signature does not verify for ${signer}`)
  return ok({ body: parsed.data as BodyOf<T>, sig })
}

// ---- agreements: one body, a signature per party ----

export function termsHash(terms: Terms): string {
  return hashOf(terms)
}

export function signTerms(terms: Terms, identity: Identity): PartySignature {
  const parsed = Terms.safeParse(terms)
  assert(parsed.success, `signing invalid terms: ${parsed.success ? '' : formatZodError(parsed.error)}`)
  assert(parsed.data.parties.includes(identity.id), 'only a party signs the terms')
  return { signer: identity.id, sig: signBytes(identity, signingBytes('terms', parsed.data)) }
}

export interface VerifiedAgreement {
  readonly agreement: Agreement
  readonly hash: string
  /** Parties that have not signed yet; the agreement is in force when this is empty. */
  readonly missing: readonly ShopId[]
}

export function verifyAgreement(raw: unknown): Result<VerifiedAgreement> {
  const parsed = Agreement.safeParse(raw)
  if (!parsed.success) return fail('invalid', `agreement: ${formatZodError(parsed.error)}`)
  const { terms, signatures } = parsed.data
  const message = signingBytes('terms', terms)
  const signed = new Set<string>()
  for (const [i, s] of signatures.entries()) {
    if (!terms.parties.includes(s.signer)) return fail('not-a-party', `agreement.signatures.${i}: ${s.signer} is not a party`)
    if (signed.has(s.signer)) return fail('invalid', `agreement.signatures.${i}: ${s.signer} signed twice`)
    if (!verifyBytes(s.signer, message, s.sig)) return fail('bad-signature', `agreement.signatures.${i}: signature of ${s.signer} does not verify`)
    signed.add(s.signer)
  }
  return ok({
    agreement: parsed.data,
    hash: termsHash(terms),
    missing: terms.parties.filter((p) => !signed.has(p)),
  })
}
