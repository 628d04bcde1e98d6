// npm run bench -- memory [orders] [keys] — what partner B's node process holds in memory with
// `orders` escrowed orders of origin A (default 1,000,000) and `keys` of A's keys consigned to it
// (default 100,000). Three node processes on loopback through the CLI (A, B, C; LevelDB on disk,
// libp2p) with generic-adapter shop simulators. Keys go by `POST /v1/admin/allotments` (what
// `standin allot` sends) in allotments of 5,000; orders through A's adapter API in requests of
// 1,000, four in flight, each followed by the wait for every partner's ack (as the escrow bench).
// Memory is read once B is idle: RSS and its peak (VmHWM) from /proc, the V8 heap from the node's
// own /metrics (prom-client's process defaults); again after B restarts and loads its state.
//
// BENCH_HEAP_SNAPSHOT_DIR=/some/dir also writes a V8 heap snapshot of B (loaded, then restarted)
// there, through node's --heapsnapshot-signal; a snapshot forces a full GC first, so the heap read
// after it is live objects only. It costs time and memory: off by default.
import { existsSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { z } from 'zod'
import type { AdapterOrder } from '../../protocol/index.js'
import type { EscrowReply, HoldingView } from '../../node/core/api-schemas.js'
import { waitFor } from '../integration/cluster.js'
import { type Federation, SKU, partnersOf, startFederation, stopFederation } from '../integration/federation-env.js'
import { benchArgs, wholeNumber } from './args.js'
import { MB, machineLoad, metric, pidOf, procCpuSeconds, procMemory, scrape, sleep } from './node-stats.js'

const ORDERS_PER_REQUEST = 1_000
const REQUESTS_IN_FLIGHT = 4
const KEYS_PER_ALLOTMENT = 5_000 // LIMITS.maxKeysPerAllotment
const SETTLE_MS = 5_000
const ACK_TIMEOUT_MS = 60_000
/** Bound on the whole load: far above the ≈12,000 orders/s the escrow bench measures. */
const LOAD_TIMEOUT_MS = 30 * 60_000

function batch(start: number, count: number, paidAt: number): AdapterOrder[] {
  return Array.from({ length: count }, (_, i) => ({
    order: `M-${start + i}`,
    sku: SKU,
    qty: 1,
    amount: { minorUnits: 5_000, currency: 'CNY' },
    paidAt,
    buyer: { email: `buyer${start + i}@example.com`, locale: 'zh-CN' },
    claimSecret: `claim-token-bench-${String(start + i).padStart(8, '0')}`, // a generated token: hashed, not scrypt
  }))
}

async function adminPost<T>(f: Federation, name: string, path: string, body: unknown): Promise<T> {
  const node = f.cluster.node(name)
  const response = await fetch(`${node.baseUrl}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${node.adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(60_000),
  })
  if (!response.ok) throw new Error(`${name} ${path}: ${response.status} ${await response.text()}`)
  return (await response.json()) as T
}

async function acked(f: Federation, seq: number): Promise<void> {
  const { acked } = await f.cluster.admin<{ acked: boolean }>('A', `/v1/admin/acks/wait?seq=${seq}&timeoutMs=${ACK_TIMEOUT_MS}`)
  if (!acked) throw new Error(`A's feed up to seq ${seq} not acknowledged by every partner within ${ACK_TIMEOUT_MS} ms`)
}

interface Reading {
  rss: number
  hwm: number
  anon: number
  heapUsed: number
  heapTotal: number
  external: number
  oldSpaceUsed: number
}

async function read(f: Federation, name: string): Promise<Reading> {
  const figures = await scrape(f.cluster, name)
  const memory = procMemory(pidOf(f.cluster, name))
  return {
    ...memory,
    heapUsed: metric(figures, 'nodejs_heap_size_used_bytes'),
    heapTotal: metric(figures, 'nodejs_heap_size_total_bytes'),
    external: metric(figures, 'nodejs_external_memory_bytes'),
    oldSpaceUsed: metric(figures, 'nodejs_heap_space_size_used_bytes', 'space="old"'),
  }
}

const mb = (bytes: number) => (bytes / MB).toFixed(1)

function line(label: string, r: Reading): string {
  return (
    `memory_${label} rss_mb=${mb(r.rss)} hwm_mb=${mb(r.hwm)} rss_anon_mb=${mb(r.anon)} heap_used_mb=${mb(r.heapUsed)} ` +
    `heap_total_mb=${mb(r.heapTotal)} old_space_used_mb=${mb(r.oldSpaceUsed)} external_mb=${mb(r.external)}`
  )
}

/** The heap after the snapshot's full GC: live objects. (RSS then holds the snapshot's own buffers: not shown.) */
function heapLine(label: string, r: Reading): string {
  return `heap_after_gc_${label} heap_used_mb=${mb(r.heapUsed)} heap_total_mb=${mb(r.heapTotal)} old_space_used_mb=${mb(r.oldSpaceUsed)} external_mb=${mb(r.external)}`
}

/** Idle: no request of ours, and B's CPU use over the last second below 5 %. */
async function settle(f: Federation, name: string): Promise<void> {
  const pid = pidOf(f.cluster, name)
  await sleep(SETTLE_MS)
  await waitFor(
    `${name} idle`,
    async () => {
      const before = procCpuSeconds(pid)
      await sleep(1_000)
      return procCpuSeconds(pid) - before < 0.05 || undefined
    },
    60_000,
    0,
  )
}

/** SIGUSR2 → node writes Heap.*.heapsnapshot into the diagnostic dir; resolves with its path once written. */
async function heapSnapshot(f: Federation, name: string, dir: string): Promise<string> {
  const before = new Set(readdirSync(dir))
  f.cluster.node(name).process?.kill('SIGUSR2')
  const file = await waitFor(`${name}'s heap snapshot`, () => readdirSync(dir).find((x) => x.endsWith('.heapsnapshot') && !before.has(x)), 120_000, 200)
  const path = join(dir, file)
  let size = -1
  // Written in one go by the process; done when its size stops growing and it ends the JSON.
  await waitFor(
    `${name}'s heap snapshot written`,
    () => {
      const now = statSync(path).size
      const done = now === size && now > 0
      size = now
      return done || undefined
    },
    300_000,
    1_000,
  )
  return path
}

const Args = z.object({ orders: wholeNumber(0).default(1_000_000), keys: wholeNumber(0).default(100_000) })

export async function run(args: string[]): Promise<void> {
  const { orders, keys } = benchArgs('memory', Args, args)
  const snapshotDir = process.env.BENCH_HEAP_SNAPSHOT_DIR
  const savedNodeOptions = process.env.NODE_OPTIONS
  if (snapshotDir !== undefined) {
    if (!existsSync(snapshotDir)) throw new Error(`BENCH_HEAP_SNAPSHOT_DIR ${snapshotDir} does not exist`)
    // Read by every node process the cluster spawns (it passes this process's environment on).
    process.env.NODE_OPTIONS = `${savedNodeOptions ?? ''} --heapsnapshot-signal=SIGUSR2 --diagnostic-dir=${snapshotDir}`.trim()
  }
  const loadBefore = machineLoad() // before our processes start: the other work on this machine
  let f: Federation | undefined
  try {
    const cny = { minorUnits: 5_000, currency: 'CNY' }
    // `standard` timings: with `local` (suspect 750 ms) a node starved of CPU on this shared
    // machine is suspected by its partners, and takeovers would run during the load.
    f = await startFederation({
      preset: 'standard',
      keysPerShop: keys,
      terms: (ids) => ({ skus: Object.values(ids).map((shop) => ({ shop, sku: SKU, allotmentCap: Math.max(keys, 1), unitValue: cny })) }),
    })
    const fed = f
    const bId = f.cluster.node('B').id
    const aId = f.cluster.node('A').id
    await settle(f, 'B')
    const empty = await read(f, 'B')

    // Keys: A consigns them to B.
    const keysStarted = performance.now()
    let lastSeq = 0
    for (let done = 0; done < keys; done += KEYS_PER_ALLOTMENT) {
      const count = Math.min(KEYS_PER_ALLOTMENT, keys - done)
      lastSeq = (await adminPost<{ seq: number }>(f, 'A', '/v1/admin/allotments', { holder: bId, sku: SKU, count })).seq
    }
    if (lastSeq > 0) await acked(f, lastSeq)
    const keysSeconds = (performance.now() - keysStarted) / 1000

    // Orders: through A's adapter API, each request acknowledged by every partner before the next.
    const client = f.cluster.adapter('A')
    const paidAt = Date.now()
    const ordersStarted = performance.now()
    const loadDeadline = ordersStarted + LOAD_TIMEOUT_MS
    let next = 0
    const worker = async () => {
      while (next < orders) {
        if (performance.now() > loadDeadline) throw new Error(`loading ${orders} orders took over ${LOAD_TIMEOUT_MS} ms (at ${next})`)
        const start = next
        const count = Math.min(ORDERS_PER_REQUEST, orders - start)
        next += count
        const { seq } = await client.submitOrders(batch(start, count, paidAt))
        await acked(fed, seq)
        lastSeq = Math.max(lastSeq, seq)
      }
    }
    await Promise.all(Array.from({ length: REQUESTS_IN_FLIGHT }, worker))
    if (lastSeq > 0) await acked(f, lastSeq) // everything, from every partner
    const ordersSeconds = (performance.now() - ordersStarted) / 1000

    // What B says it holds.
    const escrowAtB = async () => (await fed.cluster.admin<EscrowReply>('B', '/v1/admin/escrow')).escrow.find((e) => e.origin === aId)?.pending ?? 0
    const { holdings } = await f.cluster.admin<{ holdings: HoldingView[] }>('A', '/v1/admin/allotments')
    const keysAtB = holdings.filter((h) => h.holder === bId).reduce((n, h) => n + h.held, 0)
    const pendingAtB = await escrowAtB()
    if (pendingAtB !== orders || keysAtB !== keys) throw new Error(`B holds ${pendingAtB} orders and ${keysAtB} keys, expected ${orders} and ${keys}`)

    // B's figures once it has settled, and again after a heap snapshot (which collects garbage
    // first) when one is asked for.
    const measure = async (stage: string): Promise<{ reading: Reading; gc: Reading | null }> => {
      await settle(fed, 'B')
      const reading = await read(fed, 'B')
      if (snapshotDir === undefined) return { reading, gc: null }
      console.log(`heap_snapshot_${stage}=${await heapSnapshot(fed, 'B', snapshotDir)}`)
      return { reading, gc: await read(fed, 'B') }
    }
    const { reading: loaded, gc: loadedGc } = await measure('loaded')

    // Restart: B loads its state from LevelDB.
    await f.cluster.kill('B', 'SIGTERM')
    const restartAt = performance.now()
    await f.cluster.start('B')
    const readyMs = performance.now() - restartAt
    await waitFor(
      'B connected to its partners again',
      async () => (await partnersOf(fed, 'B')).every((p) => p.connected && p.lastHeartbeatAt !== null) || undefined,
      120_000,
    )
    // A restarted node counts its orders from a range over its order rows; this bench found that
    // range cut off at 100,000 rows (fixed: LevelStore.range without a limit reads the whole span).
    const pendingAfter = await escrowAtB()
    if (pendingAfter !== orders) throw new Error(`B counts ${pendingAfter} of ${orders} escrowed orders after its restart`)
    const { reading: restarted, gc: restartedGc } = await measure('restarted')

    console.log(
      `memory node=B orders_escrowed=${pendingAtB} keys_consigned=${keysAtB} keys_load_s=${keysSeconds.toFixed(1)} ` +
        `orders_load_s=${ordersSeconds.toFixed(1)} orders_per_s=${Math.round(orders / ordersSeconds)} settle_ms=${SETTLE_MS}`,
    )
    console.log(line('empty', empty))
    console.log(line('loaded', loaded))
    if (loadedGc) console.log(heapLine('loaded', loadedGc))
    console.log(
      `restart_to_ready_ms=${Math.round(readyMs)} orders_counted_after_restart=${pendingAfter}${pendingAfter === orders ? '' : ` (expected ${orders})`}`,
    )
    console.log(line('restarted', restarted))
    if (restartedGc) console.log(heapLine('restarted', restartedGc))
    console.log(`machine_load before=(${loadBefore}) end=(${machineLoad()}, ours included)`)
  } finally {
    if (snapshotDir !== undefined) {
      if (savedNodeOptions === undefined) delete process.env.NODE_OPTIONS
      else process.env.NODE_OPTIONS = savedNodeOptions
    }
    await stopFederation(f)
  }
}
