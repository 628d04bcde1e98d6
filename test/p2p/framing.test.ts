// Frame encoding and the bounded length-prefix decoder, without a network.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { boundedLengthDecoder, decodeFrame, encodeFrame, LengthPrefixTooLongError } from '../../node/p2p/framing.js'
import { varintBytes } from '../../node/p2p/options.js'
import { documentJson, FeedMessage, LIMITS, utf8 } from '../../protocol/index.js'
import { feedGet, identity } from './helpers.js'

const author = identity('alice').id

describe('frames', () => {
  it('round-trips a message through JSON and UTF-8', () => {
    const message = feedGet(author, 5)
    expect(decodeFrame(encodeFrame(message), FeedMessage)).toEqual({ ok: true, value: message })
  })

  it("writes a feed.entries message from its entries' remembered texts, byte for byte JSON.stringify's", () => {
    const entry = fc.dictionary(fc.string(), fc.jsonValue(), { maxKeys: 6 })
    const entries = fc.record({ type: fc.constant('feed.entries'), author: fc.string(), entries: fc.array(entry, { maxLength: 4 }) })
    // Near misses take the plain path: keys in another order, one more key, an entry that is no object.
    const nearMiss = fc.oneof(
      fc.record({ author: fc.string(), type: fc.constant('feed.entries'), entries: fc.array(entry, { maxLength: 2 }) }),
      fc.record({ type: fc.constant('feed.entries'), author: fc.string(), entries: fc.array(entry, { maxLength: 2 }), extra: fc.jsonValue() }),
      fc.record({ type: fc.constant('feed.entries'), author: fc.string(), entries: fc.array(fc.jsonValue(), { maxLength: 3 }) }),
      fc.record({ type: fc.constant('feed.entries'), author: fc.integer(), entries: fc.array(entry, { maxLength: 2 }) }),
    )
    fc.assert(
      fc.property(fc.oneof(entries, nearMiss), (message) => {
        expect(Buffer.from(encodeFrame(message)).toString('utf8')).toBe(JSON.stringify(message))
      }),
      { numRuns: 1_000 },
    )
    // An entry's remembered text is the one the frame carries.
    const remembered = { body: { seq: 1, sealed: { ciphertext: 'A'.repeat(100_000) } }, sig: 's' }
    const text = documentJson(remembered)
    const message = { type: 'feed.entries', author, entries: [remembered, remembered] }
    expect(Buffer.from(encodeFrame(message)).toString('utf8')).toBe(`{"type":"feed.entries","author":"${author}","entries":[${text},${text}]}`)
    expect(decodeFrame(encodeFrame(message), FeedMessage)).toEqual({ ok: true, value: message })
  })

  it('names what is wrong', () => {
    const reason = (bytes: Uint8Array): string => {
      const decoded = decodeFrame(bytes, FeedMessage)
      return decoded.ok ? 'accepted' : decoded.reason
    }
    expect(reason(Uint8Array.from([0xc3, 0x28]))).toMatch(/UTF-8/)
    expect(reason(utf8('{'))).toMatch(/not JSON/)
    expect(reason(utf8(''))).toMatch(/not JSON/)
    expect(reason(encodeFrame({ ...feedGet(author, 0), limit: 0 }))).toMatch(/^schema: limit:/)
    expect(reason(encodeFrame({ ...feedGet(author, 0), extra: 1 }))).toMatch(/extra/)
  })
})

describe('length prefix', () => {
  const decode = boundedLengthDecoder(varintBytes(LIMITS.maxFrameBytes))
  const list = (...bytes: number[]) => ({ byteLength: bytes.length, get: (i: number) => bytes[i] ?? 0 })

  it('decodes varints up to the bytes maxFrameBytes needs', () => {
    expect(varintBytes(LIMITS.maxFrameBytes)).toBe(4)
    expect(varintBytes(127)).toBe(1)
    expect(varintBytes(128)).toBe(2)
    expect(decode(list(0x00))).toBe(0)
    expect(decode(list(0xac, 0x02))).toBe(300)
    expect(decode(list(0x80, 0x80, 0x80, 0x02))).toBe(LIMITS.maxFrameBytes)
  })

  it('asks for another byte while the prefix may still end, and gives up after that', () => {
    expect(() => decode(list(0x80, 0x80))).toThrow(RangeError)
    expect(() => decode(list(0x80, 0x80, 0x80, 0x80, 0x01))).toThrow(LengthPrefixTooLongError)
  })
})
