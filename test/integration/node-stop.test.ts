// A stopped node leaves nothing behind: no listening socket, no connection, no timer that keeps the
// process alive, and no engine timer (the engine's parts each stop; the store, p2p, http and mailer
// close). Two
// real nodes (LevelDB on disk, libp2p over loopback, fastify) run in this process, connect, and
// stop; then the process's active resources must be back to what they were before they started.
import { afterAll, describe, expect, it } from 'vitest'
import { Cluster, waitFor } from '../../examples/support/processes.js'
import { startNode } from '../../node/node.js'

/** How long libp2p's own expiring entries (its inbound rate limiter's window) may take to lapse. */
const SETTLE_AFTER_STOP_MS = 5_000

const countByType = (resources: readonly string[]) => resources.reduce((m, r) => m.set(r, (m.get(r) ?? 0) + 1), new Map<string, number>())

let cluster: Cluster | undefined
afterAll(async () => {
  await cluster?.stop()
})

describe('node stop', () => {
  it('releases every socket, server and timer the node started', async () => {
    cluster = await Cluster.create(['A', 'B'])
    const env = { ...process.env, STANDIN_LOG_LEVEL: 'silent' }
    // freePort's probe servers (Cluster.create) close asynchronously: the baseline is taken after.
    await waitFor('probe servers closed', () => (process.getActiveResourcesInfo().includes('TCPServerWrap') ? undefined : true), 5_000)
    const before = countByType(process.getActiveResourcesInfo())
    const a = await startNode(cluster.node('A').dir, env)
    const b = await startNode(cluster.node('B').dir, env)
    await waitFor('A and B connected', () => (a.engine.partners()[0]?.connected && b.engine.partners()[0]?.connected ? true : undefined), 30_000)
    const running = countByType(process.getActiveResourcesInfo())
    expect(running.get('TCPServerWrap') ?? 0).toBeGreaterThan(before.get('TCPServerWrap') ?? 0) // the check can see them
    expect(a.pendingTimers()).toBeGreaterThan(0) // the heartbeat tick at least

    await a.stop()
    await b.stop()
    // The engine's timers are unref'd (they never hold the process up), so they are counted at
    // the clock the node gave the engine rather than among the process's resources.
    expect([a.pendingTimers(), b.pendingTimers()]).toEqual([0, 0])
    const leftOver = () => {
      const now = countByType(process.getActiveResourcesInfo())
      return [...now].filter(([type, n]) => n > (before.get(type) ?? 0)).map(([type, n]) => `${type} ×${n - (before.get(type) ?? 0)}`)
    }
    await waitFor('nothing left over', () => (leftOver().length === 0 ? true : undefined), SETTLE_AFTER_STOP_MS).catch(() => undefined)
    expect(leftOver()).toEqual([])
  }, 120_000)
})
