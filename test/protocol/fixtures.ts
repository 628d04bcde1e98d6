// Deterministic identities and documents shared by the protocol tests and the vector generator.
import {
  type Agreement,
  type BoxKeyPair,
  boxKeyPairFromSecret,
  deterministicRandom,
  type Identity,
  identityFromSeed,
  type Recipient,
  sha256,
  signTerms,
  type Terms,
  utf8,
} from '../../protocol/index.js'

export const T0 = 1_790_000_000_000 // a fixed "now" for documents in tests and vectors

export interface Shop {
  readonly name: string
  readonly identity: Identity
  readonly box: BoxKeyPair
  readonly recipient: Recipient
}

/** A shop whose keys derive from its name: same name, same keys, on every machine. */
export function shop(name: string): Shop {
  const identity = identityFromSeed(sha256(utf8(`standin test identity ${name}`)))
  const box = boxKeyPairFromSecret(sha256(utf8(`standin test box ${name}`)))
  return { name, identity, box, recipient: { id: identity.id, boxKey: box.publicKey } }
}

export const alice = shop('alice')
export const bob = shop('bob')
export const carol = shop('carol')
export const dave = shop('dave')
export const mallory = shop('mallory')

export const random = (label = 'tests') => deterministicRandom(label)

export function cny(minorUnits: number) {
  return { minorUnits, currency: 'CNY' }
}

export function sampleTerms(parties: readonly Shop[] = [alice, bob, carol], overrides: Partial<Terms> = {}): Terms {
  const ids = parties.map((p) => p.identity.id).sort()
  return {
    protocol: 1,
    id: 'test-federation',
    revision: 1,
    supersedes: null,
    parties: ids,
    skus: [{ shop: alice.identity.id, sku: 'steam-50', allotmentCap: 100, unitValue: cny(5_000) }],
    quorum: 2,
    timing: {
      heartbeatMs: 250,
      suspectAfterMs: 1_000,
      leaseTtlMs: 1_500,
      maxClockSkewMs: 500,
      maxMessageDelayMs: 500,
      takeoverDelayMs: 2_500,
      graceMs: 0,
      claimTimeoutMs: 200,
    },
    limits: {
      maxOrdersPerOutage: 10_000,
      maxValuePerOutage: cny(100_000_00),
      maxOrdersPerHour: 5_000,
      maxValuePerHour: cny(50_000_00),
    },
    fee: { bps: 250, fixed: cny(10) },
    settlement: { currency: 'CNY', periodMs: 7 * 24 * 3600 * 1000, settleThreshold: cny(10_000), creditLimit: cny(500_000) },
    createdAt: T0,
    expiresAt: T0 + 365 * 24 * 3600 * 1000,
    ...overrides,
  }
}

export function signedAgreement(terms: Terms, signers: readonly Shop[]): Agreement {
  return { terms, signatures: signers.map((s) => signTerms(terms, s.identity)) }
}
