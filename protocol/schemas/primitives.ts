// Building blocks every document uses. Signed documents are strict objects without defaults or
// transforms, so the parsed value re-encodes to exactly the bytes that were signed.
import { z } from 'zod'
import { LIMITS } from '../limits.js'

/** A libp2p PeerId of an Ed25519 key, base58btc ("12D3KooW…"): the shop's identity. */
export const ShopId = z.string().regex(/^12D3KooW[1-9A-HJ-NP-Za-km-z]{44}$/, 'must be the PeerId of an Ed25519 key (12D3KooW…)')
export type ShopId = z.infer<typeof ShopId>

const B64URL = /^[A-Za-z0-9_-]*$/

/** base64url text of exactly `byteLength` bytes (unpadded). */
export function bytesB64(byteLength: number) {
  const chars = Math.ceil((byteLength * 4) / 3)
  return z.string().length(chars, `must be ${byteLength} bytes as unpadded base64url (${chars} characters)`).regex(B64URL, 'must be base64url')
}

/** base64url text of at most `maxChars` characters. */
export function bytesB64Max(maxChars: number) {
  return z.string().max(maxChars).regex(B64URL, 'must be base64url')
}

export const Hash = bytesB64(32).describe('SHA-256, base64url')
export type Hash = z.infer<typeof Hash>
export const Signature = bytesB64(64).describe('Ed25519 signature, base64url')
export type Signature = z.infer<typeof Signature>
export const BoxPublicKey = bytesB64(32).describe('X25519 public key, base64url')
export type BoxPublicKey = z.infer<typeof BoxPublicKey>

/** Short opaque identifier: order ids, skus, allotment ids, key ids. */
export const Id = z
  .string()
  .min(1)
  .max(LIMITS.maxIdChars)
  .regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces')
export type Id = z.infer<typeof Id>

// RFC 8785 canonical JSON cannot encode a lone UTF-16 surrogate, though JSON text can ("\ud800"):
// a document holding one could be neither signed nor verified, and signing it would throw. Free
// text refuses it here, as a schema error like any other.
const WELL_FORMED = /^(?:[^\ud800-\udfff]|[\ud800-\udbff][\udc00-\udfff])*$/

/** A string canonical JSON can encode: well-formed UTF-16, no lone surrogates. */
export const WellFormedString = z.string().regex(WELL_FORMED, 'must be well-formed Unicode (no lone surrogates)')

export const Text = WellFormedString.max(LIMITS.maxTextChars)
export const Url = WellFormedString.max(LIMITS.maxUrlChars).url()
/** A page a browser may be sent to: http or https only (never javascript:, data: or file:). */
export const WebUrl = Url.refine((url) => /^https?:\/\//i.test(url), { message: 'must be an http or https URL' })

/** Milliseconds since the Unix epoch. */
export const TimeMs = z.number().int().nonnegative().max(8.64e15)
export type TimeMs = z.infer<typeof TimeMs>
export const DurationMs = z
  .number()
  .int()
  .nonnegative()
  .max(365 * 24 * 3600 * 1000)
export type DurationMs = z.infer<typeof DurationMs>

export const Seq = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER)
export const Epoch = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER)

export const MinorUnits = z.number().int().nonnegative().max(LIMITS.maxMinorUnits)
export const Currency = z.string().regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code such as CNY')

/** Money is always integer minor units (fen, cents) with its currency. */
export const Money = z.strictObject({ minorUnits: MinorUnits, currency: Currency })
export type Money = z.infer<typeof Money>

export const Multiaddr = WellFormedString.min(1).max(LIMITS.maxUrlChars).startsWith('/')

/** A signature by a named shop, as carried by multi-party documents. */
export const PartySignature = z.strictObject({ signer: ShopId, sig: Signature })
export type PartySignature = z.infer<typeof PartySignature>
