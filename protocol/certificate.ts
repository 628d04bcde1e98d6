// Authority to take over an origin (docs/design.md §2, invariant 4): a quorum of its partners' signed down-votes for
// one epoch under one terms hash, or the origin's own signed takeover request.
import { fail, ok, type Result } from './errors.js'
import { Authority, Certificate, type DownVote } from './schemas/control.js'
import type { Terms } from './schemas/agreement.js'
import type { ShopId } from './schemas/primitives.js'
import type { Signed } from './schemas/signed.js'
import { termsHash, verifyDocument } from './sign.js'
import { formatZodError } from './validate.js'

/**
 * `revoked`: parties a quorum revoked (D94). A node that knows builds no certificate with their
 * votes, and takes none of them over; the quorum stays the terms' (a revocation never lowers it).
 */
function checkVote(vote: DownVote, origin: ShopId, epoch: number, hash: string, terms: Terms, revoked: readonly ShopId[]): string | null {
  if (vote.origin !== origin) return `votes for ${vote.origin}, not ${origin}`
  if (vote.epoch !== epoch) return `votes for epoch ${vote.epoch}, not ${epoch}`
  if (vote.terms !== hash) return 'votes under other terms'
  if (!terms.parties.includes(vote.voter)) return `${vote.voter} is not a party`
  if (revoked.includes(vote.voter)) return `${vote.voter} is revoked`
  if (vote.voter === origin) return 'the origin cannot vote itself down'
  return null
}

/** Collects the valid, distinct votes for (origin, epoch) and certifies once they reach quorum. */
export function buildCertificate(
  terms: Terms,
  origin: ShopId,
  epoch: number,
  votes: readonly Signed<DownVote>[],
  revoked: readonly ShopId[] = [],
): Result<Certificate> {
  const hash = termsHash(terms)
  const byVoter = new Map<ShopId, Signed<DownVote>>()
  for (const vote of votes) {
    const verified = verifyDocument('down-vote', vote)
    if (!verified.ok) continue
    if (checkVote(verified.value.body, origin, epoch, hash, terms, revoked) !== null) continue
    if (!byVoter.has(verified.value.body.voter)) byVoter.set(verified.value.body.voter, verified.value)
  }
  if (byVoter.size < terms.quorum) return fail('below-quorum', `${byVoter.size} valid votes for ${origin} at epoch ${epoch}; quorum is ${terms.quorum}`)
  const chosen = [...byVoter.values()].sort((a, b) => (a.body.voter < b.body.voter ? -1 : 1)).slice(0, terms.quorum)
  return ok({ origin, terms: hash, epoch, votes: chosen })
}

/** Earlier revisions of the terms the node holds, by hash (D97): none by default. */
export type EarlierTerms = (hash: string) => Terms | undefined
const NO_EARLIER: EarlierTerms = () => undefined

/**
 * A certificate under the terms in force, or under an earlier revision the node holds (D97): a
 * takeover certified just before a revision took force stays authority, or its origin would never
 * learn of it and never hand back (seed ci-2). It is judged by the terms it names, their parties
 * and quorum, so every node judges it alike whenever it learned, before the revision or after (a
 * revision that raised the quorum must not strand a takeover its partners began: seed ci-8). Its
 * origin must be a party now.
 */
export function verifyCertificate(raw: unknown, terms: Terms, revoked: readonly ShopId[] = [], earlier: EarlierTerms = NO_EARLIER): Result<Certificate> {
  const parsed = Certificate.safeParse(raw)
  if (!parsed.success) return fail('invalid', `certificate: ${formatZodError(parsed.error)}`)
  const cert = parsed.data
  const under = cert.terms === termsHash(terms) ? terms : earlier(cert.terms)
  if (!under) return fail('terms', 'certificate is under other terms')
  const hash = cert.terms
  if (!terms.parties.includes(cert.origin) || !under.parties.includes(cert.origin)) return fail('not-a-party', `origin ${cert.origin} is not a party`)
  if (revoked.includes(cert.origin)) return fail('not-a-party', `origin ${cert.origin} is revoked`)
  const voters = new Set<ShopId>()
  for (const [i, vote] of cert.votes.entries()) {
    const verified = verifyDocument('down-vote', vote)
    if (!verified.ok) return fail(verified.error.code, `certificate.votes.${i}: ${verified.error.message}`)
    // A revoked voter's vote in a certificate another node built before it knew of the revocation
    // still counts: every node judges a certificate alike, whenever it learned (D94).
    const problem = checkVote(verified.value.body, cert.origin, cert.epoch, hash, under, [])
    if (problem) return fail(problem.includes('party') ? 'not-a-party' : 'invalid', `certificate.votes.${i}: ${problem}`)
    if (voters.has(verified.value.body.voter)) return fail('invalid', `certificate.votes.${i}: ${verified.value.body.voter} voted twice`)
    voters.add(verified.value.body.voter)
  }
  if (voters.size < under.quorum) return fail('below-quorum', `${voters.size} votes; quorum is ${under.quorum}`)
  return ok(cert)
}

/**
 * Checks authority for taking `origin` over at a new epoch. `currentEpoch` is the highest epoch we
 * know for the origin: authority for it or anything older is stale (fencing, docs/design.md §2, invariant 5).
 */
export function verifyAuthority(
  raw: unknown,
  terms: Terms,
  currentEpoch: number,
  revoked: readonly ShopId[] = [],
  earlier: EarlierTerms = NO_EARLIER,
): Result<{ origin: ShopId; epoch: number }> {
  const parsed = Authority.safeParse(raw)
  if (!parsed.success) return fail('invalid', `authority: ${formatZodError(parsed.error)}`)
  let origin: ShopId
  let epoch: number
  if (parsed.data.kind === 'certificate') {
    const cert = verifyCertificate(parsed.data.certificate, terms, revoked, earlier)
    if (!cert.ok) return cert
    origin = cert.value.origin
    epoch = cert.value.epoch
  } else {
    const request = verifyDocument('takeover-request', parsed.data.request)
    if (!request.ok) return request
    // The origin's own word, under the terms in force or an earlier revision (D97), a party now.
    if (request.value.body.terms !== termsHash(terms) && !earlier(request.value.body.terms)) return fail('terms', 'takeover request is under other terms')
    if (!terms.parties.includes(request.value.body.origin)) return fail('not-a-party', 'requesting origin is not a party')
    if (revoked.includes(request.value.body.origin)) return fail('not-a-party', 'requesting origin is revoked')
    origin = request.value.body.origin
    epoch = request.value.body.epoch
  }
  if (epoch <= currentEpoch) return fail('stale', `epoch ${epoch} is not above the current epoch ${currentEpoch}`)
  return ok({ origin, epoch })
}
