// Reads one partner's length-prefixed frames from an inbound stream, letting the partner send only
// while we need bytes: after each frame the stream is paused (the muxer sends no window updates,
// so the partner can have at most one window in flight), and resumed only when the bytes buffered
// are fewer than the next read needs. With the node awaited per frame (inbound.ts), a partner
// sending faster than we apply is held back by flow control: per stream we buffer at most one
// frame, one window it had in flight, and one muxer message.
import type { Stream } from '@libp2p/interface'
import { byteStream } from '@libp2p/utils'
import { boundedLengthDecoder, type LengthBytes } from './framing.js'
import type { P2pLimits } from './options.js'

/** A length prefix above the frame limit (named like lpStream's, which inbound.ts recognises). */
export class InvalidDataLengthError extends Error {
  override name = 'InvalidDataLengthError'
}

export interface FrameReader {
  /** The next frame; at the end of the stream it throws UnexpectedEOFError, as lpStream does. */
  read(): Promise<Uint8Array>
}

export function frameReader(stream: Stream, limits: P2pLimits): FrameReader {
  // byteStream's buffer is public in its implementation, not in its type: what we hold unread.
  const bytes = byteStream(stream, { maxBufferSize: limits.maxReadBufferBytes }) as ReturnType<typeof byteStream<Stream>> & {
    readonly readBuffer: { readonly byteLength: number }
  }
  const decode = boundedLengthDecoder(limits.maxLengthPrefixBytes)
  const take = async (n: number) => {
    if (bytes.readBuffer.byteLength < n && stream.readStatus === 'paused') stream.resume()
    return bytes.read({ bytes: n })
  }
  return {
    async read() {
      const prefix: number[] = []
      const prefixBytes: LengthBytes = {
        get byteLength() {
          return prefix.length
        },
        get: (i) => prefix[i] as number,
      }
      let length = -1
      while (length < 0) {
        const one = await take(1)
        prefix.push(one.get(0))
        try {
          length = decode(prefixBytes)
        } catch (err) {
          if (!(err instanceof RangeError)) throw err
        }
      }
      if (length > limits.maxFrameBytes) throw new InvalidDataLengthError(`message length too long: ${length} > ${limits.maxFrameBytes}`)
      const frame = length === 0 ? new Uint8Array() : ((await take(length))?.subarray() ?? new Uint8Array())
      if (stream.readStatus === 'readable') stream.pause()
      return frame
    },
  }
}
