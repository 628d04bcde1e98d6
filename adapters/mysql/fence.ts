// The fence flag (../shop-db/fence.ts) in MySQL/MariaDB's `standin_state`.
import type { RowDataPacket } from 'mysql2'
import type { Logger } from '../contract.js'
import { FENCED, logFence } from '../shop-db/fence.js'
import { type Queryable, unavailableOr } from './db.js'

export { checkCount } from '../shop-db/fence.js'

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
  logFence(logger, fenced, shop)
}
