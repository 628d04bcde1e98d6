// One message per frame: JSON text in UTF-8 behind an unsigned varint length. Decoding is strict
// (malformed UTF-8 is an error, not U+FFFD) and ends in the protocol's zod schema, so nothing a
// partner sends reaches the engine unvalidated.
import type { z } from 'zod'
import { documentJson, formatZodError, fromUtf8, utf8 } from '../../protocol/index.js'

export type Decoded<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly reason: string }

/** The exact shape of a `feed.entries` message, keys in this order; see `frameText`. */
interface EntriesMessage {
  readonly type: 'feed.entries'
  readonly author: string
  readonly entries: readonly object[]
}

function isEntriesMessage(message: unknown): message is EntriesMessage {
  if (typeof message !== 'object' || message === null) return false
  const m = message as Record<string, unknown>
  const keys = Object.keys(m)
  return (
    keys.length === 3 &&
    keys[0] === 'type' &&
    keys[1] === 'author' &&
    keys[2] === 'entries' &&
    m.type === 'feed.entries' &&
    typeof m.author === 'string' &&
    Array.isArray(m.entries) &&
    m.entries.every((e: unknown) => typeof e === 'object' && e !== null && !Array.isArray(e))
  )
}

/**
 * JSON.stringify's text of the message. A feed.entries message is put together from its entries'
 * remembered texts (documentJson): the origin sends each entry to every partner, and a 1,000-order
 * entry's text costs ≈1.8 ms to write. The same text as JSON.stringify gives, byte for byte
 * (test/p2p/framing.test.ts).
 */
function frameText(message: unknown): string {
  if (!isEntriesMessage(message)) return JSON.stringify(message)
  return `{"type":"feed.entries","author":${JSON.stringify(message.author)},"entries":[${message.entries.map(documentJson).join(',')}]}`
}

export function encodeFrame(message: unknown): Uint8Array {
  return utf8(frameText(message))
}

export function decodeFrame<S extends z.ZodType>(bytes: Uint8Array, schema: S): Decoded<z.infer<S>> {
  let text: string
  try {
    text = fromUtf8(bytes)
  } catch {
    return { ok: false, reason: 'frame is not valid UTF-8' }
  }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (err) {
    return { ok: false, reason: `frame is not JSON: ${err instanceof Error ? err.message : String(err)}` }
  }
  const parsed = schema.safeParse(json)
  if (!parsed.success) return { ok: false, reason: `schema: ${formatZodError(parsed.error)}` }
  return { ok: true, value: parsed.data }
}

/** Thrown when a length prefix runs past the bytes maxFrameBytes needs; lpStream passes it on. */
export class LengthPrefixTooLongError extends Error {
  override name = 'LengthPrefixTooLongError'
}

/** The part of lpStream's Uint8ArrayList the decoder reads. */
export interface LengthBytes {
  readonly byteLength: number
  get(index: number): number
}

/**
 * lpStream's default decoder throws RangeError for an unterminated varint, which lpStream takes as
 * "read another byte" forever, growing its prefix buffer for as long as a partner keeps sending
 * continuation bytes. This one gives up once the prefix is longer than any legal frame needs.
 */
export function boundedLengthDecoder(maxLengthPrefixBytes: number): (data: LengthBytes) => number {
  return (data) => {
    let value = 0
    for (let i = 0; i < data.byteLength; i++) {
      if (i >= maxLengthPrefixBytes) {
        throw new LengthPrefixTooLongError(`length prefix longer than ${maxLengthPrefixBytes} bytes`)
      }
      const byte = data.get(i)
      value += (byte & 0x7f) * 2 ** (7 * i)
      if (byte < 0x80) return value
    }
    throw new RangeError('length prefix incomplete')
  }
}
