// Our own feed with group commit: callers queue records (and the unit of state changes that must
// commit with them); whenever no append is in flight, everything queued becomes one or more signed
// entries written in ONE synced batch. One signature and one fsync per batch is how escrow gets fast.
import {
  appendEntry,
  assert,
  type BoxKeyPair,
  documentJson,
  type FeedEntry,
  type FeedRecord,
  type FeedState,
  headAfter,
  type Identity,
  LIMITS,
  type Recipient,
} from '../../protocol/index.js'
import { UnavailableError } from './api.js'
import type { Clock, Rng, Store, StoreOp } from './ports.js'
import { META, seqKey } from './state/codec.js'
import { Signal, type Startable } from './lifecycle.js'
import { FEED_WRITER_LIMITS } from './limits.js'
import type { Tx } from './state/tx.js'

export interface FeedWriterDeps {
  readonly identity: Identity
  readonly box: BoxKeyPair
  readonly store: Store
  readonly clock: Clock
  readonly rng: Rng
  readonly termsHash: () => string
  /** Who can open the sealed part of our entries: us and every partner with a known box key. */
  readonly recipients: () => readonly Recipient[]
}

export interface FeedWriterLimits {
  readonly maxRecordsPerEntry: number
  readonly maxEntriesPerFlush: number
  readonly maxQueuedRecords: number
}

export const DEFAULT_FEED_WRITER_LIMITS: FeedWriterLimits = FEED_WRITER_LIMITS

interface Pending {
  readonly clear: readonly FeedRecord[]
  readonly sealed: readonly FeedRecord[]
  readonly tx: Tx | undefined
  readonly build: ((seq: number) => void) | undefined
  readonly resolve: (seq: number) => void
  readonly reject: (error: Error) => void
}

export class FeedWriter implements Startable {
  /** Entries of our own feed, durable (replication sends them on). */
  readonly appended = new Signal<[entries: readonly FeedEntry[]]>()
  private head: FeedState
  private readonly queue: Pending[] = []
  private queuedRecords = 0
  private flushing = false
  /** Why appends are refused now (a restored node confirming its head: own-feed-rejoin.ts), or null. */
  private pausedBecause: string | null = null
  /** The flush running now, if any: stop waits for it, so the next engine reads the head it wrote. */
  private flushed: Promise<void> = Promise.resolve()
  private stopped = false

  constructor(
    private readonly deps: FeedWriterDeps,
    private readonly limits: FeedWriterLimits = DEFAULT_FEED_WRITER_LIMITS,
  ) {
    assert(limits.maxRecordsPerEntry <= LIMITS.maxRecordsPerEntry, 'entry record limit above the protocol limit')
    this.head = { author: deps.identity.id, seq: 0, hash: null }
  }

  async start(): Promise<void> {
    const stored = await this.deps.store.get<{ seq: number; hash: string | null }>('meta', META.ownHead)
    if (stored) this.head = { author: this.deps.identity.id, seq: stored.seq, hash: stored.hash }
  }

  /**
   * Refuses appends from now on and waits for those queued: the engine that replaces this one (a
   * restart on a revocation, a card, terms) starts its own writer from the head this one left. A
   * stopped writer that still signed would fork our feed.
   */
  async stop(): Promise<void> {
    this.stopped = true
    await this.flushed
  }

  get state(): FeedState {
    return this.head
  }

  /**
   * Refuses appends until `resume`: a node that may be behind its own feed must not sign a seq it
   * may have signed before (a fork). Appends already queued still run.
   */
  pause(reason: string): void {
    this.pausedBecause = reason
  }

  resume(): void {
    this.pausedBecause = null
  }

  get paused(): string | null {
    return this.pausedBecause
  }

  /**
   * An entry of our own feed fetched back from a partner while paused, verified by the caller as
   * the next one after our head: staged into `tx` with the head it makes, which moves once `tx`
   * commits. Our feed has one writer: this class, whether it signs an entry or takes one back.
   */
  adopt(entry: FeedEntry, tx: Tx): void {
    assert(this.pausedBecause !== null, 'own entries are taken back only while appends are paused')
    assert(entry.body.author === this.deps.identity.id, 'adopt takes entries of our own feed')
    const before = tx.seen('meta', META.ownHead) as { seq: number; hash: string | null } | undefined
    const head = before ? { author: this.deps.identity.id, ...before } : this.head
    assert(entry.body.seq === head.seq + 1 && entry.body.prev === head.hash, `entry ${entry.body.seq} does not follow our head ${head.seq}`)
    const next = headAfter(entry)
    tx.put('entries', seqKey(next.author, next.seq), entry)
    tx.put('meta', META.ownHead, { seq: next.seq, hash: next.hash })
    tx.afterCommit(() => {
      if (next.seq > this.head.seq) this.head = next
    })
  }

  /**
   * Resolves with the seq of the entry that holds the records, once it is durable. `tx` holds the
   * state changes that commit atomically with the entry; `build`, called once the entry's seq is
   * known (synchronously, at the write), adds the ones that name it. `tx` is committed before this
   * resolves, or aborted if the write fails.
   */
  append(clear: readonly FeedRecord[], sealed: readonly FeedRecord[], tx?: Tx, build?: (seq: number) => void): Promise<number> {
    const count = clear.length + sealed.length
    assert(count > 0, 'append needs at least one record')
    assert(clear.length <= this.limits.maxRecordsPerEntry && sealed.length <= this.limits.maxRecordsPerEntry, 'one append must fit one entry')
    // Refused before it is queued: the unit is aborted here too, so what it reserved in memory (a
    // holding count, keys taken) goes back, as after a failed write (seeds ops-160, ops-182).
    const refused =
      (this.stopped ? 'the engine stopped; retry in a moment' : null) ??
      this.pausedBecause ??
      (this.queuedRecords + count > this.limits.maxQueuedRecords ? `feed queue full (${this.queuedRecords} records waiting); retry shortly` : null)
    if (refused !== null) {
      tx?.aborted()
      return Promise.reject(new UnavailableError(refused))
    }
    return new Promise<number>((resolve, reject) => {
      this.queue.push({ clear, sealed, tx, build, resolve, reject })
      this.queuedRecords += count
      assert(this.queuedRecords <= this.limits.maxQueuedRecords, `${this.queuedRecords} records queued`)
      // Not a Background task: appenders wait on it, so it runs even while the engine stops.
      if (!this.flushing) this.flushed = this.flush().catch((error: unknown) => this.failQueued(error as Error))
    })
  }

  private async flush(): Promise<void> {
    if (this.flushing) return
    this.flushing = true
    try {
      while (this.queue.length > 0) await this.flushOnce()
    } finally {
      this.flushing = false
    }
  }

  private async flushOnce(): Promise<void> {
    const entries: FeedEntry[] = []
    const ops: StoreOp[] = []
    const settled: { pending: Pending; seq: number }[] = []
    let head = this.head
    while (this.queue.length > 0 && entries.length < this.limits.maxEntriesPerFlush) {
      const clear: FeedRecord[] = []
      const sealed: FeedRecord[] = []
      const members: Pending[] = []
      while (this.queue.length > 0) {
        const next = this.queue[0] as Pending
        const fitsClear = clear.length + next.clear.length <= this.limits.maxRecordsPerEntry
        const fitsSealed = sealed.length + next.sealed.length <= this.limits.maxRecordsPerEntry
        if (members.length > 0 && !(fitsClear && fitsSealed)) break
        this.queue.shift()
        clear.push(...next.clear)
        sealed.push(...next.sealed)
        members.push(next)
      }
      let entry: FeedEntry
      try {
        entry = appendEntry({
          identity: this.deps.identity,
          head,
          time: this.deps.clock.now(),
          terms: this.deps.termsHash(),
          records: clear,
          sealed:
            sealed.length > 0
              ? { records: sealed, recipients: this.deps.recipients(), sender: this.deps.box, random: (n) => this.deps.rng.bytes(n) }
              : undefined,
        })
      } catch (error) {
        // A record that cannot be signed (the schemas should have refused it) fails its own
        // appenders with the reason; the queue behind it and the node carry on.
        for (const m of members) {
          m.tx?.aborted()
          m.reject(error as Error)
        }
        this.releaseCounts(members.map((pending) => ({ pending })))
        continue
      }
      head = headAfter(entry)
      entries.push(entry)
      // Its JSON text, written once here: its row at rest, its size and every partner's frame take it.
      documentJson(entry)
      ops.push({ type: 'put', section: 'entries', key: seqKey(head.author, head.seq), value: entry })
      for (const m of members) {
        m.build?.(head.seq)
        if (m.tx) ops.push(...m.tx.ops)
        settled.push({ pending: m, seq: head.seq })
      }
    }
    ops.push({ type: 'put', section: 'meta', key: META.ownHead, value: { seq: head.seq, hash: head.hash } })
    try {
      await this.deps.store.write(ops, { sync: true })
    } catch (error) {
      for (const { pending } of settled) {
        pending.tx?.aborted()
        pending.reject(error as Error)
      }
      this.releaseCounts(settled)
      return
    }
    this.head = head
    this.releaseCounts(settled)
    for (const { pending } of settled) pending.tx?.committed()
    for (const { pending, seq } of settled) pending.resolve(seq)
    this.appended.emit(entries)
  }

  /** An unexpected failure outside one flush's write: every appender waiting hears it. */
  private failQueued(error: Error): void {
    const failed = this.queue.splice(0)
    for (const pending of failed) {
      pending.tx?.aborted()
      pending.reject(error)
    }
    this.releaseCounts(failed.map((pending) => ({ pending })))
  }

  private releaseCounts(settled: readonly { pending: Pending }[]): void {
    for (const { pending } of settled) this.queuedRecords -= pending.clear.length + pending.sealed.length
  }
}
