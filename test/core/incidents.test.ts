// Issue 17, item 4: partner-side incident reports close when the outage ends, whether it ended by
// a handback we saw, by a later epoch's handback, or was a false alarm that never became a takeover.
import { describe, expect, it } from 'vitest'
import { type OriginPhase, Incidents } from '../../node/core/incidents.js'
import { LevelStore } from '../../node/store/level-store.js'

const ME = '12D3KooWme'
const O = '12D3KooWorigin'
const VOTER = '12D3KooWvoter'
const VOTE_TTL_MS = 3_000

async function book(): Promise<Incidents> {
  const incidents = new Incidents(ME, await LevelStore.openInMemory())
  await incidents.start()
  return incidents
}

const views = (view: OriginPhase) => new Map([[O, { view }]])
const report = (incidents: Incidents, epoch: number) => incidents.list().find((r) => r.origin === O && r.epoch === epoch)

describe('partner-side incident reports', () => {
  it('a false alarm (votes, no takeover) closes once the origin is up and every vote expired', async () => {
    const incidents = await book()
    incidents.onEvent(1_000, { kind: 'vote', origin: O, voter: VOTER, epoch: 1 })
    incidents.sweep(1_500, views({ phase: 'suspect', epoch: 0 }), VOTE_TTL_MS)
    incidents.sweep(1_000 + VOTE_TTL_MS, views({ phase: 'healthy', epoch: 0 }), VOTE_TTL_MS)
    expect(report(incidents, 1)?.closedAt).toBeNull() // a vote may still count in a certificate
    incidents.sweep(1_001 + VOTE_TTL_MS, views({ phase: 'healthy', epoch: 0 }), VOTE_TTL_MS)
    expect(report(incidents, 1)?.closedAt).toBe(1_001 + VOTE_TTL_MS)
    expect(report(incidents, 1)?.timeline.at(-1)?.what).toMatch(/no takeover/)
  })

  it('stays open while we still suspect the origin, or while its takeover lasts', async () => {
    const incidents = await book()
    incidents.onEvent(1_000, { kind: 'suspect', origin: O, epoch: 1, reason: 'heartbeat-timeout', lastHeartbeatAt: 0 })
    incidents.sweep(60_000, views({ phase: 'suspect', epoch: 0 }), VOTE_TTL_MS)
    incidents.onEvent(61_000, { kind: 'taken-over', origin: O, epoch: 1 })
    incidents.sweep(120_000, views({ phase: 'taken-over', epoch: 1 }), VOTE_TTL_MS)
    expect(report(incidents, 1)?.closedAt).toBeNull()
  })

  it("the handback closes it; so does a later epoch's handback we saw instead", async () => {
    const incidents = await book()
    incidents.onEvent(1_000, { kind: 'taken-over', origin: O, epoch: 1 })
    incidents.onEvent(2_000, { kind: 'handback', origin: O, epoch: 1, receipts: 0 })
    expect(report(incidents, 1)?.closedAt).toBe(2_000)
    incidents.onEvent(3_000, { kind: 'taken-over', origin: O, epoch: 2 })
    incidents.sweep(4_000, views({ phase: 'handed-back', epoch: 3 }), VOTE_TTL_MS)
    expect(report(incidents, 2)?.closedAt).toBe(4_000)
  })

  it('a report closed as a false alarm reopens when the takeover turns out to have happened', async () => {
    const incidents = await book()
    incidents.onEvent(1_000, { kind: 'vote', origin: O, voter: VOTER, epoch: 1 })
    incidents.sweep(10_000, views({ phase: 'healthy', epoch: 0 }), VOTE_TTL_MS)
    expect(report(incidents, 1)?.closedAt).toBe(10_000)
    incidents.onEvent(11_000, { kind: 'taken-over', origin: O, epoch: 1 })
    expect(report(incidents, 1)?.closedAt).toBeNull()
    incidents.onEvent(12_000, { kind: 'duplicate', origin: O, order: 'o-1', fulfillers: [ME, VOTER] })
    incidents.onEvent(13_000, { kind: 'handback', origin: O, epoch: 1, receipts: 1 })
    expect(report(incidents, 1)?.closedAt).toBe(13_000)
  })

  it('closed reports survive a restart closed; open ones are swept after it', async () => {
    const store = await LevelStore.openInMemory()
    const before = new Incidents(ME, store)
    await before.start()
    before.onEvent(1_000, { kind: 'vote', origin: O, voter: VOTER, epoch: 1 })
    await before.flush()
    const after = new Incidents(ME, store)
    await after.start()
    after.sweep(10_000, views({ phase: 'healthy', epoch: 0 }), VOTE_TTL_MS)
    await after.flush()
    const again = new Incidents(ME, store)
    await again.start()
    expect(report(again, 1)?.closedAt).toBe(10_000)
  })
})
