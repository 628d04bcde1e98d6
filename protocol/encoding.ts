// One byte representation per document: RFC 8785 (JCS) canonical JSON via the `canonicalize`
// package, UTF-8 encoded. Bytes travel as unpadded base64url, hashes are SHA-256.
import { createHash } from 'node:crypto'
import canonicalize from 'canonicalize'

const utf8Encoder = new TextEncoder()
const utf8Decoder = new TextDecoder('utf-8', { fatal: true })

/** Canonical JSON text of a plain JSON value. Throws on values JSON cannot express exactly. */
export function canonicalJson(value: unknown): string {
  const text = canonicalize(value)
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
