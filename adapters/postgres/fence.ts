// The fence flag (../shop-db/fence.ts) in PostgreSQL's `standin_state` (created by the adapter's schema.ts).
import type { Logger } from '../contract.js'
import { FENCED, logFence } from '../shop-db/fence.js'
import { type PgQueryable, unavailableOr } from './db.js'

/** True when the node told the shop to stop delivering escrowed orders. Unset means unfenced. */
export async function readFenced(db: PgQueryable): Promise<boolean> {
  const result = await db.query<{ value: string }>('SELECT value FROM standin_state WHERE name = $1', [FENCED])
  return result.rows[0]?.value === '1'
}

/** The port's setFenced: the flag written (a database failure is `unavailable`), and the operator's rule logged. */
export async function setFencedFlag(db: PgQueryable, fenced: boolean, atMs: number, logger: Logger, shop: string): Promise<void> {
  try {
    await db.query(
      `INSERT INTO standin_state (name, value, changed_ms) VALUES ($1, $2, $3)
       ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value, changed_ms = EXCLUDED.changed_ms`,
      [FENCED, fenced ? '1' : '0', atMs],
    )
  } catch (error) {
    throw unavailableOr(error)
  }
  logFence(logger, fenced, shop)
}
