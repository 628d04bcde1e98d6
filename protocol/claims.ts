// Buyer claim secrets and the rendezvous ranking that decides which partner fulfils an order.
import { concatBytes, sha256, toBase64url, utf8 } from './encoding.js'
import type { ShopId } from './schemas/primitives.js'

/**
 * What the origin escrows instead of the buyer's claim secret. The claim page recomputes it from
 * the secret the buyer types; the secret itself never leaves the shop.
 */
export function claimVerifier(origin: ShopId, order: string, secret: string): string {
  return toBase64url(sha256(utf8(`standin/1/claim\n${origin}\n${order}\n${secret}`)))
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
