// A node restored from a backup (or rebuilt from its secrets alone) may be behind its own feed: its partners
// hold entries it signed after the copy was taken. Signing the next seq then would be a fork, and
// every partner would quarantine it (docs/design.md §5). So until every partner has said where it
// holds our feed, our writer is paused (appends answer 503 with the reason), and whatever our
// partners hold beyond our head comes back: verified as ours, chained to our head, opened, its
// order records applied to our own rows, then stored in one synced unit (docs/decisions.md D92).
//
// Two phases, because records depend on each other across feeds. (1) Own: our feed comes back
// first, while partners' feeds wait (replication drops their entries, they resend): a partner's
// receipt for one of our orders must meet the order, not be refused as unknown (seed ops-130).
// (2) Theirs: once every partner confirmed our head, each partner's own feed is caught up (a
// holder says where a feed ends with feed.held for any feed); then our own receipts and releases
// that named keys we did not hold yet (consigned after the backup) are applied again, and the
// writer resumes.
//
// Authority: an entry is taken back only if our own identity signed it and it follows our head;
// a partner can withhold entries, never invent one. A partner's feed.held answer only counts as
// its confirmation once our head has reached it and the hash there is ours.
import {
  classifyEntry,
  type FeedEntry,
  type FeedRecord,
  type FeedState,
  type Identity,
  LIMITS,
  readRecords,
  type BoxKeyring,
  type ShopId,
  verifyEntry,
  entryHash,
} from '../../protocol/index.js'
import type { EventSink } from './events.js'
import type { FeedWriter } from './feed-writer.js'
import type { Startable } from './lifecycle.js'
import type { Clock, Logger, Store, Transport } from './ports.js'
import type { OwnRecordApplier } from './own-records.js'
import { REJOIN_ASK_AGAIN_MS } from './limits.js'
import { META, seqKey } from './state/codec.js'
import { commit, Tx } from './state/tx.js'

/** Why the node is confirming its own feed: `standin restore` or `standin recover`. */
export type RejoinReason = 'restored' | 'recovered'

/** The marker in `meta`, written by the CLI at restore; deleted once every partner confirmed. */
export interface RejoinMarker {
  readonly reason: RejoinReason
  readonly since: number
}

/** Own records set aside until partners' feeds are caught up, at most (beyond: not rebuilt). */
export const MAX_DEFERRED_OWN_RECORDS = 100_000

export interface RejoinStatus {
  readonly active: boolean
  readonly reason: RejoinReason | null
  readonly head: number
  readonly confirmed: readonly ShopId[]
  readonly waiting: readonly ShopId[]
  /** Own records taken back that rebuilt our rows. */
  readonly rebuilt: number
  /** Own records taken back whose effects at our node are not rebuilt, by type (README "Backup and restore"). */
  readonly notRebuilt: Readonly<Record<string, number>>
}

export interface RejoinDeps {
  readonly identity: Identity
  /** Our box key pairs, current first. */
  readonly box: BoxKeyring
  readonly store: Store
  readonly writer: FeedWriter
  readonly transport: Transport
  readonly clock: Clock
  readonly logger: Logger
  readonly emit: EventSink
  readonly applyOwn: OwnRecordApplier
  readonly serially: <T>(unit: () => Promise<T>) => Promise<T>
  readonly partners: () => readonly ShopId[]
  /** Our head of a partner's feed (replication.ts). */
  readonly headOf: (author: ShopId) => FeedState
  /** The simulator's canary: the marker is ignored (options.ts). */
  readonly ignoreMarker?: boolean
}

export class OwnFeedRejoin implements Startable {
  private marker: RejoinMarker | null = null
  /** Partners that said where they hold our feed, and it matched: phase own is over when all have. */
  private readonly confirmed = new Set<ShopId>()
  /** Partners whose own feed we hold up to where they said it ends (phase theirs). */
  private readonly caughtUp = new Set<ShopId>()
  /** Our receipts and releases that named keys we do not hold yet, with their entry's seq. */
  private deferred: { seq: number; records: FeedRecord[] }[] = []
  private deferredCount = 0
  private rebuilt = 0
  private readonly notRebuilt = new Map<string, number>()
  /** Our head when we last asked each partner (-1: for its own feed), and when. */
  private readonly asked = new Map<ShopId, { seq: number; at: number }>()
  /** Partners already reported for claiming more than they send, at this head. */
  private readonly reported = new Map<ShopId, number>()

  constructor(private readonly deps: RejoinDeps) {}

  async start(): Promise<void> {
    const marker = await this.deps.store.get<RejoinMarker>('meta', META.rejoin)
    if (marker && this.deps.ignoreMarker === true) await this.deps.store.write([{ type: 'del', section: 'meta', key: META.rejoin }], { sync: true })
    else if (marker) this.pause(marker)
  }

  get active(): boolean {
    return this.marker !== null
  }

  /** Phase own: partners' entries wait (replication drops them; they resend). */
  get holdsPartnerFeeds(): boolean {
    return this.active && !this.allConfirmed()
  }

  status(): RejoinStatus {
    const partners = this.deps.partners()
    return {
      active: this.active,
      reason: this.marker?.reason ?? null,
      head: this.deps.writer.state.seq,
      confirmed: partners.filter((p) => this.confirmed.has(p)),
      // Phase own: who has not said where it holds our feed; phase theirs: whose feed is not back yet.
      waiting: !this.active ? [] : partners.filter((p) => (this.allConfirmed() ? !this.caughtUp.has(p) : !this.confirmed.has(p))),
      rebuilt: this.rebuilt,
      notRebuilt: Object.fromEntries(this.notRebuilt),
    }
  }

  private allConfirmed(): boolean {
    return this.deps.partners().every((p) => this.confirmed.has(p))
  }

  private allCaughtUp(): boolean {
    return this.deps.partners().every((p) => this.caughtUp.has(p))
  }

  /** A connection to a partner: ask where it holds our feed, or (phase theirs) its own. */
  onConnected(partner: ShopId): void {
    if (!this.active) return
    if (!this.allConfirmed()) this.ask(partner)
    else this.askTheirs(partner)
  }

  /** Every tick: partners connected and not yet answering are asked again, at most every REJOIN_ASK_AGAIN_MS. */
  tick(): void {
    if (!this.active) return
    const now = this.deps.clock.now()
    const own = !this.allConfirmed()
    for (const partner of this.deps.partners()) {
      const last = this.asked.get(partner)
      const done = own ? this.confirmed.has(partner) : this.caughtUp.has(partner)
      if (done || !this.deps.transport.isConnected(partner)) continue
      if (last !== undefined && now - last.at < REJOIN_ASK_AGAIN_MS) continue
      if (own) this.ask(partner)
      else this.askTheirs(partner)
    }
  }

  /** feed.entries of our own feed, from `from`, while active (the caller serializes per author). */
  receive(from: ShopId, raw: readonly unknown[]): Promise<void> {
    if (!this.active) return Promise.resolve()
    return this.deps.serially(() => this.takeBack(from, raw))
  }

  /** feed.held: where `from` holds our feed. Arrives after the entries it answered with. */
  async held(from: ShopId, seq: number, hash: string | null): Promise<void> {
    if (!this.active || this.allConfirmed()) return
    const head = this.deps.writer.state
    if (seq > head.seq) {
      // More than one answer's worth: ask on. Asked at this head already: what it sent did not follow
      // (the tick asks again later, in case entries were lost on the way).
      if (this.asked.get(from)?.seq !== head.seq) return this.ask(from)
      if (this.reported.get(from) !== head.seq) {
        this.reported.set(from, head.seq)
        this.deps.logger.error(
          { partner: from, partnerSeq: seq, ownSeq: head.seq },
          'a partner holds our feed beyond our head but sends nothing that follows it',
        )
      }
      return
    }
    const ours = seq === head.seq ? head.hash : await this.ownHashAt(seq)
    if (ours !== hash) {
      this.deps.logger.error({ partner: from, seq }, 'a partner holds an entry of our feed we did not sign at that seq; not counted as confirming our head')
      return
    }
    this.confirmed.add(from)
    if (!this.allConfirmed()) return
    // Phase theirs: every partner's own feed, now that our orders are back to meet their receipts.
    for (const partner of this.deps.partners()) if (this.deps.transport.isConnected(partner)) this.askTheirs(partner)
  }

  /** feed.held for the partner's own feed, after its entries (phase theirs): caught up, or more to fetch. */
  async theirHeld(from: ShopId, seq: number): Promise<void> {
    if (!this.active || !this.allConfirmed() || this.caughtUp.has(from)) return
    if (seq > this.deps.headOf(from).seq) return this.askTheirs(from)
    this.caughtUp.add(from)
    if (this.allCaughtUp()) await this.deps.serially(() => this.finish())
  }

  private askTheirs(partner: ShopId): void {
    this.asked.set(partner, { seq: -1, at: this.deps.clock.now() })
    const afterSeq = this.deps.headOf(partner).seq
    this.deps.transport.send(partner, 'feed', { type: 'feed.get', author: partner, afterSeq, limit: LIMITS.maxEntriesPerResponse })
  }

  private ask(partner: ShopId): void {
    const afterSeq = this.deps.writer.state.seq
    this.asked.set(partner, { seq: afterSeq, at: this.deps.clock.now() })
    this.deps.transport.send(partner, 'feed', { type: 'feed.get', author: this.deps.identity.id, afterSeq, limit: LIMITS.maxEntriesPerResponse })
  }

  private pause(marker: RejoinMarker): void {
    this.marker = marker
    this.confirmed.clear()
    this.caughtUp.clear()
    this.deps.writer.pause(
      `this node is confirming where its own feed ends with its partners (${marker.reason}); it writes again once every partner has answered (standin status)`,
    )
    this.deps.emit(this.deps.clock.now(), { kind: 'rejoin', phase: 'started', reason: marker.reason, seq: this.deps.writer.state.seq })
  }

  /** Our deferred records applied again (what still cannot be is counted), the marker deleted, the writer resumed. */
  private async finish(): Promise<void> {
    const marker = this.marker
    if (marker === null) return
    const tx = new Tx()
    for (const { seq, records } of this.deferred) {
      const again = await this.deps.applyOwn(seq, records, tx, true)
      this.count(records.length, again.skipped)
    }
    this.deferred = []
    tx.del('meta', META.rejoin)
    await commit(this.deps.store, tx)
    this.marker = null
    this.deps.writer.resume()
    const seq = this.deps.writer.state.seq
    this.deps.logger.info(
      { seq, partners: this.confirmed.size, rebuilt: this.rebuilt, notRebuilt: Object.fromEntries(this.notRebuilt) },
      'every partner confirmed where our feed ends: writing again after it',
    )
    this.deps.emit(this.deps.clock.now(), { kind: 'rejoin', phase: 'done', reason: marker.reason, seq })
  }

  private count(records: number, skipped: readonly string[]): void {
    this.rebuilt += records - skipped.length
    for (const type of skipped) this.notRebuilt.set(type, (this.notRebuilt.get(type) ?? 0) + 1)
  }

  private async takeBack(from: ShopId, raw: readonly unknown[]): Promise<void> {
    const me = this.deps.identity.id
    const tx = new Tx()
    let head: FeedState = this.deps.writer.state
    const deferred: { seq: number; records: FeedRecord[] }[] = []
    for (const [i, item] of raw.entries()) {
      const verified = verifyEntry(item)
      if (!verified.ok || verified.value.body.author !== me) {
        this.deps.logger.warn({ partner: from, index: i, reason: verified.ok ? 'not our entry' : verified.error.message }, 'refused an entry offered as ours')
        break
      }
      const entry = verified.value
      const held = entry.body.seq <= head.seq ? await this.ownEntryAt(entry.body.seq, tx) : undefined
      const placed = classifyEntry(head, entry, held)
      if (!placed.ok || placed.value.kind === 'fork' || placed.value.kind === 'gap') {
        const why = placed.ok ? placed.value.kind : placed.error.message
        this.deps.logger.warn({ partner: from, seq: entry.body.seq, reason: why }, 'an entry offered as ours does not follow our head')
        break
      }
      if (placed.value.kind === 'duplicate') continue
      const opened = readRecords(entry, me, this.deps.box)
      if (!opened.ok) {
        this.deps.logger.error({ seq: entry.body.seq, reason: opened.error.message }, 'an entry of our own feed does not open with our box key')
        break
      }
      // The last pass may not defer: past the bound, what would wait is counted as not rebuilt.
      const last = this.deferredCount >= MAX_DEFERRED_OWN_RECORDS
      const applied = await this.deps.applyOwn(entry.body.seq, opened.value, tx, last)
      this.count(opened.value.length - applied.deferred.length, applied.skipped)
      if (applied.deferred.length > 0) deferred.push({ seq: entry.body.seq, records: applied.deferred })
      this.deps.writer.adopt(entry, tx)
      head = placed.value.head
    }
    if (head.seq === this.deps.writer.state.seq) return
    await commit(this.deps.store, tx)
    this.deferred.push(...deferred)
    this.deferredCount += deferred.reduce((n, d) => n + d.records.length, 0)
    this.deps.logger.info({ partner: from, seq: head.seq }, 'took back entries of our own feed from a partner')
  }

  private async ownEntryAt(seq: number, tx: Tx): Promise<FeedEntry | undefined> {
    const key = seqKey(this.deps.identity.id, seq)
    return (tx.seen('entries', key) as FeedEntry | undefined) ?? (await this.deps.store.get<FeedEntry>('entries', key))
  }

  private async ownHashAt(seq: number): Promise<string | null> {
    if (seq === 0) return null
    const entry = await this.deps.store.get<FeedEntry>('entries', seqKey(this.deps.identity.id, seq))
    return entry ? entryHash(entry) : null
  }
}
