// Revoking a party (D94), in the simulator: one party's signed revocation changes nothing but
// alerts the others; once a quorum signed, every node runs without the revoked partner: nothing
// sealed to it, nothing it sends taken, its takeover request and feed entries refused; a restart
// keeps it so, and a revoked party cannot revoke back.
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { FeedEntry } from '../../protocol/index.js'
import { seqKey } from '../../node/core/state/codec.js'
import { SIM_START_MS, SimFederation, simOrder, type SimShop } from '../sim/sim-federation.js'

describe('revoking a party', () => {
  let sim: SimFederation
  let a: SimShop
  let b: SimShop
  let c: SimShop
  const run = (ms: number) => sim.runUntil(sim.clock.now() - SIM_START_MS + ms)
  const partnersOf = (name: string) => [...sim.shop(name).engine.federation.partners]
  const headAt = async (name: string, author: SimShop) => (await sim.shop(name).store.get<{ seq: number }>('heads', author.identity.id))?.seq

  beforeEach(async () => {
    sim = await SimFederation.create({ seed: 'revoke', shops: 3 })
    a = sim.shop('A')
    b = sim.shop('B')
    c = sim.shop('C')
    await sim.await(a.engine.consign(c.identity.id, 'card-100', 5))
    await sim.await(c.engine.submitOrders([simOrder(sim.prng, 100)]))
    await run(1_000)
  })
  afterEach(async () => {
    await sim.close()
  })

  it('takes force at every node once a quorum signed; from then on nothing is sealed to the revoked party or taken from it', async () => {
    // One party alone: recorded and announced everywhere, in force nowhere.
    const first = await sim.await(a.engine.revokePartner(c.identity.id, 'key stolen'))
    expect(first).toMatchObject({ inForce: false, needed: 2, by: [a.identity.id] })
    await run(2_000)
    for (const name of ['A', 'B']) expect(partnersOf(name)).toContain(c.identity.id)
    const announced = sim.events.filter((e) => e.event.kind === 'revocation').map((e) => e.node)
    expect(new Set(announced)).toEqual(new Set(['A', 'B', 'C']))
    await expect(a.engine.revokePartner(c.identity.id, 'again')).rejects.toThrow(/already revoked/)
    await expect(a.engine.revokePartner(a.identity.id, 'me')).rejects.toThrow(/cannot revoke itself/)

    // The second signature is the quorum: both restart without C; C learns it was revoked.
    const second = await sim.await(b.engine.revokePartner(c.identity.id, 'agreed'))
    expect(second.inForce).toBe(true)
    await run(2_000)
    a = sim.shop('A')
    b = sim.shop('B')
    expect(partnersOf('A')).toEqual([b.identity.id])
    expect(partnersOf('B')).toEqual([a.identity.id])
    expect(sim.events.some((e) => e.node === 'C' && e.event.kind === 'partner-revoked' && e.event.us)).toBe(true)
    const status = await a.engine.selfStatus()
    expect(status.revocations).toEqual([expect.objectContaining({ partner: c.identity.id, inForce: true, needed: 2, keysHeld: 5 })])

    // A escrows: sealed to B only. C escrows: neither A nor B takes C's entry, first hand or relayed.
    await sim.await(a.engine.submitOrders([simOrder(sim.prng, 1)]))
    const cHead = await headAt('A', c)
    expect(cHead).toBeGreaterThan(0)
    await sim.await(c.engine.submitOrders([simOrder(sim.prng, 2)]))
    await run(5_000)
    expect(c.engine.feeds()[0]?.seq).toBeGreaterThan(cHead as number)
    const seq = a.engine.feeds()[0]?.seq as number
    const entry = (await a.store.get<FeedEntry>('entries', seqKey(a.identity.id, seq))) as FeedEntry
    expect(entry.body.sealed?.keys.map((k) => k.to).sort()).toEqual([a.identity.id, b.identity.id].sort())
    expect(await headAt('A', c)).toBe(cHead)
    expect(await headAt('B', c)).toBe(cHead)

    // C's shop goes down and asks for a takeover: nobody takes it over.
    c.engine.reportPlatformHealth('down')
    await run(30_000)
    expect(sim.events.some((e) => e.event.kind === 'taken-over')).toBe(false)

    // A's goes down: its own request is the authority (one partner left, below the quorum: no
    // certificate can form), and B alone delivers.
    await sim.await(a.engine.consign(b.identity.id, 'card-100', 3))
    a.engine.reportPlatformHealth('down')
    await run(30_000)
    const delivered = sim.events.flatMap((e) => (e.node === 'A' && e.event.kind === 'delivered' ? [e.event] : []))
    expect(delivered.map((d) => d.order).sort()).toEqual(['O-1'])
    expect(new Set(delivered.map((d) => d.fulfiller))).toEqual(new Set([b.identity.id]))

    // A revoked party's revocations count for nothing, and a restart keeps the revocation.
    await sim.await(c.engine.revokePartner(a.identity.id, 'revenge'))
    await run(2_000)
    sim.crash('A')
    await sim.restart('A')
    await run(2_000)
    expect(partnersOf('A')).toEqual([b.identity.id])
    expect(sim.events.some((e) => e.node !== 'C' && e.event.kind === 'revocation' && e.event.partner === a.identity.id)).toBe(false)
  })
})
