// Revoking a party (D94). A shop whose partner is compromised or gone rogue signs
// `partner.revoked` in its own feed (the operator's word: `standin partner revoke`). One record
// changes nothing but the record: a single party could otherwise cut a partner out of every
// other shop's federation. Once the parties other than the partner who signed one reach the
// revocation quorum (revocationQuorum: the certificate quorum, or every other party when there are
// fewer), the partner is revoked at every node that holds those records: no partner of ours any
// more (federation.ts), so nothing is sealed to it from then on, nothing it sends is taken (its
// claims, votes, leases, receipts and feed entries after the ones we hold), and its votes count
// for no certificate. The records are the authority, and they are in feeds every party holds, so
// each node reaches the same decision as the records reach it. The engine restarts to take it (as
// for a new card or terms revision): the partner set is fixed for one engine's life.
//
// The rows are this module's: one per (partner, revoker), under `meta`/`revoked!partner!by`.
import { z } from 'zod'
import { revocationQuorum, type ShopId, ShopId as ShopIdSchema, Seq, Text, TimeMs } from '../../protocol/index.js'
import { RefusedError } from './api.js'
import type { EventSink } from './events.js'
import type { Federation } from './federation.js'
import type { FeedWriter } from './feed-writer.js'
import type { Startable } from './lifecycle.js'
import type { Clock, Logger, Store } from './ports.js'
import { RANGE_END } from './state/codec.js'
import { parseRow } from './state/rows.js'
import { Tx } from './state/tx.js'

export const RevocationRow = z.strictObject({
  partner: ShopIdSchema,
  by: ShopIdSchema,
  reason: Text,
  /** Time of the revoker's feed entry that carried it. */
  at: TimeMs,
  /** Seq of that entry in the revoker's feed. */
  seq: Seq,
})
export type RevocationRow = z.infer<typeof RevocationRow>

const PREFIX = 'revoked!'
const rowKey = (partner: ShopId, by: ShopId) => `${PREFIX}${partner}!${by}`

/** What the console and `standin status` show of one revocation. */
export interface RevocationView {
  readonly partner: ShopId
  readonly by: readonly { readonly shop: ShopId; readonly reason: string; readonly at: number }[]
  readonly needed: number
  /** Revoked at this node now (this engine runs without it). */
  readonly inForce: boolean
}

export class Revocations implements Startable {
  /** Rows by partner, then by revoker. Bounded: parties × parties (LIMITS.maxParties²). */
  private readonly rows = new Map<ShopId, Map<ShopId, RevocationRow>>()
  /** Partners whose quorum this engine announced, so it announces each once. */
  private readonly announced = new Set<ShopId>()

  constructor(
    private readonly deps: {
      readonly me: ShopId
      readonly federation: Federation
      readonly store: Store
      readonly writer: FeedWriter
      readonly clock: Clock
      readonly logger: Logger
      readonly emit: EventSink
      /** The simulator's planted bug: still seal to a revoked party. */
      readonly canary?: 'seal-to-revoked' | undefined
    },
  ) {}

  /** Loads the rows and hands the federation those in force, before any other part starts. */
  async start(): Promise<void> {
    for await (const [key, value] of this.deps.store.range('meta', { gt: PREFIX, lt: `${PREFIX}${RANGE_END}` })) {
      const row = parseRow(RevocationRow, 'meta', key, value)
      this.remember(row)
    }
    const inForce = [...this.rows.keys()].filter((partner) => partner !== this.deps.me && this.quorumReached(partner))
    this.deps.federation.revoke(inForce, this.deps.canary)
    for (const partner of inForce) this.announced.add(partner)
    if (inForce.length > 0) this.deps.logger.warn({ revoked: inForce }, 'revoked partners: no partners of ours any more (docs/decisions.md D94)')
  }

  /** The operator revokes `partner`: our signed record, in our feed. Resolves once it is durable. */
  async revoke(partner: ShopId, reason: string): Promise<{ seq: number; inForce: boolean; needed: number; by: ShopId[] }> {
    const { me, federation, writer } = this.deps
    if (partner === me) throw new RefusedError('a shop cannot revoke itself; to leave, propose terms without it (standin terms propose)')
    if (!federation.terms.parties.includes(partner)) throw new RefusedError(`${partner} is not a party to the terms in force`)
    if (this.rows.get(partner)?.has(me)) throw new RefusedError(`this shop already revoked ${partner}`)
    const tx = new Tx()
    const seq = await writer.append([{ type: 'partner.revoked', partner, reason }], [], tx, (entrySeq) => {
      const row: RevocationRow = { partner, by: me, reason, at: this.deps.clock.now(), seq: entrySeq }
      tx.put('meta', rowKey(partner, me), row)
      tx.afterCommit(() => this.taken(row))
    })
    const by = [...(this.rows.get(partner)?.keys() ?? [])]
    return { seq, inForce: this.quorumReached(partner), needed: revocationQuorum(this.deps.federation.terms), by }
  }

  /**
   * A `partner.revoked` record in a feed we hold (ours after a restore, or a partner's), in the unit
   * that stores its entry. A record naming no party, or its own author, changes nothing.
   */
  applyRecord(tx: Tx, author: ShopId, record: { partner: ShopId; reason: string }, entry: { seq: number; time: number }): void {
    const parties = this.deps.federation.terms.parties
    if (!parties.includes(record.partner) || record.partner === author || !parties.includes(author)) {
      this.deps.logger.warn({ author, partner: record.partner }, 'a revocation naming no party, or its own author: ignored')
      return
    }
    if (this.rows.get(record.partner)?.has(author)) return
    const row: RevocationRow = { partner: record.partner, by: author, reason: record.reason, at: entry.time, seq: entry.seq }
    tx.put('meta', rowKey(record.partner, author), row)
    tx.afterCommit(() => this.taken(row))
  }

  /** Every partner someone revoked, with who and whether it is in force here. */
  views(): RevocationView[] {
    const needed = revocationQuorum(this.deps.federation.terms)
    // A party the terms in force left out (D95) is no one's to revoke any more.
    const rows = [...this.rows].filter(([partner]) => this.deps.federation.terms.parties.includes(partner))
    return rows.map(([partner, by]) => ({
      partner,
      by: [...by.values()].map((r) => ({ shop: r.by, reason: r.reason, at: r.at })),
      needed,
      inForce: this.deps.federation.isRevoked(partner),
    }))
  }

  private remember(row: RevocationRow): void {
    let by = this.rows.get(row.partner)
    if (!by) this.rows.set(row.partner, (by = new Map()))
    by.set(row.by, row)
  }

  /** Revokers who count: parties of the terms, other than the partner, not revoked themselves. */
  private quorumReached(partner: ShopId): boolean {
    const { federation } = this.deps
    const by = [...(this.rows.get(partner)?.keys() ?? [])].filter((b) => b !== partner && federation.terms.parties.includes(b) && !federation.isRevoked(b))
    return by.length >= revocationQuorum(federation.terms)
  }

  /** A row is durable: say so, and once its quorum is reached, say that (the node restarts the engine on it). */
  private taken(row: RevocationRow): void {
    this.remember(row)
    const { partner } = row
    const reached = this.quorumReached(partner)
    this.deps.logger.warn({ partner, by: row.by, reason: row.reason, inForce: reached }, 'a party revoked a partner')
    this.deps.emit(this.deps.clock.now(), { kind: 'revocation', partner, by: row.by, reason: row.reason, reached })
    if (!reached || this.announced.has(partner)) return
    this.announced.add(partner)
    const by = [...(this.rows.get(partner)?.keys() ?? [])]
    this.deps.emit(this.deps.clock.now(), { kind: 'partner-revoked', partner, by, us: partner === this.deps.me })
  }
}
