import fc from 'fast-check'
import nacl from 'tweetnacl'
import { describe, expect, it } from 'vitest'
import {
  canonicalJson,
  fromBase64url,
  identityFromSeed,
  secretKeyBytes,
  shopIdFromPublicKey,
  signDocument,
  signingBytes,
  signTerms,
  termsHash,
  verifyAgreement,
  verifyDocument,
} from '../../protocol/index.js'
import { generateKeyPairFromSeed } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { alice, bob, carol, mallory, sampleTerms, signedAgreement, T0 } from './fixtures.js'

const heartbeat = () =>
  signDocument(
    'heartbeat',
    {
      from: alice.identity.id,
      to: bob.identity.id,
      terms: termsHash(sampleTerms()),
      epoch: 0,
      time: T0,
      platform: 'up',
      head: { seq: 0, hash: null },
    },
    alice.identity,
  )

/** Replaces one byte of the canonical text; returns undefined when the result is not JSON. */
function tamper(doc: unknown, index: number, byte: number): unknown {
  const bytes = new TextEncoder().encode(canonicalJson(doc))
  const i = index % bytes.byteLength
  if (bytes[i] === byte) return undefined
  bytes[i] = byte
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes))
  } catch {
    return undefined
  }
}

describe('identity', () => {
  it('derives the libp2p PeerId of the same Ed25519 key', async () => {
    const seed = new Uint8Array(32).fill(7)
    const ours = identityFromSeed(seed)
    const theirs = await generateKeyPairFromSeed('Ed25519', seed)
    expect(ours.id).toBe(peerIdFromPrivateKey(theirs).toString())
    expect(shopIdFromPublicKey(ours.publicKey)).toBe(ours.id)
    expect(ours.id.startsWith('12D3KooW')).toBe(true)
  })

  it('signs exactly as tweetnacl does (node:crypto is only faster)', () => {
    const message = new TextEncoder().encode('standin')
    const sig = signDocument('heartbeat', heartbeat().body, alice.identity).sig
    const naclSig = nacl.sign.detached(signingBytes('heartbeat', heartbeat().body), secretKeyBytes(alice.identity))
    expect(fromBase64url(sig)).toEqual(naclSig)
    expect(nacl.sign.detached.verify(message, nacl.sign.detached(message, secretKeyBytes(alice.identity)), alice.identity.publicKey)).toBe(true)
  })
})

describe('signed documents', () => {
  it('verifies what it signed', () => {
    const doc = heartbeat()
    const verified = verifyDocument('heartbeat', doc)
    expect(verified.ok).toBe(true)
  })

  it('is domain-separated: a signature for one type never verifies as another', () => {
    const doc = heartbeat()
    expect(verifyDocument('lease', doc).ok).toBe(false)
    const asLease = { body: { grantor: alice.identity.id, origin: bob.identity.id, terms: doc.body.terms, epoch: 0, time: T0, untilMs: T0 }, sig: doc.sig }
    expect(verifyDocument('lease', asLease)).toMatchObject({ ok: false, error: { code: 'bad-signature' } })
  })

  it('refuses to sign for someone else', () => {
    expect(() => signDocument('heartbeat', heartbeat().body, bob.identity)).toThrow(/signer/)
  })

  it('rejects a body whose named signer did not sign', () => {
    const doc = heartbeat()
    const forged = {
      body: { ...doc.body, from: mallory.identity.id },
      sig: signDocument('heartbeat', { ...doc.body, from: mallory.identity.id }, mallory.identity).sig,
    }
    expect(verifyDocument('heartbeat', forged).ok).toBe(true) // mallory may sign her own heartbeat…
    expect(verifyDocument('heartbeat', { body: doc.body, sig: forged.sig })).toMatchObject({ ok: false, error: { code: 'bad-signature' } }) // …not alice's
  })

  it('rejects unknown fields instead of ignoring them', () => {
    const doc = heartbeat()
    expect(verifyDocument('heartbeat', { ...doc, extra: 1 })).toMatchObject({ ok: false, error: { code: 'invalid' } })
    expect(verifyDocument('heartbeat', { body: { ...doc.body, extra: 1 }, sig: doc.sig })).toMatchObject({ ok: false, error: { code: 'invalid' } })
  })

  it('names the field and the reason when a body is malformed', () => {
    const doc = heartbeat()
    const result = verifyDocument('heartbeat', { body: { ...doc.body, epoch: -1 }, sig: doc.sig })
    expect(result.ok).toBe(false)
    if (!result.ok) expect(result.error.message).toMatch(/heartbeat\.body: epoch: /)
  })

  it('rejects any one-byte tamper of a signed document', () => {
    const doc = heartbeat()
    fc.assert(
      fc.property(fc.nat(), fc.integer({ min: 0x20, max: 0x7e }), (index, byte) => {
        const tampered = tamper(doc, index, byte)
        if (tampered === undefined) return
        expect(verifyDocument('heartbeat', tampered).ok).toBe(false)
      }),
      { numRuns: 3_000 },
    )
  })
})

describe('agreements', () => {
  const terms = sampleTerms()

  it('is in force only when every party signed', () => {
    const partial = verifyAgreement(signedAgreement(terms, [alice, bob]))
    expect(partial.ok && partial.value.missing).toEqual([carol.identity.id])
    const full = verifyAgreement(signedAgreement(terms, [alice, bob, carol]))
    expect(full.ok && full.value.missing).toEqual([])
    expect(full.ok && full.value.hash).toBe(termsHash(terms))
  })

  it('rejects outsiders, double signatures and signatures over other terms', () => {
    const outsider = {
      terms,
      signatures: [...signedAgreement(terms, [alice]).signatures, { signer: mallory.identity.id, sig: signedAgreement(terms, [alice]).signatures[0]!.sig }],
    }
    expect(verifyAgreement(outsider)).toMatchObject({ ok: false, error: { code: 'not-a-party' } })
    const twice = { terms, signatures: [signTerms(terms, alice.identity), signTerms(terms, alice.identity)] }
    expect(verifyAgreement(twice)).toMatchObject({ ok: false, error: { code: 'invalid' } })
    const other = sampleTerms(undefined, { id: 'other' })
    expect(verifyAgreement({ terms, signatures: [signTerms(other, alice.identity)] })).toMatchObject({ ok: false, error: { code: 'bad-signature' } })
  })

  it('rejects any one-byte tamper of signed terms', () => {
    const agreement = signedAgreement(terms, [alice, bob, carol])
    fc.assert(
      fc.property(fc.nat(), fc.integer({ min: 0x20, max: 0x7e }), (index, byte) => {
        const tampered = tamper(agreement, index, byte)
        if (tampered === undefined) return
        const result = verifyAgreement(tampered)
        // A tamper may only ever remove a signature's validity, never produce a complete agreement.
        expect(result.ok && result.value.missing.length === 0).toBe(false)
      }),
      { numRuns: 2_000 },
    )
  })
})
