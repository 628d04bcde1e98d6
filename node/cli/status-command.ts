// `standin status`: this shop first (fence, takeover, terms, orders that wait too long), then its
// partners as our failover view sees them, then escrow per origin, then what each column means.
import { formatZodError } from '../../protocol/index.js'
import { type EscrowReply, type PartnerStatus, PlatformBody, type PlatformReply, type SelfStatus } from '../core/api-schemas.js'
import { z } from 'zod'
import { setTimeout as delay } from 'node:timers/promises'
import { NodeNotRunningError, WaitTimedOutError } from './node-request.js'
import { DataDir } from '../datadir.js'
import { admin, table } from './local-commands.js'

/** Our failover view of a partner, in the STATE column. */
const PHASE_TEXT: Record<PartnerStatus['phase'], string> = {
  healthy: 'ok',
  suspect: 'SUSPECTED DOWN',
  certified: 'CERTIFIED DOWN (takeover delay)',
  'taken-over': 'TAKEN OVER (partners deliver its orders)',
  'handed-back': 'handed back',
}

const LEGEND = [
  'Columns: CONNECTED: a p2p connection is open now. LAST HEARTBEAT: when its last signed heartbeat',
  "arrived. PLATFORM: its shop platform's health as it reports it. ACKED OUR SEQ: how much of our feed",
  "it stored durably / our feed's head. THEIR FEED: how much of its feed we hold. STATE: our failover",
  'view of it at its epoch (ok, SUSPECTED DOWN, CERTIFIED DOWN, TAKEN OVER, handed back; QUARANTINED:',
  'it forked its feed and we take nothing more from it). ESCROW: orders per origin that are pending',
  '(paid, not delivered), delivered (by the shop or a partner) or cancelled.',
].join('\n')

export async function status(dirPath: string, asJson: boolean): Promise<string> {
  const dir = new DataDir(dirPath)
  const self = await admin<SelfStatus>(dir, '/v1/admin/self')
  const { partners } = await admin<{ partners: PartnerStatus[] }>(dir, '/v1/admin/partners')
  const escrow = await admin<EscrowReply>(dir, '/v1/admin/escrow')
  if (asJson) return JSON.stringify({ self, partners, escrow }, null, 2)
  const now = Date.now()
  const names = new Map(partners.map((p) => [p.id, p.name]))
  const nameOf = (id: string) => names.get(id) ?? id
  const partnerRows = [['PARTNER', 'CONNECTED', 'LAST HEARTBEAT', 'PLATFORM', 'ACKED OUR SEQ', 'THEIR FEED', 'STATE']]
  for (const p of partners) {
    partnerRows.push([
      p.name,
      p.connected ? 'yes' : 'no',
      p.lastHeartbeatAt === null ? 'never' : `${((now - p.lastHeartbeatAt) / 1000).toFixed(1)} s ago`,
      p.platform,
      `${p.ackedSeq} / ${escrow.ownSeq}`,
      `seq ${p.theirHead.seq}`,
      p.quarantined ? 'QUARANTINED (fork)' : `${PHASE_TEXT[p.phase]}, epoch ${p.epoch}`,
    ])
  }
  const escrowRows = [['ESCROW OF', 'PENDING', 'DELIVERED', 'CANCELLED']]
  for (const e of escrow.escrow) escrowRows.push([names.get(e.origin) ?? `${self.name} (us)`, String(e.pending), String(e.delivered), String(e.cancelled)])
  return [selfLines(self, nameOf), table(partnerRows), table(escrowRows), LEGEND].join('\n\n')
}

/** Between two looks at the node while `status --wait` waits. */
const WAIT_POLL_MS = 500

export const WaitArg = z.coerce.number().int().min(1).max(600)

/**
 * `status --wait <s>`: the status once the node answers and every partner is connected, for
 * scripts and for the README's walk-through (a node started in the background serves only once
 * every party signed the terms). Throws after `seconds`, saying what it still waited for.
 */
export async function waitForStatus(dirPath: string, rawSeconds: string, asJson: boolean): Promise<string> {
  const seconds = WaitArg.safeParse(rawSeconds)
  if (!seconds.success) throw new Error(`arguments: --wait: ${formatZodError(seconds.error)}`)
  const dir = new DataDir(dirPath)
  const deadline = Date.now() + seconds.data * 1000
  let waitingFor = 'the node to answer'
  while (Date.now() < deadline) {
    try {
      const { partners } = await admin<{ partners: PartnerStatus[] }>(dir, '/v1/admin/partners')
      const away = partners.filter((p) => !p.connected || p.lastHeartbeatAt === null)
      if (away.length === 0) return await status(dirPath, asJson)
      waitingFor = `${away.map((p) => p.name).join(', ')} to connect`
    } catch (error) {
      if (!(error instanceof NodeNotRunningError)) throw error
    }
    await delay(WAIT_POLL_MS)
  }
  throw new WaitTimedOutError(waitingFor, seconds.data)
}

/** `standin platform down|up`: the operator's word when the adapter cannot report (it went silent). */
export async function platform(dirPath: string, state: string): Promise<string> {
  const body = PlatformBody.safeParse({ platform: state })
  if (!body.success) throw new Error(`arguments: ${formatZodError(body.error)}`)
  const reply = await admin<z.infer<typeof PlatformReply>>(new DataDir(dirPath), '/v1/admin/platform', body.data)
  if (body.data.platform === 'down')
    return `platform down (your word). ${reply.takenOver ? 'Partners took over: they deliver the paid orders now; the shop is fenced and must not deliver them itself.' : 'Not taken over yet: see standin status.'} When the shop runs again its adapter reports up (or run: standin platform up), and partners hand back.`
  return `platform up (your word). ${reply.takenOver ? 'Partners hand back once this node has caught up with their feeds; the fence lifts then.' : 'Not taken over: the shop delivers its own orders.'}`
}

function healthText(self: SelfStatus): string {
  const h = self.health
  const seconds = (ms: number) => `${Math.round(ms / 1000)} s`
  const last =
    h.lastReportAt === null ? 'no report since the node started' : `last report ${seconds(Date.now() - h.lastReportAt)} ago, by the ${h.source ?? 'adapter'}`
  if (h.silent)
    return `${self.platform}: ADAPTER SILENT (${last}; silent after ${seconds(h.silentAfterMs)}). Partners do not take over on silence; if the shop is stopped, run: standin platform down`
  return `${self.platform} (${last})`
}

/** Orders no partner could have served when they came in (D68): what to do about each sku. */
function unservedText(u: SelfStatus['unserved']): string {
  if (u.count === 0) return 'none: a partner held keys for every order since the node started'
  const skus = [
    ...new Set(
      u.recent.map(
        (o) =>
          `${o.sku} (${o.reason === 'sku-not-in-terms' ? 'not in the terms: standin terms propose --add-sku' : 'no partner holds enough keys: standin allot'})`,
      ),
    ),
  ]
  return `${u.count} order(s) since the node started no partner could serve if the shop went down; newest: ${skus.join(', ')}`
}

function selfLines(self: SelfStatus, nameOf: (id: string) => string): string {
  const t = self.takenOver
  const takeover = t
    ? `TAKEN OVER at epoch ${self.epoch} since ${new Date(t.since).toISOString()} (${t.how === 'request' ? 'we asked, platform down' : `certified by ${t.certifiedBy.map(nameOf).join(', ')}`}); delivering: ${t.fulfillers.map(nameOf).join(', ') || 'nobody yet'}. Hands back once the platform reports up and the node caught up.`
    : `not taken over (epoch ${self.epoch})`
  const stuckMinutes = Math.round(self.stuckAfterMs / 60_000)
  return table([
    ['THIS SHOP', `${self.name} (${self.id})`],
    ['platform', healthText(self)],
    ['fence', self.fenced ? 'FENCED: the shop must not deliver escrowed orders itself' : 'open: the shop delivers its orders'],
    ['takeover', takeover],
    ['terms', `${self.terms.id} revision ${self.terms.revision} (${self.terms.hash.slice(0, 12)}…)`],
    ['orders', `${self.pending} pending, ${self.stuck} stuck (paid over ${stuckMinutes} min ago, not delivered)`],
    ['unserved', unservedText(self.unserved)],
  ])
}
