// init, run and status: the commands that act on this node's own data directory.
import { formatZodError, InitArgs, type PartnerStatus, type EscrowReply } from '../../protocol/index.js'
import { DataDir } from '../datadir.js'
import { startNode } from '../node.js'

export function init(raw: Record<string, unknown>): string {
  const args = InitArgs.safeParse(raw)
  if (!args.success) throw new Error(`arguments: ${formatZodError(args.error)}`)
  const { dir, name, host, p2pPort, httpPort } = args.data
  const publicUrl = args.data.publicUrl ?? `http://${host}:${httpPort}`
  const keys = new DataDir(dir).init({
    version: 1,
    name,
    p2p: { listen: [`/ip4/${host}/tcp/${p2pPort}`], announce: [`/ip4/${host}/tcp/${p2pPort}`] },
    http: { host, port: httpPort, publicUrl, adminAllowRemote: false },
    smtp: null,
    logLevel: 'info',
  })
  return [
    `initialised ${name} in ${dir}`,
    `shop id:        ${keys.identity.id}`,
    `adapter secret: ${keys.secrets.adapterSecret}`,
    `admin token:    ${keys.secrets.adminToken}`,
    'next: `standin invite` and swap tokens with your partners',
  ].join('\n')
}

export async function run(dir: string): Promise<void> {
  const node = await startNode(dir)
  const shutdown = (signal: string) => {
    node.engine.stop()
    void node.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(`standin: stop after ${signal} failed: ${String(error)}`)
        process.exit(1)
      },
    )
  }
  process.once('SIGTERM', () => shutdown('SIGTERM'))
  process.once('SIGINT', () => shutdown('SIGINT'))
  console.log(`standin node ${node.engine.identity().id} listening on ${node.httpUrl} and ${node.p2p.listenAddrs().join(' ')}`)
}

async function admin<T>(dir: DataDir, path: string): Promise<T> {
  const config = dir.config()
  const { secrets } = dir.keys()
  const host = config.http.host === '0.0.0.0' ? '127.0.0.1' : config.http.host
  const response = await fetch(`http://${host}:${config.http.port}${path}`, { headers: { authorization: `Bearer ${secrets.adminToken}` } })
  if (!response.ok) throw new Error(`${path}: HTTP ${response.status} ${await response.text()}`)
  return (await response.json()) as T
}

function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? []
  return rows.map((r) => r.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join('  ').trimEnd()).join('\n')
}

export async function status(dirPath: string, asJson: boolean): Promise<string> {
  const dir = new DataDir(dirPath)
  const { partners } = await admin<{ partners: PartnerStatus[] }>(dir, '/v1/admin/partners')
  const escrow = await admin<EscrowReply>(dir, '/v1/admin/escrow')
  if (asJson) return JSON.stringify({ partners, escrow }, null, 2)
  const now = Date.now()
  const names = new Map(partners.map((p) => [p.id, p.name]))
  const partnerRows = [['PARTNER', 'CONNECTED', 'LAST HEARTBEAT', 'PLATFORM', 'ACKED OUR SEQ', 'THEIR FEED', 'STATE']]
  for (const p of partners) {
    partnerRows.push([
      p.name,
      p.connected ? 'yes' : 'no',
      p.lastHeartbeatAt === null ? 'never' : `${((now - p.lastHeartbeatAt) / 1000).toFixed(1)} s ago`,
      p.platform,
      `${p.ackedSeq} / ${escrow.ownSeq}`,
      `seq ${p.theirHead.seq}`,
      p.quarantined ? 'QUARANTINED (fork)' : 'ok',
    ])
  }
  const escrowRows = [['ESCROW OF', 'PENDING', 'DELIVERED', 'CANCELLED']]
  for (const e of escrow.escrow) escrowRows.push([names.get(e.origin) ?? `${dir.config().name} (us)`, String(e.pending), String(e.delivered), String(e.cancelled)])
  return `${table(partnerRows)}\n\n${table(escrowRows)}`
}
