// A whole local federation for integration tests and benchmarks: real node processes started
// through the CLI, a generic-adapter shop simulator per shop (in this process) and a real SMTP
// sink that records buyer mail.
import { type ShopSimulator, startShopSimulator } from '../../examples/shop-simulator/simulator.js'
import type { IncidentReport, PartnerStatus, SelfStatus } from '../../node/core/api-schemas.js'
import { join } from 'node:path'
import { killShop, type ShopProcess, startShopProcess } from '../../examples/demo/shops.js'
import { type Sink, type SinkOptions, startSink } from '../mail/sink.js'
import { Cluster, type ClusterOptions, cliAsync, freePort, waitFor } from './cluster.js'

export const SKU = 'steam-50'
/** Orders escrow at A and partners acknowledge them within this long. */
export const ESCROW_TIMEOUT_MS = 30_000
/** Every stranded order's mail arrives within this long of the shop going down. */
export const STRANDED_TIMEOUT_MS = 90_000
const KEY_PATTERN = /STEAM-[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}/g

export interface Federation {
  readonly cluster: Cluster
  readonly sink: Sink
  readonly shops: Map<string, ShopSimulator>
  readonly shopProcesses: Map<string, ShopProcess>
  readonly shopPorts: Record<string, number>
}

export interface FederationOptions extends Pick<ClusterOptions, 'preset' | 'joinLater'> {
  readonly names?: string[]
  readonly keysPerShop?: number
  /** How long a shop waits before delivering an order itself (long: orders stay stranded). */
  readonly deliverDelayMs?: number
  /** Per-node config edits before the first start (e.g. dial overrides through a proxy). */
  readonly beforeStart?: (cluster: Cluster) => Promise<void> | void
  readonly terms?: (ids: Record<string, string>) => Record<string, unknown>
  /** Shops run as their own processes (so a test can SIGKILL one), reached over HTTP; the rest in this process. */
  readonly shopProcesses?: readonly string[]
  /** The SMTP sink's options (benchmarks count mail without decoding it). */
  readonly sink?: SinkOptions
}

/** Terms for tests: every shop's steam-50 covered, limits high enough for benchmarks. */
export function testTerms(ids: Record<string, string>, limits?: Record<string, unknown>): Record<string, unknown> {
  return {
    skus: Object.values(ids).map((shop) => ({ shop, sku: SKU, allotmentCap: 20_000, unitValue: { minorUnits: 5_000, currency: 'CNY' } })),
    ...(limits ? { limits } : {}),
  }
}

export async function startFederation(options: FederationOptions = {}): Promise<Federation> {
  const names = options.names ?? ['A', 'B', 'C']
  const sink = await startSink(options.sink)
  const shopPorts: Record<string, number> = {}
  for (const name of names) shopPorts[name] = await freePort()
  const cluster = await Cluster.create(names, {
    preset: options.preset ?? 'local',
    initArgs: (name) => [
      '--callback-url',
      `http://127.0.0.1:${shopPorts[name]}`,
      '--smtp',
      `127.0.0.1:${sink.port}`,
      '--mail-from',
      `Shop ${name} <shop-${name.toLowerCase()}@example.com>`,
    ],
    terms: options.terms ?? ((ids) => testTerms(ids)),
    joinLater: options.joinLater,
  })
  await options.beforeStart?.(cluster)
  const shops = new Map<string, ShopSimulator>()
  const shopProcesses = new Map<string, ShopProcess>()
  for (const name of names) {
    const node = cluster.node(name)
    if (options.shopProcesses?.includes(name)) {
      shopProcesses.set(
        name,
        await startShopProcess({
          name: `Shop ${name}`,
          port: shopPorts[name] as number,
          nodeUrl: node.baseUrl,
          requestSecret: node.adapter.requestSecret,
          callbackSecret: node.adapter.callbackSecret,
          stateFile: join(cluster.root, `shop-${name}.json`),
          keys: options.keysPerShop ?? 1_000,
          deliverDelayMs: options.deliverDelayMs ?? 3_600_000,
          healthRepeatMs: 1_000,
        }),
      )
      continue
    }
    shops.set(
      name,
      await startShopSimulator({
        name: `Shop ${name}`,
        port: shopPorts[name],
        node: { baseUrl: node.baseUrl, secret: node.adapter.requestSecret },
        callbackSecret: node.adapter.callbackSecret,
        skus: [{ sku: SKU, priceMinorUnits: 5_000, currency: 'CNY', keys: options.keysPerShop ?? 1_000 }],
        deliverDelayMs: options.deliverDelayMs ?? 3_600_000,
        // As a real adapter does, at the local preset's pace: a restarted node learns the platform is up.
        healthRepeatMs: 1_000,
      }),
    )
  }
  // A shop that joins later runs once a revision names it (the test starts it).
  const parties = names.filter((n) => !options.joinLater?.includes(n))
  await Promise.all(parties.map((n) => cluster.start(n)))
  await waitFor('every node connected to its partners', async () => {
    for (const name of parties) {
      const { partners } = await cluster.admin<{ partners: PartnerStatus[] }>(name, '/v1/admin/partners')
      if (!partners.every((p) => p.connected && p.lastHeartbeatAt !== null)) return undefined
    }
    return true
  })
  return { cluster, sink, shops, shopProcesses, shopPorts }
}

export async function stopFederation(f: Federation | undefined): Promise<void> {
  if (!f) return
  await f.cluster.stop()
  for (const shop of f.shops.values()) await shop.stop()
  for (const shop of f.shopProcesses.values()) await killShop(shop, 'SIGTERM')
  await f.sink.close()
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

export function shop(f: Federation, name: string): ShopSimulator {
  const s = f.shops.get(name)
  if (!s) throw new Error(`no shop ${name}`)
  return s
}

/** `standin allot` through the CLI, against the running node. */
export async function allot(f: Federation, from: string, to: string, count: number): Promise<void> {
  await cliAsync(['allot', '-d', f.cluster.node(from).dir, '--to', `Shop ${to}`, '--sku', SKU, '--count', String(count)])
}

export interface Mail {
  to: string
  order: string | null
  keys: string[]
  subject: string
}

/** Buyer mails received so far, with the order they name and the keys they carry. */
export function mails(f: Federation, orders: readonly string[]): Mail[] {
  const known = new Set(orders)
  return f.sink.received.map((r) => {
    const text = r.mail.text ?? ''
    // Whole tokens only: order "x-1" must not match inside "x-10".
    const tokens = text.match(/[A-Za-z0-9]+-\d+/g) ?? []
    return {
      to: r.to[0] ?? '',
      order: tokens.find((t) => known.has(t)) ?? null,
      keys: [...new Set(text.match(KEY_PATTERN) ?? [])],
      subject: r.mail.subject ?? '',
    }
  })
}

/** Orders of `shop` still paid and undelivered: the ones a crash strands. */
export function paidOrders(s: ShopSimulator): string[] {
  return s
    .orders()
    .filter((o) => o.status === 'paid')
    .map((o) => o.order)
}

export async function incidents(f: Federation, name: string): Promise<IncidentReport[]> {
  return (await f.cluster.admin<{ incidents: IncidentReport[] }>(name, '/v1/admin/incidents')).incidents
}

/** Invariant 1 (docs/design.md §2) over the mails: every key went to exactly one order. Returns key → orders. */
export function keysToOrders(all: readonly Mail[]): Map<string, Set<string>> {
  const byKey = new Map<string, Set<string>>()
  for (const m of all) for (const k of m.keys) byKey.set(k, (byKey.get(k) ?? new Set()).add(m.order ?? '?'))
  return byKey
}

/** Buyers at A's shop, one order each: escrowed at A, and (with `everyAck`) acknowledged by every partner. */
export async function buyAtA(f: Federation, emails: readonly string[], everyAck = true): Promise<string[]> {
  const s = shop(f, 'A')
  const orders: string[] = []
  for (const email of emails) orders.push((await s.buy({ sku: SKU, qty: 1, email, locale: 'en' })).order)
  await waitFor('orders escrowed at A', () => (s.state().orders.escrowed >= s.state().orders.total ? true : undefined), ESCROW_TIMEOUT_MS)
  if (!everyAck) return orders
  const { ownSeq } = await f.cluster.admin<{ ownSeq: number }>('A', '/v1/admin/escrow')
  const { acked } = await f.cluster.admin<{ acked: boolean }>('A', `/v1/admin/acks/wait?seq=${ownSeq}&timeoutMs=${ESCROW_TIMEOUT_MS}`)
  if (!acked) throw new Error(`partners did not acknowledge A's feed up to ${ownSeq} within ${ESCROW_TIMEOUT_MS} ms`)
  return orders
}

/** The partners `name`'s node lists, as its admin API says. */
export async function partnersOf(f: Federation, name: string): Promise<PartnerStatus[]> {
  return (await f.cluster.admin<{ partners: PartnerStatus[] }>(name, '/v1/admin/partners')).partners
}

/** `name`'s node on itself, as its admin API says. */
export function selfOf(f: Federation, name: string): Promise<SelfStatus> {
  return f.cluster.admin<SelfStatus>(name, '/v1/admin/self')
}
