// `standin status`: this shop first (fence, takeover, terms, orders that wait too long), then its
// partners as our failover view sees them, then escrow per origin, then what each column means.
import { formatZodError } from '../../protocol/index.js'
import { type EscrowReply, type PartnerStatus, PlatformBody, type PlatformReply, type SelfStatus } from '../core/api-schemas.js'
import { z } from 'zod'
import { setTimeout as delay } from 'node:timers/promises'
import { NodeNotRunningError, WaitTimedOutError } from './node-request.js'
import { DataDir } from '../datadir.js'
import { admin, table } from './local-commands.js'
import type { MessageId } from '../core/i18n/index.js'
import { revocationText } from '../core/i18n/revocation-text.js'
import { say } from './locale.js'

/** Our failover view of a partner, in the STATE column. */
const PHASE_TEXT: Record<PartnerStatus['phase'], MessageId> = {
  healthy: 'cli.status.phase.healthy',
  suspect: 'cli.status.phase.suspect',
  certified: 'cli.status.phase.certified',
  'taken-over': 'cli.status.phase.takenOver',
  'handed-back': 'cli.status.phase.handedBack',
}

export async function status(dirPath: string, asJson: boolean): Promise<string> {
  const dir = new DataDir(dirPath)
  const self = await admin<SelfStatus>(dir, '/v1/admin/self')
  const { partners } = await admin<{ partners: PartnerStatus[] }>(dir, '/v1/admin/partners')
  const escrow = await admin<EscrowReply>(dir, '/v1/admin/escrow')
  if (asJson) return JSON.stringify({ self, partners, escrow }, null, 2)
  const now = Date.now()
  const names = new Map(partners.map((p) => [p.id, p.name]))
  const nameOf = (id: string) => names.get(id) ?? id
  const partnerRows = [
    (['partner', 'connected', 'lastHeartbeat', 'platform', 'ackedSeq', 'theirFeed', 'state'] as const).map((c) => say(`cli.status.col.${c}`)),
  ]
  for (const p of partners) {
    partnerRows.push([
      p.name,
      say(p.connected ? 'cli.yes' : 'cli.no'),
      p.lastHeartbeatAt === null ? say('cli.never') : say('cli.secondsAgo', { seconds: ((now - p.lastHeartbeatAt) / 1000).toFixed(1) }),
      p.platform,
      `${p.ackedSeq} / ${escrow.ownSeq}`,
      say('cli.status.theirSeq', { seq: String(p.theirHead.seq) }),
      p.quarantined ? say('cli.status.quarantined') : say('cli.status.stateAtEpoch', { state: say(PHASE_TEXT[p.phase]), epoch: String(p.epoch) }),
    ])
  }
  const escrowRows = [(['origin', 'pending', 'delivered', 'cancelled'] as const).map((c) => say(`cli.status.escrow.${c}`))]
  for (const e of escrow.escrow)
    escrowRows.push([names.get(e.origin) ?? say('cli.status.us', { name: self.name }), String(e.pending), String(e.delivered), String(e.cancelled)])
  return [selfLines(self, nameOf), table(partnerRows), table(escrowRows), say('cli.status.legend')].join('\n\n')
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
  let waitingFor = say('cli.wait.nodeAnswer')
  while (Date.now() < deadline) {
    try {
      const { partners } = await admin<{ partners: PartnerStatus[] }>(dir, '/v1/admin/partners')
      const away = partners.filter((p) => !p.connected || p.lastHeartbeatAt === null)
      if (away.length === 0) return await status(dirPath, asJson)
      waitingFor = say('cli.wait.toConnect', { names: away.map((p) => p.name).join(', ') })
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
  if (body.data.platform === 'down') return say(reply.takenOver ? 'cli.platform.downTakenOver' : 'cli.platform.downNotYet')
  return say(reply.takenOver ? 'cli.platform.upTakenOver' : 'cli.platform.upNotTakenOver')
}

function healthText(self: SelfStatus): string {
  const h = self.health
  const last =
    h.lastReportAt === null
      ? say('cli.health.noReport')
      : say('cli.health.lastReport', { seconds: String(Math.round((Date.now() - h.lastReportAt) / 1000)), source: h.source ?? 'adapter' })
  if (h.silent) return say('cli.health.silent', { platform: self.platform, last, silentSeconds: String(Math.round(h.silentAfterMs / 1000)) })
  return say('cli.health.ok', { platform: self.platform, last })
}

/** Orders no partner could have served when they came in (D68): what to do about each sku. */
function unservedText(u: SelfStatus['unserved']): string {
  if (u.count === 0) return say('cli.self.unservedNone')
  const skus = [
    ...new Set(u.recent.map((o) => say(o.reason === 'sku-not-in-terms' ? 'cli.self.unservedNotInTerms' : 'cli.self.unservedNoKeys', { sku: o.sku }))),
  ]
  return say('cli.self.unservedSome', { count: String(u.count), skus: skus.join(', ') })
}

function selfLines(self: SelfStatus, nameOf: (id: string) => string): string {
  const t = self.takenOver
  const takeover = t
    ? say('cli.self.takenOver', {
        epoch: String(self.epoch),
        since: new Date(t.since).toISOString(),
        how: t.how === 'request' ? say('cli.self.how.request') : say('cli.self.how.certified', { names: t.certifiedBy.map(nameOf).join(', ') }),
        fulfillers: t.fulfillers.map(nameOf).join(', ') || say('cli.self.nobodyYet'),
      })
    : say('cli.self.notTakenOver', { epoch: String(self.epoch) })
  return table([
    [say('cli.self.thisShop'), `${self.name} (${self.id})`],
    [say('cli.self.platform'), healthText(self)],
    [say('cli.self.fence'), say(self.fenced ? 'cli.self.fenced' : 'cli.self.open')],
    [say('cli.self.takeover'), takeover],
    [say('cli.self.terms'), say('cli.self.termsValue', { id: self.terms.id, revision: String(self.terms.revision), hash: self.terms.hash.slice(0, 12) })],
    [
      say('cli.self.orders'),
      say('cli.self.ordersValue', { pending: String(self.pending), stuck: String(self.stuck), minutes: String(Math.round(self.stuckAfterMs / 60_000)) }),
    ],
    [say('cli.self.unserved'), unservedText(self.unserved)],
    [say('cli.self.feed'), feedText(self.feed, nameOf)],
    ...self.revocations.map((r) => [say('cli.self.revoked', { partner: nameOf(r.partner) }), revocationText(say, r, self.id, nameOf)]),
  ])
}

function feedText(feed: SelfStatus['feed'], nameOf: (id: string) => string): string {
  const names = (ids: readonly string[]) => ids.map(nameOf).join(', ') || '-'
  const state = feed.rejoining
    ? say('cli.self.feedRejoining', {
        reason: say(`cli.self.rejoin.${feed.rejoining}`),
        seq: String(feed.seq),
        confirmed: names(feed.confirmed),
        waiting: names(feed.waiting),
      })
    : say('cli.self.feedWriting', { seq: String(feed.seq) })
  const skipped = Object.entries(feed.notRebuilt)
  if (skipped.length === 0) return state
  return `${state}\n${say('cli.self.feedNotRebuilt', { types: skipped.map(([type, n]) => `${type} ×${n}`).join(', ') })}`
}
