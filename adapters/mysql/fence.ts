// The fence flag, kept in `standin_state` so it survives restarts of the adapter and is visible
// to the bridge (it runs in the same process or another one; the database is the shared truth).
import type { RowDataPacket } from 'mysql2'
import { AdapterError, type Logger } from '../contract.js'
import { type Queryable, unavailableOr } from './db.js'

const FENCED = 'fenced'

/** True when the node told the shop to stop delivering escrowed orders. Unset means unfenced. */
export async function readFenced(db: Queryable): Promise<boolean> {
  const [rows] = await db.query<RowDataPacket[]>('SELECT value FROM standin_state WHERE name = ?', [FENCED])
  return rows[0]?.value === '1'
}

export async function writeFenced(db: Queryable, fenced: boolean, atMs: number): Promise<void> {
  await db.query(
    'INSERT INTO standin_state (name, value, changed_ms) VALUES (?, ?, ?) ON DUPLICATE KEY UPDATE value = VALUES(value), changed_ms = VALUES(changed_ms)',
    [FENCED, fenced ? '1' : '0', atMs],
  )
}

/** The port's setFenced: the flag written (a database failure is `unavailable`), and the operator's rule logged. */
export async function setFencedFlag(db: Queryable, fenced: boolean, atMs: number, logger: Logger, shop: string): Promise<void> {
  try {
    await writeFenced(db, fenced, atMs)
  } catch (error) {
    throw unavailableOr(error)
  }
  logger.info({ fenced }, fenced ? `${shop} fenced: do not deliver escrowed orders by hand` : `${shop} unfenced`)
}

/** A takeStock count the port can act on, or the refusal. */
export function checkCount(count: number): void {
  if (!Number.isInteger(count) || count < 1) throw new AdapterError('invalid', `count: ${count} is not a positive integer`)
}
