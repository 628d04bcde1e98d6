// Typed results instead of throws for everything a peer can cause: the caller decides whether a
// rejection is logged, counted, answered with a 4xx or used as proof of misbehaviour.
export type ProtocolErrorCode =
  | 'invalid' // fails its schema
  | 'bad-signature'
  | 'wrong-signer'
  | 'not-a-party'
  | 'cannot-open' // sealed box not addressed to us, or tampered
  | 'bad-chain' // prev hash or author mismatch
  | 'gap' // seq skips ahead of what we hold
  | 'duplicate' // the very same entry again
  | 'fork' // another entry with a seq we already hold
  | 'stale' // older epoch or older than we accept
  | 'below-quorum'
  | 'illegal-transition'
  | 'conflict' // same id, different body
  | 'terms' // the agreement does not allow it

export interface ProtocolError {
  readonly code: ProtocolErrorCode
  readonly message: string
}

export type Result<T, E extends ProtocolError = ProtocolError> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: E }

export function ok<T>(value: T): { readonly ok: true; readonly value: T } {
  return { ok: true, value }
}

export function fail<C extends ProtocolErrorCode>(
  code: C,
  message: string,
): { readonly ok: false; readonly error: { readonly code: C; readonly message: string } } {
  return { ok: false, error: { code, message } }
}

/** Invariant violated by our own code (never by a peer's input): crash loudly. */
export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(`assertion failed: ${message}`)
}

/** Unwrap a result whose failure would be a bug on our side. */
export function unwrap<T>(result: Result<T>): T {
  if (!result.ok) throw new Error(`${result.error.code}: ${result.error.message}`)
  return result.value
}
