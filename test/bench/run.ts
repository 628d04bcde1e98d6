// `npm run bench -- <name>` runs one benchmark; without a name it lists them. Benchmarks print
// their figures and the machine; results are recorded in test/bench/RESULTS.md.
import '../../node/polyfills.js'
import { machineLine } from './machine.js'

type Bench = (args: string[]) => Promise<void>
const BENCHES: Record<string, () => Promise<{ run: Bench }>> = {
  protocol: () => import('./protocol.js'),
  escrow: () => import('./escrow.js'),
  failover: () => import('./failover.js'),
  settlement: () => import('./settlement.js'),
  store: () => import('./store.js'),
  ingress: () => import('./ingress.js'),
  memory: () => import('./memory.js'),
}

const name = process.argv[2]
if (!name || !(name in BENCHES)) {
  console.log(`usage: npm run bench -- <${Object.keys(BENCHES).join('|')}>`)
  process.exitCode = name ? 2 : 0
} else {
  console.log(machineLine())
  const bench = await (BENCHES[name] as () => Promise<{ run: Bench }>)()
  await bench.run(process.argv.slice(3))
}
