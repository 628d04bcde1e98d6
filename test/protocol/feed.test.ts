import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  appendEntry,
  canonicalJson,
  classifyEntry,
  emptyHead,
  entryHash,
  type FeedEntry,
  type FeedRecord,
  type FeedState,
  headAfter,
  readRecords,
  termsHash,
  verifyEntry,
  verifyForkProof,
  verifyRun,
} from '../../protocol/index.js'
import { alice, bob, carol, cny, mallory, random, sampleTerms, T0 } from './fixtures.js'

const TERMS = termsHash(sampleTerms())

function escrow(order: string): FeedRecord {
  return {
    type: 'order.escrowed',
    order,
    sku: 'steam-50',
    qty: 1,
    amount: cny(5_000),
    paidAt: T0,
    buyer: { email: `${order.toLowerCase()}@example.com`, locale: 'zh-CN' },
    claimVerifier: 'x'.repeat(43),
  }
}

function chain(length: number, label = 'chain'): FeedEntry[] {
  const rng = random(label)
  const entries: FeedEntry[] = []
  let head: FeedState = emptyHead(alice.identity.id)
  for (let i = 1; i <= length; i++) {
    const entry = appendEntry({
      identity: alice.identity,
      head,
      time: T0 + i,
      terms: TERMS,
      records: [{ type: 'order.delivered', order: `D-${i}`, time: T0 + i }],
      sealed: { records: [escrow(`A-${i}`)], recipients: [alice.recipient, bob.recipient, carol.recipient], sender: alice.box, random: rng },
    })
    entries.push(entry)
    head = headAfter(entry)
  }
  return entries
}

describe('feed', () => {
  const entries = chain(6)

  it('verifies a chain end to end and reads sealed records as a recipient', () => {
    const run = verifyRun(emptyHead(alice.identity.id), entries)
    expect(run.ok && run.value.head.seq).toBe(6)
    const records = readRecords(entries[0]!, bob.identity.id, bob.box)
    expect(records.ok && records.value.map((r) => r.type)).toEqual(['order.delivered', 'order.escrowed'])
    const outsider = readRecords(entries[0]!, mallory.identity.id, mallory.box)
    expect(outsider.ok && outsider.value.map((r) => r.type)).toEqual(['order.delivered'])
  })

  it('rejects reordering, gaps and a wrong prev hash', () => {
    const head = emptyHead(alice.identity.id)
    expect(verifyRun(head, [entries[1], entries[0]]).ok).toBe(false)
    expect(verifyRun(head, [entries[0], entries[2]]).ok).toBe(false)
    const afterOne = headAfter(entries[0]!)
    expect(classifyEntry(afterOne, entries[3]!)).toEqual({ ok: true, value: { kind: 'gap', afterSeq: 1 } })
    const other = chain(2, 'other-chain')
    expect(classifyEntry(afterOne, other[1]!)).toMatchObject({ ok: false, error: { code: 'bad-chain' } })
  })

  it('rejects any permutation of a run that is not the original order', () => {
    fc.assert(
      fc.property(fc.shuffledSubarray([0, 1, 2, 3, 4, 5], { minLength: 2, maxLength: 6 }), (indexes) => {
        const run = verifyRun(
          emptyHead(alice.identity.id),
          indexes.map((i) => entries[i]),
        )
        const isPrefix = indexes.every((v, i) => v === i)
        expect(run.ok).toBe(isPrefix)
      }),
    )
  })

  it('tells duplicates from forks and makes a portable fork proof', () => {
    const head = headAfter(entries[2]!)
    expect(classifyEntry(head, entries[1]!, entries[1]!)).toEqual({ ok: true, value: { kind: 'duplicate' } })
    const forked = chain(3, 'fork')[1]!
    expect(entryHash(forked)).not.toBe(entryHash(entries[1]!))
    const placed = classifyEntry(head, forked, entries[1]!)
    expect(placed.ok && placed.value.kind).toBe('fork')
    if (placed.ok && placed.value.kind === 'fork') {
      expect(verifyForkProof(JSON.parse(canonicalJson(placed.value.proof))).ok).toBe(true)
    }
    expect(verifyForkProof({ a: entries[1], b: entries[1] }).ok).toBe(false)
    expect(verifyForkProof({ a: entries[1], b: entries[2] }).ok).toBe(false)
  })

  it('rejects an entry offered for another author, and one it cannot place', () => {
    const bobsHead = emptyHead(bob.identity.id)
    expect(classifyEntry(bobsHead, entries[0]!)).toMatchObject({ ok: false, error: { code: 'bad-chain' } })
    expect(classifyEntry(headAfter(entries[3]!), entries[1]!)).toMatchObject({ ok: false, error: { code: 'stale' } })
  })

  it('rejects any one-byte tamper of a sealed, signed entry before opening it', () => {
    const entry = entries[2]!
    const text = new TextEncoder().encode(canonicalJson(entry))
    fc.assert(
      fc.property(fc.nat(text.byteLength - 1), fc.integer({ min: 0x20, max: 0x7e }), (index, byte) => {
        if (text[index] === byte) return
        const bytes = Uint8Array.from(text)
        bytes[index] = byte
        let tampered: unknown
        try {
          tampered = JSON.parse(new TextDecoder().decode(bytes))
        } catch {
          return
        }
        expect(verifyEntry(tampered).ok).toBe(false)
      }),
      { numRuns: 2_000 },
    )
  })

  it('a seq-1 entry must have a null prev and later ones a hash', () => {
    const bad = { ...entries[0]!, body: { ...entries[0]!.body, prev: entryHash(entries[1]!) } }
    expect(verifyEntry(bad)).toMatchObject({ ok: false, error: { code: 'invalid' } })
  })
})
