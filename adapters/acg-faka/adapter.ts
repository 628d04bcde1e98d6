// The node → shop half for acg-faka: the engine's Adapter port against acg-faka's database. Serve
// it to a stock node with generic/callback-host.ts (main.ts), or pass it to an engine in-process.
//
// Fencing. acg-faka serves automatic orders inside its payment callback and never re-delivers a
// paid order by itself; the orders Standin escrows are served in acg-faka only by a person editing
// the order. No adapter can stop that, so the fence is a persisted flag the bridge reads (a
// person's delivery of an escrowed order while fenced is logged as an error and still tombstoned,
// so the node counts the duplicate) and the operator's rule in adapters/acg-faka/README.md.
import type { Adapter, CardKey, Logger, PartnerDelivery } from '../contract.js'
import type { Pool } from '../mysql/db.js'
import { checkCount, setFencedFlag } from '../mysql/fence.js'
import { checkShopSchema, ensureStandinTables, tablesOf } from './schema.js'
import { checkShadowTable, returnStock, type StockOptions, takeStock } from './stock.js'
import { writeBack } from './write-back.js'

export interface AcgFakaAdapterOptions {
  readonly pool: Pool
  readonly logger: Logger
  readonly tablePrefix: string
  readonly now?: () => number
}

/** Checks acg-faka's tables, creates Standin's; refuses to start if a column it needs is missing. */
export async function createAcgFakaAdapter(options: AcgFakaAdapterOptions): Promise<Adapter> {
  const now = options.now ?? Date.now
  const tables = tablesOf(options.tablePrefix)
  await checkShopSchema(options.pool, tables)
  await ensureStandinTables(options.pool, tables)
  await checkShadowTable(options.pool, tables)
  const stock: StockOptions = { pool: options.pool, logger: options.logger, tables, now }
  return {
    setFenced: (fenced: boolean): Promise<void> => setFencedFlag(options.pool, fenced, now(), options.logger, 'acg-faka'),
    takeStock: async (sku: string, count: number): Promise<CardKey[]> => {
      checkCount(count)
      return takeStock(stock, sku, count)
    },
    returnStock: (sku: string, keys: readonly CardKey[]): Promise<void> => returnStock(stock, sku, keys),
    async writeBack(delivery: PartnerDelivery): Promise<void> {
      await writeBack({ pool: options.pool, logger: options.logger, tables, now }, delivery)
    },
  }
}
