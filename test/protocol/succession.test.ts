// D99: the revision that hands a party's place to its new identity, and the check a partner's node
// makes before it signs one for its operator: the predecessor's signature, and no other change.
import { describe, expect, it } from 'vitest'
import { signDocument, successionTerms, Terms, termsHash, verifyAgreement, verifySuccession } from '../../protocol/index.js'
import { alice, bob, carol, dave, mallory, sampleTerms, signedAgreement, T0 } from './fixtures.js'

const current = sampleTerms([alice, bob, carol])
const next = successionTerms(current, alice.identity, dave.identity.id, T0 + 1_000)

describe('succession terms (D99)', () => {
  it('put the successor where the predecessor was, in parties and skus, and change nothing else', () => {
    expect(Terms.safeParse(next).success).toBe(true)
    expect(next.parties).toEqual([bob, carol, dave].map((s) => s.identity.id).sort())
    expect(next.skus.map((s) => s.shop)).toEqual(current.skus.map((s) => (s.shop === alice.identity.id ? dave.identity.id : s.shop)))
    expect(next.revision).toBe(current.revision + 1)
    expect(next.supersedes).toBe(termsHash(current))
    expect(next.quorum).toBe(current.quorum)
    expect(next.succession?.body).toEqual({ predecessor: alice.identity.id, successor: dave.identity.id, supersedes: termsHash(current), at: T0 + 1_000 })
    expect(verifySuccession(current, next)).toEqual({ ok: true, value: next.succession?.body })
    // In force once the successor and every other party signed; the predecessor signs only the succession.
    const agreement = signedAgreement(next, [bob, carol, dave])
    expect(verifyAgreement(agreement)).toMatchObject({ ok: true, value: { missing: [] } })
  })

  it('are refused when anything else changed', () => {
    for (const [what, changed] of [
      ['quorum', { ...next, quorum: next.quorum + 1 }],
      ['expiry', { ...next, expiresAt: next.expiresAt + 1 }],
      ['a sku', { ...next, skus: next.skus.slice(1) }],
      ['the revision', { ...next, revision: next.revision + 1 }],
      ['the fee', { ...next, fee: { ...next.fee, bps: next.fee.bps + 1 } }],
    ] as const) {
      const result = verifySuccession(current, changed as Terms)
      expect(result, what).toMatchObject({ ok: false, error: { code: 'invalid' } })
    }
  })

  it('are refused without the predecessor signature, or handing over a place that is not its to give', () => {
    // Mallory signs a succession naming Alice as predecessor: the signature is not Alice's.
    const forged = {
      ...next.succession!,
      sig: signDocument('succession', next.succession!.body, alice.identity).sig.replace(/^./, (c) => (c === 'A' ? 'B' : 'A')),
    }
    expect(verifySuccession(current, { ...next, succession: forged })).toMatchObject({ ok: false, error: { code: 'bad-signature' } })
    // Mallory hands over its own place, which it never had.
    expect(verifySuccession(current, successionTerms(current, mallory.identity, dave.identity.id, T0))).toMatchObject({
      ok: false,
      error: { code: 'not-a-party' },
    })
    // A party cannot be handed another party's place.
    const taken = successionTerms(sampleTerms([alice, bob, carol, dave]), alice.identity, bob.identity.id, T0)
    expect(Terms.safeParse(taken).success).toBe(false)
    // Without a succession there is nothing to verify.
    expect(verifySuccession(current, { ...next, succession: undefined })).toMatchObject({ ok: false })
  })

  it('name the terms they follow: the schema refuses a succession for other terms, or one whose predecessor stays', () => {
    const other = {
      ...next,
      succession: signDocument('succession', { ...next.succession!.body, supersedes: termsHash(sampleTerms([bob, carol, dave])) }, alice.identity),
    }
    expect(Terms.safeParse(other).error?.issues.map((i) => i.path.join('.'))).toContain('succession.body.supersedes')
    const stays = { ...next, parties: [...next.parties, alice.identity.id].sort() }
    expect(Terms.safeParse(stays).error?.issues.map((i) => i.path.join('.'))).toContain('succession.body.predecessor')
  })
})
