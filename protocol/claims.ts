// Buyer claim secrets and the rendezvous ranking that decides which partner fulfils an order.
import { scrypt } from 'node:crypto'
import { concatBytes, sha256, toBase64url, utf8 } from './encoding.js'
import type { ShopId } from './schemas/primitives.js'

/**
 * A claim secret this long or longer is taken for a generated token (the generic shop makes 22
 * base64url characters, 128 bits): guessing it is hopeless, and a fast hash verifies it. Shorter
 * ones are buyer-chosen query passwords (dujiaoka's search_pwd), often a few digits.
 */
export const STRONG_CLAIM_SECRET_CHARS = 20

/**
 * scrypt for short secrets. Every partner holds every escrowed order's verifier, so a partner
 * could test guesses of a short password offline and read the keys on another partner's claim
 * page: each guess costs 16 MiB and ≈30 ms of one core here (2^14 × 8 × 128 bytes), so a six-digit
 * password costs hours instead of a millisecond. Protocol constants: every party computes the
 * same verifier (changing them is a protocol version change).
 */
export const CLAIM_KDF = { logN: 14, r: 8, p: 1, keyBytes: 32, maxMemoryBytes: 64 * 1024 * 1024 } as const

/**
 * What the origin escrows instead of the buyer's claim secret. The claim page recomputes it from
 * the secret the buyer types; the secret itself never leaves the shop. Asynchronous: scrypt runs
 * on libuv's thread pool, not on the event loop.
 */
export function claimVerifier(origin: ShopId, order: string, secret: string): Promise<string> {
  const input = utf8(`standin/1/claim\n${origin}\n${order}\n${secret}`)
  if (secret.length >= STRONG_CLAIM_SECRET_CHARS) return Promise.resolve(toBase64url(sha256(input)))
  const salt = utf8(`standin/1/claim-kdf\n${origin}\n${order}`)
  return new Promise((resolve, reject) => {
    scrypt(input, salt, CLAIM_KDF.keyBytes, { N: 2 ** CLAIM_KDF.logN, r: CLAIM_KDF.r, p: CLAIM_KDF.p, maxmem: CLAIM_KDF.maxMemoryBytes }, (err, key) => {
      if (err) reject(err)
      else resolve(toBase64url(new Uint8Array(key)))
    })
  })
}

/**
 * Rendezvous (highest-random-weight) order of candidate partners for an order: every node computes
 * the same ranking from the same inputs, and removing a partner only moves the orders it had.
 * Weight = SHA-256("standin/1/rank\n" + origin + "\n" + order + "\n" + partner), highest first.
 */
export function rankPartners(origin: ShopId, order: string, candidates: readonly ShopId[]): ShopId[] {
  const weighted = candidates.map((partner) => ({
    partner,
    weight: Buffer.from(sha256(concatBytes(utf8(`standin/1/rank\n${origin}\n${order}\n`), utf8(partner)))).toString('hex'),
  }))
  weighted.sort((a, b) => (a.weight < b.weight ? 1 : a.weight > b.weight ? -1 : a.partner < b.partner ? -1 : 1))
  return weighted.map((w) => w.partner)
}

/**
 * How long a claim holds its orders for lower-ranked partners, from when they first see it. An
 * honest claimant claims only what it has free keys for and reserves them within a step, so its
 * receipts arrive well within this; a claimant that never delivers (hostile, or stuck) holds the
 * orders no longer. A claimant's later claims for the same orders in the same epoch extend nothing.
 */
export function claimTtlMs(timing: { readonly suspectAfterMs: number; readonly takeoverDelayMs: number }): number {
  return 2 * (timing.suspectAfterMs + timing.takeoverDelayMs)
}
