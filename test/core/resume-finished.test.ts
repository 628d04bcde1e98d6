// A reservation whose receipt is already written is finished: after a restart the fulfiller must
// not receipt it again (a second receipt, with a new time, conflicts with the booked one). The
// crash loop (test/chaos) met such a row: the origin's own tombstone, applied concurrently with
// the receipt, wrote the order back as `reserved`; the node then died at every start.
import { afterEach, describe, expect, it } from 'vitest'
import type { OrderRow } from '../../node/core/state/orders.js'
import { orderKey } from '../../node/core/state/codec.js'
import type { SimFederation, SimShop } from '../sim/sim-federation.js'
import { escrowedAtA } from './escrowed.js'

let sim: SimFederation
afterEach(async () => {
  await sim?.close()
})

describe('resuming reservations after a restart', () => {
  it('skips (and repairs) a reservation that already has its receipt, and starts', async () => {
    const set = await escrowedAtA('resume-finished', { holders: ['B'], keysEach: 20, orders: 5 })
    sim = set.sim
    const [a, b] = set.shops as [SimShop, SimShop, SimShop]
    a.engine.reportPlatformHealth('down')
    await sim.runUntil(4_000)
    expect(b.mailer.sent).toHaveLength(5)

    sim.crash('B')
    const key = orderKey(a.identity.id, 'O-0')
    const row = (await b.store.get<OrderRow>('orders', key)) as OrderRow
    expect(row.state).toBe('delivered')
    await b.store.write([{ type: 'put', section: 'orders', key, value: { ...row, state: 'reserved', originDelivered: true } satisfies OrderRow }], {
      sync: true,
    })
    await sim.restart('B') // still taken over for A: start() resumes reservations
    await sim.runUntil(6_000)
    const back = sim.shop('B')
    expect(back.mailer.sent).toHaveLength(5) // the same five mails as before: nothing delivered twice
    expect((await back.store.get<OrderRow>('orders', key))?.state).toBe('delivered')
    expect(back.warnings.filter((w) => w.includes('conflict'))).toEqual([])
  })
})
