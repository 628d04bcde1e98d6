import { fail, ok, type Result } from '../errors.js'

/**
 * A finite state machine as a table: for each state, the events it accepts and the next state.
 * Anything not in the table is an illegal transition, returned as a typed error.
 */
export type TransitionTable<S extends string, E extends string> = Readonly<Record<S, Partial<Readonly<Record<E, S>>>>>

export function step<S extends string, E extends string>(name: string, table: TransitionTable<S, E>, state: S, event: E): Result<S> {
  const next = table[state][event]
  if (next === undefined) return fail('illegal-transition', `${name}: ${event} is not allowed in state ${state}`)
  return ok(next)
}

export function isTerminal<S extends string, E extends string>(table: TransitionTable<S, E>, state: S): boolean {
  return Object.keys(table[state]).length === 0
}
