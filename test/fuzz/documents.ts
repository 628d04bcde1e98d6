// Valid signed documents and wire messages for the decoder suites to mutate: a short chain of
// alice's feed (clear and sealed records), one of every single-signer document type, and one of
// every feed and control message. Small on purpose: each is mutated tens of thousands of times.
import {
  appendEntry,
  buildCertificate,
  type ControlMessage,
  type DocumentType,
  emptyHead,
  entryHash,
  type FeedEntry,
  type FeedMessage,
  type FeedRecord,
  type FeedState,
  headAfter,
  sha256,
  signDocument,
  termsHash,
  toBase64url,
  unwrap,
  utf8,
  drillProof,
} from '../../protocol/index.js'
import { alice, bob, carol, cny, mallory, random, sampleTerms, T0 } from '../protocol/fixtures.js'

const TERMS = sampleTerms()
const TERMS_HASH = termsHash(TERMS)
const hash = (label: string) => toBase64url(sha256(utf8(label)))

const claim = signDocument(
  'claim',
  { claimant: bob.identity.id, origin: alice.identity.id, orders: ['A-1', 'A-2'], terms: TERMS_HASH, epoch: 1, time: T0 + 5 },
  bob.identity,
)

// One entry per line; the first also carries a record sealed to three parties.
const RECORDS: readonly (readonly FeedRecord[])[] = [
  [{ type: 'order.delivered', order: 'D-1', time: T0 + 1 }],
  [
    { type: 'order.cancelled', order: 'C-1', reason: 'refunded' },
    { type: 'partner.revoked', partner: carol.identity.id, reason: 'left' },
  ],
  [{ type: 'claim', claim }],
  [
    {
      type: 'receipt',
      origin: bob.identity.id,
      order: 'B-1',
      sku: 'steam-50',
      allotment: 'al-1',
      keyIds: ['k-1', 'k-2'],
      channel: 'email',
      epoch: 1,
      time: T0 + 4,
      amount: cny(5_000),
      unitValue: cny(4_500),
      terms: TERMS_HASH,
    },
  ],
  [{ type: 'handback', epoch: 1, receipts: [{ fulfiller: bob.identity.id, order: 'A-1', receipt: hash('receipt A-1') }], time: T0 + 5 }],
]

const escrowed: FeedRecord = {
  type: 'order.escrowed',
  order: 'A-1',
  sku: 'steam-50',
  qty: 1,
  amount: cny(5_000),
  paidAt: T0,
  buyer: { email: 'buyer@example.com', locale: 'zh-CN' },
  claimVerifier: hash('claim verifier'),
}

function chain(): { entries: FeedEntry[]; heads: FeedState[] } {
  const rng = random('fuzz chain')
  const entries: FeedEntry[] = []
  const heads: FeedState[] = [emptyHead(alice.identity.id)]
  for (const [i, records] of RECORDS.entries()) {
    const head = heads[heads.length - 1]!
    const sealed = i === 0 ? { records: [escrowed], recipients: [alice.recipient, bob.recipient, carol.recipient], sender: alice.box, random: rng } : undefined
    const entry = appendEntry({ identity: alice.identity, head, time: T0 + i, terms: TERMS_HASH, records, sealed })
    entries.push(entry)
    heads.push(headAfter(entry))
  }
  return { entries, heads }
}

/** alice's feed: entries[i] has seq i + 1; heads[i] is the head before entries[i]. */
export const FEED = chain()

/** Another entry with seq 2: together with FEED.entries[1], proof that alice forked her feed. */
export const FORKED = appendEntry({
  identity: alice.identity,
  head: FEED.heads[1]!,
  time: T0 + 99,
  terms: TERMS_HASH,
  records: [{ type: 'order.delivered', order: 'D-99', time: T0 + 99 }],
})

const vote = (voter: typeof bob) =>
  signDocument(
    'down-vote',
    { voter: voter.identity.id, origin: alice.identity.id, terms: TERMS_HASH, epoch: 1, time: T0 + 3, reason: 'heartbeat-timeout' },
    voter.identity,
  )

/** One valid document of every single-signer type. */
export const SIGNED_DOCUMENTS: readonly { readonly type: Exclude<DocumentType, 'terms'>; readonly doc: { body: unknown; sig: string } }[] = [
  { type: 'feed-entry', doc: FEED.entries[0]! },
  {
    type: 'heartbeat',
    doc: signDocument(
      'heartbeat',
      {
        from: alice.identity.id,
        to: bob.identity.id,
        terms: TERMS_HASH,
        epoch: 0,
        time: T0,
        platform: 'up',
        head: { seq: 3, hash: entryHash(FEED.entries[2]!) },
      },
      alice.identity,
    ),
  },
  {
    type: 'lease',
    doc: signDocument(
      'lease',
      { grantor: bob.identity.id, origin: alice.identity.id, terms: TERMS_HASH, epoch: 0, time: T0, untilMs: T0 + 1_500 },
      bob.identity,
    ),
  },
  { type: 'down-vote', doc: vote(bob) },
  {
    type: 'takeover-request',
    doc: signDocument('takeover-request', { origin: alice.identity.id, terms: TERMS_HASH, epoch: 1, time: T0 + 2, reason: 'platform down' }, alice.identity),
  },
  { type: 'claim', doc: claim },
  {
    type: 'feed-ack',
    doc: signDocument(
      'feed-ack',
      { holder: bob.identity.id, author: alice.identity.id, seq: 3, head: entryHash(FEED.entries[2]!), time: T0 + 3 },
      bob.identity,
    ),
  },
  {
    type: 'drill-request',
    doc: signDocument(
      'drill-request',
      { origin: alice.identity.id, holder: bob.identity.id, id: 'drill-1', nonce: TERMS_HASH, sku: 'card-100', time: T0 + 4 },
      alice.identity,
    ),
  },
  {
    type: 'drill-report',
    doc: signDocument(
      'drill-report',
      {
        origin: alice.identity.id,
        holder: bob.identity.id,
        id: 'drill-1',
        nonce: TERMS_HASH,
        time: T0 + 5,
        terms: TERMS_HASH,
        allotments: [
          {
            allotment: 'al-1',
            sku: 'card-100',
            keyIds: ['k-1', 'k-2'],
            proof: drillProof(TERMS_HASH, [
              { keyId: 'k-1', key: 'AAAA' },
              { keyId: 'k-2', key: 'BBBB' },
            ]),
          },
        ],
        refused: null,
      },
      bob.identity,
    ),
  },
  {
    type: 'succession',
    doc: signDocument('succession', { predecessor: alice.identity.id, successor: mallory.identity.id, supersedes: TERMS_HASH, at: T0 + 6 }, alice.identity),
  },
  {
    type: 'shop-card',
    doc: signDocument(
      'shop-card',
      {
        id: alice.identity.id,
        name: 'Shop A',
        boxKey: toBase64url(alice.box.publicKey),
        addrs: ['/ip4/127.0.0.1/tcp/4001'],
        claimUrl: 'https://shop-a.example/claim',
        issuedAt: T0,
        validUntil: T0 + 86_400_000,
      },
      alice.identity,
    ),
  },
]

const certificate = unwrap(buildCertificate(TERMS, alice.identity.id, 1, [vote(bob), vote(carol)]))

/** One valid message of every kind on /standin/feed/1. */
export const FEED_MESSAGES: readonly FeedMessage[] = [
  { type: 'feed.get', author: alice.identity.id, afterSeq: 2, limit: 64 },
  { type: 'feed.entries', author: alice.identity.id, entries: FEED.entries.slice(1, 3) },
  { type: 'feed.ack', ack: SIGNED_DOCUMENTS.find((d) => d.type === 'feed-ack')!.doc as Extract<FeedMessage, { type: 'feed.ack' }>['ack'] },
  { type: 'feed.fork', proof: { a: FEED.entries[1]!, b: FORKED } },
  { type: 'feed.error', reason: 'unknown author' },
  { type: 'feed.held', author: alice.identity.id, seq: 2, head: entryHash(FEED.entries[1]!) },
  { type: 'feed.held', author: alice.identity.id, seq: 0, head: null },
]

const documentOf = <T>(type: string) => SIGNED_DOCUMENTS.find((d) => d.type === type)!.doc as T

/** One valid message of every kind on /standin/control/1. */
export const CONTROL_MESSAGES: readonly ControlMessage[] = [
  { type: 'heartbeat', heartbeat: documentOf('heartbeat') },
  { type: 'lease', lease: documentOf('lease') },
  { type: 'down-vote', vote: documentOf('down-vote') },
  { type: 'certificate', certificate },
  { type: 'takeover.request', request: documentOf('takeover-request') },
  { type: 'claim', claim: documentOf('claim') },
  { type: 'drill.request', request: documentOf('drill-request') },
  { type: 'drill.report', report: documentOf('drill-report') },
  { type: 'card', card: documentOf('shop-card') },
]
