// N shops' engines in one process on memory-level stores, one virtual clock and one simulated
// network, all driven by one seed. Used by the deterministic core tests and the simulator.
import {
  type AdapterOrder,
  assert,
  type Agreement,
  type BoxKeyPair,
  boxKeyPairFromSecret,
  type Identity,
  identityFromSeed,
  minimumQuorum,
  type ShopCard,
  type Signed,
  sha256,
  nextRevision,
  signDocument,
  successionTerms,
  signTerms,
  type Terms,
  toBase64url,
  utf8,
} from '../../protocol/index.js'
import { simulatedSignatures, useSignatureScheme } from '../../protocol/simulation-hooks.js'
import { Engine, type EngineOptions } from '../../node/core/engine.js'
import type { EngineEvent } from '../../node/core/events.js'
import type { Clock, Logger, RangeOptions, Section, Store, StoreOp } from '../../node/core/ports.js'
import { LevelStore, SECTIONS } from '../../node/store/level-store.js'
import { MAX_PREVIOUS_BOX_SECRETS } from '../../node/config/schema.js'
import type { RejoinMarker } from '../../node/core/own-feed-rejoin.js'
import { META } from '../../node/core/state/codec.js'
import { Prng } from './prng.js'
import { SimClock } from './sim-clock.js'
import { SimNetwork } from './sim-network.js'
import { SimMailer, SimShopAdapter } from './sim-shop.js'
import { StoreShadow } from './store-shadow.js'

export const SIM_START_MS = 1_800_000_000_000

/** Bugs the simulator must catch (node/core/options.ts): they are planted for its canary tests only. */
export type Canary = NonNullable<EngineOptions['canary']>

export interface SimEvent {
  /** Virtual ms since the simulation started. */
  readonly at: number
  readonly node: string
  readonly event: EngineEvent
}

function recordingLogger(into: string[]): Logger {
  const keep = (fields: Record<string, unknown>, message: string) => into.push(`${message} ${JSON.stringify(fields)}`)
  return { debug() {}, info() {}, warn: keep, error: keep }
}

/** A shop's store and shadow at one moment (SimFederation.copyStore). */
export interface StoreCopy {
  readonly rows: readonly [Section, string, unknown][]
}

export interface SimShop {
  readonly name: string
  /** Replaced in place at each restart, so a driver holding this shop always reaches the engine running now. */
  engine: Engine
  readonly store: LevelStore
  readonly identity: Identity
  readonly box: BoxKeyPair
  /** Box key pairs rotated out, newest first (D93). */
  readonly previousBoxes?: readonly BoxKeyPair[]
  /** Every warning and error the engine logged, for tests that check rejections are logged. */
  readonly warnings: string[]
  readonly shop: SimShopAdapter
  readonly mailer: SimMailer
}

export interface SimOptions {
  readonly seed: string
  readonly shops: number
  /** Keys of sku `card-100` each shop's stock holds (consignable to partners). */
  readonly stockPerShop?: number
  /** Changes to the simulator's default terms. */
  readonly terms?: (terms: Terms) => Terms
  /** Plant a known bug in every engine (canary test). */
  readonly canary?: Canary
  /** Scheduled fire drills in every engine (node/core/drill.ts); none by default. */
  readonly drillEveryMs?: number
  /**
   * 'simulated' swaps Ed25519 for a keyed MAC (protocol/simulation-hooks.ts) until close(): the
   * simulator's seeds are ≈3× faster. Tests about signatures keep the default, real Ed25519.
   */
  readonly signatures?: 'ed25519' | 'simulated'
  /** Each shop's clock offset in ms (within the terms' maxClockSkewMs for a fair simulation). */
  readonly skewMs?: (name: string) => number
  /** Wraps each shop's clock (tests that watch what an engine does with its timers). */
  readonly clockFor?: (name: string, clock: Clock) => Clock
}

export class SimFederation {
  readonly clock = new SimClock(SIM_START_MS)
  readonly prng: Prng
  readonly network: SimNetwork
  readonly shops: SimShop[] = []

  private constructor(readonly seed: string) {
    this.prng = new Prng(seed)
    this.network = new SimNetwork(this.clock, this.prng)
  }

  static async create(options: SimOptions): Promise<SimFederation> {
    const sim = new SimFederation(options.seed)
    const names = Array.from({ length: options.shops }, (_, i) => String.fromCharCode(65 + i))
    const keys = names.map((name) => simKeys(options.seed, name))
    // The keys of a shop that may join later (addShop): the simulated signatures know it from here.
    sim.spare = simKeys(options.seed, String.fromCharCode(65 + options.shops))
    // And each shop's successor, should it hand its place to a new identity (handOver).
    const successors = [...keys, sim.spare].map((k) => simKeys(options.seed, successorName(k.name)))
    if (options.signatures === 'simulated')
      sim.restoreSignatures = useSignatureScheme(simulatedSignatures([...keys, sim.spare, ...successors].map((k) => k.identity)))
    const cards: Signed<ShopCard>[] = keys.map((k) => simCard(k, SIM_START_MS))
    const defaults = simTerms(keys.map((k) => k.identity.id).sort())
    const terms = options.terms ? options.terms(defaults) : defaults
    const agreement: Agreement = { terms, signatures: keys.map((k) => signTerms(terms, k.identity)) }
    sim.agreement = agreement
    sim.canary = options.canary
    sim.drillEveryMs = options.drillEveryMs ?? null
    sim.skewMs = options.skewMs ?? (() => 0)
    sim.clockFor = options.clockFor ?? ((_name, clock) => clock)
    sim.cards = cards
    sim.stockPerShop = options.stockPerShop ?? 200
    for (const k of keys) await sim.newShop(k)
    for (const shop of sim.shops) await shop.engine.start()
    for (const a of sim.shops) for (const b of sim.shops) if (a !== b) a.engine.onPeerConnected(b.engine.identity().id)
    return sim
  }

  agreement!: Agreement
  /** The revisions before `agreement`, oldest first: a shop that joins later gets them (D97). */
  readonly earlier: Agreement[] = []
  private spare: SimKeys | null = null
  private stockPerShop = 200
  private restoreSignatures: () => void = () => undefined
  canary: Canary | undefined
  drillEveryMs: number | null = null
  private skewMs: (name: string) => number = () => 0
  private clockFor: (name: string, clock: Clock) => Clock = (_name, clock) => clock
  cards!: Signed<ShopCard>[]
  private readonly crashed = new Set<string>()

  private readonly views = new Map<string, CrashableStore>()
  /**
   * When set, every store call first waits this many virtual ms, like a disk: work that reads
   * across several calls (a scan, a read then a write) spans other events (messages arriving,
   * timers), so races between stored rows and in-memory state show. Off by default: seeds
   * recorded before issue 17 replay as they did. Given the shop's name, so one shop can be slower.
   */
  storeLatencyMs: ((shop: string) => number) | null = null

  /** True while runUntil moves the clock: only then can a wait on it end. */
  private running = false

  /**
   * A store call's wait, on the virtual clock; null when store latency is off. Calls the driver
   * makes between runUntil()s (an order, a consignment) and awaits itself do not wait: nothing
   * would move the clock for them.
   */
  private storeWait(shop: string): Promise<void> | null {
    if (!this.storeLatencyMs) return null
    if (!this.running) return Promise.resolve()
    const ms = this.storeLatencyMs(shop)
    return ms <= 0 ? Promise.resolve() : new Promise<void>((resolve) => this.clock.setTimer(ms, resolve))
  }
  /** Per shop: what its store durably holds (survives crashes, like the store itself). */
  readonly shadows = new Map<string, StoreShadow>()
  /** Every engine event in order, structured (the `log` lines are the same, for reading). */
  readonly events: SimEvent[] = []

  private makeEngine(s: Omit<SimShop, 'engine'>): Engine {
    let shadow = this.shadows.get(s.name)
    if (!shadow) {
      shadow = new StoreShadow(
        s.identity.id,
        (id) => this.nameOf(id),
        () => this.clock.now() - SIM_START_MS,
      )
      this.shadows.set(s.name, shadow)
    }
    const view = new CrashableStore(
      s.store,
      (ops) => (shadow as StoreShadow).apply(ops),
      () => this.storeWait(s.name),
    )
    this.views.set(s.name, view)
    return new Engine({
      identity: s.identity,
      box: s.box,
      previousBoxes: s.previousBoxes ?? [],
      name: `Shop ${s.name}`,
      addrs: () => [],
      agreement: this.agreement,
      earlierAgreements: this.earlier,
      cards: this.cards,
      clock: this.clockFor(s.name, skewed(this.clock, this.skewMs(s.name))),
      rng: this.prng,
      store: view,
      transport: this.network.transportFor(s.identity.id),
      logger: recordingLogger(s.warnings),
      adapter: s.shop,
      mailer: s.mailer,
      publicUrl: `http://127.0.0.1/${s.name}`,
      canary: this.canary,
      drillEveryMs: this.drillEveryMs,
      emit: (_at: number, event: EngineEvent) => this.record(this.clock.now() - SIM_START_MS, s.name, event),
    })
  }

  private record(at: number, node: string, event: EngineEvent): void {
    this.events.push({ at, node, event })
    // A quorum revoked a partner (D94): the node restarts its engine without it, as node.ts does.
    if (event.kind === 'partner-revoked' && !event.us) this.revokedAt.add(node)
  }

  /** Shops whose engine saw a revocation take force and restarts on it (runUntil, between steps). */
  private readonly revokedAt = new Set<string>()

  private async reloadRevoked(limit: number): Promise<void> {
    for (const name of [...this.revokedAt]) {
      this.revokedAt.delete(name)
      if (this.crashed.has(name)) continue // it takes the revocation from its store at its restart
      await this.reload(name, limit)
    }
  }

  /** One readable line per event ("<ms> <shop> <event JSON>", shop ids as names), built on demand. */
  get log(): string[] {
    return this.events.map((e) => this.format(e))
  }

  format(e: SimEvent): string {
    return `${e.at} ${e.node} ${JSON.stringify(e.event, (_key, value) => (typeof value === 'string' && value.startsWith('12D3KooW') ? this.nameOf(value) : value))}`
  }

  /** Stops a shop's engine and cuts all its links, like a SIGKILL; its store survives. */
  crash(name: string): void {
    const victim = this.shop(name)
    victim.engine.stop()
    // Like a killed process: nothing the old engine still had in flight reaches disk or network.
    this.views.get(name)?.kill()
    this.network.reincarnate(victim.identity.id)
    this.crashed.add(name)
    for (const other of this.shops) if (other !== victim) this.network.cut(victim.identity.id, other.identity.id)
  }

  /**
   * `standin secrets rotate box` at `name` (D93): a new box key pair, the old one kept, its card
   * re-signed. Every live engine restarts gracefully on the cards as they are now, as the nodes do
   * once the new card reaches them; a crashed one takes it at its restart.
   */
  async rotateBox(name: string): Promise<void> {
    const index = this.shops.findIndex((s) => s.name === name)
    const old = this.shops[index] as SimShop
    const rotations = (old.previousBoxes?.length ?? 0) + 1
    const box = boxKeyPairFromSecret(sha256(utf8(`sim/${this.seed}/box/${name}/${rotations}`)))
    this.shops[index] = { ...old, box, previousBoxes: [old.box, ...(old.previousBoxes ?? [])].slice(0, MAX_PREVIOUS_BOX_SECRETS) }
    this.cards = this.cards.map((card) =>
      card.body.id === old.identity.id
        ? signDocument('shop-card', { ...card.body, boxKey: toBase64url(box.publicKey), issuedAt: this.clock.now() }, old.identity)
        : card,
    )
    for (const shop of [...this.shops]) if (!this.crashed.has(shop.name)) await this.reload(shop.name)
  }

  /** A shop on an empty store, its engine made on the agreement in force (not started). */
  private async newShop(k: SimKeys): Promise<SimShop> {
    const store = await LevelStore.openInMemory()
    const shop = new SimShopAdapter(k.name, { 'card-100': this.stockPerShop, [SIM_SPARE_SKU]: SIM_SPARE_STOCK })
    const base = { name: k.name, store, identity: k.identity, box: k.box, warnings: [] as string[], shop, mailer: new SimMailer() }
    const made = { ...base, engine: this.makeEngine(base) }
    this.shops.push(made)
    return made
  }

  /**
   * A shop joins the terms in force (D97): the next revision names it (its skus added, the quorum
   * the larger federation needs), every party signs, and every live engine restarts on it as the
   * nodes do; a crashed one takes it at its restart. The newcomer starts on an empty store with the
   * earlier revisions (as its node fetches them) and catches up its partners' feeds from seq 1.
   */
  async addShop(): Promise<SimShop> {
    const k = this.spare
    assert(k !== null, 'one shop joins per run')
    this.spare = null
    const old = this.agreement
    const parties = [...old.terms.parties, k.identity.id].sort()
    const terms: Terms = {
      ...nextRevision(old.terms, this.clock.now()),
      parties,
      quorum: Math.max(minimumQuorum(parties.length), old.terms.quorum),
      skus: [...old.terms.skus, ...simTerms([k.identity.id]).skus],
    }
    const signers = [...this.shops.map((s) => s.identity), k.identity]
    this.agreement = { terms, signatures: signers.map((identity) => signTerms(terms, identity)) }
    this.earlier.push(old)
    return this.admit(k)
  }

  /**
   * `k` joins the terms now in force on an empty store: every live engine restarts on them, as the
   * nodes do (a crashed one takes them at its restart), then the newcomer starts and its links heal.
   */
  private async admit(k: SimKeys): Promise<SimShop> {
    this.cards = [...this.cards, simCard(k, this.clock.now())]
    const existing = [...this.shops]
    const joined = await this.newShop(k)
    for (const shop of existing) if (!this.crashed.has(shop.name)) await this.reload(shop.name)
    await joined.engine.start()
    for (const other of existing) if (!this.crashed.has(other.name)) this.network.heal(joined.identity.id, other.identity.id)
    return joined
  }

  /** Shops a revision left out (D95): their engines stopped, their stores and shops kept for the checker. */
  readonly removed: SimShop[] = []

  /**
   * The parties that stay sign a revision without `name` (D95): its skus dropped, the quorum where
   * it was within what the smaller federation allows (as `TermsBook` computes it). Every live
   * engine restarts on it; a crashed one takes it at its restart. The removed shop stands down
   * (D98): its engine stops, its shop is unfenced for good, and its links are cut.
   */
  async removeShop(name: string): Promise<SimShop> {
    const gone = this.shop(name)
    const old = this.agreement
    const parties = old.terms.parties.filter((p) => p !== gone.identity.id)
    assert(parties.length >= 2, 'terms keep two parties at least')
    const terms: Terms = {
      ...nextRevision(old.terms, this.clock.now()),
      parties,
      quorum: Math.max(minimumQuorum(parties.length), Math.min(old.terms.quorum, Math.max(2, parties.length - 1))),
      skus: old.terms.skus.filter((s) => s.shop !== gone.identity.id),
    }
    await this.leave(gone, terms, [])
    for (const shop of [...this.shops]) if (!this.crashed.has(shop.name)) await this.reload(shop.name)
    return gone
  }

  /**
   * `standin identity rotate` at `name` (D99): the next revision puts its successor (keys made at
   * create) in its place, the succession signed by the old key, the revision by the new one and
   * every other party (their nodes sign it on their own). The old identity's engine stops and its
   * links are cut; the successor starts on an empty store with a shop of its own (the sim's shops
   * are per identity), and every live engine restarts on the revision.
   */
  async handOver(name: string): Promise<{ gone: SimShop; successor: SimShop }> {
    const gone = this.shop(name)
    const k = simKeys(this.seed, successorName(name))
    assert(!this.shops.some((s) => s.name === k.name), 'one handover per shop')
    const terms = successionTerms(this.agreement.terms, gone.identity, k.identity.id, this.clock.now())
    // The old identity's shop is unfenced: the orders paid before are its own to deliver (D99).
    await this.leave(gone, terms, [k])
    return { gone, successor: await this.admit(k) }
  }

  /** `gone` leaves: `terms` in force, signed by every shop that stays and `joining`; its engine stopped, its shop unfenced, its links cut. */
  private async leave(gone: SimShop, terms: Terms, joining: readonly SimKeys[]): Promise<void> {
    assert(!this.crashed.has(gone.name), 'the sim takes a running shop out')
    this.shops.splice(this.shops.indexOf(gone), 1)
    this.removed.push(gone)
    this.earlier.push(this.agreement)
    this.agreement = { terms, signatures: [...this.shops.map((s) => s.identity), ...joining.map((k) => k.identity)].map((id) => signTerms(terms, id)) }
    await this.await(gone.engine.stop())
    gone.shop.fenced = false
    for (const other of this.shops) this.network.cut(gone.identity.id, other.identity.id)
  }

  /** A graceful engine restart on the same store and links (what a node does for a new card or terms revision). */
  private async reload(name: string, limit = Number.MAX_SAFE_INTEGER): Promise<void> {
    const shop = this.shop(name)
    const platform = shop.engine.platformHealth()
    await this.await(shop.engine.stop(), limit)
    shop.engine = this.makeEngine(shop)
    await shop.engine.start()
    // A live node's adapter reports its platform again within a minute; the simulated shops report
    // only when the driver says, so the last report is repeated to the new engine at once.
    if (platform !== 'unknown') shop.engine.reportPlatformHealth(platform)
  }

  /** Everything a shop's store holds now, read from one snapshot: what `standin backup` copies. */
  async copyStore(name: string): Promise<StoreCopy> {
    const rows: [Section, string, unknown][] = []
    for await (const [raw, value] of this.shop(name).store.rawPairs()) {
      // Sublevel keys are `!section!key`; the in-memory store holds JSON text.
      const end = raw.indexOf('!', 1)
      rows.push([raw.slice(1, end) as Section, raw.slice(end + 1), JSON.parse(value.toString('utf8'))])
    }
    return { rows }
  }

  /** Once a crashed shop's last writes landed, as they would on a disk (before a restore looks at it). */
  async landed(name: string): Promise<void> {
    await this.views.get(name)?.landed()
  }

  /**
   * A crashed shop's store put back to `copy` and marked, as `standin restore` leaves it
   * (node/cli/backup-commands.ts): the next restart confirms its feed with its partners (D92).
   */
  async putBack(name: string, copy: StoreCopy): Promise<void> {
    assert(this.crashed.has(name), 'only a crashed shop is restored')
    await this.landed(name)
    const store = this.shop(name).store
    const now: StoreOp[] = []
    for (const section of SECTIONS) for await (const [key] of store.range(section, {})) now.push({ type: 'del', section, key })
    await store.write(now, { sync: true })
    const marker: RejoinMarker = { reason: 'restored', since: this.clock.now() }
    await store.write(
      [
        ...copy.rows.map(([section, key, value]): StoreOp => ({ type: 'put', section, key, value })),
        { type: 'put', section: 'meta', key: META.rejoin, value: marker },
      ],
      { sync: true },
    )
    ;(this.shadows.get(name) as StoreShadow).putBack([...copy.rows, ['meta', META.rejoin, marker]])
  }

  /** Starts a new engine over the crashed shop's store and heals its links. */
  async restart(name: string): Promise<void> {
    const fresh = this.shop(name)
    fresh.engine = this.makeEngine(fresh)
    this.crashed.delete(name)
    await fresh.engine.start()
    for (const other of this.shops) if (other !== fresh && !this.crashed.has(other.name)) this.network.heal(fresh.identity.id, other.identity.id)
  }

  nameOf(id: string): string {
    return [...this.shops, ...this.removed].find((s) => s.identity.id === id)?.name ?? id
  }

  shop(name: string): SimShop {
    const found = this.shops.find((s) => s.name === name)
    if (!found) throw new Error(`no shop ${name}`)
    return found
  }

  /** Runs timers and message deliveries until virtual time `untilMs` (relative to start). */
  async runUntil(untilMs: number): Promise<void> {
    const limit = SIM_START_MS + untilMs
    this.running = true
    try {
      for (;;) {
        await settle()
        if (this.revokedAt.size > 0) await this.reloadRevoked(limit)
        if (!this.clock.runNext(limit)) break
      }
      this.clock.advanceTo(limit)
      await settle()
    } finally {
      this.running = false
    }
  }

  /**
   * Awaits work the driver started (an order, a consignment), moving the clock while it waits:
   * with store latency on, it may wait on the clock itself, or on work that does.
   */
  async await<T>(work: Promise<T>, limit = Number.MAX_SAFE_INTEGER): Promise<T> {
    let done = false
    const settled = work.then(
      () => void (done = true),
      () => void (done = true),
    )
    // Also called from within runUntil (a reload on a revocation): the clock stays within its limit.
    const wasRunning = this.running
    this.running = true
    try {
      for (;;) {
        await settle()
        if (done) break
        if (!this.clock.runNext(limit)) break
      }
    } finally {
      this.running = wasRunning
    }
    await settled
    return work
  }

  async close(): Promise<void> {
    for (const s of this.shops) {
      s.engine.stop()
      await s.store.close()
    }
    this.restoreSignatures()
  }
}

interface SimKeys {
  readonly name: string
  readonly identity: Identity
  readonly box: BoxKeyPair
}

/** The name of the identity `name` hands its place to (D99). */
export function successorName(name: string): string {
  return `${name}'`
}

function simKeys(seed: string, name: string): SimKeys {
  return {
    name,
    identity: identityFromSeed(sha256(utf8(`sim/${seed}/id/${name}`))),
    box: boxKeyPairFromSecret(sha256(utf8(`sim/${seed}/box/${name}`))),
  }
}

function simCard(k: SimKeys, issuedAt: number): Signed<ShopCard> {
  return signDocument(
    'shop-card',
    {
      id: k.identity.id,
      name: `Shop ${k.name}`,
      boxKey: toBase64url(k.box.publicKey),
      addrs: [],
      claimUrl: null,
      issuedAt,
      validUntil: SIM_START_MS + 365 * 86_400_000,
    },
    k.identity,
  )
}

/** A shop's view of virtual time, `skewMs` off the true one; timers still fire on the true clock. */
function skewed(clock: SimClock, skewMs: number): Clock {
  if (skewMs === 0) return clock
  return {
    now: () => clock.now() + skewMs,
    setTimer: (delayMs, callback) => clock.setTimer(delayMs, callback),
    clearTimer: (handle) => clock.clearTimer(handle),
  }
}

/** Lets every promise chain started by the last event finish (memory-level resolves in microtasks). */
const SETTLE_TURNS = 3
export async function settle(): Promise<void> {
  for (let i = 0; i < SETTLE_TURNS; i++) await new Promise<void>((resolve) => setImmediate(resolve))
}

/**
 * A second sku nobody consigns until a phase needs keys at a few chosen holders only (vopr.ts's
 * boundary phase): with card-100 at every partner, another holder would hide an order one holder
 * left out.
 */
export const SIM_SPARE_SKU = 'card-200'
const SIM_SPARE_STOCK = 100

export function simTerms(parties: string[]): Terms {
  const cny = (minorUnits: number) => ({ minorUnits, currency: 'CNY' })
  return {
    protocol: 1,
    id: 'sim',
    revision: 1,
    supersedes: null,
    parties,
    skus: parties.flatMap((shop) =>
      ['card-100', SIM_SPARE_SKU].map((sku) => ({ shop, sku, allotmentCap: 10_000, unitValue: { minorUnits: 1_000, currency: 'CNY' } })),
    ),
    quorum: Math.max(2, Math.floor((parties.length - 1) / 2) + 1),
    timing: {
      heartbeatMs: 250,
      suspectAfterMs: 1_000,
      leaseTtlMs: 1_500,
      maxClockSkewMs: 250,
      maxMessageDelayMs: 250,
      takeoverDelayMs: 2_000,
      graceMs: 0,
      claimTimeoutMs: 200,
    },
    limits: { maxOrdersPerOutage: 100_000, maxValuePerOutage: cny(1e12), maxOrdersPerHour: 100_000, maxValuePerHour: cny(1e12) },
    fee: { bps: 200, fixed: cny(0) },
    settlement: { currency: 'CNY', periodMs: 86_400_000, settleThreshold: cny(500_000_000), creditLimit: cny(1_000_000_000) },
    createdAt: SIM_START_MS,
    expiresAt: SIM_START_MS + 365 * 86_400_000,
  }
}

/**
 * A generated claim token, as the generic shop makes them (≥ STRONG_CLAIM_SECRET_CHARS): its
 * verifier is a hash. Short, buyer-chosen secrets cost an scrypt each (protocol/claims.ts).
 */
export function simClaimSecret(n: number): string {
  return `claim-token-sim-${String(n).padStart(6, '0')}`
}

export function simOrder(prng: Prng, n: number): AdapterOrder {
  return {
    order: `O-${n}`,
    sku: 'card-100',
    qty: 1,
    amount: { minorUnits: prng.int(100, 100_000), currency: 'CNY' },
    paidAt: SIM_START_MS + n,
    buyer: { email: `buyer${n}@example.com`, locale: prng.chance(0.5) ? 'zh-CN' : 'en' },
    claimSecret: simClaimSecret(n),
  }
}

/**
 * One engine incarnation's view of a shop's store. After kill() every call hangs forever: like a
 * killed process, the old engine's pending work never continues (no write lands, nothing after it).
 */
/** Rows a range scan yields between two waits, when store latency is on. */
const RANGE_ROWS_PER_READ = 16

export class CrashableStore implements Store {
  private dead = false
  /** Writes handed to the store and not yet landed: a killed engine's may still land (as on a disk). */
  private readonly landing = new Set<Promise<void>>()

  constructor(
    private readonly store: Store,
    private readonly onWritten: (ops: readonly StoreOp[]) => void = () => undefined,
    /** What each call waits for first; null: store latency is off. */
    private readonly latency: () => Promise<void> | null = () => null,
  ) {}

  kill(): void {
    this.dead = true
  }

  /** Once every write this incarnation handed to the store has landed (a restore waits for them). */
  async landed(): Promise<void> {
    await Promise.allSettled([...this.landing])
  }

  private async alive(): Promise<void> {
    if (this.dead) await new Promise<never>(() => undefined)
    const wait = this.latency()
    if (wait) await wait
    if (this.dead) await new Promise<never>(() => undefined)
  }

  async get<T = unknown>(section: Section, key: string): Promise<T | undefined> {
    await this.alive()
    return this.store.get<T>(section, key)
  }

  async getMany<T = unknown>(section: Section, keys: readonly string[]): Promise<(T | undefined)[]> {
    await this.alive()
    return this.store.getMany<T>(section, keys)
  }

  async write(ops: readonly StoreOp[], options: { readonly sync: boolean }): Promise<void> {
    await this.alive()
    if (this.dead) return this.alive()
    const write = this.store.write(ops, options)
    this.landing.add(write)
    try {
      await write
    } finally {
      this.landing.delete(write)
    }
    this.onWritten(ops)
  }

  async *range<T = unknown>(section: Section, options: RangeOptions): AsyncIterable<[string, T]> {
    const wait = this.latency()
    if (wait === null) {
      await this.alive()
      yield* this.store.range<T>(section, options)
      return
    }
    await wait
    if (this.dead) await new Promise<never>(() => undefined)
    let rows = 0
    for await (const row of this.store.range<T>(section, options)) {
      // A long scan reads from disk in pieces: other events run between them.
      if (++rows % RANGE_ROWS_PER_READ === 0) await this.alive()
      yield row
    }
  }

  async close(): Promise<void> {
    this.dead = true
  }
}
