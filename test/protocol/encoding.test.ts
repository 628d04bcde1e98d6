import canonicalize from 'canonicalize'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { canonicalJson, documentJson, fromBase64url, fromUtf8, hashOf, rememberedJson, rememberedJsonFootprint, toBase64url } from '../../protocol/index.js'

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

  // canonicalJson is the canonicalize package's walk with plain strings written directly: the
  // package is the oracle, for JSON values and for everything else a caller could pass.
  const theirs = (value: unknown): { text?: string; error?: string } => {
    try {
      return { text: canonicalize(value) }
    } catch (error) {
      return { error: (error as Error).message }
    }
  }
  const ours = (value: unknown): { text?: string; error?: string } => {
    try {
      return { text: canonicalJson(value) }
    } catch (error) {
      return { error: (error as Error).message }
    }
  }

  it('writes what the canonicalize package writes, for any JSON value and any string', () => {
    const strings = fc.oneof(
      fc.string({ unit: 'binary' }),
      fc.string({ unit: 'grapheme' }),
      fc.string({ unit: fc.constantFrom('"', '\\', '\u0000', '\u001f', '\u007f', '\ud800', '\udc00', 'a', '~', ' ') }),
    )
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue({ stringUnit: 'binary' }), strings, fc.dictionary(strings, fc.jsonValue())), (value) => {
        expect(ours(value)).toEqual(theirs(value))
      }),
      { numRuns: 2_000 },
    )
  })

  it('treats non-JSON values as the canonicalize package does', () => {
    const values = fc.anything({
      withBigInt: true,
      withBoxedValues: true,
      withDate: true,
      withMap: true,
      withNullPrototype: true,
      withObjectString: true,
      withSet: true,
      withSparseArray: true,
      withTypedArray: true,
      withUnicodeString: true,
    })
    fc.assert(
      fc.property(values, (value) => {
        const want = theirs(value)
        if (want.text === undefined && want.error === undefined) expect(() => canonicalJson(value)).toThrow('no JSON representation')
        else expect(ours(value)).toEqual(want)
      }),
      { numRuns: 2_000 },
    )
    const cyclic: Record<string, unknown> = { a: 1 }
    cyclic.self = cyclic
    expect(ours(cyclic)).toEqual(theirs(cyclic))
    expect(ours({ when: new Date(0), list: [undefined, Symbol('s'), () => 1], skip: undefined })).toEqual(
      theirs({ when: new Date(0), list: [undefined, Symbol('s'), () => 1], skip: undefined }),
    )
  })

  it('writes a long base64url string as itself in quotes', () => {
    const long = 'A'.repeat(300_000) + '-_'
    expect(canonicalJson({ c: long })).toBe(`{"c":"${long}"}`)
    expect(canonicalJson({ c: long })).toBe(canonicalize({ c: long }))
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

describe('remembered JSON text', () => {
  it('gives JSON.stringify, remembers the newest documents within its bounds, and forgets the oldest first', () => {
    const first = { body: { seq: 1, ciphertext: 'A'.repeat(1_000) } }
    expect(documentJson(first)).toBe(JSON.stringify(first))
    expect(rememberedJson(first)).toBe(JSON.stringify(first))
    expect(rememberedJson({ ...first })).toBeUndefined() // per object, not per content
    // 300 more documents: at most 256 kept, the first gone.
    const more = Array.from({ length: 300 }, (_, i) => ({ seq: i }))
    for (const d of more) expect(documentJson(d)).toBe(JSON.stringify(d))
    expect(rememberedJson(first)).toBeUndefined()
    expect(rememberedJson(more[299])).toBe('{"seq":299}')
    expect(rememberedJsonFootprint().documents).toBe(256)
    // 2 MB texts: at most 24 Mi characters held, however few the documents.
    const big = Array.from({ length: 20 }, (_, i) => ({ seq: i, c: 'B'.repeat(2_000_000) }))
    for (const d of big) documentJson(d)
    const { documents, chars } = rememberedJsonFootprint()
    expect(chars).toBeLessThanOrEqual(24 * 1024 * 1024)
    expect(documents).toBeLessThan(20)
    expect(rememberedJson(big[19])).toBeDefined()
    expect(rememberedJson(big[0])).toBeUndefined()
    // A text larger than the whole bound is written, not kept.
    const huge = { c: 'C'.repeat(25 * 1024 * 1024) }
    expect(documentJson(huge).length).toBe(JSON.stringify(huge).length)
    expect(rememberedJson(huge)).toBeUndefined()
  })
})
