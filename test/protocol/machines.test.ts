import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  failoverStep,
  type FailoverEvent,
  type FailoverView,
  INITIAL_VIEW,
  KEY_TRANSITIONS,
  keyStep,
  LINE_TRANSITIONS,
  lineStep,
  ORDER_TRANSITIONS,
  orderStep,
  type TransitionTable,
} from '../../protocol/index.js'

function exhaustive<S extends string, E extends string>(
  table: TransitionTable<S, E>,
  events: readonly E[],
  stepFn: (s: S, e: E) => { ok: boolean; value?: S; error?: { code: string } },
) {
  for (const state of Object.keys(table) as S[]) {
    for (const event of events) {
      const expected = table[state][event]
      const result = stepFn(state, event)
      if (expected === undefined) expect(result, `${state} + ${event}`).toMatchObject({ ok: false, error: { code: 'illegal-transition' } })
      else expect(result, `${state} + ${event}`).toEqual({ ok: true, value: expected })
    }
  }
}

describe('order at its origin and partners', () => {
  const events = ['reserve', 'deliver', 'partner-delivered', 'origin-delivered', 'cancel'] as const
  it('allows exactly the table and refuses every other transition', () => exhaustive(ORDER_TRANSITIONS, events, orderStep))
  it('never leaves reserved except to delivered, whatever happens', () => {
    for (const e of events) expect(orderStep('reserved', e).ok).toBe(e === 'deliver')
  })
})

describe('allotment key at its origin and holder', () => {
  const events = ['reserve', 'deliver', 'receipted', 'return', 'write-off', 'bill', 'reconsign'] as const
  it('allows exactly the table and refuses every other transition', () => exhaustive(KEY_TRANSITIONS, events, keyStep))
  it('a key can be delivered at most once along any path', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...events), { maxLength: 20 }), (path) => {
        let state: keyof typeof KEY_TRANSITIONS = 'consigned'
        let deliveries = 0
        for (const e of path) {
          const next = keyStep(state, e)
          if (!next.ok) continue
          if (e === 'deliver' || e === 'receipted') deliveries++
          state = next.value
        }
        expect(deliveries).toBeLessThanOrEqual(1)
        if (state === 'returned') expect(deliveries).toBe(0)
      }),
    )
  })
})

describe("ledger line in a pair's books", () => {
  const events = ['state', 'accept', 'dispute', 'settle'] as const
  it('allows exactly the table and refuses every other transition', () => exhaustive(LINE_TRANSITIONS, events, lineStep))
  it('a disputed line is never settled, whatever happens after', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...events), { maxLength: 12 }), (path) => {
        let state: keyof typeof LINE_TRANSITIONS = 'open'
        let disputed = false
        for (const e of path) {
          const next = lineStep(state, e)
          if (!next.ok) continue
          state = next.value
          if (state === 'disputed') disputed = true
        }
        if (disputed) expect(state).toBe('disputed')
      }),
    )
  })
})

describe('failover view of an origin', () => {
  const arbEvent: fc.Arbitrary<FailoverEvent> = fc.oneof(
    fc.constant({ type: 'heartbeat-ok' } as const),
    fc.constant({ type: 'suspect' } as const),
    fc.constant({ type: 'takeover-delay-elapsed' } as const),
    fc.record({ type: fc.constant('certificate' as const), epoch: fc.nat(6) }),
    fc.record({ type: fc.constant('takeover-request' as const), epoch: fc.nat(6) }),
    fc.record({ type: fc.constant('handback' as const), epoch: fc.nat(6) }),
  )

  it('walks healthy → suspect → certified → taken over → handed back → healthy', () => {
    let view: FailoverView = INITIAL_VIEW
    const go = (e: FailoverEvent) => {
      const next = failoverStep(view, e)
      expect(next.ok).toBe(true)
      if (next.ok) view = next.value
    }
    go({ type: 'suspect' })
    go({ type: 'certificate', epoch: 1 })
    expect(view).toEqual({ phase: 'certified', epoch: 1 })
    go({ type: 'takeover-delay-elapsed' })
    go({ type: 'handback', epoch: 1 })
    go({ type: 'heartbeat-ok' })
    expect(view).toEqual({ phase: 'healthy', epoch: 1 })
  })

  it('refuses illegal steps with typed errors', () => {
    expect(failoverStep(INITIAL_VIEW, { type: 'takeover-delay-elapsed' })).toMatchObject({ ok: false, error: { code: 'illegal-transition' } })
    expect(failoverStep({ phase: 'healthy', epoch: 1 }, { type: 'handback', epoch: 1 })).toMatchObject({ ok: false, error: { code: 'illegal-transition' } })
    expect(failoverStep({ phase: 'taken-over', epoch: 2 }, { type: 'heartbeat-ok' })).toMatchObject({ ok: false, error: { code: 'illegal-transition' } })
    expect(failoverStep({ phase: 'healthy', epoch: 2 }, { type: 'certificate', epoch: 2 })).toMatchObject({ ok: false, error: { code: 'stale' } })
    expect(failoverStep({ phase: 'taken-over', epoch: 2 }, { type: 'handback', epoch: 1 })).toMatchObject({ ok: false, error: { code: 'stale' } })
  })

  it('a handback of a later epoch ends a takeover we missed, so its certificate is stale afterwards', () => {
    const after = failoverStep({ phase: 'suspect', epoch: 0 }, { type: 'handback', epoch: 1 })
    expect(after).toEqual({ ok: true, value: { phase: 'handed-back', epoch: 1 } })
    if (after.ok) expect(failoverStep(after.value, { type: 'certificate', epoch: 1 })).toMatchObject({ ok: false, error: { code: 'stale' } })
  })

  it('epochs never go down and a takeover always comes from authority above the last epoch', () => {
    fc.assert(
      fc.property(fc.array(arbEvent, { maxLength: 40 }), (events) => {
        let view: FailoverView = INITIAL_VIEW
        for (const e of events) {
          const next = failoverStep(view, e)
          if (!next.ok) continue
          expect(next.value.epoch).toBeGreaterThanOrEqual(view.epoch)
          if (next.value.epoch > view.epoch) {
            // Only authority raises the epoch, or the origin's own handback of a later one.
            expect(e.type === 'certificate' || e.type === 'takeover-request' || (e.type === 'handback' && next.value.phase === 'handed-back')).toBe(true)
          }
          if (next.value.phase === 'taken-over' && view.phase !== 'taken-over') {
            expect(view.phase === 'certified' || e.type === 'takeover-request').toBe(true)
          }
          view = next.value
        }
      }),
      { numRuns: 500 },
    )
  })
})
