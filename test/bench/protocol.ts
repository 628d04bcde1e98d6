// Protocol hot-path costs: sign/verify, sealing a batch to 3 partners, append+verify of entries.
import {
  appendEntry,
  deterministicRandom,
  emptyHead,
  type FeedRecord,
  headAfter,
  readRecords,
  signDocument,
  termsHash,
  verifyDocument,
  verifyEntry,
} from '../../protocol/index.js'
import { alice, bob, carol, cny, sampleTerms, T0 } from '../protocol/fixtures.js'

function rate(label: string, count: number, fn: () => void): void {
  const start = process.hrtime.bigint()
  for (let i = 0; i < count; i++) fn()
  const seconds = Number(process.hrtime.bigint() - start) / 1e9
  console.log(`${label}/s=${Math.round(count / seconds)}`)
}

export async function run(): Promise<void> {
  const hash = termsHash(sampleTerms())
  const hb = { from: alice.identity.id, to: bob.identity.id, terms: hash, epoch: 0, time: T0, platform: 'up' as const, head: { seq: 0, hash: null } }
  const signed = signDocument('heartbeat', hb, alice.identity)
  rate('sign heartbeat', 5_000, () => signDocument('heartbeat', hb, alice.identity))
  rate('verify heartbeat', 5_000, () => verifyDocument('heartbeat', signed))

  const records: FeedRecord[] = Array.from({ length: 1_000 }, (_, i) => ({
    type: 'order.escrowed',
    order: `A-${i}`,
    sku: 'steam-50',
    qty: 1,
    amount: cny(5_000),
    paidAt: T0,
    buyer: { email: `b${i}@example.com`, locale: 'zh-CN' },
    claimVerifier: 'x'.repeat(43),
  }))
  const random = deterministicRandom('bench')
  let head = emptyHead(alice.identity.id)
  const batches = 20
  const start = process.hrtime.bigint()
  for (let i = 0; i < batches; i++) {
    const entry = appendEntry({
      identity: alice.identity,
      head,
      time: T0 + i,
      terms: hash,
      sealed: { records, recipients: [alice.recipient, bob.recipient, carol.recipient], sender: alice.box, random },
    })
    head = headAfter(entry)
    const verified = verifyEntry(JSON.parse(JSON.stringify(entry)))
    if (!verified.ok) throw new Error(verified.error.message)
    const opened = readRecords(verified.value, bob.identity.id, bob.box)
    if (!opened.ok) throw new Error(opened.error.message)
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9
  console.log(`escrow records sealed+signed+verified+opened/s=${Math.round((batches * records.length) / seconds)} (batches of ${records.length}, 3 recipients)`)
}
