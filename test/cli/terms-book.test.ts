// Terms between parties (D64–D66): what a partner's node may do to the agreements we hold — add
// valid signatures, leave a bounded number of proposals that follow ours — and what it may not:
// sign for us, slip in terms we are not party to or that skip a revision, forge a signature, or
// fill our disk. Real data directories (init) and real Ed25519 keys; no network.
import { describe, expect, it } from 'vitest'
import { type Agreement, type ControlMessage, signDocument, signTerms, termsHash } from '../../protocol/index.js'
import { accept, propose } from '../../node/cli/federation-commands.js'
import { DataDir } from '../../node/datadir.js'
import { ownCard } from '../../node/terms/service.js'
import { federation, NOW, type Shop, shops } from './terms-fixture.js'
import { MAX_UNSIGNED_FROM_PARTNERS } from '../../node/terms/book.js'
import { MAX_TERMS_MESSAGES_PER_MINUTE, TermsExchange } from '../../node/terms/exchange.js'
import type { InboundHandler, Transport } from '../../node/core/ports.js'
import pino from 'pino'

describe('terms between the parties', () => {
  it('join --sku and terms propose --add-sku write revisions; nobody edits JSON', () => {
    const { A, B } = federation()
    const current = A.book.inForce(NOW) as Agreement
    expect(current.terms.skus.map((k) => k.sku)).toEqual(['steam-50'])
    expect(current.terms.skus[0]?.unitValue).toEqual({ minorUnits: 5000, currency: 'CNY' })
    const next = propose({ dir: A.path, addSku: ['steam-100=100.5'], removeSku: [], cap: '20' })
    expect(next.missing).toHaveLength(2)
    expect(next.next).toMatch(/waiting for Shop (B|C), Shop (B|C)/)
    const revised = A.book.find(next.hash, NOW).agreement.terms
    expect(revised).toMatchObject({ revision: 2, supersedes: termsHash(current.terms) })
    expect(revised.skus.find((k) => k.sku === 'steam-100')).toMatchObject({ shop: A.book.me, allotmentCap: 20, unitValue: { minorUnits: 10_050 } })
    // Money and caps are refused with the field named, and nothing is written.
    expect(() => propose({ dir: B.path, addSku: ['steam-9=9.999'], removeSku: [], cap: '5' })).toThrow(/addSkus\.0: must be <sku>=<unit value/)
    expect(() => propose({ dir: B.path, addSku: [], removeSku: ['steam-50'], cap: '5' })).toThrow(/--remove-sku steam-50: the terms in force do not cover it/)
    expect(B.book.held(NOW)).toHaveLength(1)
  })

  it('terms propose --remove-party leaves a party and its skus out, signed by those who stay; C cannot keep it from force (D95)', () => {
    const { A, B, C } = federation()
    const current = A.book.inForce(NOW) as Agreement
    expect(() => propose({ dir: A.path, addSku: [], removeSku: [], removeParty: ['Shop A'] })).toThrow(/cannot remove itself/)
    expect(() => propose({ dir: A.path, addSku: [], removeSku: [], removeParty: ['Shop Z'] })).toThrow(/no partner named Shop Z/)
    const proposal = propose({ dir: A.path, addSku: [], removeSku: [], removeParty: ['Shop C'] })
    const terms = A.book.find(proposal.hash, NOW).agreement.terms
    expect(terms.parties).toEqual(current.terms.parties.filter((p) => p !== C.book.me))
    expect(terms.skus.some((k) => k.shop === C.book.me)).toBe(false)
    expect(terms.quorum).toBe(2)
    expect(proposal.missing).toEqual([B.book.me])
    // C's node refuses terms that do not name it; B's signature alone puts them in force.
    expect(C.book.receive(A.book.me, A.book.find(proposal.hash, NOW).agreement, NOW)).toMatchObject({ kind: 'refused' })
    expect(B.book.receive(A.book.me, A.book.find(proposal.hash, NOW).agreement, NOW)).toMatchObject({ kind: 'merged', complete: false })
    expect(accept(B.path).missing).toEqual([])
    expect(B.book.inForce(NOW)?.terms.parties).toHaveLength(2)
    // Signed by every party that stays: proof for C that it was removed (D98). C keeps it, runs on
    // nothing new (its terms in force stay revision 1), and its node stands down on it.
    expect(C.book.removal(NOW)).toBeNull()
    const complete = B.book.find(proposal.hash, NOW).agreement
    expect(C.book.receive(B.book.me, complete, NOW)).toMatchObject({ kind: 'removed' })
    expect(C.book.removal(NOW)?.terms.revision).toBe(2)
    expect(C.book.inForce(NOW)?.terms.revision).toBe(1)
    // Not proof, though signed by every party they name: terms without C that skip a revision, or
    // that bring in a shop C never had as a partner.
    const signedByAll = (terms: Agreement['terms'], signers: Shop[]): Agreement => ({
      terms,
      signatures: signers.map((x) => signTerms(terms, x.dir.keys().identity)),
    })
    const skipping = { ...complete.terms, revision: 3 }
    expect(C.book.takeRemoval(signedByAll(skipping, [A, B]), NOW)).toBe(false)
    const { E } = shops(['E']) as { E: Shop }
    const stranger = { ...complete.terms, parties: [...complete.terms.parties, E.book.me].sort() }
    expect(C.book.takeRemoval(signedByAll(stranger, [A, B, E]), NOW)).toBe(false)
    // Two parties are the fewest terms can have.
    expect(() => propose({ dir: B.path, addSku: [], removeSku: [], removeParty: ['Shop A'] })).toThrow(/two parties at least/)
  })

  it('a partner adds signatures; it never signs for us, and the terms take force only once every party signed', () => {
    const { A, B, C } = federation()
    const proposal = propose({ dir: A.path, addSku: ['steam-100=100.00'], removeSku: [], cap: '10' })
    const atA = A.book.find(proposal.hash, NOW).agreement
    expect(B.book.receive(A.book.me, atA, NOW)).toMatchObject({ kind: 'merged', complete: false })
    expect(B.book.awaitingUs(NOW).map((h) => h.hash)).toEqual([proposal.hash])
    expect(B.book.held(NOW).find((h) => h.hash === proposal.hash)?.signedByUs).toBe(false)
    // The same again changes nothing.
    expect(B.book.receive(A.book.me, atA, NOW)).toEqual({ kind: 'unchanged' })
    // B's operator signs; C's node learns B's signature from B and A's from A; then C signs.
    const signedB = accept(B.path)
    expect(signedB.missing).toHaveLength(1)
    const atB = B.book.find(proposal.hash, NOW).agreement
    expect(C.book.receive(B.book.me, atB, NOW)).toMatchObject({ kind: 'merged', complete: false })
    expect(C.book.inForce(NOW)?.terms.revision).toBe(1)
    const signedC = accept(C.path)
    expect(signedC.missing).toEqual([])
    expect(C.book.inForce(NOW)?.terms.revision).toBe(2)
    // A takes the complete agreement from C and runs revision 2 too.
    expect(A.book.receive(C.book.me, C.book.find(proposal.hash, NOW).agreement, NOW)).toMatchObject({ kind: 'merged', complete: true })
    expect(A.book.inForce(NOW)?.terms.revision).toBe(2)
  })

  it('refuses what a hostile partner sends, and keeps nothing of it', () => {
    const { A, B, C } = federation()
    const current = B.book.inForce(NOW) as Agreement
    const hash = termsHash(current.terms)
    const revision = (over: Partial<Agreement['terms']>): Agreement['terms'] => ({ ...current.terms, revision: 2, supersedes: hash, createdAt: NOW, ...over })
    const keysA = A.dir.keys().identity
    const count = () => B.book.held(NOW).length
    const before = count()
    // Unsigned by its sender.
    const unsigned: Agreement = { terms: revision({}), signatures: [] }
    expect(B.book.receive(A.book.me, unsigned, NOW)).toEqual({ kind: 'refused', reason: 'terms its sender has not signed' })
    // A revision that skips one.
    const skips = revision({ revision: 3 })
    expect(B.book.receive(A.book.me, { terms: skips, signatures: [signTerms(skips, keysA)] }, NOW)).toMatchObject({ kind: 'refused', reason: /do not follow/ })
    // A signature that is not the named signer's.
    const forged = revision({ createdAt: NOW + 1 })
    const sig = signTerms(forged, keysA)
    expect(B.book.receive(A.book.me, { terms: forged, signatures: [{ ...sig, signer: C.book.me }] }, NOW)).toMatchObject({ kind: 'refused' })
    // Terms that do not name us (A and C only).
    const without = revision({ parties: [A.book.me, C.book.me].sort(), skus: [], quorum: 2 })
    expect(B.book.receive(A.book.me, { terms: without, signatures: [signTerms(without, keysA)] }, NOW)).toMatchObject({
      kind: 'refused',
      reason: /do not name both of us/,
    })
    expect(count()).toBe(before)
    // A flood of valid proposals: bounded.
    for (let i = 0; i < MAX_UNSIGNED_FROM_PARTNERS + 3; i++) {
      const terms = revision({ createdAt: NOW + 10 + i })
      const result = B.book.receive(A.book.me, { terms, signatures: [signTerms(terms, keysA)] }, NOW)
      expect(result.kind).toBe(i < MAX_UNSIGNED_FROM_PARTNERS ? 'merged' : 'refused')
    }
    expect(count()).toBe(before + MAX_UNSIGNED_FROM_PARTNERS)
    expect(B.book.inForce(NOW)?.terms.revision).toBe(1)
  })

  it('the exchange passes on what changed, keeps terms messages from the engine, and says when new terms take force', () => {
    const { A, B, C } = federation()
    const sent: { peer: string; message: ControlMessage }[] = []
    let handler: InboundHandler | null = null
    const transport: Transport = {
      send: ((peer: string, _protocol: string, message: ControlMessage) => {
        sent.push({ peer, message })
        return true
      }) as Transport['send'],
      isConnected: () => true,
      setHandler: (h) => {
        handler = h
      },
    }
    const adopted: number[] = []
    const exchange = new TermsExchange({ book: B.book, logger: pino({ level: 'silent' }), now: () => NOW, onInForce: (a) => adopted.push(a.terms.revision) })
    const engineSaw: string[] = []
    exchange.attach(transport).setHandler({
      onFeedMessage: () => undefined,
      onControlMessage: (_from, m) => void engineSaw.push(m.type),
      onPeerConnected: () => undefined,
      onPeerDisconnected: () => undefined,
    })
    expect(exchange.parties().sort()).toEqual(
      B.book
        .inForce(NOW)
        ?.terms.parties.filter((p) => p !== B.book.me)
        .sort(),
    )
    const proposal = propose({ dir: A.path, addSku: ['steam-100=100.00'], removeSku: [], cap: '10' })
    const fromA = A.book.find(proposal.hash, NOW).agreement
    void handler!.onControlMessage(A.book.me, { type: 'terms.agreement', agreement: fromA })
    expect(engineSaw).toEqual([])
    // Passed on to C (not back to A), as B holds it.
    expect(sent.map((s) => s.peer)).not.toContain(A.book.me)
    expect(sent).toHaveLength(1)
    void handler!.onControlMessage(A.book.me, { type: 'heartbeat', heartbeat: {} as never })
    expect(engineSaw).toEqual(['heartbeat'])
    // B's operator signs through the CLI; the exchange reads it from disk and sends B's copy to both.
    sent.length = 0
    accept(B.path)
    exchange.check()
    expect(new Set(sent.map((s) => s.peer)).size).toBe(2)
    expect(adopted).toEqual([])
    // C signs last; its node passes the complete agreement to B, which takes it as the terms in force.
    C.book.receive(B.book.me, B.book.find(proposal.hash, NOW).agreement, NOW)
    expect(accept(C.path).missing).toEqual([])
    void handler!.onControlMessage(C.book.me, { type: 'terms.agreement', agreement: C.book.find(proposal.hash, NOW).agreement })
    expect(adopted).toEqual([2])
    expect(B.book.inForce(NOW)?.terms.revision).toBe(2)
  })

  it('takes at most MAX_TERMS_MESSAGES_PER_MINUTE terms messages from one partner a minute', () => {
    const { A, B } = federation()
    let now = NOW
    let received = 0
    const receive = B.book.receive.bind(B.book)
    B.book.receive = (...args) => {
      received++
      return receive(...args)
    }
    let handler: InboundHandler | null = null
    const transport: Transport = { send: (() => true) as Transport['send'], isConnected: () => false, setHandler: (h) => void (handler = h) }
    new TermsExchange({ book: B.book, logger: pino({ level: 'silent' }), now: () => now, onInForce: () => undefined }).attach(transport)
    const agreement = A.book.inForce(NOW) as Agreement
    for (let i = 0; i < MAX_TERMS_MESSAGES_PER_MINUTE + 10; i++) void handler!.onControlMessage(A.book.me, { type: 'terms.agreement', agreement })
    expect(received).toBe(MAX_TERMS_MESSAGES_PER_MINUTE)
    now += 60_000
    void handler!.onControlMessage(A.book.me, { type: 'terms.agreement', agreement })
    expect(received).toBe(MAX_TERMS_MESSAGES_PER_MINUTE + 1)
  })

  it("a partner hands over its own newer card (a rotated box key, D93): taken; another shop's, an older or an expired card is not", () => {
    const { A, B } = federation()
    const dirA = new DataDir(A.path)
    const dirB = new DataDir(B.path)
    const sent: { peer: string; m: ControlMessage }[] = []
    let handler: InboundHandler | null = null
    const transport: Transport = {
      send: ((peer: string, _p: string, m: ControlMessage) => sent.push({ peer, m }) > 0) as Transport['send'],
      isConnected: () => true,
      setHandler: (h) => void (handler = h),
    }
    const changed: string[] = []
    const exchange = new TermsExchange({
      book: B.book,
      logger: pino({ level: 'silent' }),
      now: () => NOW,
      onInForce: () => undefined,
      cards: { own: () => dirB.cardOf(B.book.me), of: (id) => dirB.cardOf(id), save: (card) => dirB.saveCard(card) },
      onCard: (from, boxKeyChanged) => changed.push(`${from}:${boxKeyChanged}`),
    })
    exchange.attach(transport)
    // B greets A with its own card.
    handler!.onPeerConnected(A.book.me)
    expect(sent.find((s) => s.m.type === 'card')?.m).toMatchObject({ type: 'card', card: { body: { id: B.book.me } } })

    const held = dirB.cardOf(A.book.me)!
    dirA.rotate('box', null)
    const newer = ownCard(dirA, held.body.issuedAt + 1_000)
    expect(newer.body.boxKey).not.toBe(held.body.boxKey)
    // A card of C (the one B holds) passed on by A, a card no newer than the held one, an expired
    // or forged one: nothing changes.
    void handler!.onControlMessage(A.book.me, {
      type: 'card',
      card: dirB.cardOf(dirB.cards().find((c) => c.body.id !== A.book.me && c.body.id !== B.book.me)!.body.id)!,
    })
    const stale = signDocument('shop-card', { ...newer.body, issuedAt: held.body.issuedAt }, dirA.keys().identity)
    void handler!.onControlMessage(A.book.me, { type: 'card', card: stale })
    const expired = signDocument('shop-card', { ...newer.body, issuedAt: NOW - 2_000, validUntil: NOW - 1 }, dirA.keys().identity)
    void handler!.onControlMessage(A.book.me, { type: 'card', card: expired })
    const forged = { ...newer, body: { ...newer.body, boxKey: held.body.boxKey } }
    void handler!.onControlMessage(A.book.me, { type: 'card', card: forged })
    expect(dirB.cardOf(A.book.me)).toEqual(held)
    expect(changed).toEqual([])
    // A's own newer card: stored, and the node told.
    void handler!.onControlMessage(A.book.me, { type: 'card', card: newer })
    expect(dirB.cardOf(A.book.me)?.body.boxKey).toBe(newer.body.boxKey)
    expect(changed).toEqual([`${A.book.me}:true`])
  })

  it('reads the agreements folder again only where a file changed (D105): a co-signature written by the CLI, an edit in place, a removal', async () => {
    const { A, B } = federation()
    const { readdirSync, readFileSync, rmSync, writeFileSync } = await import('node:fs')
    const { join } = await import('node:path')
    const first = A.dir.agreements()
    expect(first).toHaveLength(1)
    expect(A.dir.agreements()[0]).toBe(first[0]) // unchanged file: the verified copy, not read again
    // The CLI (another DataDir on the folder, as another process) writes a proposal and B signs it.
    const next = propose({ dir: A.path, addSku: ['steam-100=100'], removeSku: [], cap: '5' })
    expect(A.dir.agreements().find((a) => a.hash === next.hash)?.missing).toHaveLength(2)
    const signed = B.book.receive(A.book.me, A.book.find(next.hash, NOW).agreement, NOW)
    expect(signed).toMatchObject({ kind: 'merged' })
    const fromB = accept(B.path)
    A.book.receive(B.book.me, B.book.find(next.hash, NOW).agreement, NOW)
    expect(A.dir.agreements().find((a) => a.hash === next.hash)?.missing.length).toBeLessThan(2)
    expect(fromB.missing.length).toBeLessThan(2)
    // An operator's edit in place that breaks a signature is seen at once, and refused.
    const folder = join(A.path, 'agreements')
    const file = join(folder, readdirSync(folder).find((f) => f.startsWith(next.hash)) as string)
    const text = readFileSync(file, 'utf8')
    writeFileSync(file, text.replace('"revision": 2', '"revision": 3'))
    expect(() => A.dir.agreements()).toThrow(/signature|hash/i)
    writeFileSync(file, text)
    expect(A.dir.agreements().find((a) => a.hash === next.hash)).toBeDefined()
    rmSync(file)
    expect(A.dir.agreements().map((a) => a.hash)).toEqual([first[0]?.hash])
  })
})
