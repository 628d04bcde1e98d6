// The fence flag (./fence.ts) in `standin_state` of an SqlDatabase (PostgreSQL or SQLite, ./sql.ts),
// created by the adapter's schema.ts.
import type { Logger } from '../contract.js'
import { FENCED, logFence } from './fence.js'
import { type Queryable, selectRows, type SqlDatabase } from './sql.js'
import { z } from 'zod'

/** True when the node told the shop to stop delivering escrowed orders. Unset means unfenced. */
export async function readFenced(db: Queryable): Promise<boolean> {
  const [row] = await selectRows(db, z.object({ value: z.string() }), 'SELECT value FROM standin_state WHERE name = $1', [FENCED])
  return row?.value === '1'
}

/** The port's setFenced: the flag written (a database failure is `unavailable`), and the operator's rule logged. */
export async function setFencedFlag(db: SqlDatabase, fenced: boolean, atMs: number, logger: Logger, shop: string): Promise<void> {
  try {
    await db.query(
      `INSERT INTO standin_state (name, value, changed_ms) VALUES ($1, $2, $3)
       ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value, changed_ms = EXCLUDED.changed_ms`,
      [FENCED, fenced ? '1' : '0', atMs],
    )
  } catch (error) {
    throw db.unavailableOr(error)
  }
  logFence(logger, fenced, shop)
}
