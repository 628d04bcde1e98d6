// Node processes started through the `standin` CLI on 127.0.0.1, for the demo, integration tests
// and benchmarks. Every wait is bounded in time.
import type { AdapterCredentials } from '../../adapters/contract.js'
import { type ChildProcess, execFile, spawn, spawnSync } from 'node:child_process'
import { randomInt } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { AdapterClient } from '../../adapters/generic/client.js'
import type { NodeConfig } from '../../node/config/schema.js'

const ROOT = join(import.meta.dirname, '..', '..')
const CLI = join(ROOT, 'bin', 'standin.js')

// Ports for nodes come from below the kernel's ephemeral range (32768–60999 on Linux): a port
// picked from that range can be taken as the source port of some outgoing connection before its
// node binds it (seen in a test run: EADDRINUSE). Each vitest worker (VITEST_POOL_ID, 1…) has a
// block of its own, so test files running side by side never pick the same port either.
const PORT_BLOCK_SIZE = 1_000
const PORT_BLOCKS_START = 20_000
const PORT_BLOCKS = 12
const portBlock = PORT_BLOCKS_START + (Number(process.env.VITEST_POOL_ID ?? 0) % PORT_BLOCKS) * PORT_BLOCK_SIZE
let nextPortOffset = randomInt(PORT_BLOCK_SIZE)

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer()
    server.once('error', () => resolve(false))
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)))
  })
}

/** A port on 127.0.0.1 nothing listens on, not handed out before by this process. */
export async function freePort(): Promise<number> {
  for (let tries = 0; tries < PORT_BLOCK_SIZE; tries++) {
    const port = portBlock + (nextPortOffset++ % PORT_BLOCK_SIZE)
    if (await canListen(port)) return port
  }
  throw new Error(`no free port in ${portBlock}…${portBlock + PORT_BLOCK_SIZE - 1}`)
}

export function cli(args: string[], env: NodeJS.ProcessEnv = {}): string {
  const result = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 60_000 })
  if (result.status !== 0) throw new Error(`standin ${args[0]} failed (${result.status}): ${result.stderr}${result.stdout}`)
  return result.stdout.trim()
}

/** Like cli(), without blocking this process (needed while in-process servers must answer). */
export async function cliAsync(args: string[], env: NodeJS.ProcessEnv = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 60_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`standin ${args[0]} failed: ${stderr}${stdout}`))
      else resolve(stdout.trim())
    })
  })
}

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 30_000, everyMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs
  let lastError: unknown
  while (Date.now() < deadline) {
    try {
      const value = await probe()
      if (value !== undefined && value !== false) return value
    } catch (error) {
      lastError = error
    }
    await new Promise((r) => setTimeout(r, everyMs))
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${String(lastError)}` : ''}`)
}

export interface ClusterOptions {
  readonly preset?: 'local' | 'standard'
  /** Extra `standin init` arguments per shop. */
  readonly initArgs?: (name: string) => string[]
  /** Overrides for any terms field, given every party's id by name. */
  readonly terms?: (ids: Record<string, string>) => Record<string, unknown>
  /** Shops set up (init) but left out of the first terms: a revision adds them later. */
  readonly joinLater?: readonly string[]
}

export interface ClusterNode {
  readonly name: string
  readonly dir: string
  readonly httpPort: number
  readonly p2pPort: number
  readonly baseUrl: string
  readonly adminToken: string
  /** The node's adapter.json: what its shop's adapter signs and verifies with. */
  readonly adapter: AdapterCredentials
  readonly id: string
  process: ChildProcess | null
  output: string
}

export class Cluster {
  readonly nodes = new Map<string, ClusterNode>()

  private constructor(readonly root: string) {}

  /** init → invite → join → accept for every shop: the operator's path, through the CLI. */
  static async create(names: string[], options: ClusterOptions = {}): Promise<Cluster> {
    const cluster = new Cluster(mkdtempSync(join(tmpdir(), 'standin-cluster-')))
    for (const name of names) {
      const dir = join(cluster.root, name)
      const httpPort = await freePort()
      const p2pPort = await freePort()
      cli(['init', '-d', dir, '-n', `Shop ${name}`, '--p2p-port', String(p2pPort), '--http-port', String(httpPort), ...(options.initArgs?.(name) ?? [])])
      const secrets = JSON.parse(readFileSync(join(dir, 'secrets.json'), 'utf8'))
      const invite = cli(['invite', '-d', dir])
      const id = JSON.parse(Buffer.from(invite.slice('standin1.'.length), 'base64url').toString('utf8')).card.body.id
      cluster.nodes.set(name, {
        name,
        dir,
        httpPort,
        p2pPort,
        baseUrl: `http://127.0.0.1:${httpPort}`,
        adminToken: secrets.adminToken,
        adapter: JSON.parse(readFileSync(join(dir, 'adapter.json'), 'utf8')) as AdapterCredentials,
        id,
        process: null,
        output: '',
      })
    }
    const parties = names.filter((n) => !options.joinLater?.includes(n))
    const [first, ...rest] = parties
    const invites = rest.map((n) => cli(['invite', '-d', cluster.node(n).dir]))
    const joinArgs = ['join', '-d', cluster.node(first as string).dir, '--preset', options.preset ?? 'local', ...invites]
    if (options.terms) {
      const file = join(cluster.root, 'terms-overrides.json')
      writeFileSync(file, JSON.stringify(options.terms(Object.fromEntries(parties.map((n) => [n, cluster.node(n).id])))))
      joinArgs.push('--terms-file', file)
    }
    let token = cli(joinArgs)
    for (const name of rest) token = cli(['terms', 'accept', '-d', cluster.node(name).dir, token])
    for (const name of parties) cli(['terms', 'accept', '-d', cluster.node(name).dir, token])
    return cluster
  }

  /** Edits a node's config.json (while it is stopped). */
  editConfig(name: string, edit: (config: NodeConfig) => void): void {
    const path = join(this.node(name).dir, 'config.json')
    const config = JSON.parse(readFileSync(path, 'utf8')) as NodeConfig
    edit(config)
    writeFileSync(path, JSON.stringify(config, null, 2))
  }

  node(name: string): ClusterNode {
    const node = this.nodes.get(name)
    if (!node) throw new Error(`no node ${name}`)
    return node
  }

  async start(name: string): Promise<void> {
    const node = this.node(name)
    node.output = ''
    // STANDIN_PROFILE_DIR=/some/dir writes a V8 CPU profile per node process (for benchmarks).
    const profile = process.env.STANDIN_PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${process.env.STANDIN_PROFILE_DIR}`] : []
    const child = spawn(process.execPath, [...profile, CLI, 'run', '-d', node.dir], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, STANDIN_LOG_LEVEL: 'warn' },
    })
    child.stdout?.on('data', (chunk: Buffer) => (node.output += chunk.toString()))
    child.stderr?.on('data', (chunk: Buffer) => (node.output += chunk.toString()))
    node.process = child
    await waitFor(
      `${name} ready`,
      async () => {
        if (child.exitCode !== null) throw new Error(`${name} exited ${child.exitCode}: ${node.output}`)
        const response = await fetch(`${node.baseUrl}/readyz`)
        return response.ok ? true : undefined
      },
      90_000,
    ) // generous: several tsx processes may be compiling at once on 2 cores
  }

  kill(name: string, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.node(name).process
    if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
    return new Promise((resolve) => {
      // A node that does not stop within 10 s of SIGTERM is killed: tests never hang on shutdown.
      const force = setTimeout(() => child.kill('SIGKILL'), 10_000)
      child.once('exit', () => {
        clearTimeout(force)
        resolve()
      })
      child.kill(signal)
    })
  }

  async admin<T>(name: string, path: string): Promise<T> {
    const node = this.node(name)
    const response = await fetch(`${node.baseUrl}${path}`, { headers: { authorization: `Bearer ${node.adminToken}` } })
    if (!response.ok) throw new Error(`${name} ${path}: ${response.status} ${await response.text()}`)
    return (await response.json()) as T
  }

  adapter(name: string): AdapterClient {
    const node = this.node(name)
    return new AdapterClient({ baseUrl: node.baseUrl, secret: node.adapter.requestSecret })
  }

  async stop(): Promise<void> {
    await Promise.all([...this.nodes.keys()].map((n) => this.kill(n, 'SIGTERM')))
    rmSync(this.root, { recursive: true, force: true })
  }
}
