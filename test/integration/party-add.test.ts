// Adding a party to terms in force while orders flow (issue 21, D97), real processes, through the
// CLI. D was set up (init) but is not in the first terms. A proposes the next revision with D's
// invite; B signs what its node received (D's card came with it, passed on by A's node), C signs
// the token, D signs the token and starts its node from nothing. D's node fetches the earlier
// terms from its partners, runs once every party signed, and holds A's whole feed, entries from
// before it joined included: none refused. From then on A seals escrow to D too, consigns keys to
// it, and when A's platform dies every stranded order is delivered once, D among the deliverers
// it may be.
import { afterEach, describe, expect, it } from 'vitest'
import type { TermsReply } from '../../node/terms/schemas.js'
import { cliAsync, waitFor } from './cluster.js'
import {
  allot,
  buyAtA,
  ESCROW_TIMEOUT_MS,
  type Federation,
  keysToOrders,
  mails,
  partnersOf,
  selfOf,
  shop,
  startFederation,
  STRANDED_TIMEOUT_MS,
  stopFederation,
} from './federation-env.js'

let f: Federation | undefined
afterEach(async () => {
  await stopFederation(f)
  f = undefined
})

describe('adding a party to terms in force', () => {
  it('A, B and C add D while A sells: D catches up from nothing, then holds escrow and delivers', async () => {
    f = await startFederation({ names: ['A', 'B', 'C', 'D'], joinLater: ['D'] })
    const federation = f
    const [a, b, c, d] = (['A', 'B', 'C'] as const).map((n) => federation.cluster.node(n)).concat(federation.cluster.node('D'))
    if (!a || !b || !c || !d) throw new Error('four nodes')
    await allot(federation, 'A', 'B', 6)
    // A sku revision first, so D has more than one earlier revision to fetch.
    const skuToken = await cliAsync(['terms', 'propose', '--add-sku', 'steam-100=100.00', '-d', a.dir])
    for (const n of [b, c]) await cliAsync(['terms', 'accept', skuToken, '-d', n.dir])
    await waitFor('revision 2 in force at A', async () => ((await selfOf(federation, 'A')).terms.revision === 2 ? true : undefined), ESCROW_TIMEOUT_MS, 200)
    const before = await buyAtA(federation, ['before-0@example.com', 'before-1@example.com'])

    // A proposes D with its invite; orders keep flowing while the others sign.
    const invite = await cliAsync(['invite', '-d', d.dir])
    const token = await cliAsync(['terms', 'propose', '--add-party', invite, '-d', a.dir])
    const during = await buyAtA(federation, ['during-0@example.com'])
    // B signs the proposal its node received from A's (no token passed by hand).
    await waitFor('B signs what its node got', () => cliAsync(['terms', 'accept', '-d', b.dir]).then(() => true), ESCROW_TIMEOUT_MS, 500)
    await cliAsync(['terms', 'accept', token, '-d', c.dir])
    await cliAsync(['terms', 'accept', token, '-d', d.dir])
    // D's node starts from nothing; it serves once every signature and the earlier terms reached it.
    await federation.cluster.start('D')
    expect((await selfOf(federation, 'D')).terms.revision).toBe(3)
    // The earlier revisions came from its partners' nodes: terms D never signed, kept as history.
    const { agreements } = await federation.cluster.admin<TermsReply>('D', '/v1/admin/terms')
    expect(agreements.map((t) => [t.revision, t.state, t.signedByUs])).toEqual([
      [1, 'superseded', false],
      [2, 'superseded', false],
      [3, 'in-force', true],
    ])
    for (const name of ['A', 'B', 'C'])
      await waitFor(
        `${name} runs with D`,
        async () => ((await partnersOf(federation, name)).some((p) => p.id === d.id && p.connected) ? true : undefined),
        ESCROW_TIMEOUT_MS,
        200,
      )

    // After: A consigns keys to D and its orders are sealed to D as well.
    await allot(federation, 'A', 'D', 4)
    const after = await buyAtA(federation, ['after-0@example.com', 'after-1@example.com'])
    const { ownSeq } = await federation.cluster.admin<{ ownSeq: number }>('A', '/v1/admin/escrow')
    // D holds A's whole feed, the entries written before it joined included, and refused none.
    await waitFor(
      "D holds A's feed",
      async () => ((await partnersOf(federation, 'D')).find((p) => p.id === a.id)?.theirHead.seq === ownSeq ? true : undefined),
      ESCROW_TIMEOUT_MS,
      200,
    )
    expect(d.output).not.toMatch(/rejected feed entry|quarantined/)
    const { orders } = await federation.cluster.admin<{ orders: { order: string }[] }>('D', `/v1/admin/escrow/${a.id}/orders?limit=1000`)
    const heldAtD = orders.map((o) => o.order)
    for (const order of after) expect(heldAtD).toContain(order)
    // Sealed before D was a party: D cannot read those.
    for (const order of before) expect(heldAtD).not.toContain(order)

    // A's platform dies: every stranded order gets one mail, each key once.
    const stranded = [...before, ...during, ...after]
    await shop(federation, 'A').setPlatform('down')
    await waitFor(`${stranded.length} buyer mails`, () => federation.sink.received.length >= stranded.length || undefined, STRANDED_TIMEOUT_MS)
    const received = mails(federation, stranded)
    expect(new Set(received.map((m) => m.order))).toEqual(new Set(stranded))
    for (const [key, to] of keysToOrders(received)) expect(to.size, `key ${key} went to ${[...to].join(', ')}`).toBe(1)
    for (const n of [a, b, c, d]) expect(n.output).not.toMatch(/quarantined/)
  }, 300_000)
})
