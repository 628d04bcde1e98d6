// A seeded fault-mix run of whole federations in one process (TigerBeetle's VOPR style): each seed
// draws its shops, network faults, crashes, partitions and platform outages; a safety phase with
// faults is followed by a liveness phase without. The invariant checker runs after every step.
import { type AckedOrder, InvariantChecker, type Violation } from './invariants.js'
import { Prng } from './prng.js'
import { SimFederation, simOrder, type SimShop, SIM_START_MS, simTerms } from './sim-federation.js'

export interface SeedResult {
  readonly seed: string
  readonly shops: number
  readonly orders: number
  readonly deliveredByOrigin: number
  readonly deliveredByPartners: number
  readonly duplicates: number
  readonly violations: readonly Violation[]
  readonly steps: number
  /** Virtual ms the liveness phase took to converge (its budget when it did not). */
  readonly livenessMs: number
}

const SHOP_COUNTS = [3, 3, 3, 4, 4, 4, 5, 5, 6, 7]
const SAFETY_MS = 10_000
/** The liveness budget: every order delivered and every pair in agreement by then. */
const LIVENESS_MS = 25_000
const STEP_MS = 100
const LIVENESS_STEP_MS = 250

/** What one seed draws before it starts: the federation's shape and its network's faults. */
interface FaultMix {
  readonly shops: number
  readonly lossRate: number
  readonly duplicateRate: number
  readonly maxDelayMs: number
  /** Chance per step that an origin's shop takes 1–4 paid orders. */
  readonly orderChance: number
  readonly skewMs: readonly number[]
}

function drawFaultMix(seed: string, maxSkewMs: number): FaultMix {
  const prng = new Prng(`${seed}/shape`)
  // Cost grows with the square of the shops (every pair heartbeats), so large federations are rarer.
  const shops = SHOP_COUNTS[prng.int(0, SHOP_COUNTS.length - 1)] as number
  return {
    shops,
    lossRate: prng.chance(0.5) ? prng.next() * 0.3 : 0,
    duplicateRate: prng.next() * 0.5,
    maxDelayMs: prng.int(5, 200),
    orderChance: 0.2 + prng.next() * 0.4,
    skewMs: Array.from({ length: shops }, () => prng.int(-maxSkewMs, maxSkewMs) >> 1),
  }
}

export async function runSeed(seed: string, canary?: 'reuse-keys'): Promise<SeedResult> {
  // Skews are halved so two clocks never differ by more than the terms' maxClockSkewMs.
  const mix = drawFaultMix(seed, simTerms([]).timing.maxClockSkewMs)
  const sim = await SimFederation.create({ seed, shops: mix.shops, stockPerShop: 600, canary, signatures: 'simulated', skewMs: (name) => mix.skewMs[name.charCodeAt(0) - 65] ?? 0 })
  try {
    return await drive(sim, seed, mix)
  } finally {
    await sim.close()
  }
}

async function drive(sim: SimFederation, seed: string, mix: FaultMix): Promise<SeedResult> {
  const prng = sim.prng
  sim.network.faults = { minDelayMs: 1, maxDelayMs: mix.maxDelayMs, lossRate: mix.lossRate, duplicateRate: mix.duplicateRate }
  const acked = new Map<string, AckedOrder>()
  const checker = new InvariantChecker(sim, acked)
  const ownDelivered = new Set<string>()
  const crashed = new Set<string>()
  const platformDown = new Set<string>()
  const cuts: [SimShop, SimShop][] = []
  let next = 0
  let steps = 0
  const at = () => sim.clock.now() - SIM_START_MS
  const any = <T>(list: readonly T[]): T => list[prng.int(0, list.length - 1)] as T
  await sim.runUntil(600)
  for (const a of sim.shops) for (const b of sim.shops) if (a !== b) await a.engine.consign(b.identity.id, 'card-100', 40)
  await sim.runUntil(1_500)

  const shopDelivers = async (s: SimShop) => {
    // The origin's own shop delivers its paid orders while its node lets it (not fenced, platform up).
    if (crashed.has(s.name) || platformDown.has(s.name) || s.shop.fenced) return
    const byPartner = new Set(s.shop.writeBacks.map((w) => w.order))
    const mine = [...acked.values()].filter((o) => o.origin === s.name && !ownDelivered.has(o.order) && !byPartner.has(o.order))
    const pick = mine.filter(() => prng.chance(0.3)).slice(0, 5)
    if (pick.length === 0) return
    const reply = await s.engine.markDelivered(pick.map((o) => ({ order: o.order, time: sim.clock.now() }))).catch(() => null)
    if (reply) for (const o of pick) if (!reply.unknown.includes(o.order)) ownDelivered.add(o.order)
  }

  while (at() < SAFETY_MS) {
    steps++
    const live = sim.shops.filter((s) => !crashed.has(s.name))
    const origin = any(live)
    if (!platformDown.has(origin.name) && prng.chance(mix.orderChance)) {
      const orders = Array.from({ length: prng.int(1, 4) }, () => ({ ...simOrder(prng, next), order: `${origin.name}-${next++}` }))
      const reply = await origin.engine.submitOrders(orders).catch(() => null)
      if (reply) for (const o of orders) acked.set(o.order, { origin: origin.name, order: o.order })
    }
    for (const s of live) await shopDelivers(s)
    if (prng.chance(0.02)) {
      // More keys consigned while everything else goes on.
      const holder = any(sim.shops.filter((s) => s !== origin))
      await origin.engine.consign(holder.identity.id, 'card-100', prng.int(1, 10)).catch(() => null)
    }
    if (prng.chance(0.02) && crashed.size < mix.shops - 2) {
      const victim = any(live)
      sim.crash(victim.name)
      crashed.add(victim.name)
    } else if (crashed.size > 0 && prng.chance(0.03)) {
      const back = any([...crashed])
      await sim.restart(back)
      crashed.delete(back)
    }
    if (prng.chance(0.02)) {
      const [x, y] = [any(sim.shops), any(sim.shops)]
      if (x !== y) {
        sim.network.cut(x.identity.id, y.identity.id)
        cuts.push([x, y])
      }
    } else if (prng.chance(0.005)) {
      // A partition: one side against the rest, every link across cut.
      const side = new Set(sim.shops.filter(() => prng.chance(0.4)))
      for (const x of side) for (const y of sim.shops) if (!side.has(y)) {
        sim.network.cut(x.identity.id, y.identity.id)
        cuts.push([x, y])
      }
    } else if (cuts.length > 0 && prng.chance(0.03)) {
      const [x, y] = cuts.splice(prng.int(0, cuts.length - 1), 1)[0] as [SimShop, SimShop]
      if (!crashed.has(x.name) && !crashed.has(y.name)) sim.network.heal(x.identity.id, y.identity.id)
    }
    if (prng.chance(0.01) && !platformDown.has(origin.name) && platformDown.size < 2) {
      platformDown.add(origin.name)
      checker.platformDown(origin.name)
      origin.engine.reportPlatformHealth('down')
    } else if (platformDown.size > 0 && prng.chance(0.01)) {
      const back = any([...platformDown])
      if (!crashed.has(back)) {
        platformDown.delete(back)
        sim.shop(back).engine.reportPlatformHealth('up')
      }
    }
    await sim.runUntil(at() + STEP_MS)
    checker.afterStep(steps)
  }

  // Liveness: no more faults; every node up, every link healed, every platform back.
  sim.network.faults = { minDelayMs: 1, maxDelayMs: 20, lossRate: 0, duplicateRate: 0 }
  for (const name of [...crashed]) await sim.restart(name)
  crashed.clear()
  for (const a of sim.shops) for (const b of sim.shops) if (a !== b) sim.network.heal(a.identity.id, b.identity.id)
  for (const s of sim.shops) s.engine.reportPlatformHealth('up')
  platformDown.clear()
  const livenessStart = at()
  const end = livenessStart + LIVENESS_MS
  while (at() < end && !checker.converged(ownDelivered)) {
    steps++
    for (const s of sim.shops) await shopDelivers(s)
    await sim.runUntil(at() + LIVENESS_STEP_MS)
    checker.afterStep(steps)
  }
  const livenessMs = at() - livenessStart
  checker.final(steps, ownDelivered)
  return {
    seed,
    shops: mix.shops,
    orders: acked.size,
    deliveredByOrigin: ownDelivered.size,
    deliveredByPartners: checker.partnerDeliveries.size,
    duplicates: [...acked.values()].filter((o) => (checker.partnerDeliveries.get(o.order)?.size ?? 0) + (ownDelivered.has(o.order) ? 1 : 0) > 1).length,
    violations: checker.violations,
    steps,
    livenessMs,
  }
}

/** One line per violation, then the trace of the first: what `npm run sim` prints. */
export function describeViolations(result: SeedResult): string {
  const lines = result.violations.map((v) => `  step ${v.step} at ${v.at} ms: ${v.what}`)
  const first = result.violations[0]
  if (first) lines.push(`  trace of the first (last ${first.trace.length} related events, "<ms> <shop> <event>"):`, ...first.trace.map((t) => `    ${t}`))
  return [`VIOLATION seed=${result.seed} (replay: npm run sim -- --seed ${result.seed})`, ...lines].join('\n')
}
