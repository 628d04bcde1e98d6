import type { Result } from '../errors.js'
import { step, type TransitionTable } from './machine.js'

/** An escrowed order, at its origin and at every partner holding the origin's feed. */
export type OrderState = 'escrowed' | 'reserved' | 'delivered' | 'cancelled'
export type OrderEvent =
  | 'reserve' // a fulfiller, under its takeover at an adopted epoch, reserves keys for it (synced)
  | 'deliver' // that fulfiller's receipt is written
  | 'partner-delivered' // a partner's receipt, under an authority adopted for its epoch (or acknowledged by the origin)
  | 'origin-delivered' // tombstone: the origin delivered it itself
  | 'cancel' // tombstone: the origin cancelled it

/**
 * Once a key is reserved the order can only end delivered: the key may already be on its way, so a
 * reservation is never undone and never swapped for another key (resume after a crash). Who may
 * claim an order is decided by signed claims, not by the order's state.
 */
export const ORDER_TRANSITIONS: TransitionTable<OrderState, OrderEvent> = {
  escrowed: { reserve: 'reserved', 'partner-delivered': 'delivered', 'origin-delivered': 'delivered', cancel: 'cancelled' },
  reserved: { deliver: 'delivered' },
  delivered: {},
  cancelled: {},
}

export function orderStep(state: OrderState, event: OrderEvent): Result<OrderState> {
  return step('order', ORDER_TRANSITIONS, state, event)
}
