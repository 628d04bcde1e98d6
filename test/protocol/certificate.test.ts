import { describe, expect, it } from 'vitest'
import { buildCertificate, signDocument, termsHash, verifyAuthority, verifyCertificate, type DownVote } from '../../protocol/index.js'
import { alice, bob, carol, dave, mallory, sampleTerms, type Shop, T0 } from './fixtures.js'

const terms = sampleTerms([alice, bob, carol, dave]) // alice's partners: bob, carol, dave; quorum 2
const hash = termsHash(terms)
const vote = (voter: Shop, over: Partial<DownVote> = {}) =>
  signDocument(
    'down-vote',
    { voter: voter.identity.id, origin: alice.identity.id, terms: hash, epoch: 1, time: T0, reason: 'heartbeat-timeout', ...over },
    voter.identity,
  )

describe('quorum certificates', () => {
  it('certifies with a quorum of distinct partners and verifies', () => {
    const cert = buildCertificate(terms, alice.identity.id, 1, [vote(bob), vote(carol)])
    expect(cert.ok).toBe(true)
    if (cert.ok) expect(verifyCertificate(cert.value, terms).ok).toBe(true)
  })

  it("never certifies on one partner's opinion, however often repeated", () => {
    expect(buildCertificate(terms, alice.identity.id, 1, [vote(bob), vote(bob), vote(bob, { time: T0 + 1 })])).toMatchObject({
      ok: false,
      error: { code: 'below-quorum' },
    })
    const forged = { origin: alice.identity.id, terms: hash, epoch: 1, votes: [vote(bob), vote(bob, { time: T0 + 1 })] }
    expect(verifyCertificate(forged, terms).ok).toBe(false)
  })

  it('ignores outsiders, self-votes and votes for another epoch, origin or terms', () => {
    const outsider = vote(mallory)
    const selfVote = signDocument(
      'down-vote',
      { voter: alice.identity.id, origin: alice.identity.id, terms: hash, epoch: 1, time: T0, reason: 'platform-down' },
      alice.identity,
    )
    const wrongEpoch = vote(carol, { epoch: 2 })
    const wrongOrigin = vote(carol, { origin: dave.identity.id })
    const wrongTerms = vote(carol, { terms: termsHash(sampleTerms([alice, bob, carol])) })
    for (const bad of [outsider, selfVote, wrongEpoch, wrongOrigin, wrongTerms]) {
      expect(buildCertificate(terms, alice.identity.id, 1, [vote(bob), bad]).ok).toBe(false)
      expect(verifyCertificate({ origin: alice.identity.id, terms: hash, epoch: 1, votes: [vote(bob), bad] }, terms).ok).toBe(false)
    }
  })

  it('a revoked party votes in no certificate we build and is taken over by nobody; the quorum stays (D94)', () => {
    const carolRevoked = [carol.identity.id]
    expect(buildCertificate(terms, alice.identity.id, 1, [vote(bob), vote(carol)], carolRevoked)).toMatchObject({ ok: false, error: { code: 'below-quorum' } })
    // One another node built before it knew: judged alike everywhere, whenever each node learned.
    const withCarol = buildCertificate(terms, alice.identity.id, 1, [vote(bob), vote(carol)])
    expect(withCarol.ok).toBe(true)
    if (!withCarol.ok) return
    expect(verifyCertificate(withCarol.value, terms, carolRevoked).ok).toBe(true)
    expect(verifyAuthority({ kind: 'certificate', certificate: withCarol.value }, terms, 0, carolRevoked).ok).toBe(true)
    expect(buildCertificate(terms, alice.identity.id, 1, [vote(bob), vote(carol), vote(dave)], carolRevoked).ok).toBe(true)
    const aliceRevoked = [alice.identity.id]
    expect(verifyCertificate(withCarol.value, terms, aliceRevoked)).toMatchObject({ ok: false, error: { code: 'not-a-party' } })
    const request = signDocument('takeover-request', { origin: alice.identity.id, terms: hash, epoch: 1, time: T0, reason: 'platform down' }, alice.identity)
    expect(verifyAuthority({ kind: 'request', request }, terms, 0).ok).toBe(true)
    expect(verifyAuthority({ kind: 'request', request }, terms, 0, aliceRevoked)).toMatchObject({ ok: false, error: { code: 'not-a-party' } })
  })

  it('rejects a certificate with a tampered vote', () => {
    const good = vote(carol)
    const tampered = { ...good, body: { ...good.body, time: T0 + 5 } }
    expect(verifyCertificate({ origin: alice.identity.id, terms: hash, epoch: 1, votes: [vote(bob), tampered] }, terms)).toMatchObject({
      ok: false,
      error: { code: 'bad-signature' },
    })
  })

  it('accepts authority only above the current epoch (fencing)', () => {
    const cert = buildCertificate(terms, alice.identity.id, 1, [vote(bob), vote(carol), vote(dave)])
    expect(cert.ok).toBe(true)
    if (!cert.ok) return
    expect(verifyAuthority({ kind: 'certificate', certificate: cert.value }, terms, 0)).toEqual({ ok: true, value: { origin: alice.identity.id, epoch: 1 } })
    expect(verifyAuthority({ kind: 'certificate', certificate: cert.value }, terms, 1)).toMatchObject({ ok: false, error: { code: 'stale' } })
  })

  it("accepts the origin's own takeover request without votes, but no one else's", () => {
    const request = signDocument('takeover-request', { origin: alice.identity.id, terms: hash, epoch: 3, time: T0, reason: 'platform down' }, alice.identity)
    expect(verifyAuthority({ kind: 'request', request }, terms, 2)).toEqual({ ok: true, value: { origin: alice.identity.id, epoch: 3 } })
    const byBob = { body: request.body, sig: signDocument('takeover-request', { ...request.body, origin: bob.identity.id }, bob.identity).sig }
    expect(verifyAuthority({ kind: 'request', request: byBob }, terms, 2)).toMatchObject({ ok: false, error: { code: 'bad-signature' } })
    const outsider = signDocument('takeover-request', { ...request.body, origin: mallory.identity.id }, mallory.identity)
    expect(verifyAuthority({ kind: 'request', request: outsider }, terms, 2)).toMatchObject({ ok: false, error: { code: 'not-a-party' } })
  })

  it('a certificate under an earlier revision the node holds is judged by those terms; the origin must be a party now (D97)', () => {
    // Revision 1: alice, bob, carol (quorum 2). Revision 2 adds dave with quorum 3.
    const first = sampleTerms([alice, bob, carol])
    const firstHash = termsHash(first)
    const next = sampleTerms([alice, bob, carol, dave], { revision: 2, supersedes: firstHash, quorum: 3 })
    const earlier = (h: string) => (h === firstHash ? first : undefined)
    const old = buildCertificate(first, alice.identity.id, 1, [vote(bob, { terms: firstHash }), vote(carol, { terms: firstHash })])
    expect(old.ok).toBe(true)
    if (!old.ok) return
    // Unknown earlier terms: refused, as before. Known: two votes meet revision 1's quorum.
    expect(verifyCertificate(old.value, next)).toMatchObject({ ok: false, error: { code: 'terms' } })
    expect(verifyCertificate(old.value, next, [], earlier).ok).toBe(true)
    expect(verifyAuthority({ kind: 'certificate', certificate: old.value }, next, 0, [], earlier).ok).toBe(true)
    // Below the quorum of the terms it names, or with a vote under other terms: refused.
    const short = { ...old.value, votes: old.value.votes.slice(0, 1) }
    expect(verifyCertificate(short, next, [], earlier)).toMatchObject({ ok: false, error: { code: 'below-quorum' } })
    const mixed = { ...old.value, votes: [old.value.votes[0], vote(dave)] }
    expect(verifyCertificate(mixed, next, [], earlier).ok).toBe(false)
    // An origin the terms in force no longer name is taken over by nobody.
    const without = sampleTerms([bob, carol, dave], { revision: 2, supersedes: firstHash })
    expect(verifyCertificate(old.value, without, [], earlier)).toMatchObject({ ok: false, error: { code: 'not-a-party' } })
    // The origin's own request under revision 1 still counts under revision 2.
    const request = signDocument(
      'takeover-request',
      { origin: alice.identity.id, terms: firstHash, epoch: 1, time: T0, reason: 'platform down' },
      alice.identity,
    )
    expect(verifyAuthority({ kind: 'request', request }, next, 0)).toMatchObject({ ok: false, error: { code: 'terms' } })
    expect(verifyAuthority({ kind: 'request', request }, next, 0, [], earlier).ok).toBe(true)
  })
})
