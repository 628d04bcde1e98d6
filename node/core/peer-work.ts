// Bounds on what one partner can make this node do (threat model: a partner must not exhaust our
// memory). Three gates, each a named limit per partner:
//  - frames: feed pushes are taken one at a time per partner, at most INBOUND_FRAMES_PER_PEER in
//    flight. The promise `admit` returns resolves when there is room; the p2p layer reads the next
//    frame only then, so a flooding partner is held back by TCP, not by our heap. Past
//    WAITING_FRAMES_PER_PEER waiting (only a transport that does not wait can get there) a frame
//    is dropped; replication resends from the last ack.
//  - reads: feed.get answers are rate limited (a token bucket of READS_PER_SECOND, burst
//    READ_BURST) and one at a time; an excess request is dropped (the peer asks again later).
//  - tasks: other work a partner's message starts (acks, claims, fork proofs) runs at most
//    TASKS_PER_PEER at once; beyond that the message is dropped.
// Dropped work is counted per partner (footprint and metrics), never queued without bound.
import { assert, type ShopId } from '../../protocol/index.js'
import type { Background } from './background.js'
import type { Clock, Logger } from './ports.js'
import { DROPS_PER_LOG_LINE, INBOUND_FRAMES_PER_PEER, READS_PER_SECOND, READ_BURST, TASKS_PER_PEER, WAITING_FRAMES_PER_PEER } from './limits.js'

interface PeerState {
  frames: number
  readonly waiting: (() => void)[]
  reading: boolean
  tokens: number
  refilledAt: number
  tasks: number
  dropped: number
}

export class PeerWork {
  private readonly peers = new Map<ShopId, PeerState>()

  constructor(private readonly deps: { readonly clock: Clock; readonly logger: Logger; readonly background: Background }) {}

  private of(peer: ShopId): PeerState {
    let s = this.peers.get(peer)
    if (!s) this.peers.set(peer, (s = { frames: 0, waiting: [], reading: false, tokens: READ_BURST, refilledAt: this.deps.clock.now(), tasks: 0, dropped: 0 }))
    return s
  }

  private drop(peer: ShopId, s: PeerState, what: string): void {
    s.dropped++
    if (s.dropped === 1 || s.dropped % DROPS_PER_LOG_LINE === 0)
      this.deps.logger.warn({ peer, what, dropped: s.dropped }, 'partner sends more than we take: dropped')
  }

  /**
   * Takes one inbound frame of `peer` through `work` once a slot is free. Resolves when the frame
   * is taken (not when it is done): the caller then reads the next one.
   */
  admit(peer: ShopId, task: string, work: () => Promise<void>): Promise<void> {
    const s = this.of(peer)
    const start = () => {
      s.frames++
      assert(s.frames <= INBOUND_FRAMES_PER_PEER, `${s.frames} frames of one partner in flight`)
      this.deps.background.run(task, () =>
        work().finally(() => {
          s.frames--
          assert(s.frames >= 0, 'a frame finished twice')
          s.waiting.shift()?.()
        }),
      )
    }
    if (s.frames < INBOUND_FRAMES_PER_PEER) {
      start()
      return Promise.resolve()
    }
    if (s.waiting.length >= WAITING_FRAMES_PER_PEER) {
      this.drop(peer, s, task)
      return Promise.resolve()
    }
    return new Promise((resolve) =>
      s.waiting.push(() => {
        start()
        resolve()
      }),
    )
  }

  /** One feed.get answer, if the peer's rate allows and none of its answers is in flight. */
  read(peer: ShopId, work: () => Promise<void>): void {
    const s = this.of(peer)
    const now = this.deps.clock.now()
    s.tokens = Math.min(READ_BURST, s.tokens + ((now - s.refilledAt) * READS_PER_SECOND) / 1_000)
    s.refilledAt = now
    if (s.reading || s.tokens < 1) return this.drop(peer, s, 'feed.get')
    s.tokens--
    s.reading = true
    this.deps.background.run('feed.serve', () => work().finally(() => (s.reading = false)))
  }

  /** Other work a message of `peer` starts, within its task budget. */
  task(peer: ShopId, task: string, work: () => Promise<unknown>): void {
    const s = this.of(peer)
    if (s.tasks >= TASKS_PER_PEER) return this.drop(peer, s, task)
    s.tasks++
    assert(s.tasks <= TASKS_PER_PEER, `${s.tasks} tasks of one partner at once`)
    this.deps.background.run(task, () => work().finally(() => s.tasks--))
  }

  /** What each bound holds now, for the engine's footprint. */
  footprint(): { name: string; size: number; limit: number }[] {
    let frames = 0
    let waiting = 0
    let tasks = 0
    for (const s of this.peers.values()) {
      frames = Math.max(frames, s.frames)
      waiting = Math.max(waiting, s.waiting.length)
      tasks = Math.max(tasks, s.tasks)
    }
    return [
      { name: 'inbound frames in flight of one partner', size: frames, limit: INBOUND_FRAMES_PER_PEER },
      { name: 'inbound frames waiting of one partner', size: waiting, limit: WAITING_FRAMES_PER_PEER },
      { name: 'tasks of one partner', size: tasks, limit: TASKS_PER_PEER },
    ]
  }

  dropped(peer: ShopId): number {
    return this.peers.get(peer)?.dropped ?? 0
  }
}
