// Property: a signed document or feed entry that was changed after signing never verifies. Every
// mutant gets a typed rejection ({ ok: false, error: { code, message } }), never an exception;
// what does verify must be the original (same canonical body, same signature), which covers the
// changes that keep the value, such as re-serialising it. Correctly signed entries that do not
// extend the feed (wrong seq, wrong prev hash, another author) are refused by the chain check.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  canonicalJson,
  type FeedEntryBody,
  fromBase64url,
  type Result,
  signBytes,
  signingBytes,
  toBase64url,
  verifyDocument,
  verifyEntry,
  verifyForkProof,
  verifyRun,
} from '../../protocol/index.js'
import { alice, bob, carol, mallory } from '../protocol/fixtures.js'
import { FEED, FORKED, SIGNED_DOCUMENTS } from './documents.js'
import { mutantOf, toJsonText } from './mutate.js'
import { FUZZ_SEED, fuzzParameters, SEED_LABEL } from './seed.js'

const ENTRY_RUNS = 60_000
const DOCUMENT_RUNS = 40_000
// The placement space is small (6 heads × 7 seq shifts × 3 prevs × 3 signers): each case ~5 times.
const CHAIN_RUNS = 2_000
const FORK_PROOF_RUNS = 5_000
/** A guard against a hang, not a performance assertion. */
const HANG_GUARD_MS = 300_000

type DocType = (typeof SIGNED_DOCUMENTS)[number]['type']
type Doc = { body: unknown; sig: string }

/** The body field naming each type's signer (protocol/sign.ts DOCUMENTS). */
const SIGNER_FIELD: Record<DocType, string> = {
  'shop-card': 'id',
  'feed-entry': 'author',
  heartbeat: 'from',
  lease: 'grantor',
  'down-vote': 'voter',
  'takeover-request': 'origin',
  claim: 'claimant',
  'feed-ack': 'holder',
  'drill-request': 'origin',
  'drill-report': 'holder',
  succession: 'predecessor',
}
const OTHER_PARTIES = [alice, bob, carol, mallory].map((s) => s.identity.id)

interface Attempt {
  readonly raw: unknown
  readonly how: string
  /** The value is unchanged (only its text was): it must still verify. */
  readonly mustPass?: boolean
}

const viaWire = (value: unknown): unknown => {
  const text = toJsonText(value)
  return text === '' ? undefined : JSON.parse(text)
}

function shuffledKeys(value: unknown, turn: number): unknown {
  if (Array.isArray(value)) return value.map((v) => shuffledKeys(v, turn))
  if (typeof value !== 'object' || value === null) return value
  const entries = Object.entries(value)
  const k = turn % (entries.length || 1)
  return Object.fromEntries([...entries.slice(k), ...entries.slice(0, k)].reverse().map(([key, v]) => [key, shuffledKeys(v, turn + 1)]))
}

const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'

/** Ways to change a signed document after it was signed (plus the ones that keep its value). */
function attempts(type: DocType, doc: Doc): fc.Arbitrary<Attempt> {
  const canonical = canonicalJson(doc)
  const sigBytes = fromBase64url(doc.sig)
  const signer = SIGNER_FIELD[type]
  return fc.oneof(
    { weight: 10, arbitrary: mutantOf(doc, { grow: false }).map((m) => ({ raw: viaWire(m.value), how: `${m.op} at ${m.path.join('.')}` })) },
    {
      weight: 3,
      arbitrary: fc.nat({ max: sigBytes.length * 8 - 1 }).map((bit) => {
        const flipped = Uint8Array.from(sigBytes)
        flipped[bit >> 3]! ^= 1 << (bit & 7)
        return { raw: { body: doc.body, sig: toBase64url(flipped) }, how: `signature bit ${bit} flipped` }
      }),
    },
    {
      weight: 2,
      arbitrary: fc
        .tuple(fc.nat({ max: doc.sig.length - 1 }), fc.constantFrom(...B64URL))
        .filter(([i, c]) => doc.sig[i] !== c)
        .map(([i, c]) => ({
          raw: { body: doc.body, sig: doc.sig.slice(0, i) + c + doc.sig.slice(i + 1) },
          how: `signature character ${i} now ${c}`,
        })),
    },
    {
      weight: 3,
      arbitrary: fc
        .tuple(fc.nat({ max: canonical.length - 1 }), fc.integer({ min: 0x20, max: 0x7e }))
        .filter(([i, c]) => canonical.charCodeAt(i) !== c)
        .map(([i, c]) => {
          const text = canonical.slice(0, i) + String.fromCharCode(c) + canonical.slice(i + 1)
          try {
            return { raw: JSON.parse(text) as unknown, how: `text byte ${i} now ${String.fromCharCode(c)}` }
          } catch {
            return { raw: text, how: 'text that is no longer JSON' }
          }
        }),
    },
    {
      weight: 1,
      arbitrary: fc
        .constantFrom(...OTHER_PARTIES)
        .filter((id) => id !== (doc.body as Record<string, unknown>)[signer])
        .map((id) => ({ raw: { body: { ...(doc.body as object), [signer]: id }, sig: doc.sig }, how: `${signer} swapped for ${id}` })),
    },
    {
      weight: 1,
      arbitrary: fc.constant({
        raw: { body: doc.body, sig: signBytes(mallory.identity, signingBytes(type, doc.body)) },
        how: "signed by mallory in the signer's name",
      }),
    },
    {
      weight: 1,
      arbitrary: fc.tuple(fc.nat(), fc.constantFrom(0, 1, 2, '\t')).map(([turn, indent]) => ({
        raw: JSON.parse(JSON.stringify(shuffledKeys(doc, turn), null, indent)) as unknown,
        how: 'keys reordered and re-indented',
        mustPass: true,
      })),
    },
    {
      weight: 1,
      arbitrary: fc
        .oneof(fc.jsonValue(), fc.record({ body: fc.jsonValue(), sig: fc.oneof(fc.string(), fc.constant(doc.sig)) }))
        .map((raw) => ({ raw, how: 'random JSON' })),
    },
  )
}

/** Checks one verdict and returns it ('accepted' or the error code); throws what would be a finding. */
function checkVerdict(verdict: () => Result<{ body: unknown; sig: string }>, original: Doc, attempt: Attempt): string {
  let result: Result<{ body: unknown; sig: string }>
  try {
    result = verdict()
  } catch (error) {
    throw new Error(`threw instead of a typed rejection (${attempt.how}): ${String(error)}`)
  }
  if (result.ok) {
    if (result.value.sig !== original.sig || canonicalJson(result.value.body) !== canonicalJson(original.body)) {
      throw new Error(`accepted a changed document (${attempt.how}): ${toJsonText(result.value).slice(0, 500)}`)
    }
    return 'accepted'
  }
  if (attempt.mustPass) throw new Error(`refused an unchanged document (${attempt.how}): ${result.error.message}`)
  if (!['invalid', 'bad-signature'].includes(result.error.code) || typeof result.error.message !== 'string' || result.error.message === '') {
    throw new Error(`untyped rejection (${attempt.how}): ${JSON.stringify(result.error)}`)
  }
  return result.error.code
}

const count = (tally: Map<string, number>, key: string) => void tally.set(key, (tally.get(key) ?? 0) + 1)

describe(`signed documents under mutation (${SEED_LABEL})`, () => {
  it(
    `${ENTRY_RUNS} mutated feed entries: verifyEntry never accepts a changed entry`,
    () => {
      const tally = new Map<string, number>()
      const cases = fc.oneof(...FEED.entries.map((entry, i) => attempts('feed-entry', entry).map((a) => [i, a] as const)))
      fc.assert(
        fc.property(cases, ([i, attempt]) =>
          count(
            tally,
            checkVerdict(() => verifyEntry(attempt.raw), FEED.entries[i]!, attempt),
          ),
        ),
        fuzzParameters(ENTRY_RUNS),
      )
      console.info(`fuzz feed entries (seed ${FUZZ_SEED}): ${JSON.stringify(Object.fromEntries(tally))}`)
      expect([...tally.values()].reduce((a, b) => a + b)).toBe(ENTRY_RUNS)
      // Most mutations change the entry; the few accepted are re-serialisations and no-op changes.
      expect(tally.get('accepted') ?? 0).toBeLessThan(ENTRY_RUNS * 0.2)
      expect(Math.min(tally.get('invalid') ?? 0, tally.get('bad-signature') ?? 0)).toBeGreaterThan(0)
    },
    HANG_GUARD_MS,
  )

  it(
    `${DOCUMENT_RUNS} mutated documents of every type: verifyDocument never accepts a changed one`,
    () => {
      const tally = new Map<string, number>()
      const cases = fc.oneof(...SIGNED_DOCUMENTS.map(({ type, doc }, i) => attempts(type, doc).map((a) => [i, a] as const)))
      fc.assert(
        fc.property(cases, fc.nat({ max: SIGNED_DOCUMENTS.length - 1 }), ([i, attempt], j) => {
          const { type, doc } = SIGNED_DOCUMENTS[i]!
          count(
            tally,
            checkVerdict(() => verifyDocument(type, attempt.raw), doc, attempt),
          )
          // A signature is bound to its document type: the original offered as another type fails.
          const other = SIGNED_DOCUMENTS[j]!.type
          if (other !== type && checkVerdict(() => verifyDocument(other, doc), doc, { raw: doc, how: `${type} offered as ${other}` }) === 'accepted') {
            throw new Error(`a ${type} verified as a ${other}`)
          }
        }),
        fuzzParameters(DOCUMENT_RUNS),
      )
      console.info(`fuzz signed documents (seed ${FUZZ_SEED}): ${JSON.stringify(Object.fromEntries(tally))}`)
      expect([...tally.values()].reduce((a, b) => a + b)).toBe(DOCUMENT_RUNS)
      expect(tally.get('accepted') ?? 0).toBeLessThan(DOCUMENT_RUNS * 0.2)
    },
    HANG_GUARD_MS,
  )

  it(
    `${CHAIN_RUNS} correctly signed entries at the wrong place: only the true successor extends the feed`,
    () => {
      const codes = new Set<string>()
      const cases = fc.record({
        at: fc.nat({ max: FEED.heads.length - 1 }),
        seqShift: fc.integer({ min: -3, max: 3 }),
        prev: fc.constantFrom('head', 'other', 'null'),
        signer: fc.constantFrom('alice', 'bob', 'mallory-as-alice'),
      })
      fc.assert(
        fc.property(cases, ({ at, seqShift, prev, signer }) => {
          const head = FEED.heads[at]!
          const other = FEED.heads[(at + 1) % FEED.heads.length]!.hash ?? FEED.heads[1]!.hash
          const author = signer === 'bob' ? bob.identity.id : alice.identity.id
          const body: FeedEntryBody = {
            author,
            seq: Math.max(1, head.seq + 1 + seqShift),
            prev: prev === 'head' ? head.hash : prev === 'other' ? other : null,
            time: 1,
            terms: FEED.entries[0]!.body.terms,
            records: [{ type: 'order.delivered', order: `X-${at}`, time: 1 }],
            sealed: null,
          }
          const key = signer === 'bob' ? bob.identity : signer === 'alice' ? alice.identity : mallory.identity
          const entry = { body, sig: signBytes(key, signingBytes('feed-entry', body)) }
          const run = verifyRun(head, [viaWire(entry)])
          const extendsFeed = signer === 'alice' && body.seq === head.seq + 1 && body.prev === head.hash
          if (run.ok !== extendsFeed) throw new Error(`verifyRun ${run.ok ? 'accepted' : 'refused'} ${JSON.stringify({ at, seqShift, prev, signer })}`)
          if (!run.ok) codes.add(run.error.code)
        }),
        fuzzParameters(CHAIN_RUNS),
      )
      expect([...codes].sort()).toEqual(['bad-chain', 'bad-signature', 'invalid', 'stale'])
    },
    HANG_GUARD_MS,
  )

  it(
    `${FORK_PROOF_RUNS} mutated fork proofs: only the genuine proof of equivocation verifies`,
    () => {
      const proof = { a: FEED.entries[1]!, b: FORKED }
      expect(verifyForkProof(proof).ok).toBe(true)
      fc.assert(
        fc.property(mutantOf(proof, { grow: false }), (m) => {
          const result = verifyForkProof(viaWire(m.value))
          if (result.ok && canonicalJson(result.value) !== canonicalJson(proof)) throw new Error(`accepted a changed proof (${m.op} at ${m.path.join('.')})`)
          if (!result.ok && !['invalid', 'bad-signature'].includes(result.error.code)) throw new Error(`untyped rejection: ${JSON.stringify(result.error)}`)
        }),
        fuzzParameters(FORK_PROOF_RUNS),
      )
    },
    HANG_GUARD_MS,
  )
})
