import type { Result } from '../errors.js'
import { step, type TransitionTable } from './machine.js'

/** One consigned card key at its holder (a bounded account: it moves one way only). */
export type KeyState = 'consigned' | 'reserved' | 'delivered' | 'returned'
export type KeyEvent = 'reserve' | 'deliver' | 'return'

/** A reserved key may already be in a buyer's inbox: it can never be returned or reused. */
export const KEY_TRANSITIONS: TransitionTable<KeyState, KeyEvent> = {
  consigned: { reserve: 'reserved', return: 'returned' },
  reserved: { deliver: 'delivered' },
  delivered: {},
  returned: {},
}

export function keyStep(state: KeyState, event: KeyEvent): Result<KeyState> {
  return step('allotment key', KEY_TRANSITIONS, state, event)
}
