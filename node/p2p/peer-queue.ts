// Outbound path to one partner on one protocol: a bounded FIFO drained by one writer loop over
// one long-lived stream (opening a stream costs 1–2 ms, so never one per message). Frames are
// coalesced into batched writes and every write waits for the stream to drain (backpressure).
// When the stream breaks the writer reopens it after a pause; frames still queued keep their order,
// frames already handed to the broken stream may be lost (the protocol above retries via acks).
import type { Stream } from '@libp2p/interface'
import { lpStream, type LengthPrefixedStream } from '@libp2p/utils'
import type { ShopId } from '../../protocol/index.js'
import type { Logger, Protocol } from '../core/ports.js'
import type { P2pLimits } from './options.js'

export interface PeerQueueDeps {
  readonly peer: ShopId
  readonly protocol: Protocol
  readonly limits: P2pLimits
  readonly logger: Logger
  /** Connects if needed and opens a stream for this protocol; rejects on failure or abort. */
  openStream(signal: AbortSignal): Promise<Stream>
}

// Compacting the array only once this many slots are spent keeps shift() costs amortised O(1).
const COMPACT_AFTER_FRAMES = 1_024

export class PeerQueue {
  readonly #deps: PeerQueueDeps
  readonly #frames: Uint8Array[] = []
  #head = 0
  #queuedBytes = 0
  readonly #stopping = new AbortController()
  #wake: { readonly reason: 'work' | 'retry'; readonly resolve: () => void } | undefined
  #stream: Stream | undefined
  #lp: LengthPrefixedStream<Stream> | undefined
  readonly #done: Promise<void>

  constructor(deps: PeerQueueDeps) {
    this.#deps = deps
    this.#done = this.#run()
  }

  get length(): number {
    return this.#frames.length - this.#head
  }

  /** False when stopped or full; the caller keeps the message and retries later. */
  push(frame: Uint8Array): boolean {
    const { maxQueuedMessagesPerPeer, maxQueuedBytesPerPeer } = this.#deps.limits
    if (this.#stopping.signal.aborted) return false
    if (this.length >= maxQueuedMessagesPerPeer) return false
    if (this.#queuedBytes + frame.byteLength > maxQueuedBytesPerPeer) return false
    this.#frames.push(frame)
    this.#queuedBytes += frame.byteLength
    if (this.#wake?.reason === 'work') this.#wakeUp()
    return true
  }

  /** Ends a reconnect pause early, e.g. because the partner has just connected. */
  nudge(): void {
    this.#wakeUp()
  }

  /** Stops the writer, closes its stream gracefully and discards whatever is still queued. */
  async stop(): Promise<void> {
    this.#stopping.abort()
    this.#wakeUp()
    await this.#done
  }

  async #run(): Promise<void> {
    const { signal } = this.#stopping
    const fields = { peer: this.#deps.peer, protocol: this.#deps.protocol }
    let failures = 0
    while (!signal.aborted) {
      if (this.length === 0) {
        await this.#sleep('work')
        continue
      }
      try {
        const lp = await this.#writable(signal)
        await lp.writeV(this.#takeBatch(), { signal })
        if (failures > 0) this.#deps.logger.info({ ...fields, failures }, 'p2p: partner reachable again')
        failures = 0
      } catch (err) {
        if (signal.aborted) break
        this.#dropStream(err)
        failures++
        // Once per outage at info; the retries that follow are routine.
        const level = failures === 1 ? 'info' : 'debug'
        this.#deps.logger[level]({ ...fields, queued: this.length, reason: errorMessage(err) }, 'p2p: cannot write to partner, will retry')
        await this.#sleep('retry', this.#deps.limits.reconnectIntervalMs)
      }
    }
    await this.#closeStream()
    this.#frames.length = 0
    this.#head = 0
    this.#queuedBytes = 0
  }

  async #writable(signal: AbortSignal): Promise<LengthPrefixedStream<Stream>> {
    const stream = this.#stream
    if (stream && this.#lp && isWritable(stream)) return this.#lp
    if (stream) this.#dropStream(new Error('stream no longer writable'))
    const opened = await this.#deps.openStream(signal)
    if (signal.aborted) {
      opened.abort(new Error('transport stopping'))
      throw new Error('transport stopping')
    }
    this.#stream = opened
    this.#lp = lpStream(opened)
    this.#deps.logger.debug({ peer: this.#deps.peer, protocol: this.#deps.protocol }, 'p2p: outbound stream opened')
    return this.#lp
  }

  #takeBatch(): Uint8Array[] {
    const batch: Uint8Array[] = []
    let bytes = 0
    while (this.#head < this.#frames.length) {
      const frame = this.#frames[this.#head] as Uint8Array
      if (batch.length > 0 && bytes + frame.byteLength > this.#deps.limits.maxBatchBytes) break
      batch.push(frame)
      bytes += frame.byteLength
      this.#head++
    }
    this.#queuedBytes -= bytes
    if (this.#head >= COMPACT_AFTER_FRAMES && this.#head * 2 >= this.#frames.length) {
      this.#frames.splice(0, this.#head)
      this.#head = 0
    }
    return batch
  }

  #dropStream(reason: unknown): void {
    const stream = this.#stream
    this.#stream = undefined
    this.#lp = undefined
    if (stream && stream.status === 'open') stream.abort(reason instanceof Error ? reason : new Error(String(reason)))
  }

  async #closeStream(): Promise<void> {
    const stream = this.#stream
    this.#stream = undefined
    this.#lp = undefined
    if (!stream || stream.status !== 'open') return
    try {
      await stream.close({ signal: AbortSignal.timeout(this.#deps.limits.closeTimeoutMs) })
    } catch (err) {
      stream.abort(err instanceof Error ? err : new Error(String(err)))
    }
  }

  /** Waits for new frames ('work') or for a pause to pass ('retry'); stop() ends either. */
  #sleep(reason: 'work' | 'retry', ms?: number): Promise<void> {
    if (this.#stopping.signal.aborted) return Promise.resolve()
    return new Promise((resolve) => {
      const timer = ms === undefined ? undefined : setTimeout(() => this.#wakeUp(), ms)
      this.#wake = {
        reason,
        resolve: () => {
          clearTimeout(timer)
          resolve()
        },
      }
    })
  }

  #wakeUp(): void {
    const wake = this.#wake
    this.#wake = undefined
    wake?.resolve()
  }
}

function isWritable(stream: Stream): boolean {
  return stream.status === 'open' && stream.writeStatus === 'writable' && stream.remoteReadStatus === 'readable'
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
