// A seeded fault-mix run of whole federations in one process (TigerBeetle's VOPR style): each seed
// draws its shops, network faults, crashes, partitions and platform outages; a safety phase with
// faults is followed by a liveness phase without. The invariant checker runs after every step.
// A Byzantine seed also makes up to quorum − 1 partners hostile (adversary.ts); they attack through
// both phases, and the liveness phase takes one honest origin's platform down once more: its
// stranded orders must reach their buyers through honest partners within a bound, whatever the
// adversaries claim.
import { claimTtlMs, type FeedEntry } from '../../protocol/index.js'
import { META, seqKey } from '../../node/core/state/codec.js'
import type { KeyRow } from '../../node/core/state/keys.js'
import { Adversary } from './adversary.js'
import { type AckedOrder, InvariantChecker, type Violation } from './invariants.js'
import { Prng } from './prng.js'
import { type Canary, SimFederation, simOrder, type SimShop, SIM_SPARE_SKU, SIM_START_MS, simTerms, type StoreCopy } from './sim-federation.js'

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
  /** Orders the boundary phase had acknowledged as the origin's takeover began (0: it did not run). */
  readonly boundaryOrders: number
  /** Byzantine shops of the seed, and how many attacks they made. */
  readonly byzantine: readonly string[]
  readonly attacks: number
  /** Shops restored from an earlier copy of their store during the safety phase (D92). */
  readonly restores: number
  /** Box keys rotated during the safety phase (D93). */
  readonly rotations: number
  /** Revocations in force at honest nodes, per (node, revoked party) (D94). */
  readonly revocations: number
  /** Shops added to the terms in force during the safety phase (D97): 0 or 1. */
  readonly joins: number
  readonly removals: number
  readonly handovers: number
}

export interface SeedOptions {
  /** Plant a known bug in every engine; the simulator must catch it. */
  readonly canary?: Canary
  /** Make up to quorum − 1 partners Byzantine. */
  readonly byzantine?: boolean
  /**
   * Run the takeover boundary phase after liveness (default true). It costs about 40 % of a seed;
   * CI's broad runs take it on every fourth seed (`--boundary-every 4`), `npm run sim` on all.
   */
  readonly boundary?: boolean
}

const SHOP_COUNTS = [3, 3, 3, 4, 4, 4, 5, 5, 6, 7]
/** Chance per step of copying one shop's store (as `standin backup` would), and of restoring one. */
const COPY_CHANCE = 0.02
const RESTORE_CHANCE = 0.05
/** Chance per step of one shop rotating its box key (`standin secrets rotate box`, D93). */
const ROTATE_CHANCE = 0.01
/**
 * Own records whose effect a restored node rebuilds from its feed (node/core/own-records.ts). A
 * shop is restored only while every own entry since its copy holds these alone (the others are
 * D92's documented limit) and every partner acknowledged its head (an entry no partner holds is
 * lost with the disk, D92 (e)).
 */
const REBUILT_RECORDS: ReadonlySet<string> = new Set([
  'order.escrowed',
  'order.delivered',
  'order.cancelled',
  'receipt',
  'allotment.released',
  'handback',
  'claim',
])
/**
 * Byzantine seeds that revoke (D94): the honest operators revoke every Byzantine partner late in
 * the safety phase (so earlier faults replay as before), one signature at a time; the colluders
 * try to revoke an honest shop meanwhile.
 */
const REVOKING_SEEDS = 0.5
const REVOKE_FROM_MS = 6_000
const REVOKE_CHANCE = 0.2
const COUNTER_REVOKE_CHANCE = 0.05
/**
 * Honest seeds where a shop joins the terms in force (D97), at a drawn moment of the safety phase,
 * while faults go on. The moment leaves time to catch up before the liveness phase judges.
 */
const JOINING_SEEDS = 0.3
const JOIN_FROM_MS = 2_000
const JOIN_UNTIL_MS = 8_000
/**
 * Honest seeds where the parties remove one of them (D95) at a drawn moment, while faults go on:
 * first every other party recalls its allotments there, then, a while later, they sign terms
 * without it. A careful operator parts with a partner that is up and not taken over; the draw
 * waits for such a moment, and gives up at REMOVE_UNTIL_MS.
 */
const REMOVING_SEEDS = 0.3
const REMOVE_FROM_MS = 2_000
const REMOVE_UNTIL_MS = 9_000
/** From the recalls to the revision: time for the party to release what it holds. */
const RECALL_LEAD_MS = 1_000
/**
 * Honest seeds where a shop hands its place to a new identity (D99), drawn like a removal: the
 * recalls first, the handover at the first calm moment after, within the same window.
 */
const ROTATING_IDENTITY_SEEDS = 0.25
const SAFETY_MS = 10_000
/** The liveness budget: every order delivered and every pair in agreement by then. */
const LIVENESS_MS = 25_000
const STEP_MS = 100
const LIVENESS_STEP_MS = 250
/** Fresh keys an honest origin consigns to each honest partner before its stranding outage. */
const STRANDING_KEYS = 30
/** Orders it takes just before its platform goes down. */
const STRANDING_ORDERS = 6
/** The boundary phase: orders an origin takes as its takeover begins, one every 1–GAP ms. */
const BOUNDARY_ORDERS = 12
const BOUNDARY_GAP_MS = 30
/** Fresh keys it consigns to each honest partner first: enough for every one of those orders. */
const BOUNDARY_KEYS = BOUNDARY_ORDERS + 6
/** Virtual ms a store call waits in that phase, at most (drawn per call, like a disk). */
const MAX_STORE_MS = 3

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

/** Which shops of the seed are Byzantine: between 1 and quorum − 1 of them, drawn from the seed. */
function drawByzantine(seed: string, sim: SimFederation): string[] {
  const prng = new Prng(`${seed}/byzantine`)
  const names = sim.shops.map((s) => s.name)
  const count = prng.int(1, sim.agreement.terms.quorum - 1)
  const out: string[] = []
  while (out.length < count) out.push(names.splice(prng.int(0, names.length - 1), 1)[0] as string)
  return out.sort()
}

export async function runSeed(seed: string, options: SeedOptions = {}): Promise<SeedResult> {
  // Skews are halved so two clocks never differ by more than the terms' maxClockSkewMs.
  const mix = drawFaultMix(seed, simTerms([]).timing.maxClockSkewMs)
  const sim = await SimFederation.create({
    seed,
    shops: mix.shops,
    stockPerShop: 600,
    canary: options.canary,
    signatures: 'simulated',
    skewMs: (name) => mix.skewMs[name.charCodeAt(0) - 65] ?? 0,
  })
  try {
    return await drive(sim, seed, mix, options.byzantine ? drawByzantine(seed, sim) : [], options)
  } finally {
    await sim.close()
  }
}

async function drive(sim: SimFederation, seed: string, mix: FaultMix, byzantine: readonly string[], options: SeedOptions): Promise<SeedResult> {
  const prng = sim.prng
  sim.network.faults = { minDelayMs: 1, maxDelayMs: mix.maxDelayMs, lossRate: mix.lossRate, duplicateRate: mix.duplicateRate }
  const acked = new Map<string, AckedOrder>()
  const checker = new InvariantChecker(sim, acked, new Set(byzantine))
  const ownDelivered = new Set<string>()
  const crashed = new Set<string>()
  const platformDown = new Set<string>()
  const cuts: [SimShop, SimShop][] = []
  let next = 0
  let steps = 0
  const at = () => sim.clock.now() - SIM_START_MS
  const any = <T>(list: readonly T[]): T => list[prng.int(0, list.length - 1)] as T
  const adversary = byzantine.length > 0 ? new Adversary(sim, prng, byzantine, (name) => crashed.has(name)) : null
  // The operators' acts (copies, restores, box key rotations) draw from their own stream, so seeds
  // without any run as before. Honest seeds only: a Byzantine partner may keep a restored node
  // waiting for good (D92 (c)).
  const operator = byzantine.length === 0 ? new OperatorActs(sim, new Prng(`${seed}/restore`), crashed) : null
  const revokers = byzantine.length > 0 ? new Revokers(sim, new Prng(`${seed}/revoke`), byzantine, crashed) : null
  const joiner = byzantine.length === 0 ? new Joiner(sim, new Prng(`${seed}/join`), checker) : null
  const remover = byzantine.length === 0 ? new Parting('remove', sim, new Prng(`${seed}/remove`), checker, crashed, platformDown) : null
  const rotator = byzantine.length === 0 ? new Parting('hand-over', sim, new Prng(`${seed}/identity`), checker, crashed, platformDown) : null
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
    if (prng.chance(0.01)) {
      // An allotment recalled: its unused keys come back exposed, never on sale again as unknown.
      const holder = any(sim.shops.filter((s) => s !== origin))
      const rows = [...(sim.shadows.get(origin.name)?.section('keys').values() ?? [])] as KeyRow[]
      const allotments = [
        ...new Set(rows.filter((k) => k.origin === origin.identity.id && k.holder === holder.identity.id && k.state === 'consigned').map((k) => k.allotment)),
      ]
      if (allotments.length > 0) await origin.engine.recall(holder.identity.id, any(allotments)).catch(() => null)
    }
    if (prng.chance(0.02)) {
      // The operator decides on exposed keys of one holder: written off, billed, or consigned again.
      const exposed = await origin.engine.exposedKeys().catch(() => [])
      const holder = exposed[0]?.holder
      const ids = exposed
        .filter((k) => k.holder === holder)
        .map((k) => k.keyId)
        .slice(0, prng.int(1, 5))
      if (ids.length > 0) await origin.engine.decideKeys(ids, any(['write-off', 'bill', 'reconsign'] as const)).catch(() => null)
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
      for (const x of side)
        for (const y of sim.shops)
          if (!side.has(y)) {
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
    await adversary?.step()
    await operator?.step()
    await revokers?.step(at())
    await joiner?.step(at())
    const gone = (await remover?.step(at())) ?? (await rotator?.step(at()))
    if (gone) {
      // Stood down and unfenced (D98), its shop delivers its own paid orders no partner delivered.
      const byPartner = new Set(gone.shop.writeBacks.map((w) => w.order))
      for (const o of acked.values())
        if (o.origin === gone.name && !ownDelivered.has(o.order) && !byPartner.has(o.order) && !checker.partnerDeliveries.has(o.order))
          ownDelivered.add(o.order)
      for (let i = cuts.length - 1; i >= 0; i--) if ((cuts[i] as [SimShop, SimShop]).includes(gone)) cuts.splice(i, 1)
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
  let end = livenessStart + LIVENESS_MS
  let strandedOrigin: SimShop | null = null
  if (adversary) {
    // One honest origin goes down again, with fresh keys at every honest partner: its orders must
    // reach their buyers through partners within the bound while the adversaries attack.
    const honest = sim.shops.filter((s) => !adversary.isByzantine(s.name))
    strandedOrigin = honest[prng.int(0, honest.length - 1)] as SimShop
    // A takeover of it left from the fault phase hands back first: while it runs, the holders would
    // rightly spend the fresh keys on that takeover's orders, and the outage below would find honest
    // partners with none left (seed-3728).
    const handedBackBy = at() + LIVENESS_MS
    while (at() < handedBackBy) {
      const self = await strandedOrigin.engine.selfStatus()
      if (!self.takenOver && !self.fenced) break
      for (const s of sim.shops) await shopDelivers(s)
      await adversary.step()
      await sim.runUntil(at() + LIVENESS_STEP_MS)
    }
    const orders = Array.from({ length: STRANDING_ORDERS }, () => ({ ...simOrder(prng, next), order: `${(strandedOrigin as SimShop).name}-${next++}` }))
    const reply = await strandedOrigin.engine.submitOrders(orders).catch(() => null)
    if (reply) for (const o of orders) acked.set(o.order, { origin: strandedOrigin.name, order: o.order })
    // Enough fresh keys at every honest partner for every order the outage strands, the shop's own
    // backlog included: with fewer, a holder rightly stops when its keys run out (seed-3728).
    const backlog = [...acked.values()].filter((o) => o.origin === (strandedOrigin as SimShop).name && !ownDelivered.has(o.order)).length
    const keys = Math.max(STRANDING_KEYS, backlog)
    for (const p of honest) if (p !== strandedOrigin) await strandedOrigin.engine.consign(p.identity.id, 'card-100', keys).catch(() => null)
    await sim.runUntil(at() + 1_000)
    platformDown.add(strandedOrigin.name)
    checker.platformDown(strandedOrigin.name)
    strandedOrigin.engine.reportPlatformHealth('down')
    const pending = [...acked.values()].filter((o) => o.origin === (strandedOrigin as SimShop).name && !ownDelivered.has(o.order)).map((o) => o.order)
    checker.strandedAt(strandedOrigin.name, pending, at())
    end += strandingBoundMs()
  }
  while (at() < end) {
    steps++
    for (const s of sim.shops) await shopDelivers(s)
    await adversary?.step()
    await sim.runUntil(at() + LIVENESS_STEP_MS)
    checker.afterStep(steps)
    if (strandedOrigin && checker.checkStranded(at(), strandingBoundMs()) === 0) {
      // Every stranded order reached its buyer: the platform comes back, and the run converges.
      platformDown.delete(strandedOrigin.name)
      strandedOrigin.engine.reportPlatformHealth('up')
      strandedOrigin = null
    }
    if (!strandedOrigin && checker.converged(ownDelivered)) break
  }
  if (strandedOrigin) checker.checkStranded(at(), strandingBoundMs())
  const livenessMs = at() - livenessStart
  let boundaryOrders = 0
  if (options.boundary !== false && checker.converged(ownDelivered))
    ({ steps, orders: boundaryOrders } = await boundaryPhase(sim, seed, checker, adversary, acked, ownDelivered, steps, () => next++, shopDelivers))
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
    boundaryOrders,
    byzantine,
    attacks: adversary?.actions ?? 0,
    restores: operator?.restores ?? 0,
    rotations: operator?.rotations ?? 0,
    revocations: checker.revocations,
    joins: joiner?.joins ?? 0,
    removals: remover?.done ?? 0,
    handovers: rotator?.done ?? 0,
  }
}

/**
 * A shop joining the terms in force (D97), in an honest seed: at a drawn moment every party signs
 * the revision that names it, the live engines restart on it, and the newcomer starts from an empty
 * store. From then on the driver treats it as any shop (orders, consignments, crashes, cuts); the
 * checker holds it to every invariant, its partners' whole feeds included.
 */
class Joiner {
  joins = 0
  private readonly at: number | null

  constructor(
    private readonly sim: SimFederation,
    prng: Prng,
    private readonly checker: InvariantChecker,
  ) {
    this.at = prng.chance(JOINING_SEEDS) ? prng.int(JOIN_FROM_MS, JOIN_UNTIL_MS) : null
  }

  async step(now: number): Promise<void> {
    if (this.at === null || this.joins > 0 || now < this.at) return
    this.joins++
    this.checker.joined(await this.sim.addShop())
  }
}

/**
 * A party parting with its place in the terms in force, in an honest seed: removed by the others
 * (D95, D98), or handing its place to its new identity (D99). At a drawn moment every other live
 * party recalls the allotments it holds there (and, for a handover, it recalls its own held by
 * them); RECALL_LEAD_MS later, at the first step the party is up, its platform up and in no
 * takeover either way, the revision takes force. The checker then holds the others to "nothing
 * more reaches it" (no entry of its feed taken, nothing sealed to it, none of its orders delivered
 * by a partner); a successor is watched as any shop.
 */
class Parting {
  done = 0
  private at: number | null
  private victim: string | null = null
  private recalledAt = 0

  constructor(
    private readonly how: 'remove' | 'hand-over',
    private readonly sim: SimFederation,
    private readonly prng: Prng,
    private readonly checker: InvariantChecker,
    private readonly crashed: ReadonlySet<string>,
    private readonly platformDown: ReadonlySet<string>,
  ) {
    const share = how === 'remove' ? REMOVING_SEEDS : ROTATING_IDENTITY_SEEDS
    this.at = prng.chance(share) ? prng.int(REMOVE_FROM_MS, REMOVE_UNTIL_MS - RECALL_LEAD_MS) : null
  }

  async step(now: number): Promise<SimShop | null> {
    if (this.at === null || this.done > 0 || now < this.at || now > REMOVE_UNTIL_MS) return null
    if (this.how === 'remove' && this.sim.shops.length < 3) return null
    if (this.victim === null) {
      const candidates = this.sim.shops.filter((s) => !this.crashed.has(s.name))
      if (candidates.length === 0) return null
      const victim = candidates[this.prng.int(0, candidates.length - 1)] as SimShop
      this.victim = victim.name
      this.recalledAt = now
      for (const other of this.sim.shops)
        if (other !== victim && !this.crashed.has(other.name)) {
          await this.recallAll(other, victim)
          if (this.how === 'hand-over') await this.recallAll(victim, other)
        }
      return null
    }
    // Taken out meanwhile by the other kind of parting: nothing left to do.
    if (!this.sim.shops.some((s) => s.name === this.victim)) {
      this.at = null
      return null
    }
    if (now < this.recalledAt + RECALL_LEAD_MS || !(await this.calm(this.victim))) return null
    this.done++
    if (this.how === 'remove') {
      const gone = await this.sim.removeShop(this.victim)
      this.checker.removed(gone)
      return gone
    }
    const { gone, successor } = await this.sim.handOver(this.victim)
    this.checker.removed(gone)
    this.checker.joined(successor)
    return gone
  }

  /** The operator recalls every allotment of `origin` that `holder` holds (D95's wind-down, D99's rotate). */
  private async recallAll(origin: SimShop, holder: SimShop): Promise<void> {
    const rows = [...(this.sim.shadows.get(origin.name)?.section('keys').values() ?? [])] as KeyRow[]
    const allotments = new Set(
      rows.filter((k) => k.origin === origin.identity.id && k.holder === holder.identity.id && k.state === 'consigned').map((k) => k.allotment),
    )
    for (const allotment of allotments) await origin.engine.recall(holder.identity.id, allotment).catch(() => null)
  }

  /**
   * Up, its platform up, not fenced, and in no takeover either way: a moment to part without an
   * emergency. (A party that parts while it takes a partner over never hands back; what it delivered
   * and its partner had not yet replicated would be settled off the network, D95.)
   */
  private async calm(name: string): Promise<boolean> {
    if (this.crashed.has(name) || this.platformDown.has(name) || this.sim.shadows.get(name)?.section('meta').has(META.rejoin)) return false
    const self = await this.sim
      .shop(name)
      .engine.selfStatus()
      .catch(() => null)
    return self !== null && !self.takenOver && !self.fenced && !this.checker.inTakeover(name)
  }
}

/**
 * The takeover boundary (issue 17): an honest origin's shop keeps selling while its platform goes
 * down and its partners take over, so orders are acknowledged just before, during and after the
 * moment it is fenced. Every one must reach its buyer through a partner within the stranding
 * bound, not wait for the origin's handback. Stores answer slowly in this phase, so a partner's
 * takeover start spans the arrival of escrow records (so what the driver calls, it awaits through
 * sim.await, which moves the clock). Its own Prng stream: the phases before it
 * replay exactly as they did before it existed.
 */
async function boundaryPhase(
  sim: SimFederation,
  seed: string,
  checker: InvariantChecker,
  adversary: Adversary | null,
  acked: Map<string, AckedOrder>,
  ownDelivered: ReadonlySet<string>,
  stepsSoFar: number,
  nextOrder: () => number,
  shopDelivers: (s: SimShop) => Promise<void>,
): Promise<{ steps: number; orders: number }> {
  const prng = new Prng(`${seed}/boundary`)
  const at = () => sim.clock.now() - SIM_START_MS
  let steps = stepsSoFar
  sim.storeLatencyMs = () => prng.int(0, MAX_STORE_MS)
  const honest = sim.shops.filter((s) => !adversary?.isByzantine(s.name))
  const origin = honest.splice(prng.int(0, honest.length - 1), 1)[0] as SimShop
  // One or two holders of a sku nobody else holds: with many, another holder would hide an order
  // one of them left out of its plan.
  const holders = honest.filter(() => prng.chance(0.5)).slice(0, 2)
  if (holders.length === 0) holders.push(honest[prng.int(0, honest.length - 1)] as SimShop)
  for (const p of holders) await sim.await(origin.engine.consign(p.identity.id, SIM_SPARE_SKU, BOUNDARY_KEYS).catch(() => null))
  await sim.runUntil(at() + 1_000)
  checker.platformDown(origin.name)
  origin.engine.reportPlatformHealth('down')
  let orders = 0
  for (let i = 0; i < BOUNDARY_ORDERS; i++) {
    const order = { ...simOrder(prng, nextOrder()), order: `${origin.name}-b${i}`, sku: SIM_SPARE_SKU }
    const reply = await sim.await(origin.engine.submitOrders([order]).catch(() => null))
    if (reply) {
      acked.set(order.order, { origin: origin.name, order: order.order })
      checker.strandedAt(origin.name, [order.order], at())
      orders++
    }
    await sim.runUntil(at() + prng.int(1, BOUNDARY_GAP_MS))
  }
  let down = true
  const end = at() + strandingBoundMs() + LIVENESS_MS
  while (at() < end) {
    steps++
    // The origin's shop stays down (it delivers nothing itself) until every stranded order is out.
    for (const s of sim.shops) if (s !== origin || !down) await sim.await(shopDelivers(s))
    if (adversary) await sim.await(adversary.step())
    await sim.runUntil(at() + LIVENESS_STEP_MS)
    checker.afterStep(steps)
    if (down && checker.checkStranded(at(), strandingBoundMs()) === 0) {
      down = false
      origin.engine.reportPlatformHealth('up')
    }
    if (!down && checker.converged(ownDelivered)) break
  }
  if (down) {
    checker.checkStranded(at(), strandingBoundMs())
    origin.engine.reportPlatformHealth('up')
  }
  sim.storeLatencyMs = null
  return { steps, orders }
}

/**
 * How long a stranded order may wait for a partner, from its origin's platform going down: the
 * takeover (at once on the origin's own request, or the certificate path's suspicion, votes and
 * takeover delay), a claim by a colluder ranked first that it never honours (claimTtlMs), ranks'
 * turns and heartbeats on top.
 */
function strandingBoundMs(): number {
  const t = simTerms([]).timing
  return t.suspectAfterMs + t.takeoverDelayMs + claimTtlMs(t) + 4 * t.claimTimeoutMs + 8 * t.heartbeatMs
}

/** One line per violation, then the trace of the first: what `npm run sim` prints. */
export function describeViolations(result: SeedResult): string {
  const lines = result.violations.map((v) => `  step ${v.step} at ${v.at} ms: ${v.what}`)
  const first = result.violations[0]
  if (first) lines.push(`  trace of the first (last ${first.trace.length} related events, "<ms> <shop> <event>"):`, ...first.trace.map((t) => `    ${t}`))
  const flag = result.byzantine.length > 0 ? ' --byzantine' : ''
  return [
    `VIOLATION seed=${result.seed}${flag} (replay: npm run sim -- --seed ${result.seed}${flag}; Byzantine: ${result.byzantine.join(', ') || 'none'})`,
    ...lines,
  ].join('\n')
}

/**
 * What operators do mid-run. A shop put back to an earlier copy of its store, as an operator
 * restores a backup (D92): crashed, its store and shadow replaced by the copy and marked,
 * restarted; it must take back what it signed since from its partners and go on without a fork
 * or a lost order. A shop's box key rotated (D93): every engine restarts on the new card, and what
 * was sealed to the old key, stored or still on the wire, must still open.
 */
class OperatorActs {
  private readonly copies = new Map<string, { copy: StoreCopy; seq: number }>()
  restores = 0
  rotations = 0

  constructor(
    private readonly sim: SimFederation,
    private readonly prng: Prng,
    private readonly crashed: ReadonlySet<string>,
  ) {}

  async step(): Promise<void> {
    const live = this.sim.shops.filter((s) => !this.crashed.has(s.name) && !this.rejoining(s))
    if (live.length === 0) return
    const shop = live[this.prng.int(0, live.length - 1)] as SimShop
    if (this.prng.chance(ROTATE_CHANCE)) {
      await this.sim.rotateBox(shop.name)
      this.rotations++
    } else if (this.prng.chance(COPY_CHANCE)) {
      const copy = await this.sim.copyStore(shop.name)
      const head = copy.rows.find(([section, key]) => section === 'meta' && key === META.ownHead)?.[2] as { seq: number } | undefined
      this.copies.set(shop.name, { copy, seq: head?.seq ?? 0 })
    } else if (this.copies.has(shop.name) && this.prng.chance(RESTORE_CHANCE)) {
      // Judged once the shop is down and its last writes landed: nothing moves under the check.
      this.sim.crash(shop.name)
      await this.sim.landed(shop.name)
      if (await this.restorable(shop)) {
        await this.sim.putBack(shop.name, (this.copies.get(shop.name) as { copy: StoreCopy }).copy)
        this.copies.delete(shop.name)
        this.restores++
      }
      await this.sim.restart(shop.name)
    }
  }

  private rejoining(shop: SimShop): boolean {
    return this.sim.shadows.get(shop.name)?.section('meta').has(META.rejoin) ?? false
  }

  private ownHead(shop: SimShop): number {
    return (this.sim.shadows.get(shop.name)?.section('meta').get(META.ownHead) as { seq: number } | undefined)?.seq ?? 0
  }

  private async restorable(shop: SimShop): Promise<boolean> {
    const head = this.ownHead(shop)
    for (const partner of this.sim.shops) if (partner !== shop && ((await shop.store.get<number>('acks', partner.identity.id)) ?? 0) < head) return false
    const from = (this.copies.get(shop.name) as { seq: number }).seq
    for await (const [, entry] of shop.store.range<FeedEntry>('entries', { gt: seqKey(shop.identity.id, from), lte: seqKey(shop.identity.id, head) }))
      if (entry.body.records.some((r) => !REBUILT_RECORDS.has(r.type))) return false
    return true
  }
}

/**
 * Operators revoking parties (D94), in a Byzantine seed: from a drawn moment late in the safety
 * phase, each live honest shop signs a revocation of each Byzantine one, one signature per step at
 * most; the colluders sign revocations of honest shops, which must never take force.
 */
class Revokers {
  private readonly active: boolean
  private readonly fromMs: number
  private readonly honest: readonly string[]

  constructor(
    private readonly sim: SimFederation,
    private readonly prng: Prng,
    private readonly byzantine: readonly string[],
    private readonly crashed: ReadonlySet<string>,
  ) {
    this.active = prng.chance(REVOKING_SEEDS)
    this.fromMs = prng.int(REVOKE_FROM_MS, SAFETY_MS - 1_000)
    this.honest = sim.shops.map((s) => s.name).filter((n) => !byzantine.includes(n))
  }

  async step(atMs: number): Promise<void> {
    if (!this.active || atMs < this.fromMs) return
    const live = (names: readonly string[]) => names.filter((n) => !this.crashed.has(n))
    if (this.prng.chance(REVOKE_CHANCE)) await this.sign(live(this.honest), this.byzantine)
    if (this.prng.chance(COUNTER_REVOKE_CHANCE)) await this.sign(live(this.byzantine), this.honest)
  }

  /** One of `signers` revokes one of `targets` it has not revoked yet (refused ones are part of the game). */
  private async sign(signers: readonly string[], targets: readonly string[]): Promise<void> {
    if (signers.length === 0) return
    const signer = this.sim.shop(signers[this.prng.int(0, signers.length - 1)] as string)
    const target = this.sim.shop(targets[this.prng.int(0, targets.length - 1)] as string)
    await signer.engine.revokePartner(target.identity.id, 'sim').catch(() => null)
  }
}
