// `standin drill`: a fire drill before any outage (node/core/drill.ts, D69). Each partner proves it
// holds and can read the keys we consigned to it; the table says per partner and sku what an
// outage now would bring. Exit 1 when any partner fails, so a cron job or CI step can alert.
import { formatZodError } from '../../protocol/index.js'
import type { DrillResultView } from '../core/api-schemas.js'
import { DataDir } from '../datadir.js'
import { DrillArgs } from './schemas.js'
import { admin, partnerId, table } from './local-commands.js'

/** A drill that found a partner unable to serve: the report is printed, then exit 1. */
export class DrillFailedError extends Error {}

export async function drill(raw: Record<string, unknown>): Promise<string> {
  const args = DrillArgs.safeParse(raw)
  if (!args.success) throw new Error(`arguments: ${formatZodError(args.error)}`)
  const dir = new DataDir(args.data.dir)
  if (args.data.last) {
    const { drills } = await admin<{ drills: DrillResultView[] }>(dir, '/v1/admin/drills')
    const newest = drills.at(-1)
    if (!newest) return 'no drill has run since the node started: run `standin drill`'
    return report(newest, args.data.json)
  }
  const body = { partner: args.data.partner === undefined ? undefined : partnerId(dir, args.data.partner), sku: args.data.sku }
  const result = await admin<DrillResultView>(dir, '/v1/admin/drills', body)
  const text = report(result, args.data.json)
  if (!result.ok) throw new DrillFailedError(text)
  return text
}

function report(result: DrillResultView, asJson: boolean): string {
  if (asJson) return JSON.stringify(result, null, 2)
  const rows = [['PARTNER', 'SKU', 'CONSIGNED', 'PROVEN', 'WOULD SERVE', 'RESULT']]
  for (const p of result.partners) {
    if (p.skus.length === 0) rows.push([p.name, '-', '0', '0', '0', p.ok ? 'ok' : `FAIL: ${p.reason ?? ''}`])
    for (const s of p.skus) rows.push([p.name, s.sku, String(s.expected), String(s.held), `${s.servesUpTo} orders`, s.ok ? 'ok' : `FAIL: ${s.reason ?? ''}`])
  }
  const when = new Date(result.at).toISOString()
  const verdict = result.ok
    ? 'every partner could serve its keys now'
    : 'a partner could not serve all it holds: see FAIL above (the drill-failed alert went out)'
  return `drill ${result.id} at ${when}\n${table(rows)}\n\n${verdict}\nCONSIGNED: unused keys we consigned; PROVEN: keys it proved it holds and can read; WOULD SERVE: orders of one key each within the terms' limit per outage`
}
