// The store's schema version and the migrations that bring an older store up to it, run when the
// node opens its store on disk, before anything reads it. A store has the version recorded under
// `meta`/`store.version`; one without it was written before versions existed (Standin 0.1.0 and
// earlier): version 0. Each migration runs in order and records its version when it is done, so a
// crash midway runs it again at the next start (each one is idempotent). A store with a version
// above this build's is refused untouched: an older Standin cannot know what a newer one changed.
//
// To change how anything is stored: raise STORE_VERSION, append a migration to MIGRATIONS that
// rewrites the old form (idempotently, in batches below MAX_OPS_PER_WRITE), and add the previous
// release's data directory as a fixture to test/store/upgrade.test.ts (test/fixtures/).
import { ClassicLevel } from 'classic-level'
import type { AbstractLevel } from 'abstract-level'
import { isSealed, type sealedJsonEncoding } from './sealed-values.js'

type Db = AbstractLevel<string | Uint8Array | Buffer, string, unknown>
type Sealed = ReturnType<typeof sealedJsonEncoding>

/** The version this build reads and writes. */
export const STORE_VERSION = 1
/** Where the version is recorded: section `meta`, this key. */
export const STORE_VERSION_KEY = 'store.version'

export class StoreVersionError extends Error {}

interface Migration {
  /** The version the store has once this ran. */
  readonly to: number
  readonly what: string
  run(db: Db, sealed: Sealed, sections: readonly string[]): Promise<void>
}

/** Values re-sealed per batch by the first migration. */
const SEAL_BATCH_OPS = 1_000

const MIGRATIONS: readonly Migration[] = [
  {
    to: 1,
    what: 'every value sealed at rest (stores from before encryption at rest); the version recorded',
    run: sealPlainValues,
  },
]

/** Brings the store in `db` up to STORE_VERSION, or refuses it (StoreVersionError) when it is newer. Returns the version it had. */
export async function migrate(db: Db, sealed: Sealed, sections: readonly string[], path: string): Promise<number> {
  const found = await readVersion(db, sealed)
  if (found > STORE_VERSION)
    throw new StoreVersionError(
      `${path}: this store has version ${found}, written by a newer Standin; this one reads version ${STORE_VERSION} and has not touched it. ` +
        'Run the Standin that wrote it (or a newer one), or restore a backup this version made.',
    )
  for (const migration of MIGRATIONS) {
    if (migration.to <= found) continue
    await migration.run(db, sealed, sections)
    await writeVersion(db, sealed, migration.to)
  }
  return found
}

/** The version recorded in the store; 0 when none is (a store from before versions). */
export async function readVersion(db: Db, sealed: Sealed): Promise<number> {
  const raw = await rawMeta(db).get(STORE_VERSION_KEY)
  if (raw === undefined) return 0
  const value = (isSealed(raw) ? sealed.decode(raw) : JSON.parse(raw.toString('utf8'))) as { version?: unknown }
  if (typeof value.version !== 'number' || !Number.isInteger(value.version) || value.version < 1)
    throw new StoreVersionError(`meta/${STORE_VERSION_KEY}: not a store version (${JSON.stringify(value)})`)
  return value.version
}

async function writeVersion(db: Db, sealed: Sealed, version: number): Promise<void> {
  await rawMeta(db).put(STORE_VERSION_KEY, Buffer.from(sealed.encode({ version })), { sync: true } as never)
}

function rawMeta(db: Db) {
  return db.sublevel<string, Buffer>('meta', { valueEncoding: 'buffer' })
}

/**
 * Migration 1: seals every plain (JSON) value left by a node from before encryption at rest, then
 * compacts so LevelDB drops the old plaintext from its files. A crash midway leaves sealed and
 * plain values side by side, and the next start finishes the job.
 */
async function sealPlainValues(db: Db, sealed: Sealed, sections: readonly string[]): Promise<void> {
  let found = false
  for (const section of sections) {
    const raw = db.sublevel<string, Buffer>(section, { valueEncoding: 'buffer' })
    let batch: { type: 'put'; key: string; value: Buffer }[] = []
    for await (const [key, value] of raw.iterator()) {
      if (isSealed(value)) continue
      batch.push({ type: 'put', key, value: Buffer.from(sealed.encode(JSON.parse(value.toString('utf8')))) })
      if (batch.length >= SEAL_BATCH_OPS) {
        await raw.batch(batch, { sync: true } as never)
        batch = []
      }
      found = true
    }
    if (batch.length > 0) await raw.batch(batch, { sync: true } as never)
  }
  // Sublevel keys all begin with '!' (0x21) and section names are plain ASCII letters and '-'.
  if (found && db instanceof ClassicLevel) await db.compactRange('!', '~')
}
