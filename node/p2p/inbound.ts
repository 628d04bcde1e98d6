// Reads one partner's long-lived stream for one protocol: frame by frame, each validated before it
// reaches the engine. A bad frame is dropped and the stream carries on (the sender's next frames
// may be fine); a bad length aborts the stream, since nothing after it can be framed again.
import type { Connection, Stream, StreamHandler } from '@libp2p/interface'
import type { z } from 'zod'
import type { ShopId } from '../../protocol/index.js'
import type { Logger, Protocol } from '../core/ports.js'
import { frameReader } from './frame-reader.js'
import { decodeFrame } from './framing.js'
import type { P2pLimits } from './options.js'

export interface InboundSpec<S extends z.ZodType> {
  readonly protocol: Protocol
  readonly schema: S
  readonly limits: P2pLimits
  readonly logger: Logger
  isPartner(id: ShopId): boolean
  /** False once the transport is stopping: frames read after that are not delivered. */
  isRunning(): boolean
  /** Resolves once the node took the frame: the next one is read only then (backpressure). */
  deliver(from: ShopId, message: z.infer<S>): Promise<void> | void
  reject(from: ShopId, protocol: Protocol, reason: string): void
  /** True for a frame that did not parse because the partner's newer protocol added its type (versions.ts). */
  tolerate?(from: ShopId, frame: Uint8Array): boolean
}

// Errors lpStream throws when the length prefix itself is unacceptable.
const BAD_LENGTH_ERRORS = new Set([
  'InvalidDataLengthError',
  'InvalidDataLengthLengthError',
  'InvalidMessageLengthError',
  'LengthPrefixTooLongError',
  'StreamBufferError',
])

export function inboundHandler<S extends z.ZodType>(spec: InboundSpec<S>): StreamHandler {
  return async (stream: Stream, connection: Connection): Promise<void> => {
    const from = connection.remotePeer.toString()
    const fields = { peer: from, protocol: spec.protocol }
    if (!spec.isPartner(from)) {
      spec.logger.warn(fields, 'p2p: stream from a peer that is not a partner, aborted')
      stream.abort(new Error('not a partner'))
      return
    }
    const frames = frameReader(stream, spec.limits)
    spec.logger.debug(fields, 'p2p: inbound stream opened')
    for (;;) {
      let frame: Uint8Array
      try {
        frame = await frames.read()
      } catch (err) {
        const error = asError(err)
        if (BAD_LENGTH_ERRORS.has(error.name)) {
          const reason = `frame refused: ${error.message}`
          spec.logger.warn({ ...fields, reason }, 'p2p: oversized or malformed frame length, stream aborted')
          spec.reject(from, spec.protocol, reason)
          stream.abort(error)
        } else {
          // A clean end reads as UnexpectedEOFError; resets and closed connections land here too.
          spec.logger.debug({ ...fields, reason: error.message }, 'p2p: inbound stream ended')
          // We never write on an inbound stream: close our half so the muxer can forget it.
          if (stream.status === 'open') stream.close().catch((closeErr: unknown) => stream.abort(asError(closeErr)))
        }
        return
      }
      if (!spec.isRunning()) return
      if (!spec.isPartner(from)) {
        spec.logger.warn(fields, 'p2p: peer is no longer a partner, stream aborted')
        stream.abort(new Error('no longer a partner'))
        return
      }
      const decoded = decodeFrame(frame, spec.schema)
      if (!decoded.ok && spec.tolerate?.(from, frame)) {
        spec.logger.debug(fields, "p2p: a message type from the partner's newer protocol, ignored (D96)")
        continue
      }
      if (!decoded.ok) {
        spec.logger.warn({ ...fields, reason: decoded.reason }, 'p2p: invalid frame dropped')
        spec.reject(from, spec.protocol, decoded.reason)
        continue
      }
      try {
        // Not read further until the node has taken this frame: a partner sending faster than we
        // apply is held back by the muxer's flow control, not by our memory.
        await spec.deliver(from, decoded.value)
      } catch (err) {
        // The engine's bug, not the partner's: keep the stream, the next frame may be fine.
        spec.logger.error({ ...fields, err }, 'p2p: inbound handler threw')
      }
    }
  }
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err))
}
