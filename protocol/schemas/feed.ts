import { z } from 'zod'
import { LIMITS } from '../limits.js'
import { Hash, Seq, ShopId, TimeMs } from './primitives.js'
import { FeedRecordList } from './records.js'
import { SealedBox } from './sealed.js'
import { signedSchema } from './signed.js'

/**
 * One link of a shop's append-only feed. `records` are readable by every holder of the feed;
 * `sealed` holds further records encrypted to the recipients it names. Seq starts at 1 with a
 * null `prev`; every later entry names the hash of its predecessor's body.
 */
export const FeedEntryBody = z
  .strictObject({
    author: ShopId,
    seq: Seq.min(1),
    prev: Hash.nullable(),
    time: TimeMs,
    terms: Hash,
    records: FeedRecordList,
    sealed: SealedBox.nullable(),
  })
  .refine((e) => (e.seq === 1) === (e.prev === null), {
    message: 'must be null exactly at seq 1',
    path: ['prev'],
  })
  .refine((e) => e.records.length > 0 || e.sealed !== null, {
    message: 'an entry carries at least one record',
    path: ['records'],
  })
export type FeedEntryBody = z.infer<typeof FeedEntryBody>

export const FeedEntry = signedSchema(FeedEntryBody)
export type FeedEntry = z.infer<typeof FeedEntry>

/** Two entries signed by one author with one seq: portable proof that the author equivocated. */
export const ForkProof = z.strictObject({ a: FeedEntry, b: FeedEntry })
export type ForkProof = z.infer<typeof ForkProof>

export const FeedEntries = z.array(FeedEntry).max(LIMITS.maxEntriesPerResponse)
