// Runs one simulated shop as its own process, for the demo and the integration tests:
//   node --import tsx examples/shop-simulator/main.ts '<ShopSimulatorOptions as JSON>'
// (or the JSON in STANDIN_SHOP_SIMULATOR). Prints one line to stdout once listening,
//   {"event":"listening","name":"Shop A","url":"http://127.0.0.1:<port>"}
// logs JSON lines to stderr, and stops cleanly on SIGTERM or SIGINT.
import pino from 'pino'
import { startShopSimulator } from './simulator.js'

const raw = process.argv[2] ?? process.env.STANDIN_SHOP_SIMULATOR
if (raw === undefined) {
  console.error('usage: examples/shop-simulator/main.ts <options JSON> (or STANDIN_SHOP_SIMULATOR=<options JSON>)')
  process.exit(2)
}

const logger = pino({ level: process.env.STANDIN_LOG_LEVEL ?? 'info' }, pino.destination(2))
try {
  const shop = await startShopSimulator({ ...(JSON.parse(raw) as Parameters<typeof startShopSimulator>[0]), logger })
  process.stdout.write(`${JSON.stringify({ event: 'listening', name: shop.name, url: shop.url })}\n`)
  const stop = () => {
    shop.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    )
  }
  process.once('SIGTERM', stop)
  process.once('SIGINT', stop)
} catch (error) {
  logger.error({ err: error instanceof Error ? error.message : String(error) }, 'shop simulator failed to start')
  process.exit(1)
}
