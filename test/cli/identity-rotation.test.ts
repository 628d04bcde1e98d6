// Handing a shop's place to a new identity (D99), between real data directories with real Ed25519
// keys, no network: the old key signs the succession and the new one the revision; the partners'
// exchanges sign it for their operators only when nothing else changed, and pass every signature
// back to the predecessor, whose node learns the handover is complete; the data directory then
// runs as the new identity on an empty store, the old one kept aside, also after a crash halfway.
import { existsSync, renameSync, rmSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { describe, expect, it, vi } from 'vitest'
import { randomBytes } from 'node:crypto'
import { type Agreement, type ControlMessage, identityFromSeed, signTerms, successionTerms, termsHash } from '../../protocol/index.js'
import { propose } from '../../node/cli/federation-commands.js'
import { rotateIdentity } from '../../node/cli/identity-commands.js'
import { DataDir } from '../../node/datadir.js'
import { TermsBook } from '../../node/terms/book.js'
import type { TermsExchange } from '../../node/terms/exchange.js'
import { TermsService } from '../../node/terms/service.js'
import { exchangeFor, federation, NOW, type Shop, shops, type Wire } from './terms-fixture.js'

interface Wired {
  readonly exchange: TermsExchange
  readonly sent: Wire['sent']
  readonly handedOver: Agreement[]
  readonly foreign: string[]
  deliver(from: string, message: ControlMessage): void
  connect(peer: string): void
}

/** `shop`'s exchange on a recording transport, noting handovers complete and foreign ones. */
function wire(shop: Shop): Wired {
  const handedOver: Agreement[] = []
  const foreign: string[] = []
  const w = exchangeFor(shop, { onHandedOver: (a) => handedOver.push(a), onForeignHandover: (from) => foreign.push(from) })
  return {
    exchange: w.exchange,
    sent: w.sent,
    handedOver,
    foreign,
    deliver: (from, message) => w.handler().onControlMessage(from, message),
    connect: (peer) => w.handler().onPeerConnected(peer),
  }
}

const termsTo = (w: Wired, peer: string): Agreement[] =>
  w.sent.filter((s) => s.peer === peer && s.message.type === 'terms.agreement').map((s) => (s.message as { agreement: Agreement }).agreement)

describe('handing a shop’s place to a new identity (D99)', () => {
  it('the old key signs the succession, the new one the revision; partners sign it for their operators and pass every signature back', () => {
    const { A, B, C } = federation()
    const before = A.book.inForce(NOW) as Agreement
    const proposed = new TermsService(A.dir).handOver(NOW)
    const successor = proposed.successor
    const revision = A.book.find(proposed.hash, NOW).agreement
    expect(revision.terms.parties).toEqual([B.book.me, C.book.me, successor].sort())
    expect(revision.terms.succession?.body).toMatchObject({ predecessor: A.book.me, successor, supersedes: termsHash(before.terms) })
    expect(revision.signatures.map((s) => s.signer)).toEqual([successor])
    expect(A.dir.cardOf(successor)?.body.name).toBe('Shop A')
    // Again while it waits: the same revision and the same new identity.
    expect(new TermsService(A.dir).handOver(NOW + 1)).toMatchObject({ hash: proposed.hash, successor })
    expect(A.book.handedOver(NOW)).toBeNull()

    // A's node passes it, and the successor's card, to B and C as they connect.
    const atA = wire(A)
    atA.connect(B.book.me)
    const first = termsTo(atA, B.book.me).find((a) => termsHash(a.terms) === proposed.hash) as Agreement
    expect(first).toBeDefined()
    expect(atA.sent.some((s) => s.peer === B.book.me && s.message.type === 'card' && s.message.card.body.id === successor)).toBe(true)

    // B's node signs it for its operator, and sends its copy to C and back to A.
    const atB = wire(B)
    atB.deliver(A.book.me, { type: 'terms.agreement', agreement: first })
    atB.deliver(A.book.me, { type: 'card', card: A.dir.cardOf(successor)! })
    const fromB = termsTo(atB, C.book.me)[0] as Agreement
    expect(fromB.signatures.map((s) => s.signer).sort()).toEqual([successor, B.book.me].sort())
    expect(termsTo(atB, A.book.me).some((a) => a.signatures.some((s) => s.signer === B.book.me))).toBe(true)
    expect(B.dir.cardOf(successor)?.body.id).toBe(successor)
    expect(B.book.inForce(NOW)?.terms.revision).toBe(1)

    // C's completes it: in force at C, and A learns every party signed.
    const atC = wire(C)
    atC.deliver(B.book.me, { type: 'terms.agreement', agreement: fromB })
    expect(C.book.inForce(NOW)?.terms.succession?.body.successor).toBe(successor)
    const complete = termsTo(atC, A.book.me).at(-1) as Agreement
    atA.deliver(C.book.me, { type: 'terms.agreement', agreement: complete })
    expect(atA.handedOver.map((a) => termsHash(a.terms))).toEqual([proposed.hash])
    expect(A.book.handedOver(NOW)?.terms.revision).toBe(2)
    // The old identity stands down as no removed shop: it runs on as it was until it restarts.
    expect(A.book.removal(NOW)).toBeNull()
    expect(A.book.inForce(NOW)?.terms.revision).toBe(1)
    // The next revision after the handover carries no succession: it names the terms it followed
    // (the simulator's seed ci-105 found the next revision carrying it along, refused as invalid).
    const next = propose({ dir: C.path, addSku: ['steam-9=9.00'], removeSku: [] })
    const after = C.book.find(next.hash, NOW).agreement.terms
    expect(after).toMatchObject({ revision: 3, supersedes: proposed.hash })
    expect(after.succession).toBeUndefined()
  })

  it('the data directory then runs as the new identity, on an empty store, the old one aside; a crash halfway ends the same', () => {
    const { A } = federation()
    const old = A.book.me
    const successor = A.dir.successorIdentity().id
    expect(A.dir.successorIdentity().id).toBe(successor)
    A.dir.handOver(NOW)
    const after = new DataDir(A.path).keys()
    expect(after.identity.id).toBe(successor)
    expect(after.secrets.successorSeed).toBeUndefined()
    expect(after.secrets.predecessors?.map((p) => p.id)).toEqual([old])
    expect(identityFromSeed(Buffer.from(after.secrets.predecessors![0]!.seed, 'base64url')).id).toBe(old)
    expect(existsSync(A.dir.retiredDbPath(old))).toBe(true)
    expect(existsSync(A.dir.dbPath)).toBe(false)
    // Stopped after secrets.json, before the store moved: the next start moves it.
    renameSync(A.dir.retiredDbPath(old), A.dir.dbPath)
    expect(A.dir.finishHandover()).toBe(A.dir.retiredDbPath(old))
    expect(existsSync(A.dir.dbPath)).toBe(false)
    // Done: nothing moves again, whatever store the successor writes.
    A.dir.finishHandover()
    expect(A.dir.finishHandover()).toBeNull()
    rmSync(A.dir.retiredDbPath(old), { recursive: true })
  })

  it('partners refuse a handover that changes anything else, that the successor did not sign, or a second one of the same place; a handover we never made is reported', () => {
    const { A, B, C } = federation()
    const current = A.book.inForce(NOW) as Agreement
    const aKey = A.dir.keys().identity
    const mallory = identityFromSeed(randomBytes(32))
    const atB = wire(B)
    // The expiry changed too: not a handover, and not left for B's operator either.
    const changed = { ...successionTerms(current.terms, aKey, mallory.id, NOW), expiresAt: current.terms.expiresAt + 1 }
    atB.deliver(A.book.me, { type: 'terms.agreement', agreement: { terms: changed, signatures: [signTerms(changed, mallory)] } })
    // Signed by no successor.
    const unsigned = successionTerms(current.terms, aKey, mallory.id, NOW)
    atB.deliver(A.book.me, { type: 'terms.agreement', agreement: { terms: unsigned, signatures: [] } })
    // Passed on by a shop that is neither its predecessor nor a party of it.
    const stranger = identityFromSeed(randomBytes(32)).id
    atB.deliver(stranger, { type: 'terms.agreement', agreement: { terms: unsigned, signatures: [signTerms(unsigned, mallory)] } })
    expect(B.dir.agreements().map((a) => a.agreement.terms.revision)).toEqual([1])
    expect(atB.sent.filter((s) => s.message.type === 'terms.agreement')).toEqual([])
    // One handover of a place per terms in force: B's node signs the first, refuses a second.
    const first = { terms: unsigned, signatures: [signTerms(unsigned, mallory)] }
    atB.deliver(A.book.me, { type: 'terms.agreement', agreement: first })
    const other = identityFromSeed(randomBytes(32))
    const second = successionTerms(current.terms, aKey, other.id, NOW + 1)
    atB.deliver(A.book.me, { type: 'terms.agreement', agreement: { terms: second, signatures: [signTerms(second, other)] } })
    expect(
      B.dir
        .agreements()
        .map((a) => termsHash(a.agreement.terms))
        .sort(),
    ).toEqual([termsHash(current.terms), termsHash(unsigned)].sort())

    // Whoever holds A's key hands A's place to itself; C's node signs it (it cannot tell), but A's
    // own node knows it never made it, stores nothing and raises the alarm.
    const stolen = { terms: unsigned, signatures: [signTerms(unsigned, mallory), signTerms(unsigned, C.dir.keys().identity)] }
    const atA = wire(A)
    atA.deliver(C.book.me, { type: 'terms.agreement', agreement: stolen })
    expect(atA.foreign).toEqual([C.book.me])
    expect(A.book.handedOver(NOW)).toBeNull()
    expect(new TermsBook(A.dir, aKey).held(NOW).map((h) => h.agreement.terms.revision)).toEqual([1])
  })
})

// The CLI's `standin identity rotate` against a stand-in for the node's admin API (node:http, the
// routes the wind-down calls, in their reply shapes): the real node restarts as the new identity as
// soon as the handover is written and signed, so every recall has to reach it before that.
describe('standin identity rotate', () => {
  it('recalls and settles through the running node before it writes the handover, and writes nothing without terms in force', async () => {
    const { A, B } = federation()
    const calls: { path: string; handoverWritten: boolean }[] = []
    const server = createServer((request, response) => {
      const path = request.url ?? ''
      calls.push({ path, handoverWritten: A.dir.agreements().some((a) => a.agreement.terms.succession !== undefined) })
      const reply =
        path === '/v1/admin/allotments'
          ? {
              holdings: [
                {
                  holder: B.book.me,
                  sku: 'steam-50',
                  consigned: 4,
                  held: 4,
                  reserved: 0,
                  delivered: 0,
                  returned: 0,
                  allotments: [{ allotment: 'al-1', consigned: 4, held: 4 }],
                },
              ],
            }
          : path === '/v1/admin/allotments/recall'
            ? { seq: 7 }
            : { issued: false }
      request.resume()
      request.on('end', () => response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(reply)))
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    vi.stubEnv('STANDIN_HTTP_PORT', String((server.address() as AddressInfo).port))
    try {
      const said = await rotateIdentity(A.path)
      expect(said).toMatch(/recalled 1 allotment\(s\) from Shop B: al-1/)
      expect(calls.map((c) => c.path)).toContain('/v1/admin/allotments/recall')
      expect(calls.filter((c) => c.handoverWritten)).toEqual([])
      expect(A.dir.agreements().some((a) => a.agreement.terms.succession?.body.predecessor === A.book.me)).toBe(true)
    } finally {
      vi.unstubAllEnvs()
      server.close()
    }

    const [alone] = Object.values(shops(['D']))
    if (!alone) throw new Error('one shop')
    await expect(rotateIdentity(alone.path)).rejects.toThrow(/no terms in force/)
    expect(alone.dir.agreements()).toEqual([])
  })
})
