// The node's Store over LevelDB: one sublevel per section, JSON values, atomic batches across
// sections. classic-level on disk for real nodes, memory-level for tests and the simulator: both
// implement abstract-level, so one class serves both. On disk every value is sealed
// (sealed-values.ts); the keys are ids (order, allotment, key, feed and statement ids, shop ids,
// sequence numbers), never a card key's text or a buyer's contact, so they stay plain and ordered.
import { ClassicLevel } from 'classic-level'
import { MemoryLevel } from 'memory-level'
import type { AbstractLevel, AbstractSublevel } from 'abstract-level'
import type { RangeOptions, Section, Store, StoreOp } from '../core/ports.js'
import { migrate } from './migrations.js'
import { SealedValueError, sealedJsonEncoding } from './sealed-values.js'

type Db = AbstractLevel<string | Uint8Array | Buffer, string, unknown>
type Sub = AbstractSublevel<Db, string | Uint8Array | Buffer, string, unknown>

/** Largest batch one write accepts; callers batch below it (TigerBeetle style: a limit on everything). */
export const MAX_OPS_PER_WRITE = 50_000
/**
 * Largest `limit` a range may ask for. A range without one streams the whole span: a node's loads
 * at start and a takeover's plan read every row of a section, and a cap here cut them off
 * silently at 100,000 rows (found by `npm run bench -- memory`, issue 22).
 */
export const MAX_RANGE_LIMIT = 100_000

/** Every section the store holds (tests snapshot them all). */
export const SECTIONS: readonly Section[] = [
  'meta',
  'entries',
  'heads',
  'orders',
  'acks',
  'agreements',
  'cards',
  'forks',
  'incidents',
  'allotments',
  'keys',
  'ledger',
  'receipts',
  'outbox',
  'authority',
  'held',
  'refusals',
  'peer-keys',
]

type ValueEncoding = 'json' | ReturnType<typeof sealedJsonEncoding>

/**
 * An op as abstract-level hands it to the database underneath (its "private API", which
 * classic-level implements): key prefixed with its section, value already encoded.
 */
type EncodedOp = { type: 'put'; key: string; value: Buffer | string } | { type: 'del'; key: string }
/** classic-level's `_batch`: the one native call a batch ends in. */
type NativeBatch = (ops: EncodedOp[], options: { sync: boolean }) => Promise<void>

/** Per-op options of a write: key and value arrive encoded (see `write`). */
const RAW_KEY = { keyEncoding: 'utf8' } as const
const RAW_SEALED = { keyEncoding: 'utf8', valueEncoding: 'buffer' } as const
const RAW_JSON = { keyEncoding: 'utf8', valueEncoding: 'utf8' } as const

export class LevelStore implements Store {
  private readonly subs = new Map<Section, Sub>()
  /** Each section's key prefix in the root db (abstract-level's sublevel prefix, '!section!'). */
  private readonly prefixes = new Map<Section, string>()
  /** A value as its section's encoding stores it, and the per-op options that say so. */
  private readonly encode: (value: unknown) => Buffer | string
  private readonly putOptions: typeof RAW_SEALED | typeof RAW_JSON
  /** On disk, writes go straight to classic-level's batch (see `write`); null in memory. */
  private readonly nativeBatch: NativeBatch | null

  private constructor(
    private readonly db: Db,
    encoding: ValueEncoding,
  ) {
    this.nativeBatch = db instanceof ClassicLevel ? (db as unknown as { _batch: NativeBatch })._batch.bind(db) : null
    for (const section of SECTIONS) {
      const sub = db.sublevel<string, unknown>(section, { valueEncoding: encoding as never }) as Sub
      this.subs.set(section, sub)
      this.prefixes.set(section, sub.prefix)
    }
    this.encode = encoding === 'json' ? (value) => JSON.stringify(value) : (value) => encoding.encode(value)
    this.putOptions = encoding === 'json' ? RAW_JSON : RAW_SEALED
  }

  /**
   * Opens (creating if needed) the on-disk store in `path`, every value sealed under `key`
   * (storeKeyFromSeed). An older store is migrated first, a newer one refused (migrations.ts).
   */
  static async openOnDisk(path: string, key: Uint8Array): Promise<LevelStore> {
    const db = new ClassicLevel<string, unknown>(path, { valueEncoding: 'json' }) as unknown as Db
    await db.open()
    try {
      await migrate(db, sealedJsonEncoding(key), SECTIONS, path)
    } catch (error) {
      await db.close()
      throw error
    }
    return new LevelStore(db, sealedJsonEncoding(key))
  }

  static async openInMemory(): Promise<LevelStore> {
    const db = new MemoryLevel<string, unknown>({ valueEncoding: 'json' }) as unknown as Db
    await db.open()
    return new LevelStore(db, 'json')
  }

  private sub(section: Section): Sub {
    const sub = this.subs.get(section)
    if (!sub) throw new Error(`unknown store section ${section}`)
    return sub
  }

  private prefixOf(section: Section): string {
    const prefix = this.prefixes.get(section)
    if (prefix === undefined) throw new Error(`unknown store section ${section}`)
    return prefix
  }

  async get<T = unknown>(section: Section, key: string): Promise<T | undefined> {
    return (await this.sub(section).get(key).catch(decodeReason)) as T | undefined
  }

  async getMany<T = unknown>(section: Section, keys: readonly string[]): Promise<(T | undefined)[]> {
    if (keys.length === 0) return []
    return (await this.sub(section)
      .getMany([...keys])
      .catch(decodeReason)) as (T | undefined)[]
  }

  async write(ops: readonly StoreOp[], options: { readonly sync: boolean }): Promise<void> {
    if (ops.length === 0) return
    if (ops.length > MAX_OPS_PER_WRITE) throw new Error(`store write of ${ops.length} ops exceeds ${MAX_OPS_PER_WRITE}`)
    if (this.nativeBatch !== null) return this.writeNative(this.nativeBatch, ops, options.sync)
    // One chained batch on the root db, each key prefixed with its section's and each value encoded
    // here as its section reads it back: abstract-level's array batch over sublevels clones and
    // re-normalises every op, and that was a fifth of the time of booking and stating lines.
    const batch = this.db.batch()
    try {
      for (const op of ops) {
        const key = `${this.prefixOf(op.section)}${op.key}`
        if (op.type === 'put' && (op.value === undefined || op.value === null)) throw new Error(`store value of ${op.section}/${op.key} is ${op.value}`)
        if (op.type === 'put') batch.put(key, this.encode(op.value) as never, this.putOptions as never)
        else batch.del(key, RAW_KEY as never)
      }
    } catch (error) {
      await batch.close()
      throw error
    }
    // classic-level honours `sync`; memory-level ignores it (there is no disk to sync).
    await batch.write({ sync: options.sync } as never)
  }

  /**
   * The on-disk write: each op encoded here exactly as abstract-level would pass it down (key
   * prefixed, value sealed), then one call to classic-level's `_batch`. abstract-level's own batch
   * spends more per op normalising options and encodings than LevelDB spends writing it (1,000
   * puts of 400 bytes, unsynced: 14.9 µs an op chained, 17.7 µs as an array, 5.4 µs through
   * `_batch`; measured with a throwaway script, docs/decisions.md D104), and the store uses none of what that buys
   * (hooks, write events, per-op encodings). Reads still go through abstract-level.
   */
  private async writeNative(nativeBatch: NativeBatch, ops: readonly StoreOp[], sync: boolean): Promise<void> {
    const encoded: EncodedOp[] = new Array(ops.length)
    for (let i = 0; i < ops.length; i++) {
      const op = ops[i] as StoreOp
      const key = `${this.prefixOf(op.section)}${op.key}`
      if (op.type === 'del') {
        encoded[i] = { type: 'del', key }
        continue
      }
      if (op.value === undefined || op.value === null) throw new Error(`store value of ${op.section}/${op.key} is ${op.value}`)
      encoded[i] = { type: 'put', key, value: this.encode(op.value) }
    }
    // abstract-level's own check, skipped with it: the native handle must not be used once closed.
    if (this.db.status !== 'open') throw new Error(`store is ${this.db.status}, not open: write refused`)
    await nativeBatch(encoded, { sync })
  }

  async *range<T = unknown>(section: Section, options: RangeOptions): AsyncIterable<[string, T]> {
    const limit = options.limit === undefined ? Infinity : Math.min(options.limit, MAX_RANGE_LIMIT)
    const iterator = this.sub(section).iterator({ ...options, limit })
    try {
      for await (const [key, value] of iterator) yield [key, value as T]
    } catch (error) {
      decodeReason(error)
    } finally {
      await iterator.close()
    }
  }

  /**
   * Every key and raw value of the store (values as sealed on disk), read from one LevelDB
   * snapshot taken by this call: a consistent copy while the node keeps writing (`standin
   * backup`, D92). Keys are the sublevels' (`!section!key`).
   */
  rawPairs(): AsyncIterable<[string, Buffer]> {
    return drain(snapshotIterator(this.db))
  }

  async close(): Promise<void> {
    await this.db.close()
  }
}

type RawIterator = AsyncIterable<[string, Buffer]> & { close(): Promise<void> }

/** One iterator over every section: abstract-level reads it from one implicit snapshot, taken now. */
function snapshotIterator(db: Db): RawIterator {
  return db.iterator({ keyEncoding: 'utf8', valueEncoding: 'buffer' } as never) as unknown as RawIterator
}

async function* rawPairsOf(db: Db): AsyncIterable<[string, Buffer]> {
  yield* drain(snapshotIterator(db))
}

async function* drain(iterator: RawIterator): AsyncIterable<[string, Buffer]> {
  try {
    for await (const [key, value] of iterator) yield [key, value]
  } finally {
    await iterator.close()
  }
}

/** A stopped node's store read raw, as `rawPairs` (a backup without a running node). */
export async function* rawPairsOnDisk(path: string): AsyncIterable<[string, Buffer]> {
  const db = new ClassicLevel<string, unknown>(path, { createIfMissing: false, valueEncoding: 'json' }) as unknown as Db
  await db.open()
  try {
    yield* rawPairsOf(db)
  } finally {
    await db.close()
  }
}

/** Pairs per synced batch when a backup is written back. */
const RESTORE_BATCH_PAIRS = 10_000

/** Writes raw pairs (from rawPairs) into a new store at `path`, synced; returns how many. */
export async function writeRawPairs(path: string, pairs: AsyncIterable<readonly [string, Buffer]>): Promise<number> {
  const db = new ClassicLevel<string, Buffer>(path, { errorIfExists: true, keyEncoding: 'utf8', valueEncoding: 'buffer' })
  await db.open()
  let count = 0
  try {
    let batch: { type: 'put'; key: string; value: Buffer }[] = []
    for await (const [key, value] of pairs) {
      batch.push({ type: 'put', key, value })
      count++
      if (batch.length >= RESTORE_BATCH_PAIRS) {
        await db.batch(batch, { sync: true })
        batch = []
      }
    }
    if (batch.length > 0) await db.batch(batch, { sync: true })
  } finally {
    await db.close()
  }
  return count
}

/** abstract-level reports "Could not decode value"; the operator needs the reason beneath it. */
function decodeReason(error: unknown): never {
  const { code, cause } = error as { code?: unknown; cause?: unknown }
  if (code === 'LEVEL_DECODE_ERROR' && cause instanceof SealedValueError) throw new SealedValueError(cause.message, { cause: error })
  throw error
}
