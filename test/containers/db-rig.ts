// What the database adapters' rigs (dujiaoka, acg-faka) share: a FAKE shop front (a node:http
// server answering 200 or 503) for the health probe, since the PHP fronts cannot run here; the shop's side that
// only reads Standin's own tables or the fake front, and the rig's sync (one poll, then two health
// probes: downAfterFailures is 2, so the first failed probe reports degraded and the second down).
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { RowDataPacket } from 'mysql2'
import type { Pool } from '../../adapters/mysql/db.js'
import { readFenced } from '../../adapters/mysql/fence.js'

export interface Front {
  readonly url: string
  status: number
  stop(): Promise<void>
}

/** The FAKE dujiaoka front: answers every request with `status`. */
export async function startFront(): Promise<Front> {
  const front = {
    status: 200,
    url: '',
    stop: async () => undefined,
  }
  const server = createServer((_request, response) => {
    response.writeHead(front.status, { 'content-type': 'text/html' })
    response.end('<html>dujiaoka</html>')
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  front.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`
  front.stop = async () => {
    server.closeAllConnections()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  }
  return front
}

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
