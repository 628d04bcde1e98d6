// A shared secret that can be replaced while the node runs, without refusing anyone in between
// (issue 21): after `standin secrets rotate`, the previous value stays valid until its grace ends,
// so the other side (the operator's CLI and browser, the shop's adapter) moves to the new one at its
// own pace. The node accepts either while both are valid and uses the new one to sign; the running
// node takes a rotation when the CLI asks it to reload (POST /v1/admin/secrets/reload).
import { createHash, timingSafeEqual } from 'node:crypto'

export interface PreviousSecret {
  readonly value: string
  /** The previous value is refused from this time on (ms since the epoch). */
  readonly untilMs: number
}

export interface RotatingSecret {
  /** The value to sign with. */
  current(): string
  /** The previous value while its grace runs at `nowMs`, else null. */
  previous(nowMs: number): string | null
}

export class SecretSlot implements RotatingSecret {
  private value: string
  private before: PreviousSecret | null

  constructor(current: string, previous: PreviousSecret | null = null) {
    if (current.length === 0) throw new Error('a secret must not be empty')
    this.value = current
    this.before = previous
  }

  current(): string {
    return this.value
  }

  previous(nowMs: number): string | null {
    return this.before !== null && nowMs < this.before.untilMs ? this.before.value : null
  }

  /** Takes a rotation: the new value, and the old one with its grace (null: refused at once). */
  replace(current: string, previous: PreviousSecret | null): void {
    if (current.length === 0) throw new Error('a secret must not be empty')
    this.value = current
    this.before = previous
  }
}

/** Every value a presented secret may match at `nowMs`: the current one first. */
export function acceptedSecrets(secret: RotatingSecret, nowMs: number): string[] {
  const previous = secret.previous(nowMs)
  return previous === null ? [secret.current()] : [secret.current(), previous]
}

/** A fixed secret (tests, and callers that never rotate). */
export function rotating(secret: string | RotatingSecret): RotatingSecret {
  return typeof secret === 'string' ? new SecretSlot(secret) : secret
}

/** Whether `presented` is one of the values accepted at `nowMs`, compared in constant time. */
export function matchesSecret(presented: string, secret: RotatingSecret, nowMs: number): boolean {
  // Every accepted value is compared, matched or not, so the time taken says nothing about which.
  let matched = false
  for (const value of acceptedSecrets(secret, nowMs)) matched = sameSecret(presented, value) || matched
  return matched
}

/** Constant-time equality of two secrets (SHA-256 first, so their lengths are not revealed either). */
export function sameSecret(a: string, b: string): boolean {
  return timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest())
}
