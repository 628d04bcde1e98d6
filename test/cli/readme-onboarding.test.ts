// The README's "Running a node" block, run as written by bash for its three shops: init, invites,
// join, each party signing once, three real nodes (real processes, real libp2p, LevelDB on disk)
// passing signatures to each other, a revision adding a sku signed by every party and taken up by
// the running nodes, keys consigned, and status showing every partner connected (issue 19). If the
// README changes, this test runs the new text.
//
// The block needs what an operator has before starting: each shop's software with its adapter at
// the `--callback-url` init was given. The test plays that part with the shop simulator
// (examples/shop-simulator), started for each shop as soon as `init` has written its adapter.json,
// as an operator would configure the adapter after init.
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync, chmodSync, mkdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { type ShopSimulator, startShopSimulator } from '../../examples/shop-simulator/simulator.js'

const ROOT = realpathSync(fileURLToPath(new URL('../..', import.meta.url)))
const BIN = join(ROOT, 'bin', 'standin.js')
/** The whole block: about 15 CLI processes and three nodes starting on two busy cores. */
const BLOCK_MS = 400_000
/** How often the test looks for a shop's adapter.json while the block runs. */
const POLL_MS = 100
const KEYS_PER_SHOP = 20

/** The first sh block under "## Running a node". */
export function runningNodeBlock(readme: string): string {
  const section = readme.slice(readme.indexOf('## Running a node\n'))
  const block = /```sh\n([\s\S]*?)```/.exec(section)
  if (!block?.[1]) throw new Error('README.md: no sh block under "## Running a node"')
  return block[1]
}

interface ShopConfig {
  readonly http: { readonly port: number }
  readonly adapter: { readonly callbackUrl?: string }
}

describe('README "Running a node", run as written', () => {
  const root = mkdtempSync(join(tmpdir(), 'standin-readme-'))
  const shops = new Map<string, ShopSimulator>()
  let script: ReturnType<typeof spawn> | undefined

  afterAll(async () => {
    // The block leaves its three nodes running in the background: their process group is stopped.
    if (script?.pid !== undefined) {
      try {
        process.kill(-script.pid, 'SIGTERM')
      } catch {
        // already gone
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 2_000))
    for (const shop of shops.values()) await shop.stop()
    rmSync(root, { recursive: true, force: true })
  })

  /** The operator's shop for data directory `dir`, once init has written what the adapter needs. */
  async function startShopFor(dir: string): Promise<void> {
    const config = JSON.parse(readFileSync(join(root, dir, 'config.json'), 'utf8')) as ShopConfig
    const credentials = JSON.parse(readFileSync(join(root, dir, 'adapter.json'), 'utf8')) as { requestSecret: string; callbackSecret: string }
    const callback = new URL(config.adapter.callbackUrl ?? '')
    shops.set(
      dir,
      await startShopSimulator({
        name: dir,
        port: Number(callback.port),
        node: { baseUrl: `http://127.0.0.1:${config.http.port}`, secret: credentials.requestSecret },
        callbackSecret: credentials.callbackSecret,
        skus: [{ sku: 'steam-50', priceMinorUnits: 5_000, currency: 'CNY', keys: KEYS_PER_SHOP }],
        healthRepeatMs: 1_000,
      }),
    )
  }

  it(
    'takes three shops from nothing to keys consigned, every partner connected',
    async () => {
      const block = runningNodeBlock(readFileSync(join(ROOT, 'README.md'), 'utf8'))
      const dirs = [...new Set([...block.matchAll(/init -d (\S+)/g)].map((m) => m[1] as string))]
      expect(dirs).toEqual(['shopA', 'shopB', 'shopC'])
      // `standin` as `npm link` installs it: on PATH, the repo's bin.
      mkdirSync(join(root, 'bin'))
      writeFileSync(join(root, 'bin', 'standin'), `#!/bin/sh\nexec node ${JSON.stringify(BIN)} "$@"\n`)
      chmodSync(join(root, 'bin', 'standin'), 0o755)
      writeFileSync(join(root, 'block.sh'), `set -euo pipefail\nset -x\n${block}`)

      let output = ''
      script = spawn('bash', ['block.sh'], {
        cwd: root,
        detached: true,
        env: { ...process.env, PATH: `${join(root, 'bin')}:${process.env.PATH ?? ''}`, STANDIN_DIR: '' },
        stdio: ['ignore', 'pipe', 'pipe'],
      })
      script.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()))
      script.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()))
      const exited = new Promise<number | null>((resolve) => script?.on('exit', (code) => resolve(code)))

      // Each shop comes up once its data directory has adapter.json, while the block goes on.
      let code: number | null | undefined
      void exited.then((c) => (code = c))
      const pending = new Set(dirs)
      while (code === undefined) {
        for (const dir of [...pending])
          if (existsSync(join(root, dir, 'adapter.json')) && existsSync(join(root, dir, 'config.json'))) {
            pending.delete(dir)
            await startShopFor(dir)
          }
        await new Promise((resolve) => setTimeout(resolve, POLL_MS))
      }
      expect(code, output).toBe(0)

      // Shop B holds 5 of Shop A's keys, consigned from A's shop (its stock shows them consigned).
      expect(output).toMatch(/consigned 5 keys of steam-50 to Shop B as allotment \S+/)
      expect(shops.get('shopA')?.state().stock['steam-50']).toMatchObject({ consigned: 5, inStock: KEYS_PER_SHOP - 5 })
      // The last status (Shop C's) lists both partners connected, with a heartbeat.
      const last = output.slice(output.lastIndexOf('THIS SHOP'))
      expect(last).toMatch(/Shop C/)
      for (const partner of ['Shop A', 'Shop B']) expect(last).toMatch(new RegExp(`^${partner}\\s+yes\\s+\\d+\\.\\d s ago`, 'm'))
      // Every party runs revision 2: Shop A's sku was added without a restart.
      expect(last).toMatch(/terms\s+standin-federation revision 2/)
      expect(output).toMatch(/IN FORCE/)
    },
    BLOCK_MS,
  )
})
