// Real partitions (issue 7 item 5): five node processes A–E whose every p2p link runs through a
// loopback TCP proxy per direction (p2p.dialOverrides), so any set of links can be cut or
// blackholed and healed. Five parties: quorum 3 of an origin's 4 partners, and an origin needs
// 4 − 3 + 1 = 2 leases to keep delivering (protocol/schemas/agreement.ts), so a side with the
// origin and one partner is a minority that can neither certify nor keep the origin's lease.
// Timings come from the terms in force; the margins below are for scheduling on a small shared
// machine (six processes on two cores here), not performance thresholds.
import { afterEach, describe, expect, it } from 'vitest'
import type { Timing } from '../../protocol/index.js'
import type { IncidentReport, ShopStatusView } from '../../node/core/api-schemas.js'
import { DataDir } from '../../node/datadir.js'
import { TcpProxy } from '../support/tcp-proxy.js'
import { waitFor } from './cluster.js'
import { allot, type Federation, incidents, mails, shop, SKU, startFederation, stopFederation } from './federation-env.js'

const NAMES = ['A', 'B', 'C', 'D', 'E']
/** Added to every upper bound derived from the terms: process scheduling and HTTP polling. */
const MARGIN_MS = 2_000
/** Node timers run on the event loop's clock, Date.now() on the wall clock: they differ by a few ms. */
const CLOCK_ROUNDING_MS = 5
/** Shops deliver their own orders this long after payment: orders bought just before a partition stay paid. */
const OWN_DELIVERY_DELAY_MS = 20_000

let f: Federation | undefined
const proxies = new Map<string, TcpProxy>() // "X>Y": X dials Y through it
afterEach(async () => {
  await stopFederation(f)
  f = undefined
  for (const p of proxies.values()) await p.stop()
  proxies.clear()
})

async function startMeshed(): Promise<Federation> {
  const federation = await startFederation({
    names: NAMES,
    deliverDelayMs: OWN_DELIVERY_DELAY_MS,
    beforeStart: async (cluster) => {
      for (const x of NAMES) {
        const overrides: Record<string, string[]> = {}
        for (const y of NAMES.filter((n) => n !== x)) {
          const proxy = await TcpProxy.start(cluster.node(y).p2pPort)
          proxies.set(`${x}>${y}`, proxy)
          overrides[cluster.node(y).id] = [proxy.multiaddr]
        }
        cluster.editConfig(x, (c) => void (c.p2p.dialOverrides = overrides))
      }
    },
  })
  // The shops started before their nodes, so their first health report found no node; report
  // again (an adapter does so periodically). A node hands back only once its platform is up.
  for (const n of NAMES) await shop(federation, n).setPlatform('up')
  return federation
}

/** Breaks every link between the two sides, both directions. */
function partition(sideA: string[], sideB: string[], how: 'cut' | 'blackhole'): number {
  for (const x of sideA) for (const y of sideB) for (const key of [`${x}>${y}`, `${y}>${x}`]) proxies.get(key)?.[how]()
  return Date.now()
}

function heal(): void {
  for (const p of proxies.values()) p.heal()
}

function timing(federation: Federation): Timing {
  const agreement = new DataDir(federation.cluster.node('A').dir).agreementInForce(Date.now(), federation.cluster.node('A').id)
  if (!agreement) throw new Error('no agreement in force')
  return agreement.terms.timing
}

async function view(federation: Federation, at: string, of: string): Promise<ShopStatusView['state']> {
  const response = await fetch(`${federation.cluster.node(at).baseUrl}/status/${federation.cluster.node(of).id}.json`)
  return ((await response.json()) as ShopStatusView).state
}

/** First time a timeline entry starting with `what` was written, in the node's clock. */
function firstAt(reports: IncidentReport[], origin: string, what: string): number | undefined {
  const at = reports.filter((r) => r.origin === origin).flatMap((r) => r.timeline.filter((t) => t.what.startsWith(what)).map((t) => t.at))
  return at.length === 0 ? undefined : Math.min(...at)
}

/** Did `name` ever certify or take over anyone? (Its incident timelines say so if it did.) */
async function actedAsMajority(federation: Federation, name: string): Promise<string[]> {
  return (await incidents(federation, name)).flatMap((r) =>
    r.timeline.filter((t) => t.what.startsWith('quorum') || t.what.startsWith('takeover')).map((t) => `${name} about ${r.origin}: ${t.what}`),
  )
}

/** Samples a shop's fence every 20 ms: when it first became fenced, and whether it ever was. */
function watchFence(federation: Federation, name: string): { readonly fencedAt: () => number | null; stop(): void } {
  let fencedAt: number | null = null
  const timer = setInterval(() => {
    if (fencedAt === null && shop(federation, name).fenced) fencedAt = Date.now()
  }, 20)
  return { fencedAt: () => fencedAt, stop: () => clearInterval(timer) }
}

async function buy(federation: Federation, name: string, count: number, tag: string): Promise<string[]> {
  const out: string[] = []
  for (let i = 0; i < count; i++) out.push((await shop(federation, name).buy({ sku: SKU, qty: 1, email: `${tag}${i}@example.com`, locale: 'en' })).order)
  return out
}

/** Orders of A that reached the acked state at every partner (so a takeover can see them). */
async function buyAcked(federation: Federation, count: number): Promise<string[]> {
  const orders = await buy(federation, 'A', count, 'before')
  const { ownSeq } = await federation.cluster.admin<{ ownSeq: number }>('A', '/v1/admin/escrow')
  const { acked } = await federation.cluster.admin<{ acked: boolean }>('A', `/v1/admin/acks/wait?seq=${ownSeq}&timeoutMs=20000`)
  expect(acked).toBe(true)
  return orders
}

/** Order → how many deliveries (partner mails, plus the shop's own delivery). */
function deliveries(federation: Federation, orders: string[]): Map<string, number> {
  const count = new Map(orders.map((o) => [o, 0]))
  for (const m of mails(federation, orders)) if (m.order !== null) count.set(m.order, (count.get(m.order) ?? 0) + 1)
  for (const o of shop(federation, 'A').orders()) if (o.deliveredBy?.by === 'shop' && count.has(o.order)) count.set(o.order, (count.get(o.order) ?? 0) + 1)
  return count
}

describe('real partitions', () => {
  it("origin on the minority side {A, B} | {C, D, E}: A fences itself, only the majority takes over, within the terms' timings; heal → handback, each order once", async () => {
    f = await startMeshed()
    const t = timing(f)
    for (const p of ['B', 'C', 'D', 'E']) await allot(f, 'A', p, 10)
    const stranded = await buyAcked(f, 8)
    const fence = watchFence(f, 'A')
    try {
      const cutAt = partition(['A', 'B'], ['C', 'D', 'E'], 'blackhole')
      const duringPartition = await buy(f, 'A', 4, 'during') // the minority's shop still sells and escrows

      // The majority certifies A and delivers every order it knew of, once.
      await waitFor(
        'C, D and E took A over',
        async () => {
          for (const n of ['C', 'D', 'E']) if ((await view(f as Federation, n, 'A')) !== 'partners-delivering') return undefined
          return true
        },
        30_000,
      )
      await waitFor(
        'every stranded order mailed',
        () => mails(f as Federation, stranded).filter((m) => m.order !== null).length >= stranded.length || undefined,
        60_000,
      )
      const majority = (await Promise.all(['C', 'D', 'E'].map((n) => incidents(f as Federation, n)))).flat()
      const certifiedAt = firstAt(majority, f.cluster.node('A').id, 'quorum certificate formed')
      const takeoverAt = firstAt(majority, f.cluster.node('A').id, 'takeover')
      expect(certifiedAt).toBeDefined()
      expect(takeoverAt).toBeDefined()
      // Suspicion needs suspectAfterMs of silence (seen at a heartbeat tick), votes travel, then
      // the takeover waits takeoverDelayMs after the certificate, never less.
      expect(certifiedAt as number).toBeGreaterThanOrEqual(cutAt)
      expect(certifiedAt as number).toBeLessThanOrEqual(cutAt + t.suspectAfterMs + t.heartbeatMs + t.maxMessageDelayMs + MARGIN_MS)
      for (const n of ['C', 'D', 'E']) {
        const mine = (await incidents(f, n)).filter((r) => r.origin === f?.cluster.node('A').id)
        const cert = firstAt(mine, f.cluster.node('A').id, 'quorum certificate formed') as number
        const took = firstAt(mine, f.cluster.node('A').id, 'takeover') as number
        expect(took - cert, `${n}: certificate → takeover`).toBeGreaterThanOrEqual(t.takeoverDelayMs - CLOCK_ROUNDING_MS)
      }
      expect(takeoverAt as number).toBeLessThanOrEqual(cutAt + t.suspectAfterMs + t.heartbeatMs + t.maxMessageDelayMs + t.takeoverDelayMs + MARGIN_MS)

      // Invariant 5 (docs/design.md §2): A lost its lease quorum (B alone grants one of the two it needs) and fenced
      // itself within the lease TTL, before any partner could act.
      const fencedAt = fence.fencedAt()
      expect(fencedAt).not.toBeNull()
      expect(fencedAt as number).toBeLessThanOrEqual(cutAt + t.leaseTtlMs + MARGIN_MS)
      expect(fencedAt as number).toBeLessThan(takeoverAt as number)
      console.log(
        `partition {A,B}|{C,D,E}: cut → A fenced ${(fencedAt as number) - cutAt} ms (lease TTL ${t.leaseTtlMs}), cut → certificate ${(certifiedAt as number) - cutAt} ms, cut → takeover ${(takeoverAt as number) - cutAt} ms (suspect ${t.suspectAfterMs} + takeover delay ${t.takeoverDelayMs})`,
      )

      // Keep the partition for three more suspicion + takeover periods: the minority still never acts.
      await new Promise((r) => setTimeout(r, 3 * (t.suspectAfterMs + t.takeoverDelayMs + t.heartbeatMs)))
      expect([...(await actedAsMajority(f, 'A')), ...(await actedAsMajority(f, 'B'))]).toEqual([])
      for (const n of ['C', 'D', 'E']) expect(await view(f, 'B', n)).not.toBe('partners-delivering')
      expect(await view(f, 'B', 'A')).toBe('operating') // B still hears A: it never votes A down
      expect(shop(f, 'A').fenced).toBe(true)
      expect(mails(f, duringPartition).filter((m) => m.order !== null)).toHaveLength(0) // the majority never saw them

      // Heal: A learns it was taken over, hands back, writes every partner delivery back, unfences;
      // the orders it took during the partition are then delivered too (by A or a partner).
      heal()
      const all = [...stranded, ...duringPartition]
      await waitFor(
        'A handed back and every order delivered',
        () => {
          const state = shop(f as Federation, 'A').state()
          return !state.fenced && state.orders.paid === 0 ? true : undefined
        },
        90_000,
      )
      const count = deliveries(f, all)
      for (const o of stranded) expect(count.get(o), `stranded order ${o}`).toBe(1)
      const counted = new Set([
        ...shop(f, 'A').state().duplicates.orders,
        ...(await Promise.all(NAMES.map((n) => incidents(f as Federation, n)))).flat().flatMap((r) => r.duplicates.map((d) => d.order)),
      ])
      for (const o of all) {
        expect(count.get(o), `order ${o} delivered`).toBeGreaterThanOrEqual(1)
        if ((count.get(o) ?? 0) > 1) expect(counted.has(o), `order ${o} delivered twice must be counted`).toBe(true)
      }
      expect(shop(f, 'A').state().writeBacks.keyConflicts).toBe(0)
    } finally {
      fence.stop()
    }
  }, 300_000)

  it('a single partner cut off {E} | {A, B, C, D}: E never takes A over, A keeps its leases and delivers on', async () => {
    f = await startMeshed()
    const t = timing(f)
    for (const p of ['B', 'C', 'D', 'E']) await allot(f, 'A', p, 10)
    const orders = await buyAcked(f, 5)
    const fenceA = watchFence(f, 'A')
    try {
      partition(['E'], ['A', 'B', 'C', 'D'], 'cut')
      // E suspects A and votes, but one vote of the three needed never certifies.
      await waitFor('E suspects A', async () => (await view(f as Federation, 'E', 'A')) === 'suspected-outage' || undefined, 30_000)
      await new Promise((r) => setTimeout(r, 3 * (t.suspectAfterMs + t.takeoverDelayMs + t.heartbeatMs)))
      expect(await actedAsMajority(f, 'E')).toEqual([])
      expect(await view(f, 'E', 'A')).toBe('suspected-outage')
      for (const n of ['B', 'C', 'D']) expect(await view(f, n, 'A')).toBe('operating')
      expect(fenceA.fencedAt()).toBeNull() // three leases from B, C, D: more than the two A needs
      expect(shop(f, 'E').fenced).toBe(true) // the cut-off partner is the one that lost its lease quorum
      // A delivers on: its operator hands the orders out now (refused while fenced).
      for (const o of orders) expect(shop(f, 'A').deliverNow(o).status).toBe('delivered')
      expect(mails(f, orders)).toHaveLength(0)

      heal()
      await waitFor('E back in the federation, unfenced', () => !shop(f as Federation, 'E').fenced || undefined, 60_000)
      // E caught up with A's feed: the orders it could not see delivered are delivered, not pending.
      await waitFor(
        "E holds A's orders as delivered",
        async () => {
          const { escrow } = await (f as Federation).cluster.admin<{ escrow: { origin: string; pending: number; delivered: number }[] }>(
            'E',
            '/v1/admin/escrow',
          )
          const a = escrow.find((e) => e.origin === (f as Federation).cluster.node('A').id)
          return a && a.pending === 0 && a.delivered === orders.length ? true : undefined
        },
        30_000,
      )
      expect(fenceA.fencedAt()).toBeNull()
      expect(mails(f, orders)).toHaveLength(0)
      expect(await actedAsMajority(f, 'E')).toEqual([])
    } finally {
      fenceA.stop()
    }
  }, 300_000)
})
