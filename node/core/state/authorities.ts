// Which takeovers this node holds authority for, per origin and epoch (docs/design.md §2, invariants 4, 5,
// 8). An epoch is adopted only from a verified document: a quorum certificate the failover module
// accepted (fresh votes), or the origin's own signed takeover request (a control message, or a
// record in its feed). Every receipt, claim, reservation and fee about another shop's order is
// checked against this registry: nothing about epoch e happens here unless e was adopted here.
// Rows live in `authority` under origin!epoch and are written in the same synced batch as the
// failover state that acts on them.
import { z } from 'zod'
import { Authority, Epoch, type ShopId, ShopId as ShopIdSchema, TimeMs } from '../../../protocol/index.js'
import { Signal } from '../lifecycle.js'
import type { Store } from '../ports.js'
import { authorityKey, prefixRange } from './codec.js'
import { parseRow } from './rows.js'
import type { Tx } from './tx.js'
import { MAX_EPOCHS_IN_MEMORY_PER_ORIGIN } from '../limits.js'

export const AuthorityRow = z.object({
  origin: ShopIdSchema,
  epoch: Epoch.min(1),
  authority: Authority,
  /** The authority's own time: the request's, or the latest vote's (when the quorum existed). */
  startsAt: TimeMs,
  /** When we adopted it (our clock). */
  adoptedAt: TimeMs,
  /** The origin's handback for this epoch (its time), once seen. */
  endedAt: TimeMs.nullable(),
  /**
   * At the origin: it adopted this certificate while a quorum of partners still granted it leases
   * and the votes were stale (it was demonstrably reachable): deliveries under it are facts, their
   * fees are disputed ('contested-takeover').
   */
  contested: z.boolean().optional(),
})
export type AuthorityRow = z.infer<typeof AuthorityRow>

/**
 * When an authority's takeover could have begun: nothing under it is older (within clock skew).
 * For a certificate, its earliest vote: a colluder can date its own vote later than the honest
 * votes beside it, so the latest vote would let it push honest partners' receipts outside the
 * epoch; dating one earlier only widens the window, and a certificate is adopted at all only with
 * fresh votes or by an origin that cannot show a quorum of leases (failover.ts).
 */
export function authorityStart(authority: Authority): number {
  if (authority.kind === 'request') return authority.request.body.time
  return Math.min(...authority.certificate.votes.map((v) => v.body.time))
}

export function authorityEpoch(authority: Authority): number {
  return authority.kind === 'request' ? authority.request.body.epoch : authority.certificate.epoch
}

export function authorityOrigin(authority: Authority): ShopId {
  return authority.kind === 'request' ? authority.request.body.origin : authority.certificate.origin
}

export class Authorities {
  private readonly rows = new Map<string, AuthorityRow>()
  /** An adoption is durable: held receipts of that epoch can be judged again. */
  readonly adopted = new Signal<[row: AuthorityRow]>()

  constructor(
    private readonly store: Store,
    /** The planted bug of the simulator's second canary: every epoch counts as adopted. */
    private readonly everyEpoch = false,
  ) {}

  async load(): Promise<void> {
    for await (const [key, value] of this.store.range('authority', {})) {
      const row = parseRow(AuthorityRow, 'authority', key, value)
      this.rows.set(key, row)
      this.forgetOld(row.origin)
    }
  }

  /** The adopted authority for `origin` at `epoch`, if any (committed, or staged in `tx`). */
  get(origin: ShopId, epoch: number, tx?: Tx): AuthorityRow | undefined {
    const key = authorityKey(origin, epoch)
    const staged = tx?.seen('authority', key)
    const row = (staged as AuthorityRow | undefined) ?? this.rows.get(key)
    if (row || !this.everyEpoch) return row
    return {
      origin,
      epoch,
      authority: { kind: 'request', request: { body: { origin, terms: '', epoch, time: 0, reason: 'planted' }, sig: '' } },
      startsAt: 0,
      adoptedAt: 0,
      endedAt: null,
    }
  }

  size(): number {
    return this.rows.size
  }

  /** Every adopted epoch of `origin`, oldest first. */
  of(origin: ShopId): AuthorityRow[] {
    const { gt, lt } = prefixRange(origin)
    return [...this.rows.entries()]
      .filter(([k]) => k > gt && k < lt)
      .map(([, row]) => row)
      .sort((a, b) => a.epoch - b.epoch)
  }

  /**
   * Adopts a verified authority. Idempotent; a second valid authority for an epoch we know only
   * matters if it began earlier (several partners may certify one epoch, and the origin may ask
   * too): the earliest start is what receipts are judged by.
   */
  adopt(tx: Tx, authority: Authority, now: number, contested = false): AuthorityRow {
    const origin = authorityOrigin(authority)
    const epoch = authorityEpoch(authority)
    const known = this.get(origin, epoch, tx)
    const startsAt = authorityStart(authority)
    if (known && known.startsAt <= startsAt) return known
    const row: AuthorityRow = known
      ? { ...known, authority, startsAt }
      : { origin, epoch, authority, startsAt, adoptedAt: now, endedAt: null, ...(contested ? { contested } : {}) }
    const key = authorityKey(origin, epoch)
    tx.put('authority', key, row)
    tx.afterCommit(() => {
      const current = this.rows.get(key)
      if (current && current.startsAt <= row.startsAt) return
      this.rows.set(key, row)
      this.forgetOld(origin)
      this.adopted.emit(row)
    })
    return row
  }

  private forgetOld(origin: ShopId): void {
    const held = this.of(origin)
    for (const row of held.slice(0, Math.max(0, held.length - MAX_EPOCHS_IN_MEMORY_PER_ORIGIN))) this.rows.delete(authorityKey(origin, row.epoch))
  }

  /** The origin handed epoch `epoch` back at `at` (its signed record): the takeover is over. */
  ended(tx: Tx, origin: ShopId, epoch: number, at: number): void {
    const known = this.get(origin, epoch, tx)
    if (!known || known.endedAt !== null) return
    const row: AuthorityRow = { ...known, endedAt: at }
    const key = authorityKey(origin, epoch)
    tx.put('authority', key, row)
    tx.afterCommit(() => this.rows.set(key, row))
  }
}
