// One unit of work on the stored state. The state owners (this folder) add the ops that must
// commit together and say what changes in memory once they are durable; whoever writes the ops
// (the feed writer with an entry, replication with the entries it stores, or `commit` below)
// calls `committed()` after the synced write. Rows written earlier in the same unit are visible
// to later reads in it (`staged`), so a batch of records applies in feed order before it commits.
import { assert } from '../../../protocol/index.js'
import type { Section, Store, StoreOp } from '../ports.js'

export class Tx {
  readonly ops: StoreOp[] = []
  private readonly effects: (() => void)[] = []
  private readonly undo: (() => void)[] = []
  /**
   * Rows this unit wrote or read, by section then key. Keyed by the caller's own key string, not a
   * joined one: a string hashes once, and a partner stages 1,000 order rows per feed entry, each
   * looked up three or four times (issue 22's profile).
   */
  private readonly staged = new Map<Section, Map<string, unknown>>()
  private done = false

  private sectionOf(section: Section): Map<string, unknown> {
    let rows = this.staged.get(section)
    if (!rows) this.staged.set(section, (rows = new Map()))
    return rows
  }

  /** A row written by this unit, or `undefined` when it wrote none (null: it knows the row is absent). */
  seen(section: Section, key: string): unknown {
    return this.staged.get(section)?.get(key)
  }

  hasSeen(section: Section, key: string): boolean {
    return this.staged.get(section)?.has(key) ?? false
  }

  /** Remembers what a read found, so later steps of this unit agree with earlier ones. */
  note(section: Section, key: string, value: unknown): void {
    const rows = this.sectionOf(section)
    if (!rows.has(key)) rows.set(key, value ?? null)
  }

  put(section: Section, key: string, value: unknown): void {
    assert(!this.done, 'a committed unit takes no more writes')
    this.ops.push({ type: 'put', section, key, value })
    this.sectionOf(section).set(key, value)
  }

  del(section: Section, key: string): void {
    assert(!this.done, 'a committed unit takes no more writes')
    this.ops.push({ type: 'del', section, key })
    this.sectionOf(section).set(key, null)
  }

  /** Runs once the ops are durable, in the order added. */
  afterCommit(effect: () => void): void {
    this.effects.push(effect)
  }

  /** Runs if the ops were not written after all (what was reserved in memory is given back). */
  ifAborted(effect: () => void): void {
    this.undo.push(effect)
  }

  /** The writer of `ops` reports them durable: in-memory state follows. */
  committed(): void {
    assert(!this.done, 'a unit commits once')
    this.done = true
    for (const effect of this.effects) effect()
  }

  /** The write failed: nothing of this unit is stored; undo what it reserved in memory. */
  aborted(): void {
    if (this.done) return
    this.done = true
    for (const effect of [...this.undo].reverse()) effect()
  }
}

/** Writes the unit synced (it precedes an external effect) and applies its in-memory changes. */
export async function commit(store: Store, tx: Tx, options: { readonly sync: boolean } = { sync: true }): Promise<void> {
  try {
    if (tx.ops.length > 0) await store.write(tx.ops, options)
  } catch (error) {
    tx.aborted()
    throw error
  }
  tx.committed()
}

/**
 * Units that change existing order rows take turns, each from its first read to its commit. Two
 * units that read one row before either committed both decided from the same state, and the later
 * write undid the earlier: two partners' receipts for one order, arriving through two feeds, left
 * one fulfiller on the row and the duplicate delivery uncounted; a tombstone applied beside our
 * reservation lost one of the two. Rows created by the origin's own escrow need no turn (nothing
 * else writes a row that does not exist yet; concurrent submits of one order meet in
 * Escrow.inflight), so escrow keeps its group commit. A unit must not wait for another turn
 * inside its own (turns do not nest: it would wait for itself).
 */
export class Turns {
  private tail: Promise<unknown> = Promise.resolve()
  private busy = false

  /** Whether a unit holds the turn now (the owners assert it before changing an existing row). */
  get held(): boolean {
    return this.busy
  }

  run<T>(unit: () => Promise<T>): Promise<T> {
    const mine = this.tail.then(async () => {
      assert(!this.busy, 'two units hold the turn at once')
      this.busy = true
      try {
        return await unit()
      } finally {
        this.busy = false
      }
    })
    this.tail = mine.catch(() => undefined) // the failure is the caller's; the next unit still runs
    return mine
  }
}
