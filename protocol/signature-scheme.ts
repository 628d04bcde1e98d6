// The signature primitive behind every signed document. Ed25519 (node:crypto) is the protocol; the
// deterministic simulator may swap in a cheaper 64-byte MAC so it can run 100,000 seeds (Ed25519
// verification is ≈70 % of a simulated seed). Live nodes refuse to start under anything but Ed25519
// (node/node.ts asserts it), and only test/ may import protocol/simulation-hooks.ts that swaps it.
import { sign as edSign, verify as edVerify } from 'node:crypto'
import { type Identity, verifyKeyOfShop } from './identity.js'
import type { ShopId } from './schemas/primitives.js'

export interface SignatureScheme {
  readonly name: string
  sign(identity: Identity, message: Uint8Array): Uint8Array
  /** False for any signature that does not verify, including malformed ones; never throws. */
  verify(signer: ShopId, message: Uint8Array, sig: Uint8Array): boolean
}

export const ED25519: SignatureScheme = {
  name: 'ed25519',
  sign: (identity, message) => new Uint8Array(edSign(null, message, identity.privateKeyObject)),
  verify: (signer, message, sig) => {
    try {
      return sig.byteLength === 64 && edVerify(null, message, verifyKeyOfShop(signer), sig)
    } catch {
      return false
    }
  },
}

/** The scheme in use; a holder object so the simulation hook can swap it without an import cycle. */
export const signatureSchemeInUse: { current: SignatureScheme } = { current: ED25519 }

/** Live nodes check this is 'ed25519' before they start. */
export function signatureSchemeName(): string {
  return signatureSchemeInUse.current.name
}
