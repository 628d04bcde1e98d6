// Books at the unit level: idempotent booking, typed conflicts, and terms changes (a receipt is
// judged by the terms it names, not by today's).
import { describe, expect, it } from 'vitest'
import { type BookLine, bookLineOf, Books, ConflictingReceiptError } from '../../node/core/state/ledger.js'
import { CorruptRowError } from '../../node/core/state/rows.js'
import { Tx } from '../../node/core/state/tx.js'
import { Federation } from '../../node/core/federation.js'
import type { Logger } from '../../node/core/ports.js'
import { LevelStore } from '../../node/store/level-store.js'
import { type Receipt, signDocument, termsHash, toBase64url } from '../../protocol/index.js'
import { alice, bob, carol, cny, sampleTerms, signedAgreement, T0 } from '../protocol/fixtures.js'

const silent: Logger = { debug() {}, info() {}, warn() {}, error() {} }
const cards = [alice, bob, carol].map((s) =>
  signDocument(
    'shop-card',
    { id: s.identity.id, name: s.name, boxKey: toBase64url(s.box.publicKey), addrs: [], claimUrl: null, issuedAt: T0, validUntil: T0 + 1e10 },
    s.identity,
  ),
)

function receipt(order: string, terms: string, minorUnits = 10_000): Receipt {
  return {
    type: 'receipt',
    origin: alice.identity.id,
    order,
    sku: 'steam-50',
    allotment: 'al-1',
    keyIds: [`k-${order}`],
    channel: 'claim-page',
    epoch: 1,
    time: T0,
    amount: cny(minorUnits),
    unitValue: cny(5_000),
    terms,
  }
}

describe('books', () => {
  const v1 = sampleTerms([alice, bob, carol], { fee: { bps: 100, fixed: cny(0) } })
  const v2 = sampleTerms([alice, bob, carol], { revision: 2, supersedes: termsHash(v1), fee: { bps: 300, fixed: cny(5) } })

  async function books(): Promise<Books> {
    const federation = new Federation(bob.identity.id, bob.box.publicKey, signedAgreement(v2, [alice, bob, carol]), cards, [
      signedAgreement(v1, [alice, bob, carol]),
    ])
    return new Books({ me: bob.identity.id, store: await LevelStore.openInMemory(), federation, logger: silent })
  }

  it('judges each receipt by the terms it names (terms changes apply from their position on)', async () => {
    const b = await books()
    const tx = new Tx()
    await b.bookReceipts(tx, [receipt('old', termsHash(v1)), receipt('new', termsHash(v2))], bob.identity.id)
    const lines = tx.ops.filter((o) => o.type === 'put' && o.key.startsWith('l!')).map((o) => (o.type === 'put' ? bookLineOf(o.key, o.value).line : undefined))
    expect(lines.find((l) => l?.order === 'old')?.amount.minorUnits).toBe(100) // 1 % of 100.00
    expect(lines.find((l) => l?.order === 'new')?.amount.minorUnits).toBe(305) // 3 % + 0.05
  })

  it('stores lines as compact rows, still reads rows stored as objects, and names a malformed row', async () => {
    const b = await books()
    const tx = new Tx()
    await b.bookReceipts(tx, [receipt('o-1', termsHash(v2))], bob.identity.id)
    const put = tx.ops.find((o) => o.type === 'put' && o.key.startsWith('l!'))
    if (put?.type !== 'put') throw new Error('no line booked')
    expect(Array.isArray(put.value)).toBe(true)
    const book: BookLine = bookLineOf(put.key, put.value)
    expect(book).toMatchObject({ status: 'open', statement: null, dispute: null, line: { order: 'o-1', origin: alice.identity.id, creditor: bob.identity.id } })
    expect(bookLineOf(put.key, JSON.parse(JSON.stringify(book)))).toEqual(book) // an object row, as stored before
    expect(() => bookLineOf(put.key, [...(put.value as unknown[]).slice(0, 7), 'many', ...(put.value as unknown[]).slice(8)])).toThrow(CorruptRowError)
    expect(() => bookLineOf(put.key, { ...book, status: 'lost' })).toThrow(CorruptRowError)
  })

  it('books a receipt once, and refuses another body for the same order and fulfiller', async () => {
    const b = await books()
    const tx = new Tx()
    await b.bookReceipts(tx, [receipt('o-1', termsHash(v2))], bob.identity.id)
    const first = tx.ops.length
    expect(first).toBeGreaterThan(0)
    await b.bookReceipts(tx, [receipt('o-1', termsHash(v2))], bob.identity.id)
    expect(tx.ops.length).toBe(first)
    await expect(b.bookReceipts(tx, [receipt('o-1', termsHash(v2), 20_000)], bob.identity.id)).rejects.toBeInstanceOf(ConflictingReceiptError)
  })

  it('refuses receipts under terms nobody signed', async () => {
    const b = await books()
    await expect(b.bookReceipts(new Tx(), [receipt('o-2', 'x'.repeat(43))], bob.identity.id)).rejects.toThrow(/terms we never signed/)
  })
})
