// Simulator seeds in every test run (CI included): 0 violations expected. The regression seeds are
// those that found bugs (see README "Simulator"); the broad runs spread 1,000 honest seeds and 500
// seeds with Byzantine partners (`--byzantine`) over two child processes each (`--jobs 2`), the
// takeover boundary phase on every fourth one (`--boundary-every 4`). Two
// canaries plant known bugs that the simulator must catch within 50 seeds.
import { spawn } from 'node:child_process'
import { describe, expect, it } from 'vitest'
import { runSeed, type SeedOptions, type SeedResult } from './vopr.js'

/**
 * ops-160, ops-182 (D92): a restored node's paused feed writer refused a consignment without
 * aborting its unit, so the holding count it had reserved in memory stayed and the next write
 * stored it (origin counts 49 consigned, holds 40 key rows). ops-130 found, with the first version
 * of the restore fault, a restored origin refusing its partners' receipts for orders it had
 * escrowed after the backup: test/core/own-feed-rejoin.test.ts keeps that case.
 */
const REGRESSION_SEEDS = [
  'try-15',
  'try-26',
  'try-36',
  'try-39',
  'seed-3',
  'seed-4',
  'seed-28',
  'seed-36',
  'seed-1276',
  'seed-50410',
  'ci-478',
  'ops-160',
  'ops-182',
  // A shop joining (D97): a certificate made just before the revision was refused under the new
  // terms, so its origin never handed back (ci-2), and judged by the new, higher quorum (ci-8).
  'ci-2',
  'ci-8',
  // A shop handing its place to a new identity (D99), then another removed: the next revision
  // carried the handover's succession along, naming terms it no longer followed (ci-105).
  'ci-105',
]
// 1,000 + 500, as issue 16 asks (D85, which undoes D83): ≈ 330 s + 280 s on an idle machine. The
// long runs (100,000 honest, 20,000 Byzantine seeds, test/bench/RESULTS.md) are the proof, these
// the sample every commit runs.
const SEEDS = Number(process.env.STANDIN_SIM_SEEDS ?? 1000)
const BYZANTINE_SEEDS = Number(process.env.STANDIN_SIM_BYZANTINE_SEEDS ?? 500)
const JOBS = 2
/** The takeover boundary phase costs ~40 % of a seed: the broad runs take it on every fourth seed (CI took 2,002 s with every other one). */
const BOUNDARY_EVERY = 4
/**
 * Seeds with Byzantine partners that found bugs while the adversary was built (issue 16), and
 * byz-82: the boundary phase's slow stores let a restart's resume and the first claim step both
 * receipt one reservation (issue 17). Found by the 20,000-seed run: seed-2250 (a partner out of
 * keys when a takeover began never looked again when the origin's last consignment arrived: the
 * orders stranded) and seed-3327 (an origin that asked for an epoch its partners already held by
 * certificate dated the epoch from its own request and held their earlier receipts for good).
 * seed-3728 found a flaw in the harness, not the engine: the stranding outage began while a takeover
 * of the same origin was still running, whose holder rightly spent the fresh keys on its orders, and
 * fewer keys were consigned than orders stranded (the shop's own backlog). seed-247: a fulfilment
 * batch queued behind the origin's handback still delivered (D81). seed-6137: a Byzantine holder's
 * release reached a co-partner before the consignment it released, so the co-partner took a
 * receipt for a returned key that the origin refused, and never served the order (D82).
 */
const BYZANTINE_REGRESSION_SEEDS = [
  'seed-73',
  'seed-128',
  'seed-287',
  'seed-388',
  'byz-219',
  'byz-479',
  'byz-82',
  'seed-2250',
  'seed-3327',
  'seed-3728',
  'seed-247',
  'seed-6137',
  // Revocations (D94): a certificate built before the revocation reached its builder (rv-3), a
  // stopped writer still signing (rv-8, rv-16), a restarted engine's platform health (rv-13).
  'rv-3',
  'rv-8',
  'rv-13',
  'rv-16',
  // A certificate shown once to an origin that asked for the same epoch, the showing lost, and the
  // origin handing back before another: the holder's earlier receipt stayed held there (D102).
  'byz-359',
  // The origin's shop reported down during the boundary phase; the origin adopted its own takeover
  // request and handed it back at once, while its platform still said 'up' (D103).
  'byz-301',
]
/**
 * Seeds whose takeover boundary phase (issue 17) left an order out of every holder's plan before
 * the fix: it was escrowed while the holders' takeover start scanned the stored orders.
 */
const BOUNDARY_SEEDS = ['ci-9', 'ci-58', 'ci-74']

/** Runs `npm run sim` over `seeds` seeds in child processes; resolves with its summary. */
async function simRun(prefix: string, seeds: number, extra: readonly string[] = []) {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'test/sim/main.ts',
      '--seeds',
      String(seeds),
      '--prefix',
      prefix,
      '--jobs',
      String(JOBS),
      '--boundary-every',
      String(BOUNDARY_EVERY),
      ...extra,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  )
  let out = ''
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk))
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve))
  const summary = JSON.parse(
    out
      .split('\n')
      .find((l) => l.startsWith('SIM-SUMMARY '))
      ?.slice('SIM-SUMMARY '.length) ?? '{}',
  ) as {
    seeds?: number
    violations?: number
    failing?: string[]
    restores?: number
    rotations?: number
    revocations?: number
    joins?: number
    removals?: number
    handovers?: number
  }
  // Violations print their seed, step and trace above the summary: show them when this fails.
  return {
    run: { code, seeds: summary.seeds, violations: summary.violations, failing: summary.failing, out: summary.violations ? out.slice(0, 20_000) : '' },
    restores: summary.restores ?? 0,
    rotations: summary.rotations ?? 0,
    revocations: summary.revocations ?? 0,
    joins: summary.joins ?? 0,
    removals: summary.removals ?? 0,
    handovers: summary.handovers ?? 0,
  }
}

/** Runs `seeds` one by one; each must pass `ran` (it ran what it should); returns violations found. */
async function failuresOf(seeds: readonly string[], options: SeedOptions, ran: (result: SeedResult) => void): Promise<string[]> {
  const failures: string[] = []
  for (const seed of seeds) {
    const result = await runSeed(seed, options)
    ran(result)
    if (result.violations.length > 0)
      failures.push(
        `seed ${result.seed}: ${result.violations
          .slice(0, 3)
          .map((v) => v.what)
          .join('; ')}`,
      )
  }
  return failures
}

describe('simulator seeds', () => {
  it(`regression seeds ${REGRESSION_SEEDS.join(', ')} keep every invariant`, async () => {
    expect(await failuresOf(REGRESSION_SEEDS, {}, (result) => expect(result.orders).toBeGreaterThan(0))).toEqual([])
  }, 600_000)

  it(`takeover boundary seeds ${BOUNDARY_SEEDS.join(', ')}: every order acknowledged as the takeover starts is delivered by a partner within the bound`, async () => {
    expect(await failuresOf(BOUNDARY_SEEDS, {}, (result) => expect(result.boundaryOrders).toBeGreaterThan(0))).toEqual([])
  }, 600_000)

  it('seed-22561: work in flight when the engines stop and their stores close ends without an unhandled rejection', async () => {
    // Before the fix a feed pump read the store after the seed closed it: the rejection was
    // unhandled and killed the process (Node's default), which in a live node means at shutdown.
    const unhandled: unknown[] = []
    const record = (reason: unknown) => unhandled.push(reason)
    process.on('unhandledRejection', record)
    try {
      const result = await runSeed('seed-22561')
      expect(result.violations).toEqual([])
      await new Promise((resolve) => setTimeout(resolve, 200)) // rejections left behind surface on later ticks
    } finally {
      process.off('unhandledRejection', record)
    }
    expect(unhandled.map(String)).toEqual([])
  }, 60_000)

  it(`${SEEDS} seeds (ci-0 …) keep every invariant after every step, restores, box key rotations, a shop joining, a shop removed and a shop handing its place to a new identity among the faults`, async () => {
    const { run, restores, rotations, joins, removals, handovers } = await simRun('ci', SEEDS)
    expect(run).toEqual({ code: 0, seeds: SEEDS, violations: 0, failing: [], out: '' })
    // About one restore in three seeds (D92), one rotation per seed (D93) and a shop joining in
    // three seeds of ten (D97), a party removed in about three of ten (D95) and an identity handed
    // over in one of four (D99; both fewer, since they wait for a calm moment): the fault mix really
    // has them.
    expect(restores).toBeGreaterThan(SEEDS / 20)
    expect(rotations).toBeGreaterThan(SEEDS / 4)
    expect(joins).toBeGreaterThan(SEEDS / 5)
    expect(removals).toBeGreaterThan(SEEDS / 10)
    expect(handovers).toBeGreaterThan(SEEDS / 12)
  }, 1_800_000)

  it(`Byzantine regression seeds ${BYZANTINE_REGRESSION_SEEDS.join(', ')} keep every invariant of the honest shops`, async () => {
    expect(await failuresOf(BYZANTINE_REGRESSION_SEEDS, { byzantine: true }, (result) => expect(result.attacks).toBeGreaterThan(0))).toEqual([])
  }, 600_000)

  it(`${BYZANTINE_SEEDS} seeds with up to quorum − 1 Byzantine partners (byz-0 …) keep every invariant of the honest shops`, async () => {
    const { run, revocations } = await simRun('byz', BYZANTINE_SEEDS, ['--byzantine'])
    expect(run).toEqual({ code: 0, seeds: BYZANTINE_SEEDS, violations: 0, failing: [], out: '' })
    // Half the seeds revoke their Byzantine partners (D94): the fault mix really has revocations.
    expect(revocations).toBeGreaterThan(BYZANTINE_SEEDS / 4)
  }, 1_800_000)
})

/** The first of 50 canary seeds whose run `caught` says found the planted bug; -1 when none did. */
async function caughtWithin50(options: SeedOptions, caught: (result: SeedResult) => boolean): Promise<number> {
  for (let i = 0; i < 50; i++) if (caught(await runSeed(`canary-${i}`, options))) return i
  return -1
}

describe('simulator canary', () => {
  it('catches a planted bug (keys handed out without leaving the free list) within 50 seeds', async () => {
    expect(await caughtWithin50({ canary: 'reuse-keys' }, (r) => r.violations.some((v) => v.what.startsWith('key ')))).toBeGreaterThanOrEqual(0)
  }, 600_000)

  it('catches a restored node that writes without confirming its feed (the marker ignored) within 50 seeds', async () => {
    expect(await caughtWithin50({ canary: 'no-rejoin' }, (r) => r.restores > 0 && r.violations.length > 0)).toBeGreaterThanOrEqual(0)
  }, 600_000)

  it('catches a node that forgets its rotated-out box keys (what was sealed to them never opens) within 50 seeds', async () => {
    expect(await caughtWithin50({ canary: 'no-keyring' }, (r) => r.rotations > 0 && r.violations.length > 0)).toBeGreaterThanOrEqual(0)
  }, 600_000)

  it('catches a node that goes on sealing to a party a quorum revoked within 50 Byzantine seeds (D94)', async () => {
    expect(
      await caughtWithin50({ canary: 'seal-to-revoked', byzantine: true }, (r) =>
        r.violations.some((v) => /sealed an entry of its feed to revoked/.test(v.what)),
      ),
    ).toBeGreaterThanOrEqual(0)
  }, 600_000)

  it('catches a re-planted attack 1 (receipts taken without an adopted authority) within 50 Byzantine seeds', async () => {
    const attack = /without an adopted authority|without an authority|owes .* a fee/
    expect(await caughtWithin50({ canary: 'lone-receipts', byzantine: true }, (r) => r.violations.some((v) => attack.test(v.what)))).toBeGreaterThanOrEqual(0)
  }, 600_000)
})
