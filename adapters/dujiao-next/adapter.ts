// The node → shop half for Dujiao-Next: the engine's Adapter port against Dujiao-Next's database
// (PostgreSQL or SQLite, ../shop-db/sql.ts).
// Serve it to a stock node with generic/callback-host.ts (main.ts), or pass it to an engine in-process.
//
// Fencing. Dujiao-Next delivers automatically right after payment (its queue worker) and retries a
// failed delivery a few times; an admin may also deliver by hand. No adapter can stop those, so the
// fence is a persisted flag the bridge reads (Dujiao-Next's own delivery of an escrowed order while
// fenced is logged as an error and still tombstoned, so the node counts the duplicate) and the
// operator's rule in adapters/dujiao-next/README.md.
import type { Adapter, CardKey, Logger, PartnerDelivery } from '../contract.js'
import { checkCount } from '../shop-db/fence.js'
import { setFencedFlag } from '../shop-db/sql-fence.js'
import type { SqlDatabase } from '../shop-db/sql.js'
import { checkShopSchema, ensureStandinTables } from './schema.js'
import { checkShadowTable, returnStock, type StockOptions, takeStock } from './stock.js'
import { writeBack } from './write-back.js'

export interface DujiaoNextAdapterOptions {
  readonly db: SqlDatabase
  readonly logger: Logger
  readonly now?: () => number
}

/** Checks Dujiao-Next's tables, creates Standin's; refuses to start if a column it needs is missing. */
export async function createDujiaoNextAdapter(options: DujiaoNextAdapterOptions): Promise<Adapter> {
  const now = options.now ?? Date.now
  await checkShopSchema(options.db)
  await ensureStandinTables(options.db)
  await checkShadowTable(options.db)
  const stock: StockOptions = { db: options.db, logger: options.logger, now }
  return {
    setFenced: (fenced: boolean): Promise<void> => setFencedFlag(options.db, fenced, now(), options.logger, 'Dujiao-Next'),
    takeStock: async (sku: string, count: number): Promise<CardKey[]> => {
      checkCount(count)
      return takeStock(stock, sku, count)
    },
    returnStock: (sku: string, keys: readonly CardKey[]): Promise<void> => returnStock(stock, sku, keys),
    async writeBack(delivery: PartnerDelivery): Promise<void> {
      await writeBack({ db: options.db, logger: options.logger, now }, delivery)
    },
  }
}
