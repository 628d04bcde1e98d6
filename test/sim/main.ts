// npm run sim -- --seeds N [--from K] [--prefix P] [--jobs J] [--byzantine] [--boundary-every B] | --seed S [--byzantine]
// Runs seeds P-K … P-(K+N-1), printing every violation with its seed, step and trace, then one
// summary line. --jobs splits the range over J child processes (one per core). --seed S replays one
// seed exactly and prints its result. --byzantine makes up to quorum − 1 partners of every seed
// hostile (test/sim/adversary.ts); a seed replays the same with the same flag. --boundary-every B
// runs the takeover boundary phase only on seeds whose number is a multiple of B (default 1: all).
import '../../node/polyfills.js'
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { Command } from 'commander'
import { z } from 'zod'
import { describeViolations, runSeed } from './vopr.js'

const Args = z.strictObject({
  seeds: z.coerce.number().int().min(1).max(1_000_000).default(100),
  from: z.coerce.number().int().min(0).default(0),
  prefix: z
    .string()
    .regex(/^[a-z0-9-]{1,20}$/)
    .default('seed'),
  jobs: z.coerce.number().int().min(1).max(16).default(1),
  seed: z.string().min(1).max(100).optional(),
  byzantine: z.boolean().default(false),
  boundaryEvery: z.coerce.number().int().min(1).max(1_000).default(1),
})

export interface RunSummary {
  seeds: number
  steps: number
  violations: number
  /** Shops restored from an earlier copy of their store (D92) over all the seeds. */
  restores: number
  /** Box keys rotated (D93) over all the seeds. */
  rotations: number
  joins: number
  removals: number
  handovers: number
  /** Revocations in force at honest nodes (D94), per (node, revoked party), over all the seeds. */
  revocations: number
  failing: string[]
}

const SUMMARY = 'SIM-SUMMARY '
/** Failing seeds listed in the summary, at most. */
const MAX_FAILING = 50
/** Long runs report how far they got on stderr, so a stopped run still tells its exact figures. */
const PROGRESS_EVERY = 500

/** The seed running now. A crash fails the run like a violation, and has to name its seed. */
let running = 'none yet'
const crashed = (kind: string) => (error: unknown) => {
  console.log(
    `CRASH (${kind}) during seed ${running}, or from work the seed before it left behind: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
  )
  process.exit(1)
}
process.on('unhandledRejection', crashed('unhandled rejection'))
process.on('uncaughtException', crashed('uncaught exception'))

async function runRange(prefix: string, from: number, count: number, byzantine: boolean, boundaryEvery: number): Promise<RunSummary> {
  const summary: RunSummary = { seeds: 0, steps: 0, violations: 0, restores: 0, rotations: 0, revocations: 0, joins: 0, removals: 0, handovers: 0, failing: [] }
  for (let i = from; i < from + count; i++) {
    running = `${prefix}-${i}`
    const result = await runSeed(running, { byzantine, boundary: i % boundaryEvery === 0 })
    summary.seeds++
    summary.steps += result.steps
    summary.restores += result.restores
    summary.rotations += result.rotations
    summary.joins += result.joins
    summary.removals += result.removals
    summary.handovers += result.handovers
    summary.revocations += result.revocations
    if (result.violations.length > 0) {
      summary.violations++
      if (summary.failing.length < MAX_FAILING) summary.failing.push(result.seed)
      console.log(describeViolations(result))
    }
    if (summary.seeds % PROGRESS_EVERY === 0)
      console.error(`progress ${prefix}-${from}..${prefix}-${i}: seeds=${summary.seeds} steps=${summary.steps} violations=${summary.violations}`)
  }
  return summary
}

/** One child per job, each a contiguous part of the range; violations stream through as they come. */
async function runJobs(prefix: string, from: number, count: number, jobs: number, byzantine: boolean, boundaryEvery: number): Promise<RunSummary> {
  const total: RunSummary = { seeds: 0, steps: 0, violations: 0, restores: 0, rotations: 0, revocations: 0, joins: 0, removals: 0, handovers: 0, failing: [] }
  const share = Math.ceil(count / jobs)
  const children = Array.from({ length: jobs }, (_, j) => {
    const start = from + j * share
    const n = Math.min(share, from + count - start)
    if (n <= 0) return Promise.resolve()
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        fileURLToPath(import.meta.url),
        '--seeds',
        String(n),
        '--from',
        String(start),
        '--prefix',
        prefix,
        '--boundary-every',
        String(boundaryEvery),
        ...(byzantine ? ['--byzantine'] : []),
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    )
    let buffered = ''
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      buffered += chunk
      const lines = buffered.split('\n')
      buffered = lines.pop() ?? ''
      for (const line of lines) {
        if (!line.startsWith(SUMMARY)) {
          console.log(line)
          continue
        }
        const part = JSON.parse(line.slice(SUMMARY.length)) as RunSummary
        total.seeds += part.seeds
        total.steps += part.steps
        total.violations += part.violations
        total.restores += part.restores
        total.rotations += part.rotations
        total.joins += part.joins
        total.removals += part.removals
        total.handovers += part.handovers
        total.revocations += part.revocations
        total.failing.push(...part.failing.slice(0, MAX_FAILING - total.failing.length))
      }
    })
    return new Promise<void>((resolve, reject) =>
      child.on('exit', (code) => (code === 0 || code === 1 ? resolve() : reject(new Error(`sim job ${j} exited with ${code}`)))),
    )
  })
  await Promise.all(children)
  return total
}

const cli = new Command('sim')
  .option('--seeds <n>', 'how many seeds')
  .option('--from <k>', 'first seed number')
  .option('--prefix <p>', 'seed name prefix')
  .option('--jobs <j>', 'child processes to spread the seeds over')
  .option('--seed <seed>', 'replay one seed')
  .option('--byzantine', 'make up to quorum − 1 partners of each seed hostile')
  .option('--boundary-every <b>', 'run the takeover boundary phase on every b-th seed only')
cli.parse(process.argv)
const parsed = Args.safeParse(cli.opts())
if (!parsed.success) {
  console.error(parsed.error.issues.map((i) => `--${i.path.join('.')}: ${i.message}`).join('\n'))
  process.exit(2)
}
const args = parsed.data
const started = Date.now()
if (args.seed) {
  running = args.seed
  const result = await runSeed(args.seed, { byzantine: args.byzantine })
  console.log(JSON.stringify({ ...result, violations: result.violations.length }, null, 2))
  if (result.violations.length > 0) console.log(describeViolations(result))
  process.exitCode = result.violations.length === 0 ? 0 : 1
} else {
  const summary =
    args.jobs > 1
      ? await runJobs(args.prefix, args.from, args.seeds, args.jobs, args.byzantine, args.boundaryEvery)
      : await runRange(args.prefix, args.from, args.seeds, args.byzantine, args.boundaryEvery)
  await new Promise((resolve) => setTimeout(resolve, 100)) // a rejection the last seed left behind crashes before the summary
  console.log(`${SUMMARY}${JSON.stringify(summary)}`)
  console.log(
    `sim seeds=${summary.seeds} steps=${summary.steps} violations=${summary.violations} restores=${summary.restores} rotations=${summary.rotations} joins=${summary.joins} removals=${summary.removals} handovers=${summary.handovers} revocations=${summary.revocations} seconds=${((Date.now() - started) / 1000).toFixed(1)} jobs=${args.jobs}${args.byzantine ? ' byzantine' : ''}${args.boundaryEvery > 1 ? ` boundary-every=${args.boundaryEvery}` : ''} range=${args.prefix}-${args.from}..${args.prefix}-${args.from + args.seeds - 1}`,
  )
  process.exitCode = summary.violations === 0 && summary.seeds === args.seeds ? 0 : 1
}
