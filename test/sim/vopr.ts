// A seeded fault-mix run of whole federations in one process (TigerBeetle's VOPR style): each seed
// draws its shops, network faults, crashes, partitions and platform outages; a safety phase with
// faults is followed by a liveness phase without, and invariants are checked at the end.
import { SimFederation, simOrder, type SimShop, SIM_START_MS } from './sim-federation.js'

export interface SeedResult {
  readonly seed: string
  readonly shops: number
  readonly orders: number
  readonly deliveredByOrigin: number
  readonly deliveredByPartners: number
  readonly duplicates: number
  readonly violations: string[]
  readonly steps: number
}

const SAFETY_MS = 12_000
const LIVENESS_MS = 25_000
const STEP_MS = 100

export async function runSeed(seed: string, canary?: 'reuse-keys'): Promise<SeedResult> {
  const probe = await SimFederation.create({ seed: `${seed}/shape`, shops: 3 })
  const shopCount = 3 + probe.prng.int(0, 2)
  await probe.close()
  const sim = await SimFederation.create({ seed, shops: shopCount, stockPerShop: 400, canary })
  const prng = sim.prng
  const loss = prng.chance(0.5) ? prng.next() * 0.3 : 0
  sim.network.faults = { minDelayMs: 1, maxDelayMs: prng.int(5, 200), lossRate: loss, duplicateRate: prng.next() * 0.5 }
  const violations: string[] = []
  const submitted = new Map<string, { origin: string; order: string }>()
  const ownDelivered = new Set<string>()
  const crashed = new Set<string>()
  const platformDown = new Set<string>()
  let next = 0
  let steps = 0
  const at = () => sim.clock.now() - SIM_START_MS
  await sim.runUntil(600)
  for (const a of sim.shops) for (const b of sim.shops) if (a !== b) await a.engine.consign(b.identity.id, 'card-100', 40)
  await sim.runUntil(1_500)

  const shopDelivers = async (s: SimShop) => {
    // The origin's own shop delivers its paid orders while its node lets it (not fenced, platform up).
    if (crashed.has(s.name) || platformDown.has(s.name) || s.shop.fenced) return
    const byPartner = new Set(s.shop.writeBacks.map((w) => w.order))
    const mine = [...submitted.values()].filter((o) => o.origin === s.name && !ownDelivered.has(o.order) && !byPartner.has(o.order))
    const pick = mine.filter(() => prng.chance(0.3)).slice(0, 5)
    if (pick.length === 0) return
    const reply = await s.engine.markDelivered(pick.map((o) => ({ order: o.order, time: sim.clock.now() }))).catch(() => null)
    if (reply) for (const o of pick) if (!reply.unknown.includes(o.order)) ownDelivered.add(o.order)
  }

  while (at() < SAFETY_MS) {
    steps++
    const live = sim.shops.filter((s) => !crashed.has(s.name))
    const origin = live[prng.int(0, live.length - 1)]
    if (origin && !platformDown.has(origin.name) && prng.chance(0.5)) {
      const orders = Array.from({ length: prng.int(1, 4) }, () => ({ ...simOrder(prng, next), order: `${origin.name}-${next++}` }))
      const reply = await origin.engine.submitOrders(orders).catch(() => null)
      if (reply) for (const o of orders) submitted.set(o.order, { origin: origin.name, order: o.order })
    }
    for (const s of live) await shopDelivers(s)
    if (prng.chance(0.02) && crashed.size < shopCount - 2) {
      const victim = live[prng.int(0, live.length - 1)] as SimShop
      sim.crash(victim.name)
      crashed.add(victim.name)
    } else if (crashed.size > 0 && prng.chance(0.03)) {
      const back = [...crashed][prng.int(0, crashed.size - 1)] as string
      await sim.restart(back)
      crashed.delete(back)
    }
    if (prng.chance(0.02)) {
      const [x, y] = [sim.shops[prng.int(0, shopCount - 1)], sim.shops[prng.int(0, shopCount - 1)]] as [SimShop, SimShop]
      if (x !== y) sim.network.cut(x.identity.id, y.identity.id)
    }
    if (prng.chance(0.01) && origin && !platformDown.has(origin.name)) {
      platformDown.add(origin.name)
      origin.engine.reportPlatformHealth('down')
    }
    await sim.runUntil(at() + STEP_MS)
  }

  // Liveness: no more faults; every node up, every link healed, every platform back.
  sim.network.faults = { minDelayMs: 1, maxDelayMs: 20, lossRate: 0, duplicateRate: 0 }
  for (const name of [...crashed]) await sim.restart(name)
  crashed.clear()
  for (const a of sim.shops) for (const b of sim.shops) if (a !== b) sim.network.heal(a.identity.id, b.identity.id)
  for (const s of sim.shops) s.engine.reportPlatformHealth('up')
  platformDown.clear()
  const end = at() + LIVENESS_MS
  while (at() < end) {
    steps++
    for (const s of sim.shops) await shopDelivers(s)
    await sim.runUntil(at() + 250)
  }

  // ---- invariants ----
  const keyOrders = new Map<string, Set<string>>()
  const partnerDelivered = new Map<string, Set<string>>()
  const duplicatesSeen = new Set<string>()
  for (const line of sim.log) {
    const node = line.split(' ')[1] as string
    const event = JSON.parse(line.slice(line.indexOf('{')))
    if (event.kind === 'duplicate') duplicatesSeen.add(event.order)
    if (event.kind !== 'delivered' || event.fulfiller !== node) continue
    for (const key of event.keyIds) keyOrders.set(key, (keyOrders.get(key) ?? new Set()).add(event.order))
    partnerDelivered.set(event.order, (partnerDelivered.get(event.order) ?? new Set()).add(node))
  }
  for (const [key, orders] of keyOrders) if (orders.size > 1) violations.push(`key ${key} delivered to ${[...orders].join(', ')}`)
  let duplicates = 0
  for (const { order } of submitted.values()) {
    const by = (partnerDelivered.get(order)?.size ?? 0) + (ownDelivered.has(order) ? 1 : 0)
    if (by === 0) violations.push(`order ${order} never delivered`)
    if (by > 1) {
      duplicates++
      if (!duplicatesSeen.has(order)) violations.push(`order ${order} delivered ${by} times without a duplicate being counted`)
    }
  }
  if (process.env.STANDIN_SIM_DEBUG) console.log(sim.log.filter((l) => /own-takeover|handback|taken-over|certified|fence|duplicate/.test(l)).join('\n'))
  const result: SeedResult = { seed, shops: shopCount, orders: submitted.size, deliveredByOrigin: ownDelivered.size, deliveredByPartners: partnerDelivered.size, duplicates, violations, steps }
  await sim.close()
  return result
}
