import type { Result } from '../errors.js'
import { step, type TransitionTable } from './machine.js'

/**
 * One consigned card key, at its origin and at its holder (a bounded account: a key is delivered
 * at most once, and a key that went back to its origin is never delivered unless it is consigned
 * again to the same holder).
 */
export type KeyState = 'consigned' | 'reserved' | 'delivered' | 'returned' | 'written-off' | 'billed'
export type KeyEvent =
  | 'reserve' // the holder, under its takeover, commits the key to an order (synced) before sending it
  | 'deliver' // the holder's receipt for that reservation is written
  | 'receipted' // at the origin: a receipt under an adopted authority names the key (the origin never sees the reservation)
  | 'return' // the holder released it unused (a recall, or its own choice)
  | 'write-off' // the origin's operator: a returned key the holder has seen is not sold again
  | 'bill' // the origin's operator: the returned key is settled as the holder's (it owes the unit value)
  | 'reconsign' // the origin's operator: consigned again, to the same holder only

/**
 * A reserved key may already be in a buyer's inbox: it can never be returned or reused. A returned
 * key is exposed (its holder knows its text): it never goes back on sale as if unknown.
 */
export const KEY_TRANSITIONS: TransitionTable<KeyState, KeyEvent> = {
  consigned: { reserve: 'reserved', receipted: 'delivered', return: 'returned' },
  reserved: { deliver: 'delivered' },
  delivered: {},
  returned: { 'write-off': 'written-off', bill: 'billed', reconsign: 'consigned' },
  'written-off': {},
  billed: {},
}

export function keyStep(state: KeyState, event: KeyEvent): Result<KeyState> {
  return step('allotment key', KEY_TRANSITIONS, state, event)
}
