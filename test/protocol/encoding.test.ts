import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { canonicalJson, fromBase64url, fromUtf8, hashOf, toBase64url } from '../../protocol/index.js'

describe('canonical encoding', () => {
  it('sorts keys and drops whitespace (RFC 8785)', () => {
    expect(canonicalJson({ b: 1, a: [true, null, 'x'], c: { z: 0, y: -1 } })).toBe('{"a":[true,null,"x"],"b":1,"c":{"y":-1,"z":0}}')
  })

  it('sorts keys by UTF-16 code units', () => {
    expect(canonicalJson({ '€': 1, a: 2, Z: 3, é: 4 })).toBe('{"Z":3,"a":2,"é":4,"€":1}')
  })

  it('is stable across parse/encode round trips of any JSON value', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const text = canonicalJson(value)
        expect(canonicalJson(JSON.parse(text))).toBe(text)
        expect(hashOf(JSON.parse(text))).toBe(hashOf(value))
      }),
      { numRuns: 500 },
    )
  })

  it('refuses values JSON cannot express', () => {
    expect(() => canonicalJson(Number.NaN)).toThrow()
    expect(() => canonicalJson(Number.POSITIVE_INFINITY)).toThrow()
    expect(() => canonicalJson('\ud800')).toThrow()
  })
})

describe('base64url', () => {
  it('round-trips any bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        expect(fromBase64url(toBase64url(bytes))).toEqual(bytes)
      }),
    )
  })

  it('rejects padding, other alphabets and non-canonical trailing bits', () => {
    expect(() => fromBase64url('AA==')).toThrow()
    expect(() => fromBase64url('ab+/')).toThrow()
    expect(() => fromBase64url('AB')).toThrow() // 'B' sets bits that one byte cannot carry
    expect(fromBase64url('AA')).toEqual(new Uint8Array([0]))
    expect(() => fromBase64url('A')).toThrow()
  })
})

describe('utf8', () => {
  it('rejects malformed UTF-8 instead of replacing it', () => {
    expect(() => fromUtf8(new Uint8Array([0xc3, 0x28]))).toThrow()
  })
})
