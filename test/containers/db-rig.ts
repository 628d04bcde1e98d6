// What the database adapters' conformance rigs (dujiaoka, acg-faka) share: the shop's side that
// only reads Standin's own tables or the fake front, and the rig's sync (one poll, then two health
// probes: downAfterFailures is 2, so the first failed probe reports degraded and the second down).
import type { RowDataPacket } from 'mysql2'
import type { Pool } from '../../adapters/mysql/db.js'
import { readFenced } from '../../adapters/mysql/fence.js'
import type { Front } from './dujiaoka-rig.js'

export function sharedShopParts(pool: Pool, front: Front) {
  return {
    async duplicateWriteBacks(): Promise<number> {
      const [rows] = await pool.query<RowDataPacket[]>("SELECT COUNT(*) AS n FROM standin_writebacks WHERE result = 'duplicate'")
      return Number(rows[0]?.n)
    },
    async setPlatform(platform: 'up' | 'down'): Promise<void> {
      front.status = platform === 'up' ? 200 : 503
    },
    fenced: () => readFenced(pool),
  }
}

/** `bridge` is read at each sync: a rig may have opened a new one. */
export function syncOf(bridge: () => { pollOnce(): Promise<unknown>; checkHealth(): Promise<unknown> }): () => Promise<void> {
  return async () => {
    await bridge().pollOnce()
    await bridge().checkHealth()
    await bridge().checkHealth()
  }
}
