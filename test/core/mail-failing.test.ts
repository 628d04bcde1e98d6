// A buyer's mail that fails raises `mail-failing` (issue 19 item 3): B delivers A's stranded orders
// while its SMTP relay refuses every message. The event names the order and the attempt, never the
// buyer's address or the relay's words (which quote it); the mail goes out once the relay works.
// Whole simulated federation; the relay is SimMailer with `failing` set.
import { afterEach, describe, expect, it } from 'vitest'
import { SIM_START_MS, SimFederation, simOrder } from '../sim/sim-federation.js'

let sim: SimFederation | undefined
afterEach(async () => {
  await sim?.close()
  sim = undefined
})

describe('mail-failing', () => {
  it('is raised per failed attempt without the buyer address, and the mail goes out once the relay works', async () => {
    sim = await SimFederation.create({ seed: 'mail-failing', shops: 3 })
    const s = sim
    await s.runUntil(600)
    const [a, b] = [s.shop('A'), s.shop('B')]
    await a.engine.consign(b.identity.id, 'card-100', 5)
    const order = simOrder(s.prng, 0)
    await a.engine.submitOrders([order])
    await s.runUntil(1_500)
    b.mailer.failing = true
    a.engine.reportPlatformHealth('down')
    await s.runUntil(8_000)

    const failing = s.events.filter((e) => e.node === 'B' && e.event.kind === 'mail-failing').map((e) => e.event)
    expect(failing.length).toBeGreaterThan(0)
    expect(failing[0]).toEqual({ kind: 'mail-failing', origin: a.identity.id, order: order.order, attempts: 1, gaveUp: false })
    const buyer = order.buyer.email as string
    expect(JSON.stringify(failing)).not.toContain(buyer)
    expect(b.mailer.sent).toEqual([])

    b.mailer.failing = false
    await s.runUntil(s.clock.now() - SIM_START_MS + 70_000) // past the backoff of the attempts so far
    expect(b.mailer.sent.map((m) => m.to)).toEqual([buyer])
  })
})
