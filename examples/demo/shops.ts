// The demo's shop simulators, each its own process (so a shop's platform can be SIGKILLed), with
// its database in a JSON file so it comes back with its orders.
import { type ChildProcess, spawn } from 'node:child_process'
import { join } from 'node:path'
import { waitFor } from '../support/processes.js'

const ROOT = join(import.meta.dirname, '..', '..')
const MAIN = join(ROOT, 'examples', 'shop-simulator', 'main.ts')

export interface ShopProcess {
  readonly name: string
  readonly url: string
  readonly child: ChildProcess
}

export interface ShopProcessOptions {
  readonly name: string
  readonly port: number
  readonly nodeUrl: string
  /** adapter.json `requestSecret` and `callbackSecret` of the shop's node. */
  readonly requestSecret: string
  readonly callbackSecret: string
  readonly stateFile: string
  readonly keys: number
  readonly deliverDelayMs: number
  /** How often the shop repeats its health report (the simulator's default when absent). */
  readonly healthRepeatMs?: number
}

export async function startShopProcess(o: ShopProcessOptions): Promise<ShopProcess> {
  const options = {
    name: o.name,
    port: o.port,
    node: { baseUrl: o.nodeUrl, secret: o.requestSecret },
    callbackSecret: o.callbackSecret,
    skus: [{ sku: 'steam-50', priceMinorUnits: 5_000, currency: 'CNY', keys: o.keys }],
    deliverDelayMs: o.deliverDelayMs,
    stateFile: o.stateFile,
    ...(o.healthRepeatMs === undefined ? {} : { healthRepeatMs: o.healthRepeatMs }),
  }
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, JSON.stringify(options)], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'ignore'],
    env: { ...process.env, STANDIN_LOG_LEVEL: 'warn' },
  })
  let out = ''
  child.stdout?.on('data', (chunk: Buffer) => (out += chunk.toString()))
  const url = await waitFor(
    `${o.name}'s shop listening`,
    () => {
      if (child.exitCode !== null) throw new Error(`${o.name}'s shop exited ${child.exitCode}`)
      const line = out.split('\n').find((l) => l.includes('"listening"'))
      return line ? (JSON.parse(line) as { url: string }).url : undefined
    },
    60_000,
  )
  return { name: o.name, url, child }
}

export async function shopPost<T>(shop: ShopProcess, path: string, body: unknown): Promise<T> {
  const response = await fetch(`${shop.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
  if (!response.ok) throw new Error(`${shop.name} ${path}: ${response.status} ${await response.text()}`)
  return (await response.json()) as T
}

export async function shopState<T>(shop: ShopProcess): Promise<T> {
  return (await (await fetch(`${shop.url}/state`)).json()) as T
}

export function killShop(shop: ShopProcess, signal: NodeJS.Signals): Promise<void> {
  if (shop.child.exitCode !== null || shop.child.signalCode !== null) return Promise.resolve()
  return new Promise((resolve) => {
    shop.child.once('exit', () => resolve())
    shop.child.kill(signal)
  })
}
