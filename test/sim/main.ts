// npm run sim -- --seeds N [--from K] | --seed S — runs simulator seeds and prints one line per
// failing seed (and a summary). `--seed S` replays one seed exactly and prints its result.
import '../../node/polyfills.js'
import { Command } from 'commander'
import { z } from 'zod'
import { runSeed } from './vopr.js'

const Args = z.strictObject({ seeds: z.coerce.number().int().min(1).max(1_000_000).default(100), from: z.coerce.number().int().min(0).default(0), seed: z.string().min(1).optional() })

const cli = new Command('sim').option('--seeds <n>', 'how many seeds').option('--from <k>', 'first seed number').option('--seed <seed>', 'replay one seed')
cli.parse(process.argv)
const args = Args.parse(cli.opts())
const started = Date.now()
if (args.seed) {
  const result = await runSeed(args.seed)
  console.log(JSON.stringify(result, null, 2))
  process.exitCode = result.violations.length === 0 ? 0 : 1
} else {
  let violations = 0
  let steps = 0
  for (let i = args.from; i < args.from + args.seeds; i++) {
    const result = await runSeed(`seed-${i}`)
    steps += result.steps
    if (result.violations.length > 0) {
      violations++
      console.log(`VIOLATION seed=${result.seed} ${result.violations.slice(0, 5).join('; ')} (replay: npm run sim -- --seed ${result.seed})`)
    }
  }
  console.log(`sim seeds=${args.seeds} steps=${steps} violations=${violations} seconds=${((Date.now() - started) / 1000).toFixed(1)}`)
  process.exitCode = violations === 0 ? 0 : 1
}
