// The stored state and its one owner per section. Logic modules (escrow, replication, failover,
// fulfilment, handback, settlement) read and change rows only through these, inside a Tx.
import type { ShopId } from '../../../protocol/index.js'
import type { Federation } from '../federation.js'
import type { Startable } from '../lifecycle.js'
import type { Logger, Store } from '../ports.js'
import { Authorities } from './authorities.js'
import { Keys } from './keys.js'
import { Books } from './ledger.js'
import { Orders } from './orders.js'
import { OutboxRows } from './outbox.js'
import { Receipts } from './receipts.js'
import { MAX_EPOCHS_IN_MEMORY_PER_ORIGIN, MAX_HELD_RECEIPTS_PER_PEER } from '../limits.js'
import { Refusals } from './refusals.js'
import { commit, type Tx, Turns } from './tx.js'

export class State implements Startable {
  readonly authorities: Authorities
  readonly orders: Orders
  readonly keys: Keys
  readonly receipts: Receipts
  readonly books: Books
  readonly outbox: OutboxRows
  readonly refusals: Refusals

  private readonly store: Store
  private readonly turns = new Turns()

  constructor(deps: {
    readonly me: ShopId
    readonly store: Store
    readonly federation: Federation
    readonly logger: Logger
    readonly canary?: 'reuse-keys' | 'lone-receipts' | 'no-rejoin' | 'no-keyring' | 'seal-to-revoked' | undefined
  }) {
    this.store = deps.store
    this.authorities = new Authorities(deps.store, deps.canary === 'lone-receipts')
    this.orders = new Orders(deps.me, deps.store, this.authorities, this.turns)
    this.keys = new Keys(deps.me, deps.store, this.authorities, deps.canary === 'reuse-keys')
    this.receipts = new Receipts(deps.store)
    this.books = new Books(deps)
    this.outbox = new OutboxRows(deps.store)
    this.refusals = new Refusals(deps.store)
  }

  /** Runs a unit that changes existing order rows in its turn (see Turns in tx.ts). */
  serially<T>(unit: () => Promise<T>): Promise<T> {
    return this.turns.run(unit)
  }

  /** Writes a unit that goes with no feed entry (synced unless it precedes nothing outside). */
  commit(tx: Tx, options: { readonly sync: boolean } = { sync: true }): Promise<void> {
    return commit(this.store, tx, options)
  }

  /** Memory the owners hold for partners, against its bounds. */
  footprint(partners: number): { name: string; size: number; limit: number }[] {
    return [
      { name: 'adopted epochs in memory', size: this.authorities.size(), limit: MAX_EPOCHS_IN_MEMORY_PER_ORIGIN * (partners + 1) },
      { name: 'held receipts of one partner', size: this.receipts.mostHeld(), limit: MAX_HELD_RECEIPTS_PER_PEER },
    ]
  }

  async start(): Promise<void> {
    await this.authorities.load()
    await this.orders.load()
    await this.keys.load()
    await this.receipts.load()
    await this.books.load()
    await this.refusals.load()
  }
}

export { Tx } from './tx.js'
