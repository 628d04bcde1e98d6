// The hash-chained, append-only feed each shop writes (docs/design.md §5), in the spirit of hypercore:
// a small structure that verifies itself. An entry is valid against its predecessor alone, so a
// holder needs only the head (seq, hash) to extend it, and two signed entries with one seq are a
// portable proof of equivocation.
import { hashOf } from './encoding.js'
import { assert, fail, ok, type Result } from './errors.js'
import type { BoxKeyPair, Identity } from './identity.js'
import { LIMITS } from './limits.js'
import { type FeedEntry, type FeedEntryBody, ForkProof } from './schemas/feed.js'
import type { ShopId } from './schemas/primitives.js'
import { type FeedRecord, FeedRecordList } from './schemas/records.js'
import { type BoxKeyring, openJson, type RandomBytes, type Recipient, sealJson } from './seal.js'
import { signDocument, verifyDocument } from './sign.js'
import { formatZodError } from './validate.js'

/** What a holder remembers of a feed: seq 0 with a null hash is the empty feed. */
export interface FeedState {
  readonly author: ShopId
  readonly seq: number
  readonly hash: string | null
}

export function emptyHead(author: ShopId): FeedState {
  return { author, seq: 0, hash: null }
}

/** An entry's identity: SHA-256 of its canonical body (the signature is not part of the chain). */
export function entryHash(entry: FeedEntry): string {
  return hashOf(entry.body)
}

export function headAfter(entry: FeedEntry): FeedState {
  return { author: entry.body.author, seq: entry.body.seq, hash: entryHash(entry) }
}

export interface AppendInput {
  readonly identity: Identity
  readonly head: FeedState
  readonly time: number
  readonly terms: string
  /** Records every holder of the feed can read. */
  readonly records?: readonly FeedRecord[]
  /** Records encrypted once to `recipients` (the author should include itself to reread them). */
  readonly sealed?: {
    readonly records: readonly FeedRecord[]
    readonly recipients: readonly Recipient[]
    readonly sender: BoxKeyPair
    readonly random: RandomBytes
  }
}

/** Builds and signs the next entry of our own feed. */
export function appendEntry(input: AppendInput): FeedEntry {
  const { identity, head } = input
  assert(head.author === identity.id, 'only the author appends to a feed')
  const clear = input.records ?? []
  const hidden = input.sealed?.records ?? []
  assert(clear.length + hidden.length > 0, 'an entry carries at least one record')
  assert(clear.length + hidden.length <= LIMITS.maxRecordsPerEntry, 'too many records for one entry')
  const body: FeedEntryBody = {
    author: identity.id,
    seq: head.seq + 1,
    prev: head.hash,
    time: input.time,
    terms: input.terms,
    records: [...clear],
    sealed: input.sealed && hidden.length > 0 ? sealJson(hidden, input.sealed.recipients, input.sealed.sender, input.sealed.random) : null,
  }
  return signDocument('feed-entry', body, identity)
}

/** Schema and signature of an entry from anyone; the chain is checked by classifyEntry. */
export function verifyEntry(raw: unknown): Result<FeedEntry> {
  return verifyDocument('feed-entry', raw)
}

export type Classified =
  | { readonly kind: 'next'; readonly head: FeedState }
  | { readonly kind: 'duplicate' }
  | { readonly kind: 'gap'; readonly afterSeq: number }
  | { readonly kind: 'fork'; readonly proof: ForkProof }

/**
 * Places a verified entry against what we hold. `heldAtSeq` is our stored entry with the same seq
 * when entry.seq <= head.seq (needed to tell a harmless duplicate from a fork).
 */
export function classifyEntry(head: FeedState, entry: FeedEntry, heldAtSeq?: FeedEntry): Result<Classified> {
  const { author, seq, prev } = entry.body
  if (author !== head.author) return fail('bad-chain', `entry by ${author} offered for the feed of ${head.author}`)
  if (seq <= head.seq) {
    if (!heldAtSeq || heldAtSeq.body.seq !== seq) return fail('stale', `seq ${seq} is at or below head ${head.seq}`)
    if (entryHash(heldAtSeq) === entryHash(entry)) return ok({ kind: 'duplicate' })
    return ok({ kind: 'fork', proof: { a: heldAtSeq, b: entry } })
  }
  if (seq > head.seq + 1) return ok({ kind: 'gap', afterSeq: head.seq })
  if (prev !== head.hash) return fail('bad-chain', `seq ${seq} names prev ${prev ?? 'null'}, head is ${head.hash ?? 'null'}`)
  return ok({ kind: 'next', head: headAfter(entry) })
}

/** Verifies a run of raw entries that must extend `head` contiguously (catch-up responses). */
export function verifyRun(head: FeedState, raw: readonly unknown[]): Result<{ head: FeedState; entries: FeedEntry[] }> {
  let current = head
  const entries: FeedEntry[] = []
  for (const [i, item] of raw.entries()) {
    const verified = verifyEntry(item)
    if (!verified.ok) return fail(verified.error.code, `entries.${i}: ${verified.error.message}`)
    const placed = classifyEntry(current, verified.value)
    if (!placed.ok) return fail(placed.error.code, `entries.${i}: ${placed.error.message}`)
    if (placed.value.kind !== 'next') return fail('bad-chain', `entries.${i}: expected seq ${current.seq + 1}, got ${placed.value.kind}`)
    current = placed.value.head
    entries.push(verified.value)
  }
  return ok({ head: current, entries })
}

/** A fork proof is valid when both entries verify, share author and seq, and differ. */
export function verifyForkProof(raw: unknown): Result<ForkProof> {
  const parsed = ForkProof.safeParse(raw)
  if (!parsed.success) return fail('invalid', `fork proof: ${formatZodError(parsed.error)}`)
  const a = verifyEntry(parsed.data.a)
  if (!a.ok) return fail(a.error.code, `fork proof a: ${a.error.message}`)
  const b = verifyEntry(parsed.data.b)
  if (!b.ok) return fail(b.error.code, `fork proof b: ${b.error.message}`)
  if (a.value.body.author !== b.value.body.author) return fail('invalid', 'fork proof: entries have different authors')
  if (a.value.body.seq !== b.value.body.seq) return fail('invalid', 'fork proof: entries have different seqs')
  if (entryHash(a.value) === entryHash(b.value)) return fail('invalid', 'fork proof: entries are identical')
  return ok(parsed.data)
}

/** All records of an entry we may read: the clear ones, then the sealed ones if addressed to us. */
export function readRecords(entry: FeedEntry, me: ShopId, mine: BoxKeyring): Result<FeedRecord[]> {
  const records = [...entry.body.records]
  const sealed = entry.body.sealed
  if (sealed && sealed.keys.some((k) => k.to === me)) {
    const opened = openJson(sealed, me, mine, FeedRecordList)
    if (!opened.ok) return fail(opened.error.code, `entry ${entry.body.seq}: ${opened.error.message}`)
    records.push(...opened.value)
  }
  if (records.length > LIMITS.maxRecordsPerEntry) return fail('invalid', `entry ${entry.body.seq}: too many records`)
  return ok(records)
}
