// npm run bench -- settlement [receipts] — books 1,000,000 receipts at both sides of a pair
// (the fulfiller B as creditor, the origin A as debtor), B states them all (statements of up to
// 5,000 lines) and A verifies every statement against its own books. LevelDB on disk; prints time
// and peak RSS. In one process: this measures the books, not the network.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { z } from 'zod'
import { Books } from '../../node/core/state/ledger.js'
import { Federation } from '../../node/core/federation.js'
import { FeedWriter } from '../../node/core/feed-writer.js'
import type { EventSink } from '../../node/core/events.js'
import type { Logger } from '../../node/core/ports.js'
import { commit, Tx } from '../../node/core/state/tx.js'
import { Settlement } from '../../node/core/settlement.js'
import { randomBytes } from 'node:crypto'
import { LevelStore } from '../../node/store/level-store.js'
import { cryptoRng } from '../../node/system.js'
import { type Receipt, signDocument, termsHash, toBase64url } from '../../protocol/index.js'
import { alice, bob, carol, sampleTerms, signedAgreement, T0 } from '../protocol/fixtures.js'
import { benchArgs, wholeNumber } from './args.js'

const silent: Logger = { debug() {}, info() {}, warn() {}, error() {} }
const BATCH = 5_000

const Args = z.object({ receipts: wholeNumber(1).default(1_000_000) })

export async function run(args: string[]): Promise<void> {
  const { receipts: total } = benchArgs('settlement', Args, args)
  const dir = mkdtempSync(join(tmpdir(), 'standin-settle-'))
  let peakRss = process.memoryUsage().rss
  const sample = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 50)
  try {
    const terms = sampleTerms([alice, bob, carol])
    const agreement = signedAgreement(terms, [alice, bob, carol])
    const cards = [alice, bob, carol].map((s) =>
      signDocument(
        'shop-card',
        { id: s.identity.id, name: s.name, boxKey: toBase64url(s.box.publicKey), addrs: [], claimUrl: null, issuedAt: T0, validUntil: T0 + 1e10 },
        s.identity,
      ),
    )
    const clock = { now: () => Date.now(), setTimer: () => ({ id: 0 }), clearTimer: () => undefined }
    // Mismatches as the operator learns them (the event after each statement is verified), not by
    // reading every statement back (that is the admin API's cost, not verification's).
    let mismatches = 0
    const emit: EventSink = (_at, event) => {
      if (event.kind === 'statement-received') mismatches += event.mismatches
    }
    const side = async (who: typeof alice) => {
      const store = await LevelStore.openOnDisk(join(dir, who.name), randomBytes(32))
      const federation = new Federation(who.identity.id, who.box.publicKey, agreement, cards)
      const books = new Books({ me: who.identity.id, store, federation, logger: silent })
      const writer = new FeedWriter({
        identity: who.identity,
        box: who.box,
        store,
        clock,
        rng: cryptoRng,
        termsHash: () => federation.termsHash,
        recipients: () => federation.recipients(),
      })
      const settlement = new Settlement({
        me: who.identity.id,
        books,
        writer,
        federation,
        clock,
        rng: cryptoRng,
        logger: silent,
        emit,
        commit: (tx) => commit(store, tx),
      })
      return { store, books, settlement }
    }
    const a = await side(alice)
    const b = await side(bob)
    const hash = termsHash(terms)
    // CPU time beside wall time: the machine is shared, and CPU time is what the books cost.
    const cpu = () => {
      const { user, system } = process.cpuUsage()
      return (user + system) / 1e6
    }
    const started = performance.now()
    const startedCpu = cpu()
    for (let start = 0; start < total; start += BATCH) {
      const receipts: Receipt[] = Array.from({ length: Math.min(BATCH, total - start) }, (_, i) => ({
        type: 'receipt',
        origin: alice.identity.id,
        order: `O-${start + i}`,
        sku: 'steam-50',
        allotment: 'al-1',
        keyIds: [`k-${start + i}`],
        channel: 'email+claim-page',
        epoch: 1,
        time: T0 + start + i,
        amount: { minorUnits: 5_000, currency: 'CNY' },
        unitValue: { minorUnits: 5_000, currency: 'CNY' },
        terms: hash,
      }))
      for (const s of [a, b]) {
        const tx = new Tx()
        await s.books.bookReceipts(tx, receipts, bob.identity.id)
        await commit(s.store, tx, { sync: false })
      }
    }
    const booked = performance.now()
    const bookedCpu = cpu()
    let statements = 0
    let lines = 0
    let last: string | null = null
    for (;;) {
      const st = await b.settlement.issue(alice.identity.id, T0 + total)
      if (!st) break
      statements++
      lines += st.statement.lines.length
      const tx = new Tx()
      await a.settlement.onStatement(tx, bob.identity.id, st.statement)
      await commit(a.store, tx, { sync: false })
      last = st.hash
    }
    const done = performance.now()
    const doneCpu = cpu()
    console.log(
      `receipts=${total} booked_both_sides_s=${((booked - started) / 1000).toFixed(2)} statements=${statements} lines=${lines} stated_and_verified_s=${((done - booked) / 1000).toFixed(2)} total_s=${((done - started) / 1000).toFixed(2)} cpu_booked_s=${(bookedCpu - startedCpu).toFixed(2)} cpu_stated_s=${(doneCpu - bookedCpu).toFixed(2)} mismatches=${mismatches} peak_rss_mb=${Math.round(peakRss / 2 ** 20)}`,
    )
    if (lines !== total || mismatches !== 0) throw new Error('statements did not cover every receipt exactly once')
    if (last !== null && (await a.books.statement(last))?.status !== 'issued') throw new Error('the last statement was not stored as received')
    await a.store.close()
    await b.store.close()
  } finally {
    clearInterval(sample)
    rmSync(dir, { recursive: true, force: true })
  }
}
