// Frame encoding and the bounded length-prefix decoder, without a network.
import { describe, expect, it } from 'vitest'
import { boundedLengthDecoder, decodeFrame, encodeFrame, LengthPrefixTooLongError } from '../../node/p2p/framing.js'
import { varintBytes } from '../../node/p2p/options.js'
import { FeedMessage, LIMITS, utf8 } from '../../protocol/index.js'
import { feedGet, identity } from './helpers.js'

const author = identity('alice').id

describe('frames', () => {
  it('round-trips a message through JSON and UTF-8', () => {
    const message = feedGet(author, 5)
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
