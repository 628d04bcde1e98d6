// Feed replication (/standin/feed/1). Outbound: push our entries to each partner in order with a
// bounded window of unacknowledged entries, resend from the last ack after silence or reconnect.
// Inbound: verify signature → chain → open → schema, store in one synced batch, then ack.
import {
  assert,
  classifyEntry,
  documentJson,
  entryHash,
  type FeedAck,
  type FeedEntry,
  type FeedMessage,
  type FeedState,
  headAfter,
  type Identity,
  LIMITS,
  type ShopId,
  signDocument,
  verifyDocument,
  verifyEntry,
  verifyForkProof,
  readRecords,
  type BoxKeyring,
} from '../../protocol/index.js'
import type { FeedVerification } from './api.js'
import type { Background } from './background.js'
import type { EventSink } from './events.js'
import type { PeerWork } from './peer-work.js'
import type { Startable, Timers } from './lifecycle.js'
import { CATCH_UP_ENTRIES, REPLICATION_LIMITS } from './limits.js'
import type { Clock, Logger, Store, Transport } from './ports.js'
import type { OwnFeedRejoin } from './own-feed-rejoin.js'
import type { RecordApplier } from './records.js'
import { seqKey } from './state/codec.js'
import { Tx } from './state/tx.js'

export interface ReplicationLimits {
  /** Entries sent to one partner and not yet acknowledged. */
  readonly maxUnackedEntries: number
  /** Approximate bytes of entries in one feed.entries frame (well under the frame limit). */
  readonly maxFrameEntryBytes: number
  /** Resend from the last ack when a partner has been silent this long with entries outstanding. */
  readonly resendAfterMs: number
  /** Our recent entries kept in memory for pushing without a store read. */
  readonly recentEntries: number
}

export const DEFAULT_REPLICATION_LIMITS: ReplicationLimits = REPLICATION_LIMITS

interface Outbound {
  acked: number
  sentUpTo: number
  lastProgressAt: number
}

export interface ReplicationDeps {
  readonly identity: Identity
  /** Our box key pairs, current first (what partners sealed to us opens with one of them). */
  readonly box: BoxKeyring
  readonly store: Store
  readonly transport: Transport
  readonly clock: Clock
  readonly timers: Timers
  readonly logger: Logger
  readonly background: Background
  readonly work: PeerWork
  readonly emit: EventSink
  readonly apply: RecordApplier
  /** Runs a unit that may change order rows in its turn (State.serially): reads through commit. */
  readonly serially: <T>(unit: () => Promise<T>) => Promise<T>
  readonly partners: () => readonly ShopId[]
  readonly knownTerms: (hash: string) => boolean
  readonly ownHead: () => FeedState
  /** Our own feed taken back from partners after a restore (own-feed-rejoin.ts). */
  readonly rejoin: OwnFeedRejoin
}

type Sized = { entry: FeedEntry; bytes: number }

/** One feed.entries message being applied: the entries verified so far commit together. */
interface Incoming {
  readonly from: ShopId
  readonly author: ShopId
  /** Our head of the author's feed before this message. */
  readonly start: number
  head: FeedState
  readonly tx: Tx
  records: number
}

export class Replication implements Startable {
  private readonly outbound = new Map<ShopId, Outbound>()
  private readonly heads = new Map<ShopId, FeedState>()
  private readonly quarantined = new Set<ShopId>()
  private readonly recent = new Map<number, Sized>()
  /** Inbound work per author runs one message at a time, in arrival order. */
  private readonly inboundChains = new Map<ShopId, Promise<void>>()
  private readonly ackWaiters: { seq: number; resolve: (ok: boolean) => void }[] = []
  private readonly recentHashes = new Map<ShopId, Map<number, string>>()
  /** Signatures of the same entries: a copy is recognised without reading (and opening) the held one. */
  private readonly recentSigs = new Map<ShopId, Map<number, string>>()
  /** Per author whose heartbeat showed a head past ours: our head then, and since when it stood still. */
  private readonly behind = new Map<ShopId, { seq: number; sinceMs: number }>()

  constructor(
    private readonly deps: ReplicationDeps,
    private readonly limits: ReplicationLimits = DEFAULT_REPLICATION_LIMITS,
  ) {}

  async start(): Promise<void> {
    const now = this.deps.clock.now()
    for (const partner of this.deps.partners()) {
      const acked = (await this.deps.store.get<number>('acks', partner)) ?? 0
      this.outbound.set(partner, { acked, sentUpTo: acked, lastProgressAt: now })
      const head = await this.deps.store.get<{ seq: number; hash: string | null }>('heads', partner)
      this.heads.set(partner, { author: partner, seq: head?.seq ?? 0, hash: head?.hash ?? null })
      if (await this.deps.store.get('forks', partner)) this.quarantined.add(partner)
    }
  }

  headOf(author: ShopId): FeedState {
    return this.heads.get(author) ?? { author, seq: 0, hash: null }
  }

  ackedBy(partner: ShopId): number {
    return this.outbound.get(partner)?.acked ?? 0
  }

  isQuarantined(author: ShopId): boolean {
    return this.quarantined.has(author)
  }

  // ---- outbound ----

  onOwnAppended(entries: readonly FeedEntry[]): void {
    for (const entry of entries) {
      this.recent.set(entry.body.seq, { entry, bytes: documentJson(entry).length })
      this.recent.delete(entry.body.seq - this.limits.recentEntries)
    }
    for (const partner of this.deps.partners()) this.startPump(partner)
  }

  onConnected(partner: ShopId): void {
    const out = this.outbound.get(partner)
    if (!out) return
    out.sentUpTo = out.acked // whatever was in flight on the old connection may be gone
    out.lastProgressAt = this.deps.clock.now()
    this.startPump(partner)
    this.requestCatchUp(partner, partner)
    this.deps.rejoin.onConnected(partner)
  }

  /** Called every tick: resend to partners that went quiet with entries outstanding. */
  tick(): void {
    this.deps.rejoin.tick()
    const now = this.deps.clock.now()
    const head = this.deps.ownHead().seq
    for (const [partner, out] of this.outbound) {
      if (out.acked < head && now - out.lastProgressAt >= this.limits.resendAfterMs) {
        out.sentUpTo = out.acked
        out.lastProgressAt = now
        this.startPump(partner)
      }
    }
  }

  private startPump(partner: ShopId): void {
    this.deps.background.run('feed.pump', () => this.pump(partner))
  }

  private async pump(partner: ShopId): Promise<void> {
    const out = this.outbound.get(partner)
    if (!out || !this.deps.transport.isConnected(partner)) return
    const head = this.deps.ownHead().seq
    while (out.sentUpTo < head && out.sentUpTo - out.acked < this.limits.maxUnackedEntries) {
      const from = out.sentUpTo + 1
      const windowEnd = Math.min(head, out.acked + this.limits.maxUnackedEntries)
      const batch = await this.entriesFrom(this.deps.identity.id, from, windowEnd)
      if (batch.length === 0) return
      if (out.sentUpTo !== from - 1) return // another pump moved on while we read
      const sent = this.deps.transport.send(partner, 'feed', { type: 'feed.entries', author: this.deps.identity.id, entries: batch })
      if (!sent) return
      out.sentUpTo = from - 1 + batch.length
      assert(
        out.sentUpTo - out.acked <= this.limits.maxUnackedEntries && out.sentUpTo <= head,
        `sent ${out.sentUpTo}, acked ${out.acked}, head ${head}: past the window`,
      )
    }
  }

  /** Entries of `author` from seq `from` to `to`, cut to one frame's worth of bytes. */
  private async entriesFrom(author: ShopId, from: number, to: number): Promise<FeedEntry[]> {
    const out: FeedEntry[] = []
    let bytes = 0
    for (let seq = from; seq <= to && out.length < LIMITS.maxEntriesPerResponse; seq++) {
      let sized = author === this.deps.identity.id ? this.recent.get(seq) : undefined
      if (!sized) {
        const entry = await this.deps.store.get<FeedEntry>('entries', seqKey(author, seq))
        if (!entry) break
        sized = { entry, bytes: documentJson(entry).length }
      }
      if (out.length > 0 && bytes + sized.bytes > this.limits.maxFrameEntryBytes) break
      out.push(sized.entry)
      bytes += sized.bytes
    }
    return out
  }

  /**
   * A partner's heartbeat says its own feed reaches `seq`. Its pushes bring those entries (and it
   * resends after resendAfterMs of silence), so we ask for them only once our copy has stood still
   * behind that head for resendAfterMs. Asking at every heartbeat fetched, under steady writes,
   * entries already on their way: each arrived two or three times, and checking the copies took a
   * fifth of a partner's CPU (issue 22, `npm run bench -- escrow`).
   */
  onPartnerHead(author: ShopId, seq: number): void {
    const ours = this.headOf(author).seq
    if (seq <= ours) {
      this.behind.delete(author)
      return
    }
    const now = this.deps.clock.now()
    const was = this.behind.get(author)
    if (was === undefined || was.seq !== ours) {
      this.behind.set(author, { seq: ours, sinceMs: now })
      return
    }
    if (now - was.sinceMs < this.limits.resendAfterMs) return
    was.sinceMs = now
    this.deps.transport.send(author, 'feed', { type: 'feed.get', author, afterSeq: ours, limit: CATCH_UP_ENTRIES })
  }

  private requestCatchUp(peer: ShopId, author: ShopId): void {
    const head = this.headOf(author)
    this.deps.transport.send(peer, 'feed', { type: 'feed.get', author, afterSeq: head.seq, limit: LIMITS.maxEntriesPerResponse })
  }

  waitForAcks(seq: number, timeoutMs: number): Promise<boolean> {
    if (this.allAcked(seq)) return Promise.resolve(true)
    return new Promise((resolve) => {
      const waiter = { seq, resolve }
      this.ackWaiters.push(waiter)
      this.deps.timers.set(timeoutMs, () => {
        const i = this.ackWaiters.indexOf(waiter)
        if (i >= 0) {
          this.ackWaiters.splice(i, 1)
          resolve(false)
        }
      })
    })
  }

  /** Nobody waits for acks past stop: a waiting admin request hears false at once. */
  stop(): void {
    for (const waiter of this.ackWaiters.splice(0)) waiter.resolve(false)
  }

  private allAcked(seq: number): boolean {
    for (const partner of this.deps.partners()) if (this.ackedBy(partner) < seq) return false
    return true
  }

  /** Walks the stored chain of `author` from seq 1 to the head we hold, verifying every link. */
  async verifyHeld(author: ShopId): Promise<FeedVerification> {
    const target = author === this.deps.identity.id ? this.deps.ownHead() : this.heads.get(author)
    if (!target) return { verified: false, entries: 0, seq: 0, hash: null, error: 'not a feed we hold' }
    let head: FeedState = { author, seq: 0, hash: null }
    for await (const [, raw] of this.deps.store.range<unknown>('entries', { gt: seqKey(author, 0), lte: seqKey(author, target.seq) })) {
      const verified = verifyEntry(raw)
      const placed = verified.ok ? classifyEntry(head, verified.value) : verified
      if (!placed.ok) return { verified: false, entries: head.seq, seq: head.seq, hash: head.hash, error: placed.error.message }
      if (placed.value.kind !== 'next')
        return { verified: false, entries: head.seq, seq: head.seq, hash: head.hash, error: `entry after seq ${head.seq} is a ${placed.value.kind}` }
      head = placed.value.head
    }
    const complete = head.seq === target.seq && head.hash === target.hash
    return {
      verified: complete,
      entries: head.seq,
      seq: head.seq,
      hash: head.hash,
      ...(complete ? {} : { error: `chain ends at seq ${head.seq}, head is ${target.seq}` }),
    }
  }

  // ---- inbound ----

  /**
   * A frame from `from`. Resolves once it is taken (peer-work.ts bounds how many of one partner's
   * frames are in flight): the transport reads that partner's next frame only then.
   */
  onMessage(from: ShopId, message: FeedMessage): Promise<void> {
    const work = this.deps.work
    switch (message.type) {
      case 'feed.entries': {
        const author = message.author
        // Entries of one author are applied in arrival order, whoever relays them; our own come
        // back only to a node confirming its feed after a restore, and partners' wait until then
        // (dropped unacknowledged: they are sent again).
        if (author !== this.deps.identity.id && this.deps.rejoin.holdsPartnerFeeds) return Promise.resolve()
        return work.admit(from, 'feed.entries', () =>
          this.inOrder(from, author, () =>
            author === this.deps.identity.id && this.deps.rejoin.active
              ? this.deps.rejoin.receive(from, message.entries)
              : this.deps.serially(() => this.receiveEntries(from, author, message.entries)),
          ),
        )
      }
      case 'feed.held': {
        // After the entries it answers with: it says whether they reached the holder's head. Only
        // a restored node confirming its feed listens (own-feed-rejoin.ts).
        const { author, seq, head } = message
        const rejoin = this.deps.rejoin
        if (!rejoin.active) break
        if (author === this.deps.identity.id) work.task(from, 'feed.held', () => this.inOrder(from, author, () => rejoin.held(from, seq, head)))
        else if (author === from) work.task(from, 'feed.held', () => this.inOrder(from, author, () => rejoin.theirHeld(from, seq)))
        break
      }
      case 'feed.get':
        work.read(from, () => this.serve(from, message.author, message.afterSeq, message.limit))
        break
      case 'feed.ack':
        work.task(from, 'feed.ack', () => this.receiveAck(from, message.ack))
        break
      case 'feed.fork':
        work.task(from, 'feed.fork', () => this.receiveForkProof(from, message.proof))
        break
      case 'feed.error':
        this.deps.logger.warn({ from, reason: message.reason }, 'partner reported a feed error')
        break
    }
    return Promise.resolve()
  }

  /** Runs `unit` after every earlier unit for `author`'s feed. */
  private inOrder(from: ShopId, author: ShopId, unit: () => Promise<void>): Promise<void> {
    const previous = this.inboundChains.get(author) ?? Promise.resolve()
    const next = previous.then(unit).catch((error: unknown) => {
      this.deps.logger.error({ from, author, err: String(error) }, 'storing entries failed')
    })
    this.inboundChains.set(author, next)
    return next
  }

  private reject(from: ShopId, author: ShopId, code: string, reason: string): void {
    this.deps.logger.warn({ from, author, code, reason }, 'rejected feed entry')
    this.deps.emit(this.deps.clock.now(), { kind: 'entry-rejected', author, from, code, reason })
  }

  private async receiveEntries(from: ShopId, author: ShopId, raw: readonly unknown[]): Promise<void> {
    const me = this.deps.identity.id
    if (author === me || !this.heads.has(author)) return this.reject(from, author, 'not-a-party', 'entries of a feed we do not hold')
    if (this.quarantined.has(author)) return
    const head = this.headOf(author)
    const unit: Incoming = { from, author, start: head.seq, head, tx: new Tx(), records: 0 }
    const refuse = (code: string, reason: string) => this.finish(unit, () => this.reject(from, author, code, reason))
    for (const [i, item] of raw.entries()) {
      if (await this.isHeldCopy(author, item, unit)) continue
      const verified = verifyEntry(item)
      if (!verified.ok) return refuse(verified.error.code, `entries.${i}: ${verified.error.message}`)
      const entry = verified.value
      if (entry.body.author !== author) return refuse('bad-chain', `entries.${i}: authored by ${entry.body.author}`)
      const held = entry.body.seq <= unit.head.seq ? await this.heldEntry(author, entry.body.seq, unit.tx) : undefined
      const placed = classifyEntry(unit.head, entry, held)
      if (!placed.ok) return refuse(placed.error.code, `entries.${i}: ${placed.error.message}`)
      const kind = placed.value.kind
      if (kind === 'duplicate') continue
      if (kind === 'gap') {
        const afterSeq = unit.head.seq
        return this.finish(unit, () => {
          this.deps.emit(this.deps.clock.now(), { kind: 'gap', author, afterSeq, askedFrom: from })
          this.requestCatchUp(from, author)
        })
      }
      if (kind === 'fork') {
        await this.finish(unit, () => undefined)
        return this.quarantine(author, placed.value.proof)
      }
      if (!this.deps.knownTerms(entry.body.terms)) return refuse('terms', `entries.${i}: refers to terms we never signed`)
      const opened = readRecords(entry, me, this.deps.box)
      if (!opened.ok) return refuse(opened.error.code, `entries.${i}: ${opened.error.message}`)
      unit.tx.put('entries', seqKey(author, entry.body.seq), entry)
      await this.deps.apply(author, entry, opened.value, unit.tx)
      unit.records += opened.value.length
      unit.head = headAfter(entry)
      this.noteHash(unit.head, entry.sig)
    }
    await this.finish(unit, () => undefined)
  }

  /**
   * Whether `item` carries the signature of the entry we hold at its seq: a resend, or a catch-up
   * that crossed a push. Such a copy is skipped before the costly checks (schema, canonical
   * encoding, signature). That is safe: the held entry verified when we stored it, and under one
   * signer's key two different bodies cannot carry one signature (Ed25519 signs the message's
   * hash; the simulator's MAC likewise), so the same signature is the same entry. Anything else,
   * a fork included, goes through verifyEntry and classifyEntry.
   */
  private async isHeldCopy(author: ShopId, item: unknown, unit: Incoming): Promise<boolean> {
    if (typeof item !== 'object' || item === null) return false
    const { body, sig } = item as { body?: unknown; sig?: unknown }
    const seq = typeof body === 'object' && body !== null ? (body as { seq?: unknown }).seq : undefined
    if (typeof sig !== 'string' || typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 1 || seq > unit.head.seq) return false
    const recent = this.recentSigs.get(author)?.get(seq)
    if (recent !== undefined) return recent === sig
    const held = await this.heldEntry(author, seq, unit.tx)
    return held !== undefined && held.sig === sig
  }

  /** An entry we hold at `seq`: stored, or staged earlier in this same unit. */
  private async heldEntry(author: ShopId, seq: number, tx?: Tx): Promise<FeedEntry | undefined> {
    const key = seqKey(author, seq)
    const staged = tx?.seen('entries', key)
    if (staged) return staged as FeedEntry
    return this.deps.store.get<FeedEntry>('entries', key)
  }

  /** Commits what verified so far (synced, before the ack), acks, then runs `after`. */
  private async finish(unit: Incoming, after: () => void): Promise<void> {
    const { from, author, head, start, tx, records } = unit
    if (head.seq > start) {
      tx.put('heads', author, { seq: head.seq, hash: head.hash })
      try {
        await this.deps.store.write(tx.ops, { sync: true })
      } catch (error) {
        tx.aborted()
        throw error
      }
      this.heads.set(author, head)
      this.deps.emit(this.deps.clock.now(), { kind: 'entries-stored', author, fromSeq: start + 1, toSeq: head.seq, records })
      tx.committed()
    }
    if (head.seq > 0 && head.hash !== null) this.sendAck(from, author, head)
    after()
  }

  private sendAck(to: ShopId, author: ShopId, head: FeedState): void {
    const ack = signDocument(
      'feed-ack',
      { holder: this.deps.identity.id, author, seq: head.seq, head: head.hash as string, time: this.deps.clock.now() },
      this.deps.identity,
    )
    this.deps.transport.send(to, 'feed', { type: 'feed.ack', ack })
    // The author learns of durability even when a co-partner relayed the entries to us, and every
    // co-partner compares the head we hold with its own copy: an author that showed different
    // entries with one seq to different partners is caught within one exchange (docs/design.md §5).
    for (const partner of this.deps.partners()) if (partner !== to) this.deps.transport.send(partner, 'feed', { type: 'feed.ack', ack })
  }

  private async receiveAck(from: ShopId, raw: unknown): Promise<void> {
    const verified = verifyDocument('feed-ack', raw)
    if (!verified.ok) return this.rejectMessage(from, verified.error.code, verified.error.message)
    const ack = verified.value.body
    if (ack.author !== this.deps.identity.id) return this.compareHeld(ack)
    const out = this.outbound.get(ack.holder)
    if (!out) return
    if (ack.seq <= out.acked) return
    // A partner says it holds more of our feed than we do. Either this store was copied back by
    // hand, not with `standin restore`, or the partner lies; one partner's word does not pause our
    // writer (it could stall us at will), so the operator hears it (D92).
    if (ack.seq > this.deps.ownHead().seq) {
      if (this.deps.rejoin.active) return // expected: the rejoin is fetching what we lack
      return this.rejectMessage(
        from,
        'ahead-of-us',
        `ack for seq ${ack.seq} of our feed; we hold ${this.deps.ownHead().seq}: if this data directory was copied back by hand, stop the node and use standin restore`,
      )
    }
    const ours = ack.seq === this.deps.ownHead().seq ? this.deps.ownHead().hash : await this.ownEntryHash(ack.seq)
    if (ours !== ack.head) return this.rejectMessage(from, 'bad-chain', `ack for seq ${ack.seq} names a head we never wrote`)
    out.acked = ack.seq
    out.lastProgressAt = this.deps.clock.now()
    if (out.sentUpTo < out.acked) out.sentUpTo = out.acked
    await this.deps.store.write([{ type: 'put', section: 'acks', key: ack.holder, value: ack.seq }], { sync: false })
    this.deps.emit(this.deps.clock.now(), { kind: 'ack', partner: ack.holder, seq: ack.seq })
    for (const waiter of [...this.ackWaiters]) {
      if (this.allAcked(waiter.seq)) {
        this.ackWaiters.splice(this.ackWaiters.indexOf(waiter), 1)
        waiter.resolve(true)
      }
    }
    this.startPump(ack.holder)
  }

  /**
   * A co-partner's ack names the entry hash it holds at a seq of a feed we hold too. Where we hold
   * another entry at that seq, we fetch the holder's: classifying it yields the fork proof.
   */
  private async compareHeld(ack: FeedAck): Promise<void> {
    const head = this.heads.get(ack.author)
    if (!head || ack.seq > head.seq || ack.holder === this.deps.identity.id || this.quarantined.has(ack.author) || !this.heads.has(ack.holder)) return
    const ours = this.recentHashes.get(ack.author)?.get(ack.seq) ?? (await this.heldEntry(ack.author, ack.seq).then((e) => (e ? entryHash(e) : null)))
    if (ours === null || ours === ack.head) return
    this.deps.transport.send(ack.holder, 'feed', { type: 'feed.get', author: ack.author, afterSeq: ack.seq - 1, limit: 1 })
  }

  /** Hashes and signatures of the latest entries we stored per author: comparing acks and spotting copies rarely read the store. */
  private noteHash(head: FeedState, sig: string): void {
    const note = (notes: Map<ShopId, Map<number, string>>, value: string) => {
      let recent = notes.get(head.author)
      if (!recent) notes.set(head.author, (recent = new Map()))
      recent.set(head.seq, value)
      recent.delete(head.seq - this.limits.recentEntries)
    }
    note(this.recentHashes, head.hash as string)
    note(this.recentSigs, sig)
  }

  private async ownEntryHash(seq: number): Promise<string | null> {
    const sized = this.recent.get(seq)
    const entry = sized?.entry ?? (await this.deps.store.get<FeedEntry>('entries', seqKey(this.deps.identity.id, seq)))
    return entry ? headAfter(entry).hash : null
  }

  private async serve(to: ShopId, author: ShopId, afterSeq: number, limit: number): Promise<void> {
    const head = author === this.deps.identity.id ? this.deps.ownHead() : this.heads.get(author)
    if (!head) return
    if (afterSeq < head.seq) {
      const entries = await this.entriesFrom(author, afterSeq + 1, Math.min(head.seq, afterSeq + limit))
      if (entries.length > 0) this.deps.transport.send(to, 'feed', { type: 'feed.entries', author, entries })
    }
    // Where we hold the feed, after the entries: a node restored from a backup learns where its own
    // feed ends, so it never signs a seq we hold another entry at, and when it has caught up on
    // ours (D92). Others ignore it.
    if (to === author || author === this.deps.identity.id) this.deps.transport.send(to, 'feed', { type: 'feed.held', author, seq: head.seq, head: head.hash })
  }

  private async quarantine(author: ShopId, proof: { a: FeedEntry; b: FeedEntry }): Promise<void> {
    if (this.quarantined.has(author)) return
    this.quarantined.add(author)
    await this.deps.store.write([{ type: 'put', section: 'forks', key: author, value: proof }], { sync: true })
    this.deps.logger.error({ author, seq: proof.a.body.seq }, 'feed fork: author quarantined, proof kept')
    this.deps.emit(this.deps.clock.now(), { kind: 'fork', author, seq: proof.a.body.seq })
    for (const partner of this.deps.partners()) if (partner !== author) this.deps.transport.send(partner, 'feed', { type: 'feed.fork', proof })
  }

  private async receiveForkProof(from: ShopId, raw: unknown): Promise<void> {
    const verified = verifyForkProof(raw)
    if (!verified.ok) return this.rejectMessage(from, verified.error.code, verified.error.message)
    const author = verified.value.a.body.author
    if (!this.heads.has(author)) return
    await this.quarantine(author, verified.value)
  }

  private rejectMessage(from: ShopId, code: string, reason: string): void {
    this.deps.logger.warn({ from, code, reason }, 'rejected feed message')
    this.deps.emit(this.deps.clock.now(), { kind: 'message-rejected', from, code, reason })
  }
}
