// For the deterministic simulator only (test/sim): swaps the signature primitive for a keyed MAC.
// dependency-cruiser forbids importing this module outside test/, and live nodes assert Ed25519.
import { createHmac, timingSafeEqual } from 'node:crypto'
import type { Identity } from './identity.js'
import type { ShopId } from './schemas/primitives.js'
import { ED25519, type SignatureScheme, signatureSchemeInUse } from './signature-scheme.js'

/**
 * HMAC-SHA512 under each identity's seed: 64 bytes like Ed25519, unforgeable by any engine that
 * does not hold the signer's seed, and ≈30× cheaper. Verifying needs the seed, so only identities
 * registered here verify; any other signer's signature is rejected.
 */
export function simulatedSignatures(identities: readonly Identity[]): SignatureScheme {
  const seeds = new Map<ShopId, Uint8Array>(identities.map((i) => [i.id, i.seed]))
  const mac = (seed: Uint8Array, message: Uint8Array) => new Uint8Array(createHmac('sha512', seed).update(message).digest())
  return {
    name: 'simulated-hmac-sha512',
    sign: (identity, message) => mac(identity.seed, message),
    verify: (signer, message, sig) => {
      const seed = seeds.get(signer)
      return seed !== undefined && sig.byteLength === 64 && timingSafeEqual(mac(seed, message), sig)
    },
  }
}

/** Puts `scheme` in use; the returned function restores Ed25519. */
export function useSignatureScheme(scheme: SignatureScheme): () => void {
  signatureSchemeInUse.current = scheme
  return () => {
    signatureSchemeInUse.current = ED25519
  }
}
