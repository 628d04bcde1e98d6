// One byte representation per document: RFC 8785 (JCS) canonical JSON, UTF-8 encoded. Bytes
// travel as unpadded base64url, hashes are SHA-256.
import { createHash } from 'node:crypto'
import canonicalize from 'canonicalize'

const utf8Encoder = new TextEncoder()
const utf8Decoder = new TextDecoder('utf-8', { fatal: true })

/**
 * Strings JSON writes unchanged between quotes: printable ASCII except '"' and '\'. Ids, hashes
 * and base64url ciphertexts, nearly all we sign, are such strings, and one regular-expression test
 * costs a fraction of what the `canonicalize` package spends on them (a per-character surrogate
 * scan, then JSON.stringify): for a 1,000-order entry's 336 KB ciphertext 0.4 ms against 2.8 ms.
 */
const PLAIN_STRING = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/

/**
 * The `canonicalize` package's walk, step for step, with plain strings written directly; every
 * other leaf (numbers, escapes, lone surrogates, non-JSON values) is the package's own answer, so
 * the text and the errors are the package's (test/protocol/encoding.test.ts compares the two).
 */
function encode(value: unknown, seen: Set<object>): string | undefined {
  if (typeof value === 'string') return PLAIN_STRING.test(value) ? `"${value}"` : canonicalize(value)
  if (value === null || typeof value !== 'object') return canonicalize(value)
  if (seen.has(value)) throw new Error('Circular reference detected')
  seen.add(value)
  let result: string | undefined
  const toJSON = (value as { toJSON?: unknown }).toJSON
  if (typeof toJSON === 'function') {
    result = encode(toJSON.call(value), seen)
  } else if (Array.isArray(value)) {
    result = `[${value.map((item: unknown) => encode(item === undefined || typeof item === 'symbol' ? null : item, seen)).join(',')}]`
  } else {
    const parts: string[] = []
    const object = value as Record<string, unknown>
    for (const key of Object.keys(object).sort()) {
      const item = object[key]
      if (item === undefined || typeof item === 'symbol') continue
      parts.push(`${encode(key, seen)}:${encode(item, seen)}`)
    }
    result = `{${parts.join(',')}}`
  }
  seen.delete(value)
  return result
}

/** Canonical JSON text of a plain JSON value. Throws on values JSON cannot express exactly. */
export function canonicalJson(value: unknown): string {
  const text = encode(value, new Set())
  if (text === undefined) throw new TypeError('value has no JSON representation')
  return text
}

export function canonicalBytes(value: unknown): Uint8Array {
  return utf8Encoder.encode(canonicalJson(value))
}

export function utf8(text: string): Uint8Array {
  return utf8Encoder.encode(text)
}

/** Strict UTF-8 decoding: malformed bytes throw instead of turning into U+FFFD. */
export function fromUtf8(bytes: Uint8Array): string {
  return utf8Decoder.decode(bytes)
}

export function toBase64url(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url')
}

const BASE64URL = /^[A-Za-z0-9_-]*$/

/** Decodes unpadded base64url; rejects anything that would not re-encode to the same text. */
export function fromBase64url(text: string): Uint8Array {
  if (!BASE64URL.test(text) || text.length % 4 === 1) throw new TypeError('not base64url')
  const bytes = new Uint8Array(Buffer.from(text, 'base64url'))
  if (toBase64url(bytes) !== text) throw new TypeError('non-canonical base64url')
  return bytes
}

export function sha256(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(bytes).digest())
}

// Parsed documents are never mutated, and a feed entry's body is encoded twice on the hot path
// (to check its signature and to hash it into the chain): remember the bytes per object.
const encodedDocuments = new WeakMap<object, Uint8Array>()

/** canonicalBytes, remembered per object. Only for documents that are no longer mutated. */
export function documentBytes(document: object): Uint8Array {
  let bytes = encodedDocuments.get(document)
  if (!bytes) {
    bytes = canonicalBytes(document)
    encodedDocuments.set(document, bytes)
  }
  return bytes
}

// A feed entry's JSON text is wanted several times by the node that writes it: its row at rest,
// its size, one frame per partner. For a 1,000-order entry (one 336 KB ciphertext string) that
// text costs ≈1.8 ms each time (JSON.stringify runs ≈5 ns a character on Node 20): remember it,
// for the newest documents only. Held strongly, oldest out first, within both bounds.
/** Documents whose text is remembered: the outbound replication's recent entries (limits.ts). */
const MAX_REMEMBERED_JSON_DOCUMENTS = 256
/** Characters of remembered text (one byte each in these ASCII texts): ≈70 1,000-order entries. */
const MAX_REMEMBERED_JSON_CHARS = 24 * 1024 * 1024
const jsonTexts = new Map<object, string>()
let rememberedChars = 0

/** JSON.stringify, remembered for the newest documents. Only for documents that are no longer mutated. */
export function documentJson(document: object): string {
  const known = jsonTexts.get(document)
  if (known !== undefined) return known
  const text = JSON.stringify(document)
  if (text.length > MAX_REMEMBERED_JSON_CHARS) return text
  jsonTexts.set(document, text)
  rememberedChars += text.length
  for (const [oldest, oldText] of jsonTexts) {
    if (jsonTexts.size <= MAX_REMEMBERED_JSON_DOCUMENTS && rememberedChars <= MAX_REMEMBERED_JSON_CHARS) break
    jsonTexts.delete(oldest)
    rememberedChars -= oldText.length
  }
  return text
}

/** The text `documentJson` remembered for `value`, or undefined: writers use it when there is one. */
export function rememberedJson(value: unknown): string | undefined {
  return typeof value === 'object' && value !== null ? jsonTexts.get(value) : undefined
}

/** How much `documentJson` holds now (for tests of its bounds). */
export function rememberedJsonFootprint(): { documents: number; chars: number } {
  return { documents: jsonTexts.size, chars: rememberedChars }
}

/** base64url SHA-256 of the canonical encoding: the id of a document. */
export function hashOf(value: unknown): string {
  const bytes = typeof value === 'object' && value !== null ? documentBytes(value) : canonicalBytes(value)
  return toBase64url(sha256(bytes))
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  let length = 0
  for (const part of parts) length += part.byteLength
  const out = new Uint8Array(length)
  let offset = 0
  for (const part of parts) {
    out.set(part, offset)
    offset += part.byteLength
  }
  return out
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false
  let diff = 0
  for (let i = 0; i < a.byteLength; i++) diff |= (a[i] as number) ^ (b[i] as number)
  return diff === 0
}
