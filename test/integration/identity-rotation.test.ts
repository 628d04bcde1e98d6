// Rotating a shop's identity key while orders flow (issue 21, D99), real processes, through the
// CLI. A sells under its first identity, with keys at B; `standin identity rotate` makes a new
// identity, recalls what B holds and issues final statements, and A's running node passes the
// handover on. B's and C's nodes sign it without their operators; once they have, A's node
// restarts by itself as the new identity on an empty store (the old store kept aside), and B and C
// run with it in the old identity's place without a restart. A then consigns and sells under the
// new identity; the orders paid before the handover are its shop's own to deliver. When A's
// platform dies, every order sold since is delivered once by B and C, and no node quarantines any.
import { existsSync } from 'node:fs'
import { join } from 'node:path'
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

describe('rotating a shop’s identity key', () => {
  it('A hands its place to a new identity while it sells: partners sign on their own, A restarts as it, and failover covers what it sells after', async () => {
    f = await startFederation({ names: ['A', 'B', 'C'] })
    const federation = f
    const [a, b, c] = (['A', 'B', 'C'] as const).map((n) => federation.cluster.node(n))
    if (!a || !b || !c) throw new Error('three nodes')
    const oldId = a.id
    await allot(federation, 'A', 'B', 4)
    const before = await buyAtA(federation, ['before-0@example.com', 'before-1@example.com'])

    const said = await cliAsync(['identity', 'rotate', '-d', a.dir])
    const newId = /new identity: (\S+)/.exec(said)?.[1]
    expect(newId).toBeDefined()
    expect(newId).not.toBe(oldId)
    expect(said).toMatch(/recalled 1 allotment\(s\) from Shop B/)

    // Nobody at B or C signs by hand: their nodes do, and A's node restarts as the new identity.
    await waitFor('A runs as its new identity', async () => ((await selfOf(federation, 'A')).id === newId ? true : undefined), ESCROW_TIMEOUT_MS * 2, 250)
    expect(a.output).toMatch(/restarts as it \(D99\)/)
    expect(existsSync(join(a.dir, `db-${oldId}`))).toBe(true)
    for (const name of ['B', 'C']) {
      await waitFor(
        `${name} runs with A's new identity in the old one's place`,
        async () => {
          const list = await partnersOf(federation, name)
          return list.some((p) => p.id === newId && p.connected) && !list.some((p) => p.id === oldId) ? true : undefined
        },
        ESCROW_TIMEOUT_MS,
        200,
      )
      const { agreements } = await federation.cluster.admin<TermsReply>(name, '/v1/admin/terms')
      const inForce = agreements.find((t) => t.state === 'in-force')
      expect(inForce?.revision).toBe(2)
      expect(inForce?.signedByUs).toBe(true)
      expect(inForce?.parties.map((p) => p.id)).toContain(newId)
    }
    expect((await selfOf(federation, 'A')).terms.revision).toBe(2)

    // The orders paid before the handover: the shop delivers them itself (partners hold them no
    // more), once the new identity holds its leases and lifts the fence it starts with.
    await waitFor("A's shop unfenced", () => (shop(federation, 'A').fenced ? undefined : true), ESCROW_TIMEOUT_MS, 100)
    for (const order of before) shop(federation, 'A').deliverNow(order)

    // Under the new identity: keys consigned again, orders escrowed and acknowledged by B and C.
    await allot(federation, 'A', 'B', 4)
    await allot(federation, 'A', 'C', 4)
    const after = await buyAtA(federation, ['after-0@example.com', 'after-1@example.com', 'after-2@example.com'])
    const { orders } = await federation.cluster.admin<{ orders: { order: string }[] }>('B', `/v1/admin/escrow/${newId}/orders?limit=1000`)
    for (const order of after) expect(orders.map((o) => o.order)).toContain(order)

    // A's platform dies: every order sold since the handover gets one mail, each key once.
    await shop(federation, 'A').setPlatform('down')
    await waitFor(
      `${after.length} buyer mails`,
      () => mails(federation, after).filter((m) => m.order !== null).length >= after.length || undefined,
      STRANDED_TIMEOUT_MS,
    )
    const received = mails(federation, after).filter((m) => m.order !== null)
    expect(new Set(received.map((m) => m.order))).toEqual(new Set(after))
    for (const [key, to] of keysToOrders(received)) expect(to.size, `key ${key} went to ${[...to].join(', ')}`).toBe(1)
    for (const n of [a, b, c]) expect(n.output).not.toMatch(/quarantined|feed fork/)
  }, 300_000)
})
