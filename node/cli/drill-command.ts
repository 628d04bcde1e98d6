// `standin drill`: a fire drill before any outage (node/core/drill.ts, D69). Each partner proves it
// holds and can read the keys we consigned to it; the table says per partner and sku what an
// outage now would bring. Exit 1 when any partner fails, so a cron job or CI step can alert.
import { formatZodError } from '../../protocol/index.js'
import type { DrillResultView } from '../core/api-schemas.js'
import { DataDir } from '../datadir.js'
import { DrillArgs } from './schemas.js'
import { admin, partnerId, table } from './local-commands.js'
import { say } from './locale.js'

/** A drill that found a partner unable to serve: the report is printed, then exit 1. */
export class DrillFailedError extends Error {}

export async function drill(raw: Record<string, unknown>): Promise<string> {
  const args = DrillArgs.safeParse(raw)
  if (!args.success) throw new Error(`arguments: ${formatZodError(args.error)}`)
  const dir = new DataDir(args.data.dir)
  if (args.data.last) {
    const { drills } = await admin<{ drills: DrillResultView[] }>(dir, '/v1/admin/drills')
    const newest = drills.at(-1)
    if (!newest) return say('cli.drill.none')
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
  const rows = [(['partner', 'sku', 'consigned', 'proven', 'wouldServe', 'result'] as const).map((c) => say(`cli.drill.col.${c}`))]
  const verdict = (ok: boolean, reason: string | null) => (ok ? say('cli.drill.ok') : say('cli.drill.fail', { reason: reason ?? '' }))
  for (const p of result.partners) {
    if (p.skus.length === 0) rows.push([p.name, '-', '0', '0', '0', verdict(p.ok, p.reason)])
    for (const s of p.skus)
      rows.push([p.name, s.sku, String(s.expected), String(s.held), say('cli.drill.orders', { count: String(s.servesUpTo) }), verdict(s.ok, s.reason)])
  }
  return [
    say('cli.drill.header', { id: result.id, time: new Date(result.at).toISOString() }),
    table(rows),
    '',
    say(result.ok ? 'cli.drill.allOk' : 'cli.drill.someFailed'),
    say('cli.drill.legend'),
  ].join('\n')
}
