import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  canonicalJson,
  claimVerifier,
  sha256,
  STRONG_CLAIM_SECRET_CHARS,
  toBase64url,
  utf8,
  ControlMessage,
  FeedMessage,
  FeedRecord,
  leaseQuorum,
  LIMITS,
  minimumQuorum,
  parseWith,
  rankPartners,
  ShopCard,
  signDocument,
  Terms,
} from '../../protocol/index.js'
import { alice, bob, carol, cny, dave, sampleTerms, T0 } from './fixtures.js'

function issues(input: unknown) {
  const r = Terms.safeParse(input)
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`)
}

describe('terms', () => {
  it('accepts sound terms', () => expect(issues(sampleTerms())).toEqual([]))

  it('enforces takeoverDelay >= leaseTtl + maxClockSkew + maxMessageDelay', () => {
    const t = sampleTerms()
    expect(issues({ ...t, timing: { ...t.timing, takeoverDelayMs: 2_499 } })).toEqual([
      'timing.takeoverDelayMs: must be >= leaseTtlMs + maxClockSkewMs + maxMessageDelayMs',
    ])
  })

  it('never lets one partner certify an origin', () => {
    expect(minimumQuorum(2)).toBe(2)
    expect(minimumQuorum(3)).toBe(2)
    expect(minimumQuorum(5)).toBe(3)
    // Two parties: quorum 2 is allowed and makes certificates impossible (explicit requests only).
    expect(issues(sampleTerms([alice, bob], { quorum: 2 }))).toEqual([])
    expect(issues(sampleTerms([alice, bob], { quorum: 3 }))).toEqual(['quorum: cannot exceed the 1 partners of an origin'])
    expect(leaseQuorum({ parties: ['a', 'b'], quorum: 2 })).toBe(0)
    expect(leaseQuorum({ parties: ['a', 'b', 'c'], quorum: 2 })).toBe(1)
    expect(leaseQuorum({ parties: ['a', 'b', 'c', 'd', 'e'], quorum: 3 })).toBe(2)
    expect(issues(sampleTerms([alice, bob, carol], { quorum: 1 }))).toContain("quorum: must be at least 2 (a majority of an origin's partners, never one)")
  })

  it('refuses creditLimit <= settleThreshold, mixed currencies, unsorted parties and foreign skus', () => {
    const t = sampleTerms()
    expect(issues({ ...t, settlement: { ...t.settlement, creditLimit: cny(10_000) } })).toEqual(['settlement.creditLimit: must exceed settleThreshold'])
    expect(issues({ ...t, fee: { ...t.fee, fixed: { minorUnits: 1, currency: 'USD' } } })).toEqual(['fee.fixed: must be in CNY'])
    expect(issues({ ...t, parties: [...t.parties].reverse() })).toEqual(['parties: must be sorted'])
    expect(issues({ ...t, skus: [{ ...t.skus[0]!, shop: dave.identity.id }] })).toEqual(['skus.0.shop: must be a party'])
    expect(issues({ ...t, extra: true })).toHaveLength(1)
  })
})

describe('documents and messages', () => {
  const escrowed = {
    type: 'order.escrowed',
    order: 'A-1',
    sku: 'steam-50',
    qty: 1,
    amount: cny(5_000),
    paidAt: T0,
    buyer: { email: 'buyer@example.com', locale: 'en' },
    claimVerifier: 'c'.repeat(43),
  }

  it('round-trips records through canonical JSON unchanged', () => {
    const arb = fc.record({
      order: fc.stringMatching(/^[A-Za-z0-9-]{1,40}$/),
      qty: fc.integer({ min: 1, max: LIMITS.maxOrderQty }),
      minor: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
      paidAt: fc.integer({ min: 0, max: 4e12 }),
    })
    fc.assert(
      fc.property(arb, ({ order, qty, minor, paidAt }) => {
        const record = { ...escrowed, order, qty, amount: cny(minor), paidAt }
        const parsed = FeedRecord.parse(JSON.parse(canonicalJson(record)))
        expect(canonicalJson(parsed)).toBe(canonicalJson(record))
      }),
    )
  })

  it('names the field and the reason for bad input', () => {
    expect(parseWith(FeedRecord, { ...escrowed, qty: 0 }, 'record')).toMatchObject({ ok: false, error: { message: expect.stringMatching(/^record: qty: /) } })
    expect(parseWith(FeedRecord, { ...escrowed, amount: { minorUnits: 1.5, currency: 'CNY' } }, 'record')).toMatchObject({
      ok: false,
      error: { message: expect.stringContaining('amount.minorUnits') },
    })
    expect(parseWith(FeedRecord, { ...escrowed, type: 'order.exploded' }, 'record').ok).toBe(false)
    expect(parseWith(FeedRecord, { ...escrowed, order: 'has space' }, 'record').ok).toBe(false)
  })

  it('bounds every list a peer can send', () => {
    const tooMany = Array.from({ length: LIMITS.maxEntriesPerResponse + 1 }, () => ({}))
    expect(FeedMessage.safeParse({ type: 'feed.entries', author: alice.identity.id, entries: tooMany }).success).toBe(false)
    expect(FeedMessage.safeParse({ type: 'feed.get', author: alice.identity.id, afterSeq: 0, limit: LIMITS.maxEntriesPerResponse + 1 }).success).toBe(false)
  })

  it('parses control messages carrying signed documents', () => {
    const heartbeat = signDocument(
      'heartbeat',
      { from: alice.identity.id, to: bob.identity.id, terms: 'a'.repeat(43), epoch: 0, time: T0, platform: 'up', head: { seq: 0, hash: null } },
      alice.identity,
    )
    expect(ControlMessage.safeParse({ type: 'heartbeat', heartbeat }).success).toBe(true)
    expect(ControlMessage.safeParse({ type: 'heartbeat', heartbeat: { ...heartbeat, sig: 'short' } }).success).toBe(false)
  })

  it('validates shop cards', () => {
    const card = {
      id: alice.identity.id,
      name: 'Alice 的卡铺',
      boxKey: 'b'.repeat(43),
      addrs: ['/ip4/127.0.0.1/tcp/4001'],
      claimUrl: 'http://127.0.0.1:8080/claim',
      issuedAt: T0,
      validUntil: T0 + 1,
    }
    expect(ShopCard.safeParse(card).success).toBe(true)
    expect(ShopCard.safeParse({ ...card, validUntil: T0 }).success).toBe(false)
    expect(ShopCard.safeParse({ ...card, id: 'QmNotEd25519' }).success).toBe(false)
    // Buyers are sent to a partner's claim page: only a web address may be one.
    for (const claimUrl of ['javascript:alert(1)', 'data:text/html,x', 'file:///etc/passwd']) {
      const parsed = ShopCard.safeParse({ ...card, claimUrl })
      expect(parsed.success).toBe(false)
      expect(parsed.error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`)).toContain('claimUrl: must be an http or https URL')
    }
    expect(ShopCard.safeParse({ ...card, claimUrl: 'HTTPS://moon.example/claim' }).success).toBe(true)
  })
})

describe('fulfilment helpers', () => {
  it('claim verifiers bind origin, order and secret, for short (scrypt) and long (hash) secrets', async () => {
    for (const secret of ['s3cret', 'a-generated-token-0123456789']) {
      const v = await claimVerifier(alice.identity.id, 'A-1', secret)
      expect(v).toHaveLength(43)
      expect(await claimVerifier(alice.identity.id, 'A-1', `${secret}!`)).not.toBe(v)
      expect(await claimVerifier(bob.identity.id, 'A-1', secret)).not.toBe(v)
      expect(await claimVerifier(alice.identity.id, 'A-2', secret)).not.toBe(v)
      expect(await claimVerifier(alice.identity.id, 'A-1', secret)).toBe(v)
    }
  })

  it('a short secret is verified with scrypt (a guess is costly offline), a generated token with SHA-256', async () => {
    const fast = sha256(utf8(`standin/1/claim\n${alice.identity.id}\nA-1\n123456`))
    expect(await claimVerifier(alice.identity.id, 'A-1', '123456')).not.toBe(toBase64url(fast))
    const token = 'x'.repeat(STRONG_CLAIM_SECRET_CHARS)
    expect(await claimVerifier(alice.identity.id, 'A-1', token)).toBe(toBase64url(sha256(utf8(`standin/1/claim\n${alice.identity.id}\nA-1\n${token}`))))
  })

  it('rendezvous ranking is a permutation, independent of input order', () => {
    const partners = [bob.identity.id, carol.identity.id, dave.identity.id]
    fc.assert(
      fc.property(fc.stringMatching(/^[A-Z0-9-]{1,20}$/), fc.shuffledSubarray(partners, { minLength: 3, maxLength: 3 }), (order, shuffled) => {
        const ranked = rankPartners(alice.identity.id, order, shuffled)
        expect([...ranked].sort()).toEqual([...partners].sort())
        expect(ranked).toEqual(rankPartners(alice.identity.id, order, partners))
      }),
    )
  })
})
