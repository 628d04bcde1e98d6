// Tools for the hostile-partner suites: capture what a shop's engine receives, inject crafted or
// captured messages (through the wire schemas, as node/p2p and the simulated network do), write
// entries into a partner's feed as its hostile operator would, and snapshot everything a message
// could change (store, admin views, events) to prove that it changed nothing.
import { appendEntry, ControlMessage, type FeedEntry, FeedMessage, type FeedRecord, headAfter, type ShopId } from '../../protocol/index.js'
import type { Section } from '../../node/core/ports.js'
import { seqKey } from '../../node/core/state/codec.js'
import { SECTIONS } from '../../node/store/level-store.js'
import { SIM_START_MS, type SimFederation, type SimShop } from '../sim/sim-federation.js'

export const ALL_SECTIONS: readonly Section[] = SECTIONS

/** Virtual ms since the federation started. */
export function at(sim: SimFederation): number {
  return sim.clock.now() - SIM_START_MS
}

export async function runFor(sim: SimFederation, ms: number): Promise<void> {
  await sim.runUntil(at(sim) + ms)
}

/** Lets promise chains started by an injected message finish, without moving virtual time. */
export async function drain(): Promise<void> {
  for (let i = 0; i < 12; i++) await new Promise<void>((resolve) => setImmediate(resolve))
}

export interface Captured {
  readonly from: ShopId
  readonly protocol: 'feed' | 'control'
  readonly message: FeedMessage | ControlMessage
  readonly at: number
}

/** Set while a test injects a message: taps record only what the network delivered. */
let injecting = false

/** Records (a copy of) every message the shop's current engine receives. Re-tap after a restart. */
export function tap(sim: SimFederation, name: string, into: Captured[] = []): Captured[] {
  const engine = sim.shop(name).engine
  const onFeed = engine.onFeedMessage.bind(engine)
  const onControl = engine.onControlMessage.bind(engine)
  const copy = <T>(m: T): T => JSON.parse(JSON.stringify(m)) as T
  engine.onFeedMessage = (from, message) => {
    if (!injecting) into.push({ from, protocol: 'feed', message: copy(message), at: at(sim) })
    return onFeed(from, message)
  }
  engine.onControlMessage = (from, message) => {
    if (!injecting) into.push({ from, protocol: 'control', message: copy(message), at: at(sim) })
    return onControl(from, message)
  }
  return into
}

export function ofType<T extends string>(captured: readonly Captured[], type: T): (Captured & { message: { type: T } })[] {
  return captured.filter((c): c is Captured & { message: { type: T } } => c.message.type === type)
}

/** Delivers `message` to `to` as if `from` sent it over the partner network, then drains. */
export async function inject(to: SimShop, from: ShopId, protocol: 'feed' | 'control', message: unknown): Promise<void> {
  const wire: unknown = JSON.parse(JSON.stringify(message))
  injecting = true
  try {
    if (protocol === 'feed') await to.engine.onFeedMessage(from, FeedMessage.parse(wire))
    else await to.engine.onControlMessage(from, ControlMessage.parse(wire))
  } finally {
    injecting = false
  }
  await drain()
}

/** Every store section of the shop, one line per key. */
export async function snapshot(shop: SimShop, sections: readonly Section[] = ALL_SECTIONS): Promise<string> {
  const out: string[] = []
  for (const section of sections) for await (const [key, value] of shop.store.range(section, {})) out.push(`${section} ${key} ${JSON.stringify(value)}`)
  return out.join('\n')
}

/** What the admin API shows of the shop. */
export async function views(shop: SimShop): Promise<string> {
  const e = shop.engine
  return JSON.stringify({
    partners: e.partners(),
    feeds: e.feeds(),
    escrow: await e.escrow(),
    balances: e.balances(),
    incidents: e.incidents(),
    statements: await e.statements(),
  })
}

/** Store, admin views and the event count of one shop: equal before and after means "no change". */
export async function state(sim: SimFederation, name: string): Promise<{ store: string; views: string; events: number }> {
  const shop = sim.shop(name)
  return { store: await snapshot(shop), views: await views(shop), events: eventsOf(sim, name).length }
}

/** The shop's engine events, parsed, in order. */
export function eventsOf(sim: SimFederation, name: string): { at: number; kind: string; [field: string]: unknown }[] {
  return sim.log
    .filter((line) => line.split(' ')[1] === name)
    .map((line) => ({ at: Number(line.split(' ')[0]), ...(JSON.parse(line.slice(line.indexOf('{'))) as { kind: string }) }))
}

/** Events of every shop of one kind, e.g. all 'certified'. */
export function allEvents(sim: SimFederation, kind: string): { node: string; at: number; [field: string]: unknown }[] {
  return sim.log
    .map((line) => ({ node: line.split(' ')[1] as string, at: Number(line.split(' ')[0]), ...(JSON.parse(line.slice(line.indexOf('{'))) as { kind: string }) }))
    .filter((e) => e.kind === kind)
}

/**
 * The hostile operator of a crashed shop appends `records` to its feed, signed with its real
 * identity and chained to the head its store holds, and keeps its store consistent with it.
 */
export async function hostileAppend(sim: SimFederation, name: string, records: readonly FeedRecord[]): Promise<FeedEntry> {
  const shop = sim.shop(name)
  const stored = await shop.store.get<{ seq: number; hash: string | null }>('meta', 'own-head')
  const entry = appendEntry({
    identity: shop.identity,
    head: { author: shop.identity.id, seq: stored?.seq ?? 0, hash: stored?.hash ?? null },
    time: sim.clock.now(),
    terms: sim.shops[0]?.engine.federation.termsHash as string,
    records,
  })
  const head = headAfter(entry)
  await shop.store.write(
    [
      { type: 'put', section: 'entries', key: seqKey(shop.identity.id, head.seq), value: entry },
      { type: 'put', section: 'meta', key: 'own-head', value: { seq: head.seq, hash: head.hash } },
    ],
    { sync: true },
  )
  return entry
}

/** The entry with its signature altered (one character changed): it no longer verifies. */
export function breakSignature(entry: FeedEntry): FeedEntry {
  return { ...entry, sig: `${entry.sig.startsWith('A') ? 'B' : 'A'}${entry.sig.slice(1)}` }
}

/** Sends entries of `author` to `to` as a push from `from` (the author, or a relaying partner). */
export function feedEntries(author: ShopId, entries: readonly FeedEntry[]): FeedMessage {
  return { type: 'feed.entries', author, entries: [...entries] }
}

/** Runs in steps of `stepMs` until `done()` or `limitMs` more virtual ms; true when done. */
export async function runUntilTrue(sim: SimFederation, done: () => boolean | Promise<boolean>, limitMs: number, stepMs = 50): Promise<boolean> {
  const end = at(sim) + limitMs
  while (!(await done())) {
    if (at(sim) >= end) return false
    await sim.runUntil(Math.min(end, at(sim) + stepMs))
  }
  return true
}

/**
 * The hostile operator of a running shop appends `records` to its feed through the node's own feed
 * writer (no fork: the engine keeps writing after them), as a modified node would.
 */
export function liveAppend(shop: SimShop, records: readonly FeedRecord[]): Promise<number> {
  const writer = (shop.engine as unknown as { parts: { writer: { append(clear: readonly FeedRecord[], sealed: readonly FeedRecord[]): Promise<number> } } })
    .parts.writer
  return writer.append(records, [])
}
