// Adding a party to terms in force (D97), between real data directories with real Ed25519 keys, no
// network: the revision names the newcomer by its invite; the newcomer keeps earlier terms only
// when terms naming it supersede them and every party signed them, and its node waits for them
// before it runs; a partner answers its asks only once terms it signed name it; a newcomer's card
// travels with the proposal, a stranger's does not.
import { describe, expect, it } from 'vitest'
import { type Agreement, type ControlMessage, termsHash } from '../../protocol/index.js'
import { accept, invite, propose } from '../../node/cli/federation-commands.js'
import { ownCard } from '../../node/terms/service.js'
import { exchangeFor, federation, NOW, type Shop, shops } from './terms-fixture.js'

describe('adding a party to terms in force (D97)', () => {
  it('terms propose --add-party names the newcomer by its invite; a terms token or a party already in is refused', () => {
    const { A, B } = federation()
    const { D } = shops(['D']) as { D: Shop }
    const current = A.book.inForce(NOW) as Agreement
    expect(() => propose({ dir: A.path, addSku: [], removeSku: [], addParty: [invite(B.path)] })).toThrow(/addParties: Shop B is a party already/)
    const skus = propose({ dir: B.path, addSku: ['steam-9=9.00'], removeSku: [] })
    expect(() => propose({ dir: A.path, addSku: [], removeSku: [], addParty: [skus.token] })).toThrow(/addParties\.0: a terms token/)
    expect(() => propose({ dir: A.path, addSku: [], removeSku: [], addParty: ['standin1.bm9wZQ'] })).toThrow(/addParties\.0:/)

    const added = propose({ dir: A.path, addSku: [], removeSku: [], addParty: [invite(D.path)] })
    const terms = A.book.find(added.hash, NOW).agreement.terms
    expect(terms.parties).toEqual([...current.terms.parties, D.book.me].sort())
    expect(terms).toMatchObject({ revision: 2, supersedes: termsHash(current.terms), quorum: 2 })
    expect(added.missing.sort()).toEqual(terms.parties.filter((p) => p !== A.book.me).sort())
    // The token carries D's card, so a party signing it can reach D.
    expect(A.dir.cardOf(D.book.me)?.body.name).toBe('Shop D')
  })

  it('the newcomer keeps earlier terms that terms naming it supersede, signed by all; its node runs only once it holds them', () => {
    const { A, B, C } = federation()
    const { D } = shops(['D']) as { D: Shop }
    const first = A.book.inForce(NOW) as Agreement
    const added = propose({ dir: A.path, addSku: [], removeSku: [], addParty: [invite(D.path)] })
    for (const s of [B, C]) accept(s.path, added.token)
    const complete = accept(D.path, accept(C.path, accept(B.path, added.token).token).token)
    expect(complete.missing).toEqual([])
    // In force at D, but D lacks revision 1, under which A's earlier entries were written.
    expect(D.book.inForce(NOW)?.terms.revision).toBe(2)
    expect(D.book.wantedHistory(NOW)).toEqual([termsHash(first.terms)])
    const adopted: number[] = []
    const atD = exchangeFor(D, { onInForce: (a) => adopted.push(a.terms.revision) })
    expect(atD.exchange.ready()).toBeNull()
    // It asks its partners (all connected here) for what it lacks.
    atD.exchange.check()
    atD.handler().onPeerConnected(A.book.me)
    const asks = atD.sent.filter((s) => s.message.type === 'terms.ask')
    expect(new Set(asks.map((s) => s.peer))).toEqual(new Set([A.book.me, B.book.me, C.book.me]))
    expect(asks.every((s) => s.message.type === 'terms.ask' && s.message.hash === termsHash(first.terms))).toBe(true)

    // Refused: earlier terms missing a signature, and terms naming neither D nor anything D holds.
    const unsigned = { terms: first.terms, signatures: first.signatures.slice(1) }
    expect(D.book.receive(A.book.me, unsigned, NOW)).toMatchObject({ kind: 'refused', reason: /not signed by all/ })
    const elsewhere = federation().A.book.inForce(NOW) as Agreement
    expect(D.book.receive(A.book.me, elsewhere, NOW)).toMatchObject({ kind: 'refused', reason: /do not name both of us/ })
    expect(D.book.held(NOW)).toHaveLength(1)
    // Revision 1 from a partner: kept as history, and the node may run.
    void atD.handler().onControlMessage(B.book.me, { type: 'terms.agreement', agreement: first })
    expect(D.book.wantedHistory(NOW)).toEqual([])
    expect(D.book.held(NOW).map((h) => [h.agreement.terms.revision, h.state, h.signedByUs])).toEqual([
      [1, 'superseded', false],
      [2, 'in-force', true],
    ])
    expect(atD.exchange.ready()?.terms.revision).toBe(2)
    expect(adopted).toEqual([2])
  })

  it('a partner answers a newcomer only once terms it signed name it; the proposal carries the newcomer card, a stranger card is refused', () => {
    const { A, B } = federation()
    const { D, E } = shops(['D', 'E']) as { D: Shop; E: Shop }
    const first = A.book.inForce(NOW) as Agreement
    const atB = exchangeFor(B)
    const ask: ControlMessage = { type: 'terms.ask', hash: termsHash(first.terms) }
    // D is nobody to B yet: no answer.
    void atB.handler().onControlMessage(D.book.me, ask)
    expect(atB.sent).toEqual([])

    // A proposes D; B's node gets the proposal and, with it, D's card from A's node.
    const added = propose({ dir: A.path, addSku: [], removeSku: [], addParty: [invite(D.path)] })
    const atA = exchangeFor(A)
    atA.handler().onPeerConnected(B.book.me)
    const toB = atA.sent.filter((s) => s.peer === B.book.me).map((s) => s.message)
    expect(toB.map((m) => m.type)).toEqual(['card', 'terms.agreement', 'terms.agreement', 'card'])
    expect(toB.at(-1)).toMatchObject({ type: 'card', card: { body: { id: D.book.me } } })
    for (const m of toB) void atB.handler().onControlMessage(A.book.me, m)
    expect(B.dir.cardOf(D.book.me)?.body.name).toBe('Shop D')
    // A card of a shop no terms name, passed on by A: refused.
    const stranger = ownCard(E.dir, NOW)
    void atB.handler().onControlMessage(A.book.me, { type: 'card', card: stranger })
    expect(B.dir.cardOf(E.book.me)).toBeUndefined()

    // Still unsigned by B: D's asks go unanswered. Once B signed, D gets revision 1.
    const history = () => atB.sent.filter((s) => s.peer === D.book.me && s.message.type === 'terms.agreement' && s.message.agreement.terms.revision === 1)
    void atB.handler().onControlMessage(D.book.me, ask)
    expect(history()).toEqual([])
    accept(B.path, added.token)
    void atB.handler().onControlMessage(D.book.me, ask)
    expect(history().map((s) => s.message)).toEqual([{ type: 'terms.agreement', agreement: first }])
  })
})
