// npm run chaos [-- --kills N --seed S] — the crash loop with real node processes (runner.ts).
// Prints the schedule as it runs, then one summary line with the figures and the machine, and
// exits non-zero on any violation. `--seed S` replays the same schedule.
import '../../node/polyfills.js'
import { randomBytes } from 'node:crypto'
import { Command } from 'commander'
import { z } from 'zod'
import { machineLine } from '../bench/machine.js'
import { runChaos } from './runner.js'

const Args = z.strictObject({
  kills: z.coerce.number().int().min(1).max(10_000).default(100),
  seed: z
    .string()
    .min(1)
    .max(100)
    .default(() => randomBytes(4).toString('hex')),
  maxMinutes: z.coerce
    .number()
    .int()
    .min(1)
    .max(24 * 60)
    .default(60),
  livenessSeconds: z.coerce.number().int().min(10).max(3_600).default(300),
})

const cli = new Command('chaos')
  .option('--kills <n>', 'SIGKILLs to deliver (default 100)')
  .option('--seed <seed>', 'schedule seed (default: random, printed)')
  .option('--max-minutes <m>', 'bound on the crash loop (default 60)')
  .option('--liveness-seconds <s>', 'bound on healing before the checks (default 300)')
cli.parse(process.argv)
const args = Args.parse(cli.opts())
const started = Date.now()
const say = (line: string) => console.log(`[${((Date.now() - started) / 1000).toFixed(1).padStart(6)} s] ${line}`)

console.log(machineLine())
say(`chaos seed=${args.seed} kills=${args.kills} (replay: npm run chaos -- --seed ${args.seed} --kills ${args.kills})`)
const result = await runChaos({ kills: args.kills, seed: args.seed, maxLoopMs: args.maxMinutes * 60_000, livenessMs: args.livenessSeconds * 1_000, log: say })
const o = result.observation
for (const v of result.violations) say(`VIOLATION ${v}`)
const s = result.settle
console.log(
  `CHAOS RESULT seed=${result.seed} kills=${result.kills} phases=${result.phases} orders=${o.orders} acknowledged=${o.acknowledged} delivered=${o.delivered} ` +
    `delivered_by_partners=${o.deliveredByPartners} duplicates=${o.duplicates.length} (counted ${o.duplicates.length - o.uncountedDuplicates.length}; origin+partner ${o.duplicatesOriginAndPartner}, two partners ${o.duplicatesTwoPartners}) ` +
    `keys_reused=${o.keysReused.length} lost=${o.lost.length} books_mirror=${o.books.mirror ? 'yes' : 'no'} ` +
    `statements=${o.books.statements} settled=${o.books.settled} settle_steps(issued/accepted/paid/confirmed/failed)=${s.issued}/${s.accepted}/${s.paid}/${s.confirmed}/${s.failed} mismatched_lines=${s.mismatchedLines} ` +
    `wall_s=${(result.wallMs / 1000).toFixed(1)} violations=${result.violations.length} | ${machineLine()}`,
)
if (result.violations.length > 0 || o.duplicatesTwoPartners > 0) console.log(`node logs: ${result.logDir}`)
process.exit(result.violations.length === 0 ? 0 : 1)
