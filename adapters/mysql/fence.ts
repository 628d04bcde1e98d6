// The fence flag, kept in `standin_state` so it survives restarts of the adapter and is visible
// to the bridge (it runs in the same process or another one; the database is the shared truth).
import type { RowDataPacket } from 'mysql2'
import type { Queryable } from './db.js'

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
