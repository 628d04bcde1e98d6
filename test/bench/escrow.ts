// npm run bench -- escrow [orders] [escrowed|delivered] — 4 node processes on loopback (origin A +
// partners B, C, D). Orders go in through A's adapter HTTP API in requests of 1,000; an order
// counts as done when all three partners have acknowledged the feed entry holding it as durable
// (synced to their disk). With `delivered` each request's orders are then marked delivered by the
// shop, as a shop does moments after a sale, and count as done once the partners acknowledged that
// tombstone too: a sold order's whole life in escrow, which is what a partner holds in steady
// state (an order escrowed and never delivered is the outage's case). The latency stays the
// escrow's, send → every partner's ack.
import { z } from 'zod'
import type { AdapterOrder } from '../../protocol/index.js'
import { Cluster, waitFor } from '../integration/cluster.js'
import type { PartnerStatus } from '../../node/core/api-schemas.js'
import { benchArgs, wholeNumber } from './args.js'
import { cpuMeter, logCount, pidOf } from './node-stats.js'

const ORDERS_PER_REQUEST = 1_000
const REQUESTS_IN_FLIGHT = 4
const NODES = ['A', 'B', 'C', 'D'] as const

function batch(start: number, count: number): AdapterOrder[] {
  const paidAt = Date.now()
  return Array.from({ length: count }, (_, i) => ({
    order: `B-${start + i}`,
    sku: 'steam-50',
    qty: 1,
    amount: { minorUnits: 5_000, currency: 'CNY' },
    paidAt,
    buyer: { email: `buyer${start + i}@example.com`, locale: 'zh-CN' },
    claimSecret: `claim-token-bench-${String(start + i).padStart(8, '0')}`, // a generated token (hashed, not scrypt: protocol/claims.ts)
  }))
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0
}

const Args = z.object({ orders: wholeNumber(1).default(100_000), mode: z.enum(['escrowed', 'delivered']).default('escrowed') })

export async function run(args: string[]): Promise<void> {
  const { orders: total, mode } = benchArgs('escrow', Args, args)
  const cluster = await Cluster.create([...NODES])
  try {
    await Promise.all(NODES.map((n) => cluster.start(n)))
    await waitFor('A connected to its 3 partners', async () => {
      const { partners } = await cluster.admin<{ partners: PartnerStatus[] }>('A', '/v1/admin/partners')
      return partners.every((p) => p.connected) || undefined
    })
    const client = cluster.adapter('A')
    const acked = async (seq: number) => {
      const reply = await cluster.admin<{ acked: boolean }>('A', `/v1/admin/acks/wait?seq=${seq}&timeoutMs=60000`)
      if (!reply.acked) throw new Error(`seq ${seq} not acknowledged by every partner within 60 s`)
    }
    await client.submitOrders(batch(-ORDERS_PER_REQUEST, ORDERS_PER_REQUEST)) // warm-up, not counted
    const latencies: number[] = []
    let next = 0
    const cpu = cpuMeter(Object.fromEntries(NODES.map((n) => [n, pidOf(cluster, n)])) as Record<(typeof NODES)[number], number>)
    const started = performance.now()
    const worker = async () => {
      while (next < total) {
        const start = next
        const count = Math.min(ORDERS_PER_REQUEST, total - start)
        next += count
        const sent = performance.now()
        const orders = batch(start, count)
        await acked((await client.submitOrders(orders)).seq)
        const ms = performance.now() - sent
        for (let i = 0; i < count; i++) latencies.push(ms)
        if (mode === 'delivered') {
          const { seq, updated } = await client.markDelivered(orders.map((o) => ({ order: o.order, time: Date.now() })))
          if (updated !== count) throw new Error(`${count} orders marked delivered, ${updated} updated`)
          await acked(seq)
        }
      }
    }
    await Promise.all(Array.from({ length: REQUESTS_IN_FLIGHT }, worker))
    const seconds = (performance.now() - started) / 1000
    const used = cpu()
    const usPerOrder = (seconds: number) => (seconds * 1e6) / total
    const cpuUs = NODES.map((n) => usPerOrder(used.processes[n]))
    const generatorUs = usPerOrder(used.self)
    latencies.sort((x, y) => x - y)
    console.log(`orders=${total} ${mode} requests_of=${ORDERS_PER_REQUEST} in_flight=${REQUESTS_IN_FLIGHT} partners=3 seconds=${seconds.toFixed(2)}`)
    console.log(
      `${mode === 'delivered' ? 'escrowed+delivered' : 'escrow'} orders/s=${Math.round(total / seconds)} p50_ms=${Math.round(percentile(latencies, 50))} p99_ms=${Math.round(percentile(latencies, 99))}`,
    )
    const perNode = NODES.map((n, i) => `${n}=${Math.round(cpuUs[i] as number)}`).join(' ')
    const sum = cpuUs.reduce((a, b) => a + b, generatorUs)
    console.log(`cpu_us_per_order ${perNode} generator=${Math.round(generatorUs)} sum=${Math.round(sum)} (2 cores allow ${Math.round(2e6 / sum)} orders/s)`)
    // Frames a partner dropped because A sent more than it takes (peer-work.ts logs the first drop
    // and every DROPS_PER_LOG_LINE-th): each drop costs a gap, a catch-up and resent entries.
    const drops = (name: string) => logCount(cluster, name, /partner sends more than we take/g)
    console.log(`drop_warnings(B,C,D)=${['B', 'C', 'D'].map(drops).join(',')}`)
  } finally {
    await cluster.stop()
  }
}
