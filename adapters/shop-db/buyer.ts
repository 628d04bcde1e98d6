// The buyer's side of a shop order, the same rules for every database adapter: the claim secret
// (the query password the buyer chose, or one derived from the order number) and an email address
// only when the contact is one.
import { createHmac } from 'node:crypto'
import { z } from 'zod'

/** Length of a derived claim secret (base64url characters, 132 bits). */
const DERIVED_SECRET_CHARS = 22
/** Longest query password taken as the claim secret. */
const MAX_PASSWORD_CHARS = 128
const Email = z.string().max(254).email()

/**
 * The order's query password when the buyer chose one; else HMAC-SHA256(claimKey,
 * "standin/<shop>/claim\n" + order number), so resubmissions stay identical. The buyer does not
 * know a derived secret: such orders reach the buyer by email only.
 */
export function claimSecret(password: string | null, claimKey: string, shop: string, orderNo: string): { secret: string; derived: boolean } {
  const typed = password?.trim() ?? ''
  if (typed.length > 0 && typed.length <= MAX_PASSWORD_CHARS) return { secret: typed, derived: false }
  const mac = createHmac('sha256', claimKey).update(`standin/${shop}/claim\n${orderNo}`).digest('base64url')
  return { secret: mac.slice(0, DERIVED_SECRET_CHARS), derived: true }
}

/** The contact if it is an email address, else null; `given` says whether there was any contact. */
export function emailOf(contact: string | null): { email: string | null; given: boolean } {
  const text = contact?.trim() ?? ''
  return { email: Email.safeParse(text).success ? text : null, given: text !== '' }
}
