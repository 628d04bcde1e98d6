// The node → shop half for dujiaoka: the engine's Adapter port implemented directly against
// dujiaoka's database. Serve it to a stock node with generic/callback-host.ts (see main.ts), or
// pass it to an engine in-process.
//
// Fencing. dujiaoka completes automatic orders inside the payment callback (status 1 → 4 in one
// transaction) and never re-delivers a paid order by itself: the orders Standin escrows (2, 3, 6)
// are delivered in dujiaoka only by a person in the admin panel. No adapter can stop that, so the
// fence here is (1) a persisted flag (`standin_state.fenced`) the bridge reads: an escrowed order
// that dujiaoka completes while fenced is logged as an error and still tombstoned, so the node
// counts the duplicate; and (2) the operator's rule in adapters/dujiaoka/README.md: while fenced,
// do not hand-deliver abnormal/pending orders. Consigning is not refused while fenced: it only
// removes keys from the shop, which can never cause a second delivery.
import type { Adapter, CardKey, Logger, PartnerDelivery } from '../contract.js'
import type { ConsignConfig } from './config.js'
import type { Pool } from '../mysql/db.js'
import { OpenTransactionsReader } from './open-transactions.js'
import { ensureStandinTables } from './schema.js'
import { checkShopSchema } from './schema-check.js'
import { checkCount, setFencedFlag } from '../mysql/fence.js'
import { recoverSettling, returnStock, type StockOptions, takeStock } from './stock.js'
import { writeBack } from './write-back.js'

export interface DujiaokaAdapterOptions {
  readonly pool: Pool
  readonly logger: Logger
  readonly consign: ConsignConfig
  readonly now?: () => number
}

/** Refuses to start without the PROCESS privilege: consigning safely depends on it (stock.ts). */
async function checkPrivileges(pool: Pool): Promise<void> {
  try {
    await pool.query('SELECT COUNT(*) FROM information_schema.INNODB_TRX')
  } catch (error) {
    const code = (error as { code?: unknown }).code
    if (code === 'ER_SPECIFIC_ACCESS_DENIED_ERROR' || code === 'ER_ACCESS_DENIED_ERROR') {
      throw new Error(
        "database user lacks the PROCESS privilege (GRANT PROCESS ON *.* TO '<user>'@'<host>'): the adapter needs it to see open transactions before consigning keys",
      )
    }
    throw error
  }
}

/** Checks dujiaoka's tables, creates Standin's, checks privileges, puts back keys of interrupted consignments. */
export async function createDujiaokaAdapter(options: DujiaokaAdapterOptions): Promise<Adapter> {
  const now = options.now ?? Date.now
  const stock: StockOptions = {
    pool: options.pool,
    logger: options.logger,
    consign: options.consign,
    openTransactions: new OpenTransactionsReader(options.pool),
    now,
  }
  await checkShopSchema(options.pool)
  await ensureStandinTables(options.pool)
  await checkPrivileges(options.pool)
  await recoverSettling(stock)
  return {
    setFenced: (fenced: boolean): Promise<void> => setFencedFlag(options.pool, fenced, now(), options.logger, 'dujiaoka'),
    takeStock: async (sku: string, count: number): Promise<CardKey[]> => {
      checkCount(count)
      return takeStock(stock, sku, count)
    },
    returnStock: (sku: string, keys: readonly CardKey[]): Promise<void> => returnStock(stock, sku, keys),
    async writeBack(delivery: PartnerDelivery): Promise<void> {
      await writeBack({ pool: options.pool, logger: options.logger, now }, delivery)
    },
  }
}
