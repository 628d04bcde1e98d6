import type { Result } from '../errors.js'
import { step, type TransitionTable } from './machine.js'

/** An escrowed order as a partner holds it. */
export type OrderState = 'escrowed' | 'claimed' | 'reserved' | 'delivered' | 'cancelled'
export type OrderEvent =
  | 'claim' // we (or a co-partner) claimed it
  | 'yield' // a better-ranked claim won; back to waiting
  | 'reserve' // a key is reserved for it with a synced write
  | 'deliver' // the key went out, receipt written
  | 'origin-delivered' // tombstone: the origin delivered it itself
  | 'cancel' // tombstone: the origin cancelled it

/**
 * Once a key is reserved the order can only end delivered: the key may already be on its way, so a
 * reservation is never undone and never swapped for another key (resume after a crash).
 */
export const ORDER_TRANSITIONS: TransitionTable<OrderState, OrderEvent> = {
  escrowed: { claim: 'claimed', 'origin-delivered': 'delivered', cancel: 'cancelled' },
  claimed: { yield: 'escrowed', reserve: 'reserved', 'origin-delivered': 'delivered', cancel: 'cancelled' },
  reserved: { deliver: 'delivered' },
  delivered: {},
  cancelled: {},
}

export function orderStep(state: OrderState, event: OrderEvent): Result<OrderState> {
  return step('order', ORDER_TRANSITIONS, state, event)
}
