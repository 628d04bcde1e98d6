// The simulator's cheap signatures: still unforgeable inside the simulation, never on a live node.
import { afterEach, describe, expect, it } from 'vitest'
import { signatureSchemeName, signDocument, termsHash, verifyDocument } from '../../protocol/index.js'
import { simulatedSignatures, useSignatureScheme } from '../../protocol/simulation-hooks.js'
import { startNode } from '../../node/node.js'
import { alice, bob, mallory, sampleTerms, T0 } from './fixtures.js'

const heartbeat = (from = alice) =>
  signDocument(
    'heartbeat',
    { from: from.identity.id, to: bob.identity.id, terms: termsHash(sampleTerms()), epoch: 0, time: T0, platform: 'up', head: { seq: 0, hash: null } },
    from.identity,
  )

let restore: () => void = () => undefined
afterEach(() => restore())

describe('simulated signatures', () => {
  it('verify for registered signers and reject forgeries, other signers and tampering', () => {
    restore = useSignatureScheme(simulatedSignatures([alice.identity, bob.identity]))
    expect(signatureSchemeName()).toBe('simulated-hmac-sha512')
    const signed = heartbeat()
    expect(verifyDocument('heartbeat', signed).ok).toBe(true)
    // Mallory (not registered) cannot sign as herself, nor reuse Alice's signature on other bytes.
    expect(verifyDocument('heartbeat', heartbeat(mallory)).ok).toBe(false)
    expect(verifyDocument('heartbeat', { ...signed, body: { ...signed.body, epoch: 1 } }).ok).toBe(false)
    const bobsSig = heartbeat(bob).sig
    expect(verifyDocument('heartbeat', { ...signed, sig: bobsSig }).ok).toBe(false)
  })

  it('are worthless once Ed25519 is back: a simulated signature never verifies for real', () => {
    restore = useSignatureScheme(simulatedSignatures([alice.identity]))
    const simulated = heartbeat()
    restore()
    expect(signatureSchemeName()).toBe('ed25519')
    expect(verifyDocument('heartbeat', simulated).ok).toBe(false)
    expect(verifyDocument('heartbeat', heartbeat()).ok).toBe(true)
  })

  it('stop a live node from starting while they are in use', async () => {
    restore = useSignatureScheme(simulatedSignatures([alice.identity]))
    await expect(startNode('/nonexistent/standin-datadir')).rejects.toThrow(/Ed25519/)
  })
})
