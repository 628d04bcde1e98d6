// npm run bench -- ingress [rate] [seconds] [fetch|http] — one paid order per adapter request, as a
// shop's adapter sends it when a buyer pays, at a steady `rate` requests/s (default 2,000) for
// `seconds` (default 60) into origin A of three node processes on loopback (A + partners B, C;
// LevelDB on disk, libp2p), A's keys consigned to B and C so the orders are covered.
//
// Open loop: request i is due at start + i/rate whatever earlier requests do, so a slow reply never
// lowers the offered rate (no coordinated omission). At most IN_FLIGHT requests are outstanding; a
// request due while that many are is dropped and counted. They go over as many keep-alive
// connections, all opened in the warm-up and kept open: requests on connections opened in a burst
// of a few hundred while A was saturated waited 6–21 s for their first reply (in the kernel and
// the server before A's request hook: A's own request times stayed under 1 s), which belongs to a
// connection storm, not to the steady state measured here. (With fewer connections than requests in flight, a request
// would wait for one in the client, and smaller group commits at A would cost more CPU per order.)
//
// A 2xx means the order is durable at A: the route replies after the synced write of the feed
// entry holding it (node/core/feed-writer.ts, `sync: true`). Latency is per request, send → 2xx,
// in µs, from the moment the request was sent (and from when it was due: the generator's own lag
// included). The generator shares the cores with the nodes: `fetch` (default) sends through the
// generic adapter's AdapterClient (Node's fetch); `http` signs the same requests and sends them
// through node:http, which costs the generator about a quarter of the CPU (the cpu_s line).
//
// A node remembers at most 1,000,000 adapter request signatures per 5-minute replay window
// (adapters/contract.ts MAX_SEEN_SIGNATURES): past that it answers 503 until signatures age out
// (≈3,300 requests/s sustained; at 100,000 this bench found ingress held to 333/s); the errors
// line counts any and names the first.
import { Agent, request } from 'node:http'
import { z } from 'zod'
import { AdapterClient, AdapterRequestError } from '../../adapters/generic/client.js'
import { ADAPTER_SIGNATURE_HEADER, ADAPTER_TIMESTAMP_HEADER, type AdapterOrder, adapterSignature } from '../../protocol/index.js'
import { allot, type Federation, startFederation, stopFederation } from '../integration/federation-env.js'
import { benchArgs, positiveNumber } from './args.js'
import { cpuMeter, logCount, machineLoad, metric, percentile, pidOf, scrape, sleep } from './node-stats.js'

const IN_FLIGHT = 512
const CONNECTIONS = IN_FLIGHT
/** Signing clients, as a shop's worker processes each sign their own requests (see below). */
const CLIENTS = 16
/** A request sent this long after it was due counts as late (the generator fell behind). */
const LATE_MS = 10
const WARM_UP_ROUNDS = 2
const REQUEST_TIMEOUT_MS = 30_000
const ROUTE = 'method="POST",route="/v1/adapter/orders",status="200"'
const SERVER_SECONDS = 'standin_http_request_duration_seconds'

function order(n: number, paidAt: number): AdapterOrder {
  return {
    order: `I-${n}`,
    sku: 'steam-50',
    qty: 1,
    amount: { minorUnits: 5_000, currency: 'CNY' },
    paidAt,
    buyer: { email: `buyer${n}@example.com`, locale: 'zh-CN' },
    claimSecret: `claim-token-bench-${String(n).padStart(8, '0')}`, // a generated token (hashed, not scrypt: protocol/claims.ts)
  }
}

const ORDERS_PATH = '/v1/adapter/orders'

/** The adapter's signed POST of orders through node:http; resolves on a 2xx with the reply read. */
function httpSubmitter(baseUrl: string, secret: string): (orders: AdapterOrder[]) => Promise<void> {
  const url = new URL(baseUrl)
  const agent = new Agent({ keepAlive: true, maxSockets: CONNECTIONS, maxFreeSockets: CONNECTIONS })
  return (orders) =>
    new Promise<void>((resolve, reject) => {
      const raw = JSON.stringify({ orders })
      const timestamp = Date.now()
      const req = request(
        {
          host: url.hostname,
          port: url.port,
          method: 'POST',
          path: ORDERS_PATH,
          agent,
          timeout: REQUEST_TIMEOUT_MS,
          headers: {
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(raw),
            [ADAPTER_TIMESTAMP_HEADER]: String(timestamp),
            [ADAPTER_SIGNATURE_HEADER]: adapterSignature(secret, timestamp, 'POST', ORDERS_PATH, raw),
          },
        },
        (response) => {
          const chunks: Buffer[] = []
          response.on('data', (chunk: Buffer) => chunks.push(chunk))
          response.on('end', () => {
            const status = response.statusCode ?? 0
            if (status >= 200 && status < 300) resolve()
            else reject(new AdapterRequestError(status, Buffer.concat(chunks).toString('utf8')))
          })
          response.on('error', reject)
        },
      )
      req.on('timeout', () => req.destroy(Object.assign(new Error('request timed out'), { name: 'TimeoutError' })))
      req.on('error', reject)
      req.end(raw)
    })
}

/** At most `size` calls running at once; the others wait in arrival order. */
function pool(size: number): <T>(call: () => Promise<T>) => Promise<T> {
  let running = 0
  const waiting: (() => void)[] = []
  return async (call) => {
    if (running >= size) await new Promise<void>((resolve) => waiting.push(resolve))
    else running++
    try {
      return await call()
    } finally {
      const next = waiting.shift()
      if (next)
        next() // the slot passes on
      else running--
    }
  }
}

function errorName(error: unknown): string {
  if (error instanceof AdapterRequestError) {
    const code = /"error":"([a-z_]+)"/.exec(error.body)?.[1]
    return `${error.status}${code ? `_${code}` : ''}`
  }
  if (error instanceof Error) return error.name === 'TimeoutError' ? 'timeout' : error.name
  return 'unknown'
}

const us = (ms: number) => Math.round(ms * 1000)

const Args = z.object({ rate: positiveNumber().default(2_000), seconds: positiveNumber().default(60), via: z.enum(['fetch', 'http']).default('fetch') })

export async function run(args: string[]): Promise<void> {
  const { rate, seconds, via } = benchArgs('ingress', Args, args)
  const total = Math.round(rate * seconds)
  const intervalMs = 1000 / rate
  const loadBefore = machineLoad() // before our processes start: the other work on this machine
  let f: Federation | undefined
  try {
    // `standard` timings (heartbeat 1 s, suspect 5 s): with `local` (suspect 750 ms) a node starved
    // of CPU on this shared machine is suspected by its partners, and takeovers and handbacks
    // would run inside the measurement. Keys consigned to B and C cover the orders; without them
    // every request is an `unserved` warning and alert at A (node/core/coverage.ts).
    f = await startFederation({ preset: 'standard', keysPerShop: 1_000 })
    const cluster = f.cluster
    await allot(f, 'A', 'B', 100)
    await allot(f, 'A', 'C', 100)
    const a = cluster.node('A')
    // Several signers: one AdapterClient keeps its timestamps strictly increasing (1 ms apart), so
    // one client alone above 1,000 requests/s would sign ever further ahead of the clock.
    const submitters: ((orders: AdapterOrder[]) => Promise<unknown>)[] =
      via === 'http'
        ? [httpSubmitter(a.baseUrl, a.adapter.requestSecret)]
        : Array.from({ length: CLIENTS }, () => {
            const client = new AdapterClient({ baseUrl: a.baseUrl, secret: a.adapter.requestSecret, timeoutMs: REQUEST_TIMEOUT_MS })
            return (orders: AdapterOrder[]) => client.submitOrders(orders)
          })
    const connection = pool(CONNECTIONS)
    const submit = (n: number, orders: AdapterOrder[]) =>
      connection(() => (submitters[n % submitters.length] as (orders: AdapterOrder[]) => Promise<unknown>)(orders))
    let warmUpErrors = 0
    for (let round = 0; round < WARM_UP_ROUNDS; round++) {
      // Warm-up (JIT; every connection opened), not counted.
      const settled = await Promise.allSettled(Array.from({ length: CONNECTIONS }, (_, k) => submit(k, [order(-1 - round * CONNECTIONS - k, Date.now())])))
      warmUpErrors += settled.filter((r) => r.status === 'rejected').length
    }

    const meter = cpuMeter({ A: pidOf(cluster, 'A'), B: pidOf(cluster, 'B'), C: pidOf(cluster, 'C') })
    const serverBefore = await scrape(cluster, 'A')

    const latencyMs = new Float64Array(total).fill(NaN) // send → 2xx
    const fromDueMs = new Float64Array(total).fill(NaN) // due → 2xx (includes the generator's own lag)
    const sendLagMs = new Float64Array(total).fill(NaN) // due → sent
    const outcome = new Uint8Array(total) // 0 not sent, 1 2xx, 2 error
    const errors = new Map<string, number>()
    let firstRefusalMs: number | null = null
    let firstError = ''
    let inFlight = 0
    let maxInFlight = 0
    let sent = 0
    let dropped = 0
    let late = 0
    let lastDoneAt = 0
    const start = performance.now() + 20
    // Bound in time: the timetable ends at `seconds`; nothing is sent after it plus a second.
    const sendDeadline = start + seconds * 1000 + 1000
    let next = 0
    while (next < total && performance.now() < sendDeadline) {
      const now = performance.now()
      const due = Math.min(total, Math.floor((now - start) / intervalMs) + 1)
      for (; next < due; next++) {
        const n = next
        const dueAt = start + n * intervalMs
        if (inFlight >= IN_FLIGHT) {
          dropped++
          continue
        }
        const sentAt = performance.now()
        sendLagMs[n] = sentAt - dueAt
        if (sentAt - dueAt > LATE_MS) late++
        inFlight++
        maxInFlight = Math.max(maxInFlight, inFlight)
        sent++
        submit(n, [order(n, Date.now())]).then(
          () => {
            const doneAt = performance.now()
            latencyMs[n] = doneAt - sentAt
            outcome[n] = 1
            fromDueMs[n] = doneAt - dueAt
            lastDoneAt = Math.max(lastDoneAt, doneAt)
            inFlight--
          },
          (error: unknown) => {
            const name = errorName(error)
            outcome[n] = 2
            errors.set(name, (errors.get(name) ?? 0) + 1)
            if (firstRefusalMs === null) {
              firstRefusalMs = performance.now() - start
              firstError = (error instanceof AdapterRequestError ? error.body : String(error)).slice(0, 160)
            }
            lastDoneAt = Math.max(lastDoneAt, performance.now())
            inFlight--
          },
        )
      }
      await sleep(Math.max(0, start + next * intervalMs - performance.now()))
    }
    const sendEnd = performance.now()
    const notSent = total - next // the send deadline passed first (the generator could not keep up at all)
    // Bound in time: every request has its own timeout; wait a little past it.
    const drainDeadline = performance.now() + REQUEST_TIMEOUT_MS + 5_000
    while (inFlight > 0 && performance.now() < drainDeadline) await sleep(5)
    const stuck = inFlight

    const { processes: cpu, self: generatorCpu } = meter()
    const cpuWindowS = (performance.now() - start) / 1000
    const serverAfter = await scrape(cluster, 'A')
    const serverCount = metric(serverAfter, `${SERVER_SECONDS}_count`, ROUTE) - metric(serverBefore, `${SERVER_SECONDS}_count`, ROUTE)
    const serverSum = metric(serverAfter, `${SERVER_SECONDS}_sum`, ROUTE) - metric(serverBefore, `${SERVER_SECONDS}_sum`, ROUTE)
    const feedEntries = metric(serverAfter, 'standin_feed_own_seq') - metric(serverBefore, 'standin_feed_own_seq')

    // Partners: how long after the last reply B and C hold every order (acknowledged as synced).
    const ackStart = performance.now()
    const { ownSeq } = await cluster.admin<{ ownSeq: number }>('A', '/v1/admin/escrow')
    const { acked } = await cluster.admin<{ acked: boolean }>('A', `/v1/admin/acks/wait?seq=${ownSeq}&timeoutMs=60000`)
    const ackMs = performance.now() - ackStart

    const ok = latencyMs.filter((x) => !Number.isNaN(x)).sort()
    const okFromDue = fromDueMs.filter((x) => !Number.isNaN(x)).sort()
    const lag = sendLagMs.filter((x) => !Number.isNaN(x)).sort()
    const window = (lastDoneAt - start) / 1000
    const errorCount = [...errors.values()].reduce((x, y) => x + y, 0)
    const wall = window > 0 ? window : 1
    console.log(
      `ingress orders_per_request=1 rate_target=${rate} seconds_target=${seconds} scheduled=${total} in_flight_bound=${IN_FLIGHT} connections=${CONNECTIONS} client=${via}${via === 'fetch' ? `x${CLIENTS}` : ''} partners=2`,
    )
    console.log(
      `sent=${sent} ok=${ok.length} errors=${errorCount}${errors.size > 0 ? ` (${[...errors].map(([k, v]) => `${k}:${v}`).join(',')})` : ''} ` +
        `dropped_at_bound=${dropped} not_sent=${notSent} late_over_${LATE_MS}ms=${late} stuck_after_drain=${stuck} max_in_flight=${maxInFlight} warm_up_errors=${warmUpErrors}` +
        (firstRefusalMs === null ? '' : ` first_error_at_s=${(firstRefusalMs / 1000).toFixed(1)} first_error=${JSON.stringify(firstError)}`),
    )
    console.log(`offered_rps=${Math.round(sent / ((sendEnd - start) / 1000))} achieved_ok_rps=${Math.round(ok.length / wall)} window_s=${window.toFixed(2)}`)
    console.log(
      `latency_send_to_2xx_us p50=${us(percentile(ok, 50))} p99=${us(percentile(ok, 99))} p999=${us(percentile(ok, 99.9))} max=${us(ok.at(-1) ?? NaN)}`,
    )
    console.log(
      `latency_due_to_2xx_us p50=${us(percentile(okFromDue, 50))} p99=${us(percentile(okFromDue, 99))} p999=${us(percentile(okFromDue, 99.9))} max=${us(okFromDue.at(-1) ?? NaN)}`,
    )
    console.log(`send_lag_us p50=${us(percentile(lag, 50))} p99=${us(percentile(lag, 99))} max=${us(lag.at(-1) ?? NaN)}`)
    console.log(
      `server_mean_us=${serverCount > 0 ? us((serverSum / serverCount) * 1000) : NaN} server_2xx=${serverCount} feed_entries=${feedEntries} ` +
        `orders_per_entry=${feedEntries > 0 ? (serverCount / feedEntries).toFixed(2) : NaN} durable=synced_before_2xx`,
    )
    console.log(
      `cpu_s A=${cpu.A.toFixed(1)} B=${cpu.B.toFixed(1)} C=${cpu.C.toFixed(1)} ` + `generator=${generatorCpu.toFixed(1)} over_s=${cpuWindowS.toFixed(1)}`,
    )
    // Per second of the timetable (by when a request was due): 2xx, errors, p99 send → 2xx in ms.
    const perSecond = Array.from({ length: Math.ceil(seconds) }, (_, sec) => {
      const from = Math.round(sec * rate)
      const to = Math.min(total, Math.round((sec + 1) * rate))
      const slice = latencyMs.slice(from, to)
      const okIn = slice.filter((x) => !Number.isNaN(x)).sort()
      const failed = outcome.slice(from, to).filter((o) => o === 2).length
      return `${okIn.length}/${failed}/${Math.round(percentile(okIn, 99))}`
    })
    console.log(`per_second ok/errors/p99_ms ${perSecond.join(' ')}`)
    console.log(`partners_acked_all=${acked} ack_wait_after_last_reply_ms=${Math.round(ackMs)}`)
    console.log(`machine_load before=(${loadBefore}) end=(${machineLoad()}, ours included)`)
    const count = (name: string, pattern: RegExp) => logCount(cluster, name, pattern)
    console.log(
      `node_warnings stalls(A,B,C)=${['A', 'B', 'C'].map((n) => count(n, /did not run for longer/g)).join(',')} ` +
        `taken_over(A,B,C)=${['A', 'B', 'C'].map((n) => count(n, /partners took over our orders/g)).join(',')}`,
    )
  } finally {
    await stopFederation(f)
  }
}
