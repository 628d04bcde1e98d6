// The crash loop's four phases, run in turn. Each phase does its work while the runner SIGKILLs a
// node at a random moment of the phase's kill window; a phase waits for what it started (bounded)
// but never fails: progress that a crash prevents is checked at the end, after healing.
import type { ShopStatusView } from '../../node/core/api-schemas.js'
import type { Prng } from '../sim/prng.js'
import { type Federation, shop } from '../integration/federation-env.js'
import type { Buyers } from './buyers.js'
import { type Faults, type Log, sleep } from './faults.js'
import { type SettleCounts, settleRound } from './settle.js'

export type PhaseName = 'intake' | 'takeover' | 'handback' | 'statements'
export const PHASE_ORDER: readonly PhaseName[] = ['intake', 'takeover', 'handback', 'statements']

export interface World {
  readonly f: Federation
  readonly names: readonly string[]
  /** The schedule's randomness: phase choices and kill moments, reproducible from the seed. */
  readonly rng: Prng
  readonly faults: Faults
  readonly buyers: Buyers
  readonly settle: SettleCounts
  readonly log: Log
  /** The shop whose platform the last takeover phase took down (handback brings it back). */
  origin: string
}

/** Purchase pace: a burst during intake, a trickle otherwise, so every phase sees new orders. */
export const INTAKE_PACE_MS = 60
export const TRICKLE_PACE_MS = 400
const INTAKE_MS = 3_000
/** How long a takeover or handback may take before the phase moves on (the end check waits longer). */
const PROGRESS_WAIT_MS = 25_000

export interface Phase {
  /** The kill lands uniformly in [0, killWindowMs) after the phase starts. */
  readonly killWindowMs: number
  /** Who dies: the phase's protagonist more often, so each phase's own crash is covered. */
  victim(w: World): string
  run(w: World): Promise<string>
}

function anyNode(w: World): string {
  return w.names[w.rng.int(0, w.names.length - 1)] as string
}

const originOrAny = (w: World) => (w.rng.chance(0.5) ? w.origin : anyNode(w))

async function viewOf(f: Federation, partner: string, origin: string): Promise<ShopStatusView['state'] | null> {
  try {
    const response = await fetch(`${f.cluster.node(partner).baseUrl}/status/${f.cluster.node(origin).id}.json`)
    return response.ok ? ((await response.json()) as ShopStatusView).state : null
  } catch {
    return null // that partner is down right now
  }
}

/** Polls until `probe` holds or `ms` pass; returns the time it took, or null. */
async function within(ms: number, probe: () => Promise<boolean>): Promise<number | null> {
  const started = Date.now()
  while (Date.now() - started < ms) {
    if (await probe()) return Date.now() - started
    await sleep(100)
  }
  return null
}

const took = (what: string, ms: number | null) => (ms === null ? `${what}: not within ${PROGRESS_WAIT_MS} ms` : `${what} after ${ms} ms`)

export const PHASES: Record<PhaseName, Phase> = {
  intake: {
    killWindowMs: INTAKE_MS,
    victim: anyNode,
    async run(w) {
      const before = w.buyers.placed.length
      w.buyers.setPace(INTAKE_PACE_MS)
      await sleep(INTAKE_MS)
      w.buyers.setPace(TRICKLE_PACE_MS)
      return `${w.buyers.placed.length - before} orders`
    },
  },
  takeover: {
    killWindowMs: 3_000,
    victim: originOrAny,
    async run(w) {
      const origin = w.origin // drawn by the runner when the phase starts
      await shop(w.f, origin).setPlatform('down') // the node asks its partners to take over
      const partners = w.names.filter((n) => n !== origin)
      const ms = await within(PROGRESS_WAIT_MS, async () => {
        for (const p of partners) if ((await viewOf(w.f, p, origin)) === 'partners-delivering') return true
        return false
      })
      return took(`${origin}'s platform down; partners delivering`, ms)
    },
  },
  handback: {
    killWindowMs: 2_000,
    victim: originOrAny,
    async run(w) {
      const origin = w.origin
      await shop(w.f, origin).setPlatform('up')
      const partners = w.names.filter((n) => n !== origin)
      const ms = await within(PROGRESS_WAIT_MS, async () => {
        if (shop(w.f, origin).fenced) return false
        for (const p of partners) if ((await viewOf(w.f, p, origin)) === 'partners-delivering') return false
        return true
      })
      return took(`${origin}'s platform up; handed back and unfenced`, ms)
    },
  },
  statements: {
    killWindowMs: 4_000,
    victim: anyNode,
    async run(w) {
      const before = { ...w.settle }
      await settleRound(w.f, w.names, w.settle, w.log)
      const d = (k: keyof SettleCounts) => w.settle[k] - before[k]
      return `statements issued ${d('issued')}, accepted ${d('accepted')}, paid ${d('paid')}, confirmed ${d('confirmed')}, steps failed ${d('failed')}`
    },
  },
}
