// init, run and status: the commands that act on this node's own data directory.
import { isIPv4 } from 'node:net'
import Table from 'cli-table3'
import { formatZodError } from '../../protocol/index.js'
import { AllotArgs, InitArgs } from './schemas.js'
import type { IncidentReport } from '../core/api-schemas.js'
import { z } from 'zod'
import { DataDir } from '../datadir.js'
import { fetchNode } from './node-request.js'
import { LogFormat } from '../logger.js'
import { type RunningNode, startNode } from '../node.js'
import { relayLines } from './mail-command.js'

/**
 * The host is written into `/ip4/<host>/tcp/<port>` multiaddrs, so it must be an IPv4 address: a
 * DNS name gave addresses libp2p refuses, which partners skipped with only a debug log.
 * (To move into protocol/'s InitArgs once the simulator run on its frozen code has ended.)
 */
const LocalInitArgs = InitArgs.refine((a) => isIPv4(a.host), {
  path: ['host'],
  message: 'must be an IPv4 address to listen on (it becomes /ip4/<host>/tcp/<port>); a DNS name cannot be',
})

/** What an operator must still do when the defaults only work on this machine. */
function initWarnings(host: string, publicUrlGiven: boolean): string[] {
  const local = host.startsWith('127.') || host === '0.0.0.0'
  return [
    ...(local
      ? [
          `note: partners dial the announced address /ip4/${host}/…; for partners on other machines set p2p.announce in config.json to the address they can reach before \`standin invite\``,
        ]
      : []),
    ...(publicUrlGiven ? [] : [`note: buyer mail links to http.publicUrl (here http://${host}:…); pass --public-url with the address buyers reach`]),
  ]
}

export function init(raw: Record<string, unknown>): string {
  const args = LocalInitArgs.safeParse(raw)
  if (!args.success) throw new Error(`arguments: ${formatZodError(args.error)}`)
  const { dir, name, host, p2pPort, httpPort, smtp, smtpUser, smtpPassword } = args.data
  const publicUrl = args.data.publicUrl ?? `http://${host}:${httpPort}`
  const [smtpHost, smtpPort] = smtp ? smtp.split(':') : []
  const dataDir = new DataDir(dir)
  const keys = dataDir.init(
    {
      version: 1,
      name,
      p2p: { listen: [`/ip4/${host}/tcp/${p2pPort}`], announce: [`/ip4/${host}/tcp/${p2pPort}`], dialOverrides: {}, allowFrom: [] },
      http: { host, port: httpPort, publicUrl, adminAllowRemote: false },
      smtp: smtp
        ? {
            host: smtpHost as string,
            port: Number(smtpPort),
            secure: false,
            user: smtpUser ?? null,
            from: args.data.mailFrom ?? `${name} <no-reply@standin.invalid>`,
          }
        : null,
      adapter: { callbackUrl: args.data.callbackUrl ?? null },
      logLevel: 'info',
    },
    smtpPassword ?? null,
  )
  return [
    `initialised ${name} in ${dir}`,
    `shop id:        ${keys.identity.id}`,
    // Secrets stay in their files (0600), never on a screen or in a terminal's scrollback.
    `node secrets:   ${dataDir.secretsPath} (identity, admin token: the CLI reads them from here)`,
    `adapter:        ${dataDir.adapterPath} (copy to your shop's adapter, readable by its user only)`,
    ...(smtp ? [...relayLines(dataDir.config().smtp), `mail test:      standin mail test <your address> -d ${dir}`] : []),
    'next: `standin invite` and swap tokens with your partners',
    ...initWarnings(host, args.data.publicUrl !== undefined),
  ].join('\n')
}

const RunArgs = z.strictObject({ logFormat: LogFormat.optional() })

/**
 * What stops `standin run` gracefully: a supervisor (SIGTERM), Ctrl-C (SIGINT), the terminal it ran
 * in closing (SIGHUP, whose default would end the process without fencing the shop).
 */
const STOP_SIGNALS = ['SIGTERM', 'SIGINT', 'SIGHUP'] as const
/** How long a graceful stop may take before the process exits anyway (node.stop waits 5 s + 5 s itself). */
const STOP_BOUND_MS = 30_000

export async function run(dir: string, logFormat?: string): Promise<void> {
  const args = RunArgs.safeParse({ logFormat })
  if (!args.success) throw new Error(`arguments: ${formatZodError(args.error)}`)
  const format = args.data.logFormat
  // The handlers come first: the HTTP port answers before startNode returns, and a signal from then
  // on must stop the node gracefully, not end the process. One stop, whichever signals arrive: a
  // second one (Ctrl-C, then a supervisor's SIGTERM) must not end the process halfway through it.
  const state: { node?: RunningNode; signal?: string } = {}
  const stop = (node: RunningNode, signal: string) => {
    void node.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(`standin: stop after ${signal} failed: ${String(error)}`)
        process.exit(1)
      },
    )
  }
  const onSignal = (signal: string) => {
    if (state.signal !== undefined) {
      console.error(`standin: ${signal} while stopping; the stop ends within ${STOP_BOUND_MS / 1000} s`)
      return
    }
    state.signal = signal
    setTimeout(() => {
      console.error(`standin: stop after ${signal} took over ${STOP_BOUND_MS / 1000} s; exiting`)
      process.exit(1)
    }, STOP_BOUND_MS).unref()
    if (state.node) stop(state.node, signal)
    else waiting.abort() // startNode is still running: a wait for signatures ends now, and a start is stopped below once it returns
  }
  const waiting = new AbortController()
  for (const signal of STOP_SIGNALS) process.on(signal, () => onSignal(signal))
  let node: RunningNode
  try {
    node = await startNode(dir, format === undefined ? process.env : { ...process.env, STANDIN_LOG_FORMAT: format }, { signal: waiting.signal })
  } catch (error) {
    if (waiting.signal.aborted) process.exit(0)
    throw error
  }
  state.node = node
  if (state.signal !== undefined) return stop(node, state.signal)
  console.log(`standin node ${node.engine.identity().id} listening on ${node.httpUrl} and ${node.p2p.listenAddrs().join(' ')}`)
  // Every party signed our handover to a new identity (D99): the node stops and starts again as it.
  const env = format === undefined ? process.env : { ...process.env, STANDIN_LOG_FORMAT: format }
  const followHandover = (running: RunningNode): void => {
    running.handedOver
      .then(async () => {
        if (state.signal !== undefined) return
        await running.stop()
        const next = await startNode(dir, env, { signal: waiting.signal })
        state.node = next
        if (state.signal !== undefined) return stop(next, state.signal)
        console.log(`standin node ${next.engine.identity().id} (this shop's new identity) listening on ${next.httpUrl}`)
        followHandover(next)
      })
      .catch((error: unknown) => {
        if (waiting.signal.aborted) process.exit(0)
        console.error(`standin: restarting as the new identity failed: ${String(error)}; run standin run again`)
        process.exit(1)
      })
  }
  followHandover(node)
}

/** An admin API call to the running node, with the admin token of secrets.json (or `token`: the one the node still holds, during a rotation). */
export async function admin<T>(dir: DataDir, path: string, body?: unknown, token?: string): Promise<T> {
  const config = dir.config()
  const { secrets } = dir.keys()
  const host = config.http.host === '0.0.0.0' ? '127.0.0.1' : config.http.host
  const response = await fetchNode(`http://${host}:${config.http.port}`, path, dir.path, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { authorization: `Bearer ${token ?? secrets.adminToken}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  if (!response.ok) throw new Error(`${path}: HTTP ${response.status} ${await response.text()}`)
  const type = response.headers.get('content-type') ?? ''
  return (type.includes('json') ? await response.json() : await response.text()) as T
}

// No borders and two spaces between columns: operators grep these lines ("platform +down"), and a
// terminal log or a pasted message keeps them readable. No colours either, so the text is plain.
const NO_BORDER = {
  top: '',
  'top-mid': '',
  'top-left': '',
  'top-right': '',
  bottom: '',
  'bottom-mid': '',
  'bottom-left': '',
  'bottom-right': '',
  left: '',
  'left-mid': '',
  mid: '',
  'mid-mid': '',
  right: '',
  'right-mid': '',
  middle: '  ',
}

/** Aligned columns; the first row is the heading. */
export function table([head = [], ...body]: string[][]): string {
  const out = new Table({ head, chars: NO_BORDER, style: { 'padding-left': 0, 'padding-right': 0, head: [], border: [] } })
  out.push(...body)
  // The last column is padded to its width; trailing blanks only get in the way of a copy.
  return out
    .toString()
    .split('\n')
    .map((line) => line.trimEnd())
    .join('\n')
}

/** Resolves a partner given by shop id or by the name on its card. */
export function partnerId(dir: DataDir, who: string): string {
  const cards = dir.cards()
  const match = cards.find((c) => c.body.id === who) ?? cards.find((c) => c.body.name.toLowerCase() === who.toLowerCase())
  if (!match) throw new Error(`no partner named ${who}; known: ${cards.map((c) => c.body.name).join(', ')}`)
  return match.body.id
}

export async function allot(raw: Record<string, unknown>): Promise<string> {
  const args = AllotArgs.safeParse(raw)
  if (!args.success) throw new Error(`arguments: ${formatZodError(args.error)}`)
  const dir = new DataDir(args.data.dir)
  const reply = await admin<{ allotment: string; keys: number; seq: number }>(dir, '/v1/admin/allotments', {
    holder: partnerId(dir, args.data.to),
    sku: args.data.sku,
    count: args.data.count,
  })
  return `consigned ${reply.keys} keys of ${args.data.sku} to ${args.data.to} as allotment ${reply.allotment} (feed seq ${reply.seq})`
}

export async function recallAllotment(dirPath: string, from: string, allotment: string): Promise<string> {
  const dir = new DataDir(dirPath)
  const reply = await admin<{ seq: number }>(dir, '/v1/admin/allotments/recall', { holder: partnerId(dir, from), allotment })
  return `recall of ${allotment} from ${from} written (feed seq ${reply.seq}); released keys come back exposed: see \`standin keys exposed\``
}

function renderIncident(report: IncidentReport, names: Map<string, string>): string {
  const name = (id: string | null) => (id === null ? '' : (names.get(id) ?? id.slice(0, 12)))
  const iso = (ms: number) => new Date(ms).toISOString()
  const lines = [
    `INCIDENT ${name(report.origin)} epoch ${report.epoch} (${report.role} view) ${iso(report.openedAt)} → ${report.closedAt === null ? 'open' : iso(report.closedAt)}`,
    ...report.timeline.map((t) => `  ${iso(t.at)}  ${t.what}${t.by ? ` — ${name(t.by)}` : ''}`),
    '  fulfilled by:',
    ...Object.entries(report.fulfillers).map(
      ([id, s]) =>
        `    ${name(id)}: ${s.orders} orders, ${s.keys} keys, average wait ${s.orders ? Math.round(s.waitMsSum / s.orders) : 0} ms, worst ${s.waitMsMax} ms`,
    ),
    `  keys used: ${report.keysUsed}; duplicates: ${report.duplicates.length}${report.duplicates.length ? ` (${report.duplicates.map((d) => d.order).join(', ')})` : ''}`,
  ]
  return lines.join('\n')
}

export async function incidents(dirPath: string, asJson: boolean): Promise<string> {
  const dir = new DataDir(dirPath)
  const { incidents: reports } = await admin<{ incidents: IncidentReport[] }>(dir, '/v1/admin/incidents')
  if (asJson) return JSON.stringify(reports, null, 2)
  const names = new Map(dir.cards().map((c) => [c.body.id, c.body.name]))
  return reports.length === 0 ? 'no incidents' : reports.map((r) => renderIncident(r, names)).join('\n\n')
}
