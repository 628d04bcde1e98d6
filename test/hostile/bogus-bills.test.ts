// A hostile origin bills an honest holder for keys (issue 16, item 3): only keys it consigned to
// that holder and the holder released can be billed, and only at their unit value. A bill for
// keys the holder still holds, never held, or for another amount books nothing at the holder and
// is listed for its operator; a true bill books the same proceeds line on both sides.
import { afterEach, describe, expect, it } from 'vitest'
import type { AllotmentBilled } from '../../protocol/index.js'
import type { KeyRow } from '../../node/core/state/keys.js'
import { SimFederation, type SimShop } from '../sim/sim-federation.js'
import { liveAppend, runFor } from './helpers.js'
import { heldKeys, ledgerLines } from './scenario.js'

let sim: SimFederation | undefined
afterEach(async () => {
  await sim?.close()
  sim = undefined
})

describe('bills for keys', () => {
  it('a holder refuses bills for keys it did not release or at another price, and books a true one', async () => {
    sim = await SimFederation.create({ seed: 'bogus-bills', shops: 3 })
    await sim.runUntil(600)
    const [a, b] = ['A', 'B'].map((n) => (sim as SimFederation).shop(n)) as [SimShop, SimShop]
    const first = await a.engine.consign(b.identity.id, 'card-100', 4)
    await a.engine.consign(b.identity.id, 'card-100', 4)
    await runFor(sim, 1_000)
    await a.engine.recall(b.identity.id, first.allotment)
    await runFor(sim, 1_500)
    const released = (await heldKeys(b, 'returned')).map((k) => k.keyId).sort()
    const stillHeld = (await heldKeys(b)).map((k: KeyRow) => k.keyId)
    expect([released.length, stillHeld.length]).toEqual([4, 4])
    const bill = (keyIds: string[], minorUnits: number): AllotmentBilled => ({
      type: 'allotment.billed',
      holder: b.identity.id,
      keyIds,
      amount: { minorUnits, currency: 'CNY' },
      time: (sim as SimFederation).clock.now(),
    })

    // A's operator writes bills straight into A's feed, as a modified node would.
    await liveAppend(a, [
      bill(stillHeld.slice(0, 2), 2_000), // keys B still holds
      bill(['A-card-100-9999'], 1_000), // a key B never held
      bill(released.slice(0, 2), 1_999), // released keys, at another price
    ])
    await runFor(sim, 1_000)
    expect(await ledgerLines(b, a)).toEqual([])
    expect(
      (await b.engine.refusals())
        .filter((r) => r.from === a.identity.id)
        .map((r) => r.reason)
        .sort(),
    ).toEqual([
      'bills another amount than the unit values of the keys',
      'bills keys we were not consigned or did not release',
      'bills keys we were not consigned or did not release',
    ])
    expect((await heldKeys(b)).length).toBe(4) // nothing it holds changed

    // Billed through the node, for released keys at their unit value: one line, in both books.
    await a.engine.decideKeys(released.slice(0, 2), 'bill')
    await runFor(sim, 1_000)
    const atB = await ledgerLines(b, a)
    expect(atB.map((l) => [l.line.kind, l.line.amount.minorUnits, l.line.debtor])).toEqual([['proceeds', 2_000, b.identity.id]])
    expect((await ledgerLines(a, b)).map((l) => l.line)).toEqual(atB.map((l) => l.line))
  })
})
