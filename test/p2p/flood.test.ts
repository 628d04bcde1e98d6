// A partner that floods (issue 16, item 4): 60 feed pushes of ≈3.5 MB each, written as fast as
// the network takes them, into a real node (real libp2p transport, real engine, LevelDB on disk).
// On the landed code the transport handed every frame to the engine at once and the engine queued
// them per author without a limit: the heap grew by ≈240 MiB before the first was processed. Now
// the transport reads a partner's next frame only when the engine has taken the previous one, so
// the partner is held back by the stream's flow control. The test measures the node's heap (after
// a GC) before the flood and at its peak, and checks every entry was still stored.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import v8 from 'node:v8'
import vm from 'node:vm'
import { multiaddr } from '@multiformats/multiaddr'
import { lpStream } from '@libp2p/utils'
import { afterEach, describe, expect, it } from 'vitest'
import {
  appendEntry,
  type FeedEntry,
  type FeedRecord,
  FEED_PROTOCOL,
  headAfter,
  type FeedState,
  signDocument,
  toBase64url,
  utf8,
} from '../../protocol/index.js'
import { Engine } from '../../node/core/engine.js'
import { createP2pTransport, type P2pTransport } from '../../node/p2p/index.js'
import { randomBytes } from 'node:crypto'
import { LevelStore } from '../../node/store/level-store.js'
import { cryptoRng, systemClock } from '../../node/system.js'
import { alice, bob, carol, sampleTerms, signedAgreement, T0 } from '../protocol/fixtures.js'
import { LOOPBACK, recordingLogger } from './helpers.js'
import { RawPeer } from './raw-peer.js'

const FRAMES = 60
const ENTRIES_PER_FRAME = 256
const RECORDS_PER_ENTRY = 26
/** A generous bound on what the node may hold while a partner floods it (vs ≈240 MiB before). */
const MAX_HEAP_GROWTH_MIB = 100

v8.setFlagsFromString('--expose-gc')
const gc = vm.runInNewContext('gc') as () => void
const heapMiB = () => {
  gc()
  return process.memoryUsage().heapUsed / 2 ** 20
}

let cleanup: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const step of cleanup.reverse()) await step()
  cleanup = []
})

/** Bob's feed: FRAMES × ENTRIES_PER_FRAME chained entries of ≈13 KB (tombstones with long reasons). */
function bobsFeed(terms: string): FeedEntry[][] {
  let head: FeedState = { author: bob.identity.id, seq: 0, hash: null }
  const frames: FeedEntry[][] = []
  for (let f = 0; f < FRAMES; f++) {
    const frame: FeedEntry[] = []
    for (let e = 0; e < ENTRIES_PER_FRAME; e++) {
      const records: FeedRecord[] = Array.from({ length: RECORDS_PER_ENTRY }, (_, r) => ({
        type: 'order.cancelled',
        order: `o-${f}-${e}-${r}`,
        reason: 'x'.repeat(480),
      }))
      const entry = appendEntry({ identity: bob.identity, head, time: T0 + 1, terms, records })
      head = headAfter(entry)
      frame.push(entry)
    }
    frames.push(frame)
  }
  return frames
}

describe('a flooding partner', () => {
  it("is held back by the stream: the node's heap stays bounded and every entry is still stored", async () => {
    const parties = [alice, bob, carol]
    const agreement = signedAgreement(sampleTerms(parties), parties)
    const cards = parties.map((s) =>
      signDocument(
        'shop-card',
        { id: s.identity.id, name: s.name, boxKey: toBase64url(s.box.publicKey), addrs: [], claimUrl: null, issuedAt: T0, validUntil: T0 + 1e12 },
        s.identity,
      ),
    )
    const dir = mkdtempSync(join(tmpdir(), 'standin-flood-'))
    const store = await LevelStore.openOnDisk(dir, randomBytes(32))
    const logger = recordingLogger()
    const partners = [bob.identity.id, carol.identity.id]
    const p2p: P2pTransport = await createP2pTransport({
      identity: alice.identity,
      listen: [LOOPBACK],
      isPartner: (id) => partners.includes(id),
      partners: () => [],
      addressesOf: () => [],
      logger,
    })
    const noShop = { setFenced: async () => undefined, takeStock: async () => [], returnStock: async () => undefined, writeBack: async () => undefined }
    const engine = new Engine({
      identity: alice.identity,
      box: alice.box,
      name: 'Alice',
      addrs: () => [],
      agreement,
      cards,
      clock: systemClock(),
      rng: cryptoRng,
      store,
      transport: p2p.transport,
      logger,
      adapter: noShop,
      mailer: { send: async () => undefined },
    })
    await engine.start()
    await p2p.start()
    cleanup.push(async () => {
      await p2p.stop()
      await engine.stop()
      await store.close()
      rmSync(dir, { recursive: true, force: true })
    })
    const frames = bobsFeed(engine.federation.termsHash).map((entries) => utf8(JSON.stringify({ type: 'feed.entries', author: bob.identity.id, entries })))
    expect(frames[0]?.byteLength).toBeGreaterThan(3_000_000)
    const raw = new RawPeer()
    cleanup.push(() => raw.stopAll())
    const host = await raw.host(bob.identity)
    const before = heapMiB()

    // Sampled after a full GC each time: what the node retains, not garbage awaiting collection.
    let peak = before
    const sampler = setInterval(() => (peak = Math.max(peak, heapMiB())), 250)
    try {
      const stream = await host.dialProtocol(multiaddr(p2p.listenAddrs()[0] as string), FEED_PROTOCOL)
      const lp = lpStream(stream, { maxDataLength: 8 * 2 ** 20 })
      for (const frame of frames) await lp.write(frame)
      const total = FRAMES * ENTRIES_PER_FRAME
      const deadline = Date.now() + 240_000
      while (engine.feeds().find((f) => f.author === bob.identity.id)?.seq !== total) {
        if (Date.now() > deadline) throw new Error(`stored ${engine.feeds().find((f) => f.author === bob.identity.id)?.seq} of ${total} entries`)
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
    } catch (error) {
      console.log(
        logger.entries
          .filter((e) => e.level !== 'debug')
          .slice(0, 10)
          .map((e) => `${e.message} ${JSON.stringify(e.fields).slice(0, 300)}`)
          .join('\n'),
      )
      throw error
    } finally {
      clearInterval(sampler)
    }
    const growth = peak - before
    console.log(
      `flood: ${FRAMES} frames of ${((frames[0]?.byteLength ?? 0) / 2 ** 20) | 0} MiB; heap before ${before.toFixed(0)} MiB, peak ${peak.toFixed(0)} MiB (+${growth.toFixed(0)})`,
    )
    expect(growth).toBeLessThan(MAX_HEAP_GROWTH_MIB)
  }, 300_000)
})
