// npm run bench -- failover — crash of an origin with N stranded orders (10 and 10,000), with the
// tuned timings (`local` preset: heartbeat 250 ms) and the defaults (`standard`: heartbeat 1 s).
// Measures crash → first stranded key delivered, crash → all delivered, and takeover → all
// delivered. "Delivered" = the partner reserved the key for the order and wrote its receipt (the
// claim page shows it); buyer mail follows from the durable outbox and is reported separately.
// `npm run bench -- failover [presets] [sizes] [mail|claim-only]`: with `claim-only` the buyers
// left no email, so the claim page is their only channel and no mail is sent; the CPU the
// partners spend from the crash to the end (printed either way) is then the takeover's alone,
// and the difference to a `mail` run what the mail costs them. Orders both partners delivered are
// printed as the reports list them (`duplicates_seen`, each order at both partners) and as orders
// (`orders_delivered_twice`); the keys consigned cover the orders exactly, so each such order
// leaves another without a key (`orders_without_a_key`) although "all" keys were used.
import { z } from 'zod'
import type { AdapterOrder } from '../../protocol/index.js'
import type { IncidentReport } from '../../node/core/api-schemas.js'
import { waitFor } from '../integration/cluster.js'
import { allot, type Federation, startFederation, stopFederation, testTerms } from '../integration/federation-env.js'
import { benchArgs, listOf, wholeNumber } from './args.js'
import { cpuMeter, logCount, pidOf } from './node-stats.js'

interface Run {
  preset: 'local' | 'standard'
  orders: number
  mail: boolean
}

/** B's and C's incident reports about A. */
async function reportsOnA(f: Federation, aId: string): Promise<Map<string, IncidentReport[]>> {
  const byPartner = new Map<string, IncidentReport[]>()
  for (const name of ['B', 'C']) {
    const { incidents } = await f.cluster.admin<{ incidents: IncidentReport[] }>(name, '/v1/admin/incidents')
    byPartner.set(
      name,
      incidents.filter((r) => r.origin === aId),
    )
  }
  return byPartner
}

/**
 * A's orders B and C delivered themselves (each partner's incident report counts its own
 * deliveries), and when the last of them was. Not the escrow view's `delivered`: each partner's
 * count there includes the other's receipts once they arrive, so summing them (as before
 * issue 22) said "all" with about half done.
 */
function delivered(f: Federation, reports: Map<string, IncidentReport[]>): { orders: number; lastAt: number } {
  let orders = 0
  let lastAt = 0
  for (const [name, incidents] of reports) {
    const me = f.cluster.node(name).id
    for (const report of incidents) {
      const own = report.fulfillers[me]
      orders += own?.orders ?? 0
      lastAt = Math.max(lastAt, own?.lastAt ?? 0)
    }
  }
  return { orders, lastAt }
}

/** crash → the last mail accepted, in ms; `timeout` if they were not all accepted, `none` without mail. */
function mailFigure(mailsAt: number | null | undefined, crashAt: number): string {
  if (mailsAt === undefined) return 'none'
  if (mailsAt === null) return 'timeout'
  return String(mailsAt - crashAt)
}

/**
 * Mail the partners retried (relay refused or connection lost) and where the relay's acceptances
 * fell: the mail figure is the slowest of them. When not all were accepted, the partners' last
 * mail lines say why.
 */
function reportMail(f: Federation, orders: number, crashAt: number, mailsAt: number | null): void {
  if (mailsAt === null) {
    console.log(`mails accepted by the relay: ${f.sink.acceptedAt.length} of ${orders}; the partners' mail warnings:`)
    for (const name of ['B', 'C'])
      for (const line of f.cluster
        .node(name)
        .output.split('\n')
        .filter((l) => /mail|smtp/i.test(l))
        .slice(-5))
        console.log(`  ${name}: ${line.slice(0, 300)}`)
  }
  const count = (name: string, pattern: RegExp) => logCount(f.cluster, name, pattern)
  const accepted = f.sink.acceptedAt.slice(0, orders)
  const tenths = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((t) => (accepted[Math.ceil((t * accepted.length) / 10) - 1] ?? crashAt) - crashAt)
  console.log(
    `mail retries(B,C)=${['B', 'C'].map((n) => count(n, /mail failed; will retry/g)).join(',')} ` +
      `smtp_connection_errors(B,C)=${['B', 'C'].map((n) => count(n, /smtp: connection error/g)).join(',')} ` +
      `stalls(B,C)=${['B', 'C'].map((n) => count(n, /did not run for longer/g)).join(',')} ` +
      `crash_to_each_tenth_of_mail_ms=${tenths.join(',')}`,
  )
}

async function one({ preset, orders, mail }: Run): Promise<void> {
  const cny = (minorUnits: number) => ({ minorUnits, currency: 'CNY' })
  const limits = { maxOrdersPerOutage: 100_000, maxValuePerOutage: cny(1e12), maxOrdersPerHour: 100_000, maxValuePerHour: cny(1e12) }
  const f = await startFederation({ preset, keysPerShop: orders + 100, terms: (ids) => testTerms(ids, limits), sink: { decode: false } })
  try {
    const half = Math.ceil(orders / 2)
    await allot(f, 'A', 'B', half)
    await allot(f, 'A', 'C', half)
    const client = f.cluster.adapter('A')
    const paidAt = Date.now() - 60_000 // paid a minute ago: past any grace period
    let lastSeq = 0
    for (let start = 0; start < orders; start += 1_000) {
      const batch: AdapterOrder[] = Array.from({ length: Math.min(1_000, orders - start) }, (_, i) => ({
        order: `F-${start + i}`,
        sku: 'steam-50',
        qty: 1,
        amount: { minorUnits: 5_000, currency: 'CNY' },
        paidAt,
        buyer: { email: mail ? `buyer${start + i}@example.com` : null, locale: 'zh-CN' },
        claimSecret: `claim-token-bench-${String(start + i).padStart(8, '0')}`, // a generated token: hashed, not scrypt
      }))
      lastSeq = (await client.submitOrders(batch)).seq
    }
    await f.cluster.admin(`A`, `/v1/admin/acks/wait?seq=${lastSeq}&timeoutMs=60000`)
    const aId = f.cluster.node('A').id
    const cpu = cpuMeter({ B: pidOf(f.cluster, 'B'), C: pidOf(f.cluster, 'C') })
    await f.cluster.kill('A', 'SIGKILL')
    const crashAt = Date.now()
    let firstAt = 0
    const deliveredNow = async () => delivered(f, await reportsOnA(f, aId))
    await waitFor('the first stranded key', async () => ((await deliveredNow()).orders > 0 ? (firstAt = Date.now()) : undefined), 120_000, 20)
    const allAt = await waitFor(
      'every stranded key',
      async () => {
        const { orders: done, lastAt } = await deliveredNow()
        return done >= orders ? lastAt : undefined
      },
      300_000,
      50,
    )
    // The last mail the relay accepted; null when they were not all accepted in time, undefined
    // with claim-only (no mail).
    const mailsAt = mail
      ? await waitFor('every buyer mail', () => (f.sink.acceptedAt.length >= orders ? f.sink.acceptedAt[orders - 1] : undefined), 600_000, 100).catch(
          () => null,
        )
      : undefined
    // CPU from the crash to the last key (claim-only) or the last mail: what the takeover (and its
    // mail) cost, whatever the cores. The bench's own process holds the SMTP sink and the polling.
    const { processes: partner, self: benchSeconds } = cpu()
    const ms = (seconds: number) => ((seconds * 1e3) / orders).toFixed(2)
    console.log(
      `cpu_seconds_crash_to_end B=${partner.B.toFixed(1)} C=${partner.C.toFixed(1)} bench_and_sink=${benchSeconds.toFixed(1)} ` +
        `cpu_ms_per_order B+C=${ms(partner.B + partner.C)} bench_and_sink=${ms(benchSeconds)}`,
    )
    if (mail) reportMail(f, orders, crashAt, mailsAt ?? null)
    const byPartner = await reportsOnA(f, aId)
    const reports = [...byPartner.values()].flat()
    const takeoverAt = Math.min(...reports.flatMap((r) => r.timeline.filter((t) => t.what.startsWith('takeover')).map((t) => t.at)))
    const duplicates = reports.reduce((n, r) => n + r.duplicates.length, 0)
    // Each partner's report lists an order both delivered, so the orders are counted once here.
    // The keys consigned cover the orders exactly: an order delivered twice used a key another
    // order then lacked, so "all" (every key used) left as many orders without a key.
    const twice = new Set(reports.flatMap((r) => r.duplicates.map((d) => d.order))).size
    const { orders: deliveries } = delivered(f, byPartner)
    console.log(
      `failover preset=${preset} stranded=${orders} crash_to_first_key_ms=${firstAt - crashAt} crash_to_all_ms=${allAt - crashAt} ` +
        `takeover_to_all_ms=${allAt - takeoverAt} crash_to_takeover_ms=${takeoverAt - crashAt} crash_to_all_mail_ms=${mailFigure(mailsAt, crashAt)} duplicates_seen=${duplicates} ` +
        `orders_delivered_twice=${twice} orders_without_a_key=${orders - (deliveries - twice)}`,
    )
  } finally {
    await stopFederation(f)
  }
}

const Args = z.object({
  presets: listOf(z.enum(['local', 'standard'])).default(['local', 'standard']),
  sizes: listOf(wholeNumber(1)).default([10, 10_000]),
  channel: z.enum(['mail', 'claim-only']).default('mail'),
})

export async function run(args: string[]): Promise<void> {
  const { presets, sizes, channel } = benchArgs('failover', Args, args)
  for (const preset of presets) for (const orders of sizes) await one({ preset, orders, mail: channel === 'mail' })
}
