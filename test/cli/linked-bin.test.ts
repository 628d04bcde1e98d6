// The operator's `standin` is this clone's bin/standin.js, linked onto PATH by `npm link` (README,
// "Set up"), never `npx standin`: outside the clone npx asks the npm registry for a package named
// `standin` that is not ours, and its wrapper process, when killed, left the node running with its
// ports and database lock (the next start failed with "Database failed to open"). Real processes:
// npm links into a temporary prefix with an unreachable registry and an empty cache, and the linked
// command runs from an unrelated directory with only that prefix and node on PATH.
import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, realpathSync, rmSync, writeFileSync } from 'node:fs'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { freePort, waitFor } from '../../examples/support/processes.js'

const ROOT = realpathSync(fileURLToPath(new URL('../..', import.meta.url)))
const BIN = join(ROOT, 'bin', 'standin.js')
/** Nothing listens on port 9 (discard): anything that asks this registry fails at once. */
const NO_REGISTRY = 'http://127.0.0.1:9/'
/** Generous: several tsx processes may be compiling at once on 2 cores. */
const START_MS = 90_000
const EXIT_MS = 40_000

interface Result {
  code: number
  stdout: string
  stderr: string
}

function exec(file: string, args: string[], options: { cwd: string; env: NodeJS.ProcessEnv }): Promise<Result> {
  return new Promise((resolve) => {
    execFile(file, args, { ...options, timeout: 60_000, killSignal: 'SIGKILL' }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr })
    })
  })
}

/** This environment without npm's own settings (set when vitest runs under `npm test`). */
function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.toLowerCase().startsWith('npm_')))
}

// --- /proc: which processes live, and what they run -------------------------------------------

interface Proc {
  pid: number
  /** Start time in clock ticks since boot: tells a reused pid apart. */
  start: string
}

/** state, ppid and start time from /proc/<pid>/stat (the command name may hold spaces and parens). */
function stat(pid: number): { state: string; ppid: number; start: string } | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ')
    return { state: fields[0] as string, ppid: Number(fields[1]), start: fields[19] as string }
  } catch {
    return undefined
  }
}

function pids(): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .map(Number)
}

function cmdline(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean)
  } catch {
    return []
  }
}

/** A process still running: present and not a zombie waiting to be reaped. */
function alive(proc: Proc): boolean {
  const now = stat(proc.pid)
  return now !== undefined && now.state !== 'Z' && now.start === proc.start
}

function withDescendants(root: number): Proc[] {
  const children = new Map<number, number[]>()
  for (const pid of pids()) {
    const s = stat(pid)
    if (s) children.set(s.ppid, [...(children.get(s.ppid) ?? []), pid])
  }
  const found: Proc[] = []
  const queue = [root]
  while (queue.length > 0) {
    const pid = queue.shift() as number
    const s = stat(pid)
    if (s && s.state !== 'Z') found.push({ pid, start: s.start })
    queue.push(...(children.get(pid) ?? []))
  }
  return found
}

/** Live processes whose command line names this path. */
function holding(path: string): number[] {
  return pids().filter((pid) => pid !== process.pid && stat(pid)?.state !== 'Z' && cmdline(pid).some((arg) => arg.includes(path)))
}

function refuses(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port })
    socket.setTimeout(5_000, () => socket.destroy(new Error('timeout')))
    socket.once('connect', () => {
      socket.destroy()
      resolve(false)
    })
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'ECONNREFUSED'))
  })
}

// --- the operator's set-up --------------------------------------------------------------------

let work: string
let prefix: string
/** An unrelated directory the operator works in. */
let elsewhere: string
let operatorEnv: NodeJS.ProcessEnv
let link: Result
const started: ChildProcess[] = []

/** `standin …` as the operator types it: found on PATH, run from `elsewhere`. */
function standin(args: string[]): Promise<Result> {
  return exec('standin', args, { cwd: elsewhere, env: operatorEnv })
}

async function ok(args: string[]): Promise<string> {
  const result = await standin(args)
  if (result.code !== 0) throw new Error(`standin ${args.join(' ')} failed (${result.code}): ${result.stderr}${result.stdout}`)
  return result.stdout.trim()
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'standin-link-'))
  prefix = join(work, 'prefix')
  elsewhere = join(work, 'elsewhere')
  mkdirSync(elsewhere)
  const npmrc = join(work, 'npmrc')
  writeFileSync(npmrc, '')
  // The README's `npm link`, kept inside a temporary prefix (npm_config_prefix moves only the
  // global folder; --prefix would also move the package folder), with no user config, an empty
  // cache and a registry nothing answers: it can only succeed by fetching nothing.
  link = await exec('npm', ['link', '--registry', NO_REGISTRY, '--fetch-retries', '0', '--no-audit', '--no-fund', '--no-update-notifier'], {
    cwd: ROOT,
    env: { ...cleanEnv(), npm_config_prefix: prefix, npm_config_cache: join(work, 'npm-cache'), npm_config_userconfig: npmrc },
  })
  operatorEnv = {
    ...cleanEnv(),
    PATH: [join(prefix, 'bin'), dirname(process.execPath)].join(':'),
    npm_config_registry: NO_REGISTRY,
    STANDIN_LOG_LEVEL: 'warn',
  }
}, 90_000)

afterAll(() => {
  for (const child of started) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  // The prefix's link to this clone is removed, not followed.
  rmSync(work, { recursive: true, force: true })
})

describe('`npm link`, then `standin` from any directory', () => {
  it('links this clone without the registry', () => {
    expect(link.code, link.stderr).toBe(0)
    expect(realpathSync(join(prefix, 'bin', 'standin'))).toBe(BIN)
  })

  it('runs --help and init from an unrelated directory, with only the link and node on PATH', async () => {
    const help = await standin(['--help'])
    expect(help.code, help.stderr).toBe(0)
    expect(help.stdout).toMatch(/^Usage: standin/)
    const init = await standin(['init', '-d', 'shop', '-n', 'Shop', '--p2p-port', String(await freePort()), '--http-port', String(await freePort())])
    expect(init.code, init.stderr).toBe(0)
    expect(existsSync(join(elsewhere, 'shop', 'config.json'))).toBe(true)
  }, 120_000)
})

describe.skipIf(process.platform !== 'linux')('stopping `standin run` stops the node', () => {
  let dir: string
  let httpPort: number
  let p2pPort: number

  beforeAll(async () => {
    // Two shops and terms in force: `standin run` refuses to start without them.
    const ports = { A: [await freePort(), await freePort()], B: [await freePort(), await freePort()] }
    for (const [name, [http, p2p]] of Object.entries(ports)) {
      await ok(['init', '-d', name, '-n', `Shop ${name}`, '--http-port', String(http), '--p2p-port', String(p2p)])
    }
    const terms = await ok(['join', '-d', 'A', '--preset', 'local', await ok(['invite', '-d', 'B'])])
    await ok(['terms', 'accept', '-d', 'A', await ok(['terms', 'accept', '-d', 'B', terms])])
    dir = join(elsewhere, 'A')
    ;[httpPort, p2pPort] = ports.A as [number, number]
  }, 180_000)

  afterEach(async () => {
    // A failed test must not leave its node serving the next test's probes.
    for (const child of started.splice(0)) {
      if (child.exitCode !== null || child.signalCode !== null) continue
      child.kill('SIGKILL')
      await exited(child)
    }
  })

  /**
   * `standin run -d <dir>` as the README says (the path absolute, so /proc shows which process
   * holds it), until its health endpoint answers.
   */
  async function start(): Promise<{ child: ChildProcess; procs: Proc[]; output: () => string }> {
    expect(await refuses(httpPort), 'nothing serves the port before the start').toBe(true)
    const child = spawn('standin', ['run', '-d', dir], { cwd: elsewhere, env: operatorEnv, stdio: ['ignore', 'pipe', 'pipe'] })
    started.push(child)
    let output = ''
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()))
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()))
    await waitFor(
      'standin run healthy',
      async () => {
        if (child.exitCode !== null || child.signalCode !== null) throw new Error(`exited ${child.exitCode ?? child.signalCode}: ${output}`)
        const response = await fetch(`http://127.0.0.1:${httpPort}/healthz`)
        return response.ok ? true : undefined
      },
      START_MS,
    )
    return { child, procs: withDescendants(child.pid as number), output: () => output }
  }

  function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    return new Promise((resolve, reject) => {
      const done = () => {
        clearTimeout(timer)
        resolve({ code: child.exitCode, signal: child.signalCode })
      }
      const timer = setTimeout(() => {
        child.off('exit', done)
        reject(new Error(`no exit within ${EXIT_MS} ms`))
      }, EXIT_MS)
      if (child.exitCode !== null || child.signalCode !== null) done()
      else child.once('exit', done)
    })
  }

  /** Nothing the started process ran is alive, nothing holds the data dir, and both ports refuse. */
  async function nothingLeft(procs: Proc[]): Promise<void> {
    await waitFor('every process it started gone', () => (procs.some(alive) ? undefined : true), 10_000)
    expect(holding(dir)).toEqual([])
    expect(await refuses(httpPort)).toBe(true)
    expect(await refuses(p2pPort)).toBe(true)
  }

  it('the started process is the node itself: node running bin/standin.js, no wrapper between', async () => {
    const { child, procs } = await start()
    const pid = child.pid as number
    // Under npx this process was `npm exec standin run …`, and the node a grandchild.
    expect(realpathSync(readlinkSync(`/proc/${pid}/exe`))).toBe(realpathSync(process.execPath))
    expect(realpathSync(cmdline(pid)[1] as string)).toBe(BIN)
    expect(holding(dir)).toEqual([pid])
    // Whatever else runs under it (tsx's esbuild service) is not a node of ours.
    expect(procs.filter((p) => p.pid !== pid).flatMap((p) => cmdline(p.pid).filter((arg) => arg.includes('standin')))).toEqual([])
    child.kill('SIGKILL')
    await exited(child)
    await nothingLeft(procs)
  }, 180_000)

  it('SIGKILL leaves no node behind: ports refuse, and the next start opens the database', async () => {
    const first = await start()
    first.child.kill('SIGKILL')
    expect((await exited(first.child)).signal).toBe('SIGKILL')
    await nothingLeft(first.procs)
    const second = await start() // "Database failed to open" when a killed run left its node behind
    second.child.kill('SIGKILL')
    await exited(second.child)
    await nothingLeft(second.procs)
  }, 240_000)

  it.each(['SIGTERM', 'SIGINT', 'SIGHUP'] as const)(
    '%s stops it gracefully: exit 0, nothing left',
    async (signal) => {
      const { child, procs, output } = await start()
      child.kill(signal)
      expect(await exited(child), output()).toEqual({ code: 0, signal: null })
      await nothingLeft(procs)
    },
    180_000,
  )
})

describe('operator docs', () => {
  const DOCS = ['README.md', 'examples/dujiaoka/README.md', 'examples/dujiaoka/run.sh', 'adapters/README.md', 'docs/design.md']

  it('never send standin through npx, and the set-up links it', () => {
    // A command through npx (`npx standin init`, `npx --prefix "$root" standin run`); the README's
    // warning ("Never `npx standin`") names no subcommand.
    for (const file of DOCS) expect(readFileSync(join(ROOT, file), 'utf8'), file).not.toMatch(/\bnpx (?:--\S+ \S+ )*standin [a-z]/)
    expect(readFileSync(join(ROOT, 'README.md'), 'utf8')).toMatch(/^npm link\b/m)
  })
})
