// What the crash loop checks, from the outside only: the shops' own records, the buyers' mailbox
// (the SMTP sink) and each node's admin API. One observation is taken repeatedly while the
// federation heals (liveness) and once more at the end (the verdict). Invariants as numbered in
// docs/design.md §2:
//   invariant 1  no card key reaches two orders (mails, shop deliveries, write-backs)
//   invariant 2  every acknowledged order ends delivered (by its shop, or a partner's write-back)
//   invariant 3  every order delivered by two parties is counted as a duplicate somewhere
//   invariant 6  every pair's balances are equal and opposite and they hold the same statements
import type { IncidentReport } from '../../node/core/api-schemas.js'
import { type Federation, shop } from '../integration/federation-env.js'
import type { Placed } from './buyers.js'

const KEY = /STEAM-[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}/g

interface ParsedMail {
  readonly at: number
  readonly from: string
  readonly orders: string[]
  readonly keys: string[]
}

export interface Books {
  readonly mirror: boolean
  readonly problems: string[]
  readonly statements: number
  readonly settled: number
  /** Receipts listed on more than one statement (each must land in exactly one). */
  readonly receiptsOnTwoStatements: number
}

export interface Observation {
  readonly orders: number
  readonly acknowledged: number
  /** Orders delivered by their shop or by a partner (mail or write-back). */
  readonly delivered: number
  readonly deliveredByPartners: number
  /** Acknowledged orders not delivered: lost, once the federation has healed. */
  readonly lost: string[]
  /** Unacknowledged orders still paid (their shop delivers them itself once unfenced). */
  readonly unacknowledgedPaid: string[]
  readonly fencedShops: string[]
  /** Orders a partner delivered whose buyer mail has not arrived (yet). */
  readonly missingMails: string[]
  readonly keysReused: string[]
  /** Orders one fulfiller delivered with two different key sets (a re-picked key). */
  readonly repicked: string[]
  readonly duplicates: string[]
  /** Of the duplicates: delivered by the origin's own shop and a partner, or by two partners. */
  readonly duplicatesOriginAndPartner: number
  readonly duplicatesTwoPartners: number
  /** Who delivered each duplicated order and when after payment (first 20). */
  readonly duplicateDetail: string[]
  readonly uncountedDuplicates: string[]
  readonly books: Books
}

/** Parses each mail once: the mailbox grows to thousands during a run. */
export class Mailbox {
  private readonly parsed: ParsedMail[] = []

  constructor(private readonly f: Federation) {}

  all(known: ReadonlySet<string>): ParsedMail[] {
    for (const r of this.f.sink.received.slice(this.parsed.length)) {
      const text = r.mail.text ?? ''
      this.parsed.push({
        at: r.at,
        from: r.from,
        orders: [...new Set(text.match(/[A-Za-z0-9]+-\d+/g) ?? [])],
        keys: [...new Set(text.match(KEY) ?? [])],
      })
    }
    return this.parsed.map((m) => ({ ...m, orders: m.orders.filter((o) => known.has(o)) }))
  }
}

/** 'shop-b@example.com' (the mail-from federation-env gives each node) → 'B'. */
const senderName = (from: string) => /^shop-([a-z]+)@/.exec(from)?.[1]?.toUpperCase() ?? from

function add<K, V>(map: Map<K, Set<V>>, key: K, value: V): void {
  map.set(key, (map.get(key) ?? new Set()).add(value))
}

export async function observe(f: Federation, names: readonly string[], placed: readonly Placed[], mailbox: Mailbox, detail = false): Promise<Observation> {
  const ids = new Map(names.map((n) => [f.cluster.node(n).id, n]))
  const acknowledged = new Set(placed.filter((p) => p.acknowledged).map((p) => p.order))
  const deliverers = new Map<string, Set<string>>()
  const when = new Map<string, Set<string>>() // order → "by +ms after payment", for the report
  const paidAt = new Map<string, number>()
  const keyOrders = new Map<string, Set<string>>()
  const keySets = new Map<string, Set<string>>() // `${order} ${deliverer}` → distinct key sets
  const counted = new Set<string>()
  let keyConflicts = 0
  const lost: string[] = []
  const unacknowledgedPaid: string[] = []
  const partnerDelivered: string[] = []
  const fencedShops: string[] = []
  for (const name of names) {
    const s = shop(f, name)
    const state = s.state()
    if (state.fenced) fencedShops.push(name)
    keyConflicts += state.writeBacks.keyConflicts
    for (const o of state.duplicates.orders) counted.add(o)
    for (const o of s.orders()) {
      paidAt.set(o.order, o.paidAt)
      if (o.status === 'paid') (acknowledged.has(o.order) ? lost : unacknowledgedPaid).push(o.order)
      if (o.status !== 'delivered' && o.status !== 'delivered-by-partner') continue
      const by = o.deliveredBy?.by === 'partner' ? (ids.get(o.deliveredBy.fulfiller) ?? o.deliveredBy.fulfiller) : name
      if (o.status === 'delivered-by-partner') partnerDelivered.push(o.order)
      add(deliverers, o.order, by)
      add(when, o.order, `${by === name ? 'shop' : `write-back ${by}`} +${(o.deliveredAt ?? 0) - o.paidAt}`)
      for (const k of o.keys) add(keyOrders, k.key, o.order)
      add(
        keySets,
        `${o.order} ${by}`,
        o.keys
          .map((k) => k.key)
          .sort()
          .join(','),
      )
    }
  }
  const known = new Set(placed.map((p) => p.order))
  const mailed = new Set<string>()
  for (const m of mailbox.all(known)) {
    const order = m.orders[0]
    if (order === undefined) continue
    const by = senderName(m.from)
    mailed.add(order)
    add(deliverers, order, by)
    add(when, order, `mail ${by} +${m.at - (paidAt.get(order) ?? 0)}`)
    for (const k of m.keys) add(keyOrders, k, order)
    add(keySets, `${order} ${by}`, [...m.keys].sort().join(','))
  }
  for (const name of names) {
    const reports = await f.cluster.admin<{ incidents: IncidentReport[] }>(name, '/v1/admin/incidents').catch(() => ({ incidents: [] }))
    for (const r of reports.incidents) for (const d of r.duplicates) counted.add(d.order)
  }
  const duplicates = [...deliverers].filter(([, by]) => by.size > 1).map(([o]) => o)
  const originOf = new Map(placed.map((p) => [p.order, p.shop]))
  const byOrigin = duplicates.filter((o) => deliverers.get(o)?.has(originOf.get(o) ?? '')).length
  return {
    orders: placed.length,
    acknowledged: acknowledged.size,
    delivered: deliverers.size,
    deliveredByPartners: new Set([...partnerDelivered, ...mailed]).size,
    lost,
    unacknowledgedPaid,
    fencedShops,
    missingMails: partnerDelivered.filter((o) => !mailed.has(o)),
    keysReused: [...[...keyOrders].filter(([, orders]) => orders.size > 1).map(([k]) => k), ...Array<string>(keyConflicts).fill('write-back key conflict')],
    repicked: [...keySets].filter(([, sets]) => sets.size > 1).map(([k]) => k),
    duplicates,
    duplicatesOriginAndPartner: byOrigin,
    duplicatesTwoPartners: duplicates.length - byOrigin,
    duplicateDetail: duplicates
      .slice(0, 20)
      .map((o) => `${o} paid ${new Date(paidAt.get(o) ?? 0).toISOString().slice(11, 23)}: ${[...(when.get(o) ?? [])].join(', ')} ms`),
    uncountedDuplicates: duplicates.filter((o) => !counted.has(o)),
    books: await books(f, names, detail),
  }
}

interface Balance {
  counterparty: string
  owedToUs: number
  owedByUs: number
  disputed: number
}
interface Summary {
  hash: string
  status: string
  issuer: string
  counterparty: string
  role: string
}

/** Invariant 6 (docs/design.md §2) for every pair, read from both nodes' admin APIs. */
async function books(f: Federation, names: readonly string[], detail: boolean): Promise<Books> {
  const problems: string[] = []
  const balances = new Map<string, Balance[]>()
  const statements = new Map<string, Summary[]>()
  try {
    for (const n of names) {
      balances.set(n, (await f.cluster.admin<{ balances: Balance[] }>(n, '/v1/admin/balances')).balances)
      statements.set(n, (await f.cluster.admin<{ statements: Summary[] }>(n, '/v1/admin/statements')).statements)
    }
  } catch (error) {
    return { mirror: false, problems: [`admin API unreachable: ${String(error)}`], statements: 0, settled: 0, receiptsOnTwoStatements: 0 }
  }
  const zero = { owedToUs: 0, owedByUs: 0, disputed: 0 }
  for (const [i, x] of names.entries()) {
    for (const y of names.slice(i + 1)) {
      const xId = f.cluster.node(x).id
      const yId = f.cluster.node(y).id
      const bx = balances.get(x)?.find((b) => b.counterparty === yId) ?? zero
      const by = balances.get(y)?.find((b) => b.counterparty === xId) ?? zero
      if (bx.owedToUs !== by.owedByUs || bx.owedByUs !== by.owedToUs || bx.disputed !== by.disputed) {
        problems.push(`${x}/${y} balances ${JSON.stringify(bx)} vs ${JSON.stringify(by)}`)
      }
      const between = (list: Summary[] | undefined, other: string) =>
        new Map((list ?? []).filter((s) => s.issuer === other || s.counterparty === other).map((s) => [s.hash, s.status]))
      const sx = between(statements.get(x), yId)
      const sy = between(statements.get(y), xId)
      for (const [hash, status] of sx)
        if (sy.get(hash) !== status) problems.push(`${x}/${y} statement ${hash.slice(0, 10)}: ${status} vs ${sy.get(hash) ?? 'missing'}`)
      for (const hash of sy.keys()) if (!sx.has(hash)) problems.push(`${x}/${y} statement ${hash.slice(0, 10)}: missing at ${x}`)
    }
  }
  const issued = names.flatMap((n) => (statements.get(n) ?? []).filter((s) => s.role === 'issued').map((s) => ({ n, hash: s.hash, status: s.status })))
  let receiptsOnTwoStatements = 0
  if (detail) {
    const seen = new Set<string>()
    for (const s of issued) {
      const view = await f.cluster.admin<{ statement: { lines: { receipt: string }[] } }>(s.n, `/v1/admin/statements/${s.hash}`)
      for (const line of view.statement.lines) {
        if (seen.has(line.receipt)) receiptsOnTwoStatements++
        seen.add(line.receipt)
      }
    }
    if (receiptsOnTwoStatements > 0) problems.push(`${receiptsOnTwoStatements} receipts on two statements`)
  }
  return {
    mirror: problems.length === 0,
    problems,
    statements: issued.length,
    settled: issued.filter((s) => s.status === 'settled').length,
    receiptsOnTwoStatements,
  }
}
