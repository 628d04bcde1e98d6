// refused and keys: what partners sent that the node refused (the evidence), and the keys they
// released back, which are exposed and wait for the operator's decision.
import { formatZodError } from '../../protocol/index.js'
import { DecideKeysBody, type ExposedKeyView, type RefusalView } from '../core/api-schemas.js'
import type { z } from 'zod'
import { DataDir } from '../datadir.js'
import { admin, table } from './local-commands.js'

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
