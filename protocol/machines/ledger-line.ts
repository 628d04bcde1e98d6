import type { Result } from '../errors.js'
import { step, type TransitionTable } from './machine.js'

/** One line in a pair's books (both sides keep it, moving in step through statements). */
export type LineState = 'open' | 'stated' | 'accepted' | 'disputed' | 'settled'
export type LineEvent =
  | 'state' // the creditor put it on a statement (or the debtor matched it to one)
  | 'accept' // the debtor accepted the statement without disputing it
  | 'dispute' // disputed: on a statement's answer, or on booking by the origin's judgement (mirrored)
  | 'settle' // the payment for its statement was confirmed

/** A disputed line stays disputed (counted apart from what is owed); settled is final. */
export const LINE_TRANSITIONS: TransitionTable<LineState, LineEvent> = {
  open: { state: 'stated', dispute: 'disputed' },
  stated: { accept: 'accepted', dispute: 'disputed' },
  accepted: { settle: 'settled' },
  disputed: { dispute: 'disputed' },
  settled: {},
}

export function lineStep(state: LineState, event: LineEvent): Result<LineState> {
  return step('ledger line', LINE_TRANSITIONS, state, event)
}
