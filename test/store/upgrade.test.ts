// Upgrading a node's data directory (issue 21): the fixture test/fixtures/store-0.1.0/B is the data
// directory of a node written by Standin 0.1.0 before stores had versions (make.ts there made it;
// manifest.json lists every key of every section and the SHA-256 of its value, as that release
// read them). This build starts a real node process on a copy: the store is migrated to
// STORE_VERSION at start and the node serves what it held; stopped, every order, allotment, key,
// receipt, feed entry and ledger line of the manifest is still there, the immutable ones
// unchanged. A store of a newer version is refused and left untouched.
import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ClassicLevel } from 'classic-level'
import { afterEach, describe, expect, it } from 'vitest'
import type { EscrowReply } from '../../node/core/api-schemas.js'
import { LevelStore, SECTIONS } from '../../node/store/level-store.js'
import { readVersion, STORE_VERSION, STORE_VERSION_KEY } from '../../node/store/migrations.js'
import { sealedJsonEncoding, storeKeyFromSeed } from '../../node/store/sealed-values.js'
import { fromBase64url } from '../../protocol/index.js'
import { freePort, waitFor } from '../integration/cluster.js'

const FIXTURE = new URL('../fixtures/store-0.1.0/', import.meta.url)
const BIN = new URL('../../bin/standin.js', import.meta.url)
/** A node process starting on two busy cores (tsx compiles the sources first). */
const START_TIMEOUT_MS = 90_000
/** Its graceful stop: the CLI bounds it at 30 s. */
const STOP_TIMEOUT_MS = 40_000

interface Manifest {
  readonly sections: Record<string, Record<string, string>>
}

/** Sections whose rows never change once written: they must come through byte for byte. */
const IMMUTABLE = ['entries', 'ledger', 'receipts'] as const
/** Sections whose rows must all still exist (a running node may move an order or allotment on). */
const KEPT = ['orders', 'allotments', 'keys', 'peer-keys', ...IMMUTABLE] as const

const dirs: string[] = []
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

/** A copy of the fixture's data directory, on free ports. */
async function copyOfFixture(): Promise<{ dir: string; httpPort: number; adminToken: string; key: Uint8Array }> {
  const root = mkdtempSync(join(tmpdir(), 'standin-upgrade-'))
  dirs.push(root)
  const dir = join(root, 'B')
  cpSync(new URL('B', FIXTURE), dir, { recursive: true })
  const httpPort = await freePort()
  const p2pPort = await freePort()
  const configPath = join(dir, 'config.json')
  const config = JSON.parse(readFileSync(configPath, 'utf8')) as {
    http: { port: number; publicUrl: string }
    p2p: { listen: string[]; announce: string[] }
  }
  config.http.port = httpPort
  config.http.publicUrl = `http://127.0.0.1:${httpPort}`
  config.p2p.listen = [`/ip4/127.0.0.1/tcp/${p2pPort}`]
  config.p2p.announce = config.p2p.listen
  writeFileSync(configPath, JSON.stringify(config, null, 2))
  const secrets = JSON.parse(readFileSync(join(dir, 'secrets.json'), 'utf8')) as { seed: string; adminToken: string }
  return { dir, httpPort, adminToken: secrets.adminToken, key: storeKeyFromSeed(fromBase64url(secrets.seed)) }
}

function runNode(dir: string): { exited: Promise<number | null>; output: () => string; stop: () => void } {
  const child = spawn(process.execPath, [BIN.pathname, 'run', '-d', dir], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, STANDIN_LOG_LEVEL: 'warn' },
  })
  let output = ''
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()))
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()))
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  const force = () => setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS).unref()
  return { exited, output: () => output, stop: () => (child.kill('SIGTERM'), force()) }
}

const digest = (value: unknown): string => createHash('sha256').update(JSON.stringify(value)).digest('hex')

async function sectionsOf(store: LevelStore): Promise<Record<string, Record<string, string>>> {
  const sections: Record<string, Record<string, string>> = {}
  for (const section of SECTIONS) {
    const rows: Record<string, string> = {}
    for await (const [key, value] of store.range(section, {})) rows[key] = digest(value)
    sections[section] = rows
  }
  return sections
}

/** Every key and value of the LevelDB in `path`, raw (sealed bytes as they are on disk). */
async function rawContents(path: string): Promise<Record<string, string>> {
  const db = new ClassicLevel<string, Buffer>(path, { valueEncoding: 'buffer' })
  await db.open()
  try {
    const rows: Record<string, string> = {}
    for await (const [key, value] of db.iterator()) rows[key] = value.toString('hex')
    return rows
  } finally {
    await db.close()
  }
}

describe('upgrading a data directory written by the previous release', () => {
  it('migrates the store at start, serves what it held, and keeps every order, allotment, key, receipt, entry and ledger line', async () => {
    const manifest = JSON.parse(readFileSync(new URL('manifest.json', FIXTURE), 'utf8')) as Manifest
    for (const section of ['orders', 'allotments', 'ledger']) expect(Object.keys(manifest.sections[section] ?? {}).length, section).toBeGreaterThan(0)
    const { dir, httpPort, adminToken, key } = await copyOfFixture()
    const node = runNode(dir)
    try {
      await waitFor(
        'the upgraded node ready',
        async () => {
          if (/exited|Error/.test(node.output()) && !(await fetch(`http://127.0.0.1:${httpPort}/healthz`).catch(() => null))) throw new Error(node.output())
          return (await fetch(`http://127.0.0.1:${httpPort}/readyz`)).ok || undefined
        },
        START_TIMEOUT_MS,
      )
      const escrow = (await (
        await fetch(`http://127.0.0.1:${httpPort}/v1/admin/escrow`, { headers: { authorization: `Bearer ${adminToken}` } })
      ).json()) as EscrowReply
      const held = escrow.escrow.reduce((n, e) => n + e.pending + e.delivered + e.cancelled, 0)
      expect(held).toBe(Object.keys(manifest.sections.orders ?? {}).length)
    } finally {
      node.stop()
      expect(await node.exited).toBe(0)
    }
    const store = await LevelStore.openOnDisk(join(dir, 'db'), key)
    try {
      const now = await sectionsOf(store)
      for (const section of KEPT) {
        const before = manifest.sections[section] ?? {}
        const after = now[section] ?? {}
        for (const row of Object.keys(before)) expect(after[row], `${section}/${row} lost`).toBeDefined()
      }
      for (const section of IMMUTABLE)
        for (const [row, hash] of Object.entries(manifest.sections[section] ?? {})) expect(now[section]?.[row], `${section}/${row}`).toBe(hash)
      expect(await store.get('meta', STORE_VERSION_KEY)).toEqual({ version: STORE_VERSION })
    } finally {
      await store.close()
    }
  })

  it('refuses a store of a newer version, names both versions, and leaves every key and value as it was', async () => {
    const { dir, key } = await copyOfFixture()
    const db = new ClassicLevel<string, Buffer>(join(dir, 'db'), { valueEncoding: 'buffer' })
    await db.open()
    const sealed = sealedJsonEncoding(key)
    const meta = db.sublevel<string, Buffer>('meta', { valueEncoding: 'buffer' })
    await meta.put(STORE_VERSION_KEY, Buffer.from(sealed.encode({ version: STORE_VERSION + 1 })))
    expect(await readVersion(db as never, sealed)).toBe(STORE_VERSION + 1)
    await db.close()
    const before = await rawContents(join(dir, 'db'))
    const node = runNode(dir)
    const code = await node.exited
    expect(code).not.toBe(0)
    expect(node.output()).toContain(`this store has version ${STORE_VERSION + 1}, written by a newer Standin; this one reads version ${STORE_VERSION}`)
    // LevelDB rewrites its files on every open; what they hold is exactly what it was.
    expect(await rawContents(join(dir, 'db'))).toEqual(before)
  })
})
