// Issue 17, items 2, 4 and 7, with real processes: five shops, one node frozen with SIGSTOP and
// continued. Its timers fire before it reads the heartbeats queued in its sockets, so without care
// it suspects every partner at once. It must notice it did not run, judge partners afresh, and
// accuse nobody; the incidents its silence opened close everywhere once it is back; and no node
// warns of an abort-listener leak.
import { afterEach, describe, expect, it } from 'vitest'
import { waitFor } from './cluster.js'
import { type Federation, incidents, startFederation, sleep, stopFederation } from './federation-env.js'

/** How long B is frozen: several times the local preset's suspect window (750 ms). */
const FROZEN_MS = 5_000
/** How long we watch after it continues: longer than suspicion plus the takeover delay. */
const AFTER_MS = 5_000

let f: Federation | undefined
afterEach(async () => {
  await stopFederation(f)
  f = undefined
})

describe('a node resumed from a pause', () => {
  it('does not suspect partners that kept running: no incident about them opens anywhere', async () => {
    const names = ['A', 'B', 'C', 'D', 'E']
    f = await startFederation({ names })
    const b = f.cluster.node('B')
    const healthy = new Set(names.filter((n) => n !== 'B').map((n) => (f as Federation).cluster.node(n).id))
    expect(b.process?.kill('SIGSTOP')).toBe(true)
    await sleep(FROZEN_MS)
    expect(b.process?.kill('SIGCONT')).toBe(true)
    await sleep(AFTER_MS)
    for (const name of names) {
      const about = (await incidents(f, name)).filter((r) => healthy.has(r.origin))
      expect(about.map((r) => `${name}: incident about ${r.origin}: ${r.timeline.map((t) => t.what).join('; ')}`)).toEqual([])
    }
    // B says why it judged nobody on the silence it missed.
    await waitFor('B logs that it was paused', () => (b.output.includes('did not run for longer than the suspect window') ? true : undefined), 10_000)
    // B's partners rightly suspected B (and may have taken it over): every report closes.
    const open = await waitFor(
      'every incident report closed at every shop',
      async () => {
        const left: string[] = []
        for (const name of names)
          for (const r of await incidents(f as Federation, name))
            if (r.closedAt === null) left.push(`${name}: ${r.role} report about ${r.origin} epoch ${r.epoch}`)
        return left.length === 0 ? left : undefined
      },
      60_000,
    )
    expect(open).toEqual([])
    for (const name of names) expect(f.cluster.node(name).output).not.toMatch(/MaxListenersExceededWarning/)
  }, 300_000)
})
