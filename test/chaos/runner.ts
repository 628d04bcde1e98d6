// The crash loop (issue 7 item 4): three real node processes A, B, C, their shop simulators and an
// SMTP sink (test/integration/federation-env.ts). Phases cycle intake → takeover → handback →
// statements while buyers keep paying; in every phase a node is SIGKILLed at a random moment and
// restarted (sometimes a second one too). Then everything heals and the invariants are checked.
// The seed fixes the schedule (phases, origins, victims, kill moments, downtimes); what the
// processes do in between is real and not reproducible to the millisecond.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Prng } from '../sim/prng.js'
import { allot, shop, startFederation, stopFederation, testTerms } from '../integration/federation-env.js'
import { Buyers } from './buyers.js'
import { Mailbox, type Observation, observe } from './checks.js'
import { Faults, type Log, sleep } from './faults.js'
import { PHASE_ORDER, PHASES, TRICKLE_PACE_MS, type World } from './phases.js'
import { newSettleCounts, type SettleCounts } from './settle.js'

export interface ChaosOptions {
  readonly kills: number
  readonly seed: string
  /** Bound on the crash loop itself; healing and checking have their own bound. */
  readonly maxLoopMs: number
  /** Bound on waiting for the healed federation to deliver everything and agree on its books. */
  readonly livenessMs: number
  readonly log?: Log
}

export interface ChaosResult {
  readonly seed: string
  readonly kills: number
  readonly phases: number
  readonly observation: Observation
  readonly settle: SettleCounts
  readonly refusedPurchases: number
  readonly wallMs: number
  readonly logDir: string
  readonly violations: string[]
}

const NAMES = ['A', 'B', 'C'] as const
const KEYS_PER_SHOP = 4_000
const KEYS_PER_ALLOTMENT = 400
/** Shops deliver their own orders this long after payment: long enough to be caught by a crash. */
const OWN_DELIVERY_DELAY_MS = 500
/** Longest a killed node stays down before its restart begins (the restart itself takes ~2 s). */
const MAX_DOWN_MS = 2_000
const SECOND_KILL_CHANCE = 0.2
const cny = (minorUnits: number) => ({ minorUnits, currency: 'CNY' })
const LIMITS = { maxOrdersPerOutage: 100_000, maxValuePerOutage: cny(1e12), maxOrdersPerHour: 100_000, maxValuePerHour: cny(1e12) }

export async function runChaos(o: ChaosOptions): Promise<ChaosResult> {
  const started = Date.now()
  const log = o.log ?? (() => undefined)
  const logDir = mkdtempSync(join(tmpdir(), 'standin-chaos-'))
  const schedule = new Prng(`${o.seed}/schedule`)
  const f = await startFederation({ keysPerShop: KEYS_PER_SHOP, deliverDelayMs: OWN_DELIVERY_DELAY_MS, terms: (ids) => testTerms(ids, LIMITS) })
  const faults = new Faults(f, logDir, log)
  const buyers = new Buyers(f, NAMES, new Prng(`${o.seed}/buyers`))
  const world: World = { f, names: NAMES, rng: schedule, faults, buyers, settle: newSettleCounts(), log, origin: 'A' }
  let phases = 0
  let result: ChaosResult | undefined
  try {
    await Promise.all(NAMES.flatMap((from) => NAMES.filter((to) => to !== from).map((to) => allot(f, from, to, KEYS_PER_ALLOTMENT))))
    log(`federation up in ${Date.now() - started} ms; node logs in ${logDir}`)
    buyers.start()
    buyers.setPace(TRICKLE_PACE_MS)
    const loopEnds = Date.now() + o.maxLoopMs
    while (faults.kills < o.kills && Date.now() < loopEnds) {
      const name = PHASE_ORDER[phases % PHASE_ORDER.length] as keyof typeof PHASES
      phases++
      if (name === 'takeover') world.origin = NAMES[schedule.int(0, NAMES.length - 1)] as string
      const phase = PHASES[name]
      const victim = phase.victim(world)
      const crashes = [faults.crash(victim, schedule.int(0, phase.killWindowMs - 1), schedule.int(0, MAX_DOWN_MS), name)]
      if (schedule.chance(SECOND_KILL_CHANCE)) {
        const others = NAMES.filter((n) => n !== victim)
        const second = others[schedule.int(0, others.length - 1)] as string
        crashes.push(faults.crash(second, schedule.int(0, phase.killWindowMs - 1), schedule.int(0, MAX_DOWN_MS), `${name} (second kill)`))
      }
      const outcome = await phase.run(world)
      await Promise.all(crashes)
      log(`phase ${phases} ${name}: ${outcome}`)
    }
    const observation = await heal(world, o.livenessMs)
    for (const n of NAMES) faults.checkAlive(n)
    const violations = [...faults.selfExits, ...verdict(observation, faults.kills, o.kills)]
    result = {
      seed: o.seed,
      kills: faults.kills,
      phases,
      observation,
      settle: world.settle,
      refusedPurchases: buyers.refused,
      wallMs: Date.now() - started,
      logDir,
      violations,
    }
  } finally {
    await buyers.stop()
    for (const n of NAMES) faults.saveLog(n, 'end of run')
    await stopFederation(f)
  }
  // Node logs are evidence when something went wrong, or looks odd: two partners delivering one
  // order happens only when a claim race is lost (a slow machine) or a delivery went unnoticed.
  if (result.violations.length === 0 && result.observation.duplicatesTwoPartners === 0) rmSync(logDir, { recursive: true, force: true })
  return result
}

/** Stops the faults and the buyers, brings every platform up, and waits (bounded) until settled. */
async function heal(w: World, livenessMs: number): Promise<Observation> {
  await w.buyers.stop()
  for (const n of w.names) await shop(w.f, n).setPlatform('up')
  const mailbox = new Mailbox(w.f)
  const placed = w.buyers.placed
  const healedBy = Date.now() + livenessMs
  let last = await observe(w.f, w.names, placed, mailbox)
  while (Date.now() < healedBy && !quiet(last)) {
    await sleep(1_000)
    last = await observe(w.f, w.names, placed, mailbox)
  }
  w.log(quiet(last) ? 'healed' : `not healed within ${livenessMs} ms`)
  // One more look after a pause: a late duplicate or mail would show up now.
  await sleep(2_000)
  const final = await observe(w.f, w.names, placed, mailbox, true)
  if (final.duplicates.length > 0) w.log(`duplicates (order: deliverers): ${final.duplicateDetail.join('; ')}`)
  return final
}

function quiet(o: Observation): boolean {
  return (
    o.lost.length === 0 &&
    o.unacknowledgedPaid.length === 0 &&
    o.fencedShops.length === 0 &&
    o.missingMails.length === 0 &&
    o.uncountedDuplicates.length === 0 &&
    o.books.mirror
  )
}

function verdict(o: Observation, kills: number, wanted: number): string[] {
  const v: string[] = []
  if (kills < wanted) v.push(`only ${kills} of ${wanted} kills within the time bound`)
  if (o.lost.length > 0) v.push(`${o.lost.length} acknowledged orders lost: ${o.lost.slice(0, 5).join(', ')}`)
  if (o.unacknowledgedPaid.length > 0)
    v.push(`${o.unacknowledgedPaid.length} unacknowledged orders never delivered: ${o.unacknowledgedPaid.slice(0, 5).join(', ')}`)
  if (o.keysReused.length > 0) v.push(`${o.keysReused.length} keys delivered to two orders: ${o.keysReused.slice(0, 5).join(', ')}`)
  if (o.repicked.length > 0) v.push(`${o.repicked.length} orders got different keys from one fulfiller: ${o.repicked.slice(0, 5).join(', ')}`)
  if (o.uncountedDuplicates.length > 0)
    v.push(`${o.uncountedDuplicates.length} duplicate deliveries not counted: ${o.uncountedDuplicates.slice(0, 5).join(', ')}`)
  if (o.missingMails.length > 0) v.push(`${o.missingMails.length} partner deliveries without a buyer mail: ${o.missingMails.slice(0, 5).join(', ')}`)
  if (o.fencedShops.length > 0) v.push(`shops still fenced after healing: ${o.fencedShops.join(', ')}`)
  if (!o.books.mirror) v.push(`books do not mirror: ${o.books.problems.slice(0, 5).join('; ')}`)
  return v
}
