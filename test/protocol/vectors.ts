// Builds the published test vectors (protocol/vectors/*.json) from fixed seeds. Everything here is
// deterministic: a second implementation that reproduces these files byte for byte agrees with us.
import {
  appendEntry,
  buildCertificate,
  canonicalJson,
  claimVerifier,
  deterministicRandom,
  emptyHead,
  entryHash,
  type FeedEntry,
  type FeedState,
  feeFor,
  fromUtf8,
  hashOf,
  headAfter,
  rankPartners,
  sealJson,
  sha256,
  signDocument,
  signingBytes,
  termsHash,
  toBase64url,
  utf8,
} from '../../protocol/index.js'
import { alice, bob, carol, cny, dave, sampleTerms, type Shop, signedAgreement, T0 } from './fixtures.js'

function identityVector(s: Shop) {
  return {
    name: s.name,
    seedDerivation: `sha256(utf8("standin test identity ${s.name}"))`,
    seed: toBase64url(s.identity.seed),
    publicKey: toBase64url(s.identity.publicKey),
    shopId: s.identity.id,
    boxSecretDerivation: `sha256(utf8("standin test box ${s.name}"))`,
    boxSecretKey: toBase64url(s.box.secretKey),
    boxPublicKey: toBase64url(s.box.publicKey),
  }
}

function canonicalVectors() {
  const inputs: unknown[] = [
    { b: 2, a: 1 },
    { nested: { z: [3, 2, 1], a: null }, flag: true },
    { '€': 'euro', a: 'ascii', é: 'é', '\u0000': 'nul' },
    { money: cny(12_345), time: T0 },
    ['unicode 卡密', '\u2028', 'quote " and \\ backslash'],
  ]
  return inputs.map((input) => ({ input, canonical: canonicalJson(input), sha256: hashOf(input) }))
}

function signatureVectors(hash: string) {
  const heartbeat = signDocument(
    'heartbeat',
    { from: alice.identity.id, to: bob.identity.id, terms: hash, epoch: 0, time: T0, platform: 'up', head: { seq: 0, hash: null } },
    alice.identity,
  )
  const card = signDocument(
    'shop-card',
    {
      id: alice.identity.id,
      name: 'Alice 的卡铺',
      boxKey: toBase64url(alice.box.publicKey),
      addrs: ['/ip4/127.0.0.1/tcp/4101'],
      claimUrl: 'http://127.0.0.1:8101/claim',
      issuedAt: T0,
      validUntil: T0 + 86_400_000,
    },
    alice.identity,
  )
  return [
    { type: 'heartbeat', signingText: fromUtf8(signingBytes('heartbeat', heartbeat.body)), document: heartbeat },
    { type: 'shop-card', signingText: fromUtf8(signingBytes('shop-card', card.body)), document: card },
  ]
}

function feedVectors(hash: string, verifiers: readonly string[]) {
  const random = deterministicRandom('vectors/feed')
  const entries: FeedEntry[] = []
  let head: FeedState = emptyHead(alice.identity.id)
  const heads: FeedState[] = [head]
  for (let i = 1; i <= 3; i++) {
    const order = `A-${1000 + i}`
    const entry = appendEntry({
      identity: alice.identity,
      head,
      time: T0 + i * 1_000,
      terms: hash,
      records: i === 3 ? [{ type: 'order.delivered', order: 'A-1001', time: T0 + 3_000 }] : [],
      sealed: {
        records: [
          {
            type: 'order.escrowed',
            order,
            sku: 'steam-50',
            qty: 1,
            amount: cny(5_000),
            paidAt: T0 + i * 1_000 - 10,
            buyer: { email: `buyer${i}@example.com`, locale: 'zh-CN' },
            claimVerifier: verifiers[i] as string,
          },
        ],
        recipients: [alice.recipient, bob.recipient, carol.recipient],
        sender: alice.box,
        random,
      },
    })
    entries.push(entry)
    head = headAfter(entry)
    heads.push(head)
  }
  return { randomSeed: 'vectors/feed', entries, entryHashes: entries.map(entryHash), heads }
}

function sealedVector() {
  const plaintext = [{ keyId: 'k-1', key: 'AAAA-BBBB-CCCC-DDDD' }]
  const box = sealJson(plaintext, [bob.recipient], alice.box, deterministicRandom('vectors/sealed'))
  return { randomSeed: 'vectors/sealed', plaintext, plaintextJson: JSON.stringify(plaintext), sender: alice.name, recipients: [bob.name], box }
}

function certificateVector() {
  const terms = sampleTerms([alice, bob, carol, dave])
  const hash = termsHash(terms)
  const votes = [bob, carol].map((voter) =>
    signDocument(
      'down-vote',
      { voter: voter.identity.id, origin: alice.identity.id, terms: hash, epoch: 1, time: T0 + 5_000, reason: 'heartbeat-timeout' },
      voter.identity,
    ),
  )
  const cert = buildCertificate(terms, alice.identity.id, 1, votes)
  if (!cert.ok) throw new Error(cert.error.message)
  return { terms, termsHash: hash, certificate: cert.value }
}

/** A generated claim token (≥ STRONG_CLAIM_SECRET_CHARS): its verifier is a SHA-256. */
const token = (i: number) => `claim-token-vector-${String(i).padStart(4, '0')}`

export async function buildVectors(): Promise<Record<string, unknown>> {
  const terms = sampleTerms()
  const hash = termsHash(terms)
  const order = 'A-1001'
  return {
    'identities.json': { note: 'Ed25519 seeds → keys → PeerId shop ids; X25519 box keys', identities: [alice, bob, carol, dave].map(identityVector) },
    'canonical.json': { note: 'RFC 8785 canonical JSON and base64url SHA-256 of it', cases: canonicalVectors() },
    'signatures.json': {
      note: 'signature = Ed25519(seed, utf8(signingText)); signingText = "standin/1/" + type + "\\n" + canonical(body)',
      cases: signatureVectors(hash),
    },
    'agreement.json': { terms, termsHash: hash, agreement: signedAgreement(terms, [alice, bob, carol]) },
    'sealed.json': sealedVector(),
    'feed.json': feedVectors(hash, await Promise.all(Array.from({ length: 8 }, (_, i) => claimVerifier(alice.identity.id, `A-${1000 + i}`, token(i))))),
    'certificate.json': certificateVector(),
    'helpers.json': {
      claimVerifier: {
        rule: 'secret of ≥ 20 characters: sha256(utf8("standin/1/claim\\n" + origin + "\\n" + order + "\\n" + secret)); shorter: scrypt(same input, salt = utf8("standin/1/claim-kdf\\n" + origin + "\\n" + order), N = 2^14, r = 8, p = 1, 32 bytes); base64url',
        token: { origin: alice.identity.id, order, secret: token(1), verifier: await claimVerifier(alice.identity.id, order, token(1)) },
        password: { origin: alice.identity.id, order, secret: '123456', verifier: await claimVerifier(alice.identity.id, order, '123456') },
      },
      rank: {
        origin: alice.identity.id,
        order,
        candidates: [bob.identity.id, carol.identity.id, dave.identity.id],
        ranked: rankPartners(alice.identity.id, order, [bob.identity.id, carol.identity.id, dave.identity.id]),
      },
      drbg: {
        seed: 'vectors/drbg',
        first64: toBase64url(deterministicRandom('vectors/drbg')(64)),
        rule: 'block_i = sha256(utf8("standin/1/drbg\\n" + seed + "\\n" + i)), i = 0, 1, …',
      },
      fee: {
        amount: cny(10_000),
        fee: { bps: 250, fixed: cny(10) },
        result: (() => {
          const f = feeFor(cny(10_000), { bps: 250, fixed: cny(10) })
          return f.ok ? f.value : null
        })(),
      },
      sha256OfEmpty: toBase64url(sha256(utf8(''))),
    },
  }
}

/** Pretty JSON with a trailing newline: the byte form the vector files are stored in. */
export function vectorFileText(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`
}
