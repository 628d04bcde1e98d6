// refused and keys: what partners sent that the node refused (the evidence), and the keys they
// released back, which are exposed and wait for the operator's decision.
import { formatZodError } from '../../protocol/index.js'
import { DecideKeysBody, type ExposedKeyView, type HoldingView, type RefusalView, RevokeBody, type RevokeReply } from '../core/api-schemas.js'
import { NodeNotRunningError } from './node-request.js'
import type { z } from 'zod'
import { DataDir } from '../datadir.js'
import { admin, partnerId, table } from './local-commands.js'
import { windDown, type WindDownApi, type WoundDown } from '../terms/wind-down.js'

function namesOf(dir: DataDir): (id: string | null) => string {
  const names = new Map(dir.cards().map((c) => [c.body.id, c.body.name]))
  return (id) => (id === null ? '-' : (names.get(id) ?? id.slice(0, 12)))
}

export async function refused(dirPath: string, asJson: boolean): Promise<string> {
  const dir = new DataDir(dirPath)
  const { refusals } = await admin<{ refusals: RefusalView[] }>(dir, '/v1/admin/refusals')
  if (asJson) return JSON.stringify(refusals, null, 2)
  if (refusals.length === 0) return 'nothing refused'
  const name = namesOf(dir)
  const rows = [['WHEN (UTC)', 'FROM', 'WHAT', 'ORIGIN', 'ORDER', 'EPOCH', 'THEIR SEQ', 'STATE', 'WHY']]
  for (const r of refusals) {
    rows.push([
      new Date(r.at).toISOString(),
      name(r.from),
      r.kind,
      name(r.origin),
      r.order ?? '-',
      r.epoch === null ? '-' : String(r.epoch),
      r.seq === null ? 'message' : String(r.seq),
      r.held ? 'held' : 'refused',
      r.reason,
    ])
  }
  return table(rows)
}

export async function exposedKeys(dirPath: string): Promise<string> {
  const dir = new DataDir(dirPath)
  const { keys } = await admin<{ keys: z.infer<typeof ExposedKeyView>[] }>(dir, '/v1/admin/keys/exposed')
  if (keys.length === 0) return 'no exposed keys'
  const name = namesOf(dir)
  const rows = [['KEY ID', 'RELEASED BY', 'SKU', 'ALLOTMENT', 'UNIT VALUE']]
  for (const k of keys) rows.push([k.keyId, name(k.holder), k.sku, k.allotment, `${k.unitValue.minorUnits} ${k.unitValue.currency} (minor units)`])
  return `${table(rows)}\n\ndecide with: standin keys decide <write-off|bill|reconsign> <key id>…`
}

export async function decideKeys(dirPath: string, decision: string, keyIds: readonly string[]): Promise<string> {
  const body = DecideKeysBody.safeParse({ decision, keyIds })
  if (!body.success) throw new Error(`arguments: ${formatZodError(body.error)}`)
  const dir = new DataDir(dirPath)
  const reply = await admin<{ keys: number; seq: number }>(dir, '/v1/admin/keys/decide', body.data)
  const what = {
    'write-off': 'written off (never sold)',
    bill: 'billed to the partner that released them',
    reconsign: 'consigned again to the partner that released them',
  }[body.data.decision]
  return `${reply.keys} keys ${what}${reply.seq ? ` (feed seq ${reply.seq})` : ''}`
}

/**
 * `standin partner revoke`: our signed revocation (D94). It takes force once a quorum of the
 * parties signed one; until then it is our word only, and the others are alerted to decide.
 */
export async function revokePartner(dirPath: string, who: string, reason: string): Promise<string> {
  const dir = new DataDir(dirPath)
  const body = RevokeBody.safeParse({ partner: partnerId(dir, who), reason })
  if (!body.success) throw new Error(`arguments: ${formatZodError(body.error)}`)
  const reply = await admin<z.infer<typeof RevokeReply>>(dir, '/v1/admin/partners/revoke', body.data)
  const name = namesOf(dir)
  const signed = `revocation of ${name(body.data.partner)} signed (feed seq ${reply.seq}); signed by ${reply.by.map(name).join(', ')}`
  if (reply.inForce)
    return `${signed}: IN FORCE. The node runs without it now: nothing is sealed to it or taken from it. Void the keys of ours it still holds (standin status shows how many) and settle with it off the network (standin settle export).`
  return `${signed}: ${reply.by.length} of the ${reply.needed} parties needed. It takes force once the others sign (each runs standin partner revoke ${who}); they were alerted.`
}

/**
 * Parting with a party (D95), or handing our place to a new identity (D99), through the running
 * node (../terms/wind-down.ts). Without the node running, says what to do instead.
 */
export async function windDownPartner(dirPath: string, who: string): Promise<string> {
  const dir = new DataDir(dirPath)
  const id = partnerId(dir, who)
  const name = namesOf(dir)(id)
  const overAdmin: WindDownApi = {
    holdings: async () => (await admin<{ holdings: HoldingView[] }>(dir, '/v1/admin/allotments')).holdings,
    recall: (holder, allotment) => admin(dir, '/v1/admin/allotments/recall', { holder, allotment }),
    issueStatement: async (counterparty) => (await admin<{ issued: boolean }>(dir, '/v1/admin/statements', { counterparty })).issued,
  }
  let done: WoundDown
  try {
    done = await windDown(overAdmin, id)
  } catch (error) {
    if (!(error instanceof NodeNotRunningError)) throw error
    return `the node is not running: start it and recall what ${name} holds (standin allot --recall <allotment> --from ${who}), then settle (standin settle issue)`
  }
  const recalled =
    done.recalled.length === 0 ? `${name} holds no keys of ours` : `recalled ${done.recalled.length} allotment(s) from ${name}: ${done.recalled.join(', ')}`
  return `${recalled}; ${done.issued ? 'final statement issued' : 'nothing to settle'}. Keys it has not released when the revision takes force stay with it (standin status).`
}
