// A shop's identity key handing over to a new one (D99). The revision that does it is the terms in
// force with one party's id replaced by its successor's, wherever it appears (parties, skus), and
// nothing else changed; the predecessor's signed `succession` rides in it, and the successor signs
// it as a party. A partner's node checks exactly that before it signs one for its operator.
import { hashOf } from './encoding.js'
import { fail, ok, type Result } from './errors.js'
import type { Identity } from './identity.js'
import type { Succession, Terms } from './schemas/agreement.js'
import type { ShopId } from './schemas/primitives.js'
import type { Signed } from './schemas/signed.js'
import { signDocument, termsHash, verifyDocument } from './sign.js'

/**
 * The next revision of `current` before its changes: the revision counted on, `supersedes` its
 * hash, made at `createdAt`. A succession belongs to the one revision that carries it (it names
 * the terms it follows), so the next revision of a handover starts without it.
 */
export function nextRevision(current: Terms, createdAt: number): Terms {
  const { succession: _once, ...carried } = current
  return { ...carried, revision: current.revision + 1, supersedes: termsHash(current), createdAt }
}

/** `current` with `predecessor` replaced by `successor`: the one change a succession revision makes. */
function handedOver(current: Terms, succession: Signed<Succession>, createdAt: number): Terms {
  const { predecessor, successor } = succession.body
  return {
    ...nextRevision(current, createdAt),
    parties: current.parties.map((p) => (p === predecessor ? successor : p)).sort(),
    skus: current.skus.map((s) => (s.shop === predecessor ? { ...s, shop: successor } : s)),
    succession,
  }
}

/** The revision after `current` that hands `predecessor`'s place to `successor`, its succession signed by the predecessor. */
export function successionTerms(current: Terms, predecessor: Identity, successor: ShopId, nowMs: number): Terms {
  const succession = signDocument('succession', { predecessor: predecessor.id, successor, supersedes: termsHash(current), at: nowMs }, predecessor)
  return handedOver(current, succession, nowMs)
}

/**
 * The handover `next` makes, if it is a succession revision of `current`: the predecessor's
 * signature verifies, the predecessor is a party of `current` and the successor is not, and
 * nothing but the party's id changed. (The successor's consent is its signature on `next`.)
 */
export function verifySuccession(current: Terms, next: Terms): Result<Succession> {
  if (!next.succession) return fail('invalid', 'terms: no succession')
  const checked = verifyDocument('succession', next.succession)
  if (!checked.ok) return checked
  const { predecessor, successor } = checked.value.body
  if (!current.parties.includes(predecessor)) return fail('not-a-party', `succession.body.predecessor: ${predecessor} is not a party to the terms in force`)
  if (current.parties.includes(successor)) return fail('invalid', `succession.body.successor: ${successor} is a party already`)
  if (hashOf(handedOver(current, next.succession, next.createdAt)) !== termsHash(next))
    return fail('invalid', 'terms: a succession revision may change nothing but the id of the party it hands over')
  return ok(checked.value.body)
}
