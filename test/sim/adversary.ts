// The simulator's adversary: up to quorum − 1 partners of a seed are Byzantine. Each keeps running
// its own (honest) engine, so it holds and delivers the keys consigned to it like anyone, and beside
// it a hostile operator with the shop's own signing key does, at random, everything the protocol
// lets a partner sign or send: lone receipts and claims at made-up or stale epochs, down-votes
// without an outage and certificates assembled from them and replayed honest votes, replays of
// whatever it heard, equivocation, floods, deliveries beyond what it claimed, bogus statements,
// disputes and payments, released keys it then delivers anyway, recalls, withheld acks. The
// colluders share their keys (they are one attacker). Nothing here reaches into an honest engine:
// everything goes over the simulated network or into the Byzantine shop's own feed.
import {
  appendEntry,
  type Certificate,
  type ControlMessage,
  type DownVote,
  type FeedEntry,
  type FeedMessage,
  type FeedRecord,
  hashOf,
  type Receipt,
  type ShopId,
  type Signed,
  signDocument,
} from '../../protocol/index.js'
import type { Failover } from '../../node/core/failover.js'
import type { FeedWriter } from '../../node/core/feed-writer.js'
import type { State } from '../../node/core/state/index.js'
import type { KeyRow } from '../../node/core/state/keys.js'
import type { OrderRow } from '../../node/core/state/orders.js'
import type { Prng } from './prng.js'
import type { SimFederation, SimShop } from './sim-federation.js'

/** What one Byzantine shop's engine exposes to its own hostile operator (test-only access). */
interface Internals {
  readonly writer: FeedWriter
  readonly state: State
  readonly failover: Failover
}

function internals(shop: SimShop): Internals {
  return (shop.engine as unknown as { parts: Internals }).parts
}

/** Messages a Byzantine shop heard, kept for replays (bounded). */
const MAX_HEARD = 300
/** Orders and keys looked at per attack, at most. */
const MAX_PICK = 4

type Action = (self: SimShop) => Promise<void>

export class Adversary {
  readonly names: ReadonlySet<string>
  private readonly heard: { from: ShopId; protocol: 'feed' | 'control'; message: FeedMessage | ControlMessage }[] = []
  private readonly honestVotes: Signed<DownVote>[] = []
  /** Per seed: the chance per step that each Byzantine shop acts, and whether it withholds its acks. */
  private readonly rate: number
  private readonly withholdAcks: number
  actions = 0
  private readonly menu: [number, Action][]

  constructor(
    private readonly sim: SimFederation,
    private readonly prng: Prng,
    byzantine: readonly string[],
    private readonly isCrashed: (name: string) => boolean,
  ) {
    this.names = new Set(byzantine)
    this.rate = 0.2 + prng.next() * 0.6
    this.withholdAcks = prng.chance(0.3) ? prng.next() : 0
    const ids = new Set(byzantine.map((n) => sim.shop(n).identity.id))
    sim.network.observe = (from, to, protocol, message) => {
      if (!ids.has(to)) return
      if (message.type === 'down-vote' && !ids.has(message.vote.body.voter)) this.honestVotes.push(message.vote)
      if (this.honestVotes.length > MAX_HEARD) this.honestVotes.shift()
      this.heard.push({ from, protocol, message })
      if (this.heard.length > MAX_HEARD) this.heard.shift()
    }
    sim.network.intercept = (from, _to, _protocol, message) => {
      if (!ids.has(from) || (message as { type?: string }).type !== 'feed.ack') return true
      return !this.prng.chance(this.withholdAcks)
    }
    this.menu = [
      [6, (s) => this.loneReceipts(s)],
      [5, (s) => this.loneClaims(s)],
      [4, (s) => this.downVotes(s)],
      [3, (s) => this.certificate(s)],
      [4, (s) => this.replay(s)],
      [3, (s) => this.flood(s)],
      [3, (s) => this.extraDeliveries(s)],
      [2, (s) => this.bogusSettlement(s)],
      [2, (s) => this.releaseThenDeliver(s)],
      [2, (s) => this.recall(s)],
      [1, (s) => this.bogusBill(s)],
      [1, (s) => this.requestOwnTakeover(s)],
      [0.3, (s) => this.equivocate(s)],
    ]
  }

  isByzantine(name: string): boolean {
    return this.names.has(name)
  }

  private get honest(): SimShop[] {
    return this.sim.shops.filter((s) => !this.names.has(s.name))
  }

  private any<T>(list: readonly T[]): T | undefined {
    return list.length === 0 ? undefined : list[this.prng.int(0, list.length - 1)]
  }

  /** One step: each live Byzantine shop may attack. */
  async step(): Promise<void> {
    for (const name of this.names) {
      if (this.isCrashed(name) || !this.prng.chance(this.rate)) continue
      const total = this.menu.reduce((n, [w]) => n + w, 0)
      let pick = this.prng.next() * total
      const action = this.menu.find(([w]) => (pick -= w) < 0)?.[1] ?? (this.menu[0] as [number, Action])[1]
      this.actions++
      await action(this.sim.shop(name)).catch(() => undefined) // a refused append is part of the game
    }
  }

  private send(self: SimShop, to: SimShop, protocol: 'feed' | 'control', message: FeedMessage | ControlMessage): void {
    this.sim.network.sendAs(self.identity.id, to.identity.id, protocol, message)
  }

  private broadcast(self: SimShop, protocol: 'feed' | 'control', message: FeedMessage | ControlMessage, except?: ShopId): void {
    for (const to of this.sim.shops) if (to !== self && to.identity.id !== except) this.send(self, to, protocol, message)
  }

  private append(self: SimShop, records: readonly FeedRecord[]): Promise<number> {
    return internals(self).writer.append(records, [])
  }

  /** A made-up, stale, current or next epoch of `origin`, as this shop sees it. */
  private epochFor(self: SimShop, origin: SimShop): number {
    const known = internals(self).failover.views().get(origin.identity.id)?.view.epoch ?? 0
    const choices = [known, known + 1, known + 2, Math.max(1, known - 1), this.prng.int(1, 50)]
    return Math.max(1, this.any(choices) as number)
  }

  /** A time near now: a little back, a little ahead, or long ago. */
  private timeish(): number {
    const now = this.sim.clock.now()
    return this.any([now, now - this.prng.int(0, 5_000), now + this.prng.int(0, 1_500), now - this.prng.int(10_000, 60_000)]) as number
  }

  private async ordersOf(self: SimShop, origin: SimShop): Promise<OrderRow[]> {
    const out: OrderRow[] = []
    for await (const row of internals(self).state.orders.range(origin.identity.id)) out.push(row)
    const picked: OrderRow[] = []
    for (let i = 0; i < MAX_PICK && out.length > 0; i++) picked.push(out.splice(this.prng.int(0, out.length - 1), 1)[0] as OrderRow)
    return picked
  }

  private async keysOf(self: SimShop, origin: SimShop, state?: KeyRow['state']): Promise<KeyRow[]> {
    const out: KeyRow[] = []
    for await (const [, row] of self.store.range<KeyRow>('keys', { gt: `${origin.identity.id}!`, lt: `${origin.identity.id}!\xff` })) {
      if (row.holder === self.identity.id && (state === undefined || row.state === state)) out.push(row)
    }
    return out
  }

  private receipt(self: SimShop, origin: SimShop, row: OrderRow, key: KeyRow | undefined, epoch: number): Receipt {
    const termsHash = self.engine.federation.termsHash
    const keyIds = key ? [key.keyId] : [`${origin.name}-card-100-${this.prng.int(0, 900)}`]
    return {
      type: 'receipt',
      origin: origin.identity.id,
      order: row.record.order,
      sku: row.record.sku,
      allotment: key?.allotment ?? 'al-made-up',
      keyIds,
      channel: 'email+claim-page',
      epoch,
      time: this.timeish(),
      amount: this.prng.chance(0.9) ? row.record.amount : { ...row.record.amount, minorUnits: row.record.amount.minorUnits + 1 },
      unitValue: key?.unitValue ?? { minorUnits: 1_000, currency: 'CNY' },
      terms: termsHash,
    }
  }

  // ---- the attacks ----

  /** Receipts for an honest origin's orders with no takeover behind them (attack 1 of issue 16). */
  private async loneReceipts(self: SimShop): Promise<void> {
    const origin = this.any(this.honest)
    if (!origin) return
    const rows = await this.ordersOf(self, origin)
    const keys = await this.keysOf(self, origin, this.prng.chance(0.8) ? 'consigned' : undefined)
    const receipts = rows.map((row, i) => this.receipt(self, origin, row, keys[i], this.epochFor(self, origin)))
    if (receipts.length > 0) await this.append(self, receipts)
  }

  /** Claims for an honest origin's orders at any epoch, in the feed and over control (attack 2). */
  private async loneClaims(self: SimShop): Promise<void> {
    const origin = this.any(this.honest)
    if (!origin) return
    const rows = await this.ordersOf(self, origin)
    if (rows.length === 0) return
    const claim = signDocument(
      'claim',
      {
        claimant: self.identity.id,
        origin: origin.identity.id,
        orders: rows.map((r) => r.record.order),
        terms: self.engine.federation.termsHash,
        epoch: this.epochFor(self, origin),
        time: this.timeish(),
      },
      self.identity,
    )
    if (this.prng.chance(0.5)) await this.append(self, [{ type: 'claim', claim }])
    this.broadcast(self, 'control', { type: 'claim', claim }, origin.identity.id)
  }

  private vote(voter: SimShop, origin: SimShop, epoch: number): Signed<DownVote> {
    return signDocument(
      'down-vote',
      {
        voter: voter.identity.id,
        origin: origin.identity.id,
        terms: voter.engine.federation.termsHash,
        epoch,
        time: this.timeish(),
        reason: this.prng.chance(0.5) ? 'heartbeat-timeout' : 'platform-down',
      },
      voter.identity,
    )
  }

  /** Down-votes against a live honest origin. */
  private async downVotes(self: SimShop): Promise<void> {
    const origin = this.any(this.honest)
    if (!origin) return
    this.broadcast(self, 'control', { type: 'down-vote', vote: this.vote(self, origin, this.epochFor(self, origin)) }, origin.identity.id)
  }

  /** Every colluder's vote plus honest votes it heard (old ones), as a certificate, to everyone. */
  private async certificate(self: SimShop): Promise<void> {
    const origin = this.any(this.honest)
    if (!origin) return
    const epoch = this.epochFor(self, origin)
    const colluders = [...this.names].map((n) => this.sim.shop(n))
    const votes = colluders.map((c) => this.vote(c, origin, epoch))
    for (const v of this.honestVotes)
      if (v.body.origin === origin.identity.id && v.body.epoch === epoch && !votes.some((x) => x.body.voter === v.body.voter)) votes.push(v)
    const certificate: Certificate = { origin: origin.identity.id, terms: self.engine.federation.termsHash, epoch, votes: votes.slice(0, 16) }
    this.broadcast(self, 'control', { type: 'certificate', certificate })
  }

  /** Something it heard, sent again (as itself) to anyone. */
  private async replay(self: SimShop): Promise<void> {
    for (let i = 0; i < this.prng.int(1, 5); i++) {
      const heard = this.any(this.heard)
      const to = this.any(this.honest)
      if (heard && to) this.send(self, to, heard.protocol, heard.message)
    }
  }

  /** Many catch-up requests and oversized junk pushes at one honest node. */
  private async flood(self: SimShop): Promise<void> {
    const to = this.any(this.honest)
    if (!to) return
    const authors = this.sim.shops.map((s) => s.identity.id)
    // Counts, not sizes, are what the engine's bounds are about here (test/p2p/flood.test.ts sends
    // 3.5 MB frames through the real transport): small junk keeps the seeds fast.
    for (let i = 0; i < this.prng.int(20, 80); i++)
      this.send(self, to, 'feed', { type: 'feed.get', author: this.any(authors) as ShopId, afterSeq: this.prng.int(0, 5), limit: 256 })
    const junk = Array.from({ length: this.prng.int(1, 32) }, (_, i) => ({ body: { junk: i, pad: 'x'.repeat(this.prng.int(0, 200)) }, sig: 'AA' }))
    for (let i = 0; i < this.prng.int(1, 10); i++) this.send(self, to, 'feed', { type: 'feed.entries', author: self.identity.id, entries: junk })
  }

  /** During a real takeover of an honest origin: receipts for orders it never claimed, keys it still holds. */
  private async extraDeliveries(self: SimShop): Promise<void> {
    const origin = this.any(this.honest)
    if (!origin) return
    const epoch = internals(self).failover.takeoverEpoch(origin.identity.id)
    if (epoch === null) return
    const rows = (await this.ordersOf(self, origin)).filter((r) => r.state === 'escrowed')
    const keys = await this.keysOf(self, origin, 'consigned')
    const receipts = rows.slice(0, keys.length).map((row, i) => ({ ...this.receipt(self, origin, row, keys[i], epoch), time: this.sim.clock.now() }))
    if (receipts.length > 0) await this.append(self, receipts)
  }

  /** Statements with made-up or altered lines, and disputes, acceptances and payments of nothing. */
  private async bogusSettlement(self: SimShop): Promise<void> {
    const to = this.any(this.honest)
    if (!to) return
    const now = this.sim.clock.now()
    const fake = () => hashOf({ fake: this.prng.next() })
    const lines = Array.from({ length: this.prng.int(1, 5) }, (_, i) => ({
      receipt: fake(),
      origin: to.identity.id,
      order: `made-up-${i}`,
      fulfiller: self.identity.id,
      minorUnits: this.prng.int(1, 10_000),
      time: now - i,
    }))
    const statement = {
      id: `st-bogus-${this.prng.int(0, 1e9)}`,
      issuer: self.identity.id,
      counterparty: to.identity.id,
      currency: 'CNY',
      terms: self.engine.federation.termsHash,
      period: { fromMs: now - 10_000, toMs: now + 1 },
      lines,
      totalMinorUnits: lines.reduce((n, l) => n + l.minorUnits, 0),
      time: now,
    }
    const records: FeedRecord[] = [
      { type: 'statement', statement },
      { type: 'dispute', issuer: to.identity.id, statement: fake(), lines: [{ receipt: fake(), reason: 'other', note: 'no' }] },
      { type: 'statement.accepted', issuer: to.identity.id, statement: fake() },
      {
        type: 'payment.recorded',
        payee: to.identity.id,
        statement: fake(),
        amount: { minorUnits: this.prng.int(1, 1e6), currency: 'CNY' },
        reference: 'nothing',
      },
      { type: 'payment.confirmed', payer: to.identity.id, statement: fake(), reference: 'nothing' },
    ]
    await this.append(self, records.filter(() => this.prng.chance(0.6)).concat([records[0] as FeedRecord]))
  }

  /** Releases keys (its free ones, ones it delivered, ones it never held), then delivers some anyway. */
  private async releaseThenDeliver(self: SimShop): Promise<void> {
    const origin = this.any(this.honest)
    if (!origin) return
    const mine = await this.keysOf(self, origin)
    const keyIds = [...new Set([...mine.slice(0, 3).map((k) => k.keyId), `${origin.name}-card-100-${this.prng.int(0, 900)}`])]
    await this.append(self, [{ type: 'allotment.released', origin: origin.identity.id, allotment: mine[0]?.allotment ?? 'al-made-up', keyIds }])
    const rows = await this.ordersOf(self, origin)
    const receipts = rows.slice(0, mine.length).map((row, i) => this.receipt(self, origin, row, mine[i], this.epochFor(self, origin)))
    if (receipts.length > 0 && this.prng.chance(0.5)) await this.append(self, receipts)
  }

  /** As an origin: recalls an allotment from an honest holder (it may, and the keys come back exposed). */
  private async recall(self: SimShop): Promise<void> {
    const holder = this.any(this.honest)
    if (!holder) return
    const rows = await this.keysOfOrigin(self, holder)
    const allotment = this.any(rows)?.allotment
    if (allotment) await self.engine.recall(holder.identity.id, allotment)
  }

  private async keysOfOrigin(self: SimShop, holder: SimShop): Promise<KeyRow[]> {
    const out: KeyRow[] = []
    for await (const [, row] of self.store.range<KeyRow>('keys', { gt: `${self.identity.id}!`, lt: `${self.identity.id}!\xff` }))
      if (row.holder === holder.identity.id) out.push(row)
    return out
  }

  /** As an origin: bills an honest holder for keys it holds, never held, or at another price. */
  private async bogusBill(self: SimShop): Promise<void> {
    const holder = this.any(this.honest)
    if (!holder) return
    const rows = (await this.keysOfOrigin(self, holder)).slice(0, MAX_PICK)
    const keyIds = rows.length > 0 && this.prng.chance(0.7) ? rows.map((r) => r.keyId) : [`${self.name}-card-100-${this.prng.int(0, 900)}`]
    await this.append(self, [
      {
        type: 'allotment.billed',
        holder: holder.identity.id,
        keyIds,
        amount: { minorUnits: this.prng.int(1, 10_000), currency: 'CNY' },
        time: this.sim.clock.now(),
      },
    ])
  }

  /** As an origin: hands its own orders to its partners although its platform is up. */
  private async requestOwnTakeover(self: SimShop): Promise<void> {
    self.engine.reportPlatformHealth('down')
  }

  /** Two different entries with one seq: the second, to some honest partners only. */
  private async equivocate(self: SimShop): Promise<void> {
    const head = internals(self).writer.state
    if (head.seq === 0) return
    const prev = await self.store.get<FeedEntry>('entries', `${self.identity.id}!${String(head.seq - 1).padStart(16, '0')}`)
    const fork = appendEntry({
      identity: self.identity,
      head: { author: self.identity.id, seq: head.seq - 1, hash: prev ? hashOf(prev.body) : null },
      time: this.sim.clock.now(),
      terms: self.engine.federation.termsHash,
      records: [{ type: 'order.cancelled', order: `fork-${this.prng.int(0, 1e9)}`, reason: 'equivocation' }],
    })
    const to = this.any(this.honest)
    if (to) this.send(self, to, 'feed', { type: 'feed.entries', author: self.identity.id, entries: [fork] })
  }
}
