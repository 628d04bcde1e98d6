// Encryption at rest (D55): every value a node writes to LevelDB on disk is JSON sealed with
// XSalsa20-Poly1305 (NaCl's secretbox, protocol/secretbox.ts) under a key derived from the node's
// identity seed, so a copy of db/ (a backup, a disk image, another user's grep) holds no card key,
// buyer contact or mail text. Store keys stay plain: they are ids, never secrets (level-store.ts
// says which).
import { hkdfSync, randomBytes } from 'node:crypto'
import { rememberedJson, SECRETBOX_KEY_BYTES, SECRETBOX_MAC_BYTES, SECRETBOX_NONCE_BYTES, secretboxInto, secretboxOpen } from '../../protocol/index.js'

/** First byte of a sealed value; JSON text never starts with it, so a plain value is told apart. */
export const SEALED_V1 = 0x01
const NONCE_BYTES = SECRETBOX_NONCE_BYTES
const KEY_BYTES = SECRETBOX_KEY_BYTES
/** HKDF info: this key seals the store and nothing else. */
const STORE_KEY_INFO = 'standin/store-at-rest/v1'
/**
 * Nonces drawn from the CSPRNG per call: one call per this many sealed values. A call costs about
 * as much as sealing a small value, and a booked ledger line writes several small values.
 */
const NONCES_PER_DRAW = 1_024

export class SealedValueError extends Error {}

/** The store's key: HKDF-SHA256 of the 32-byte identity seed, bound to its one purpose. */
export function storeKeyFromSeed(seed: Uint8Array): Uint8Array {
  if (seed.length !== 32) throw new RangeError('identity seed must be 32 bytes')
  return new Uint8Array(hkdfSync('sha256', seed, new Uint8Array(0), STORE_KEY_INFO, KEY_BYTES))
}

export function isSealed(value: Uint8Array): boolean {
  return value.length > 0 && value[0] === SEALED_V1
}

/** A level-transcoder encoding: JSON in, [version ‖ nonce ‖ secretbox] bytes out. */
export function sealedJsonEncoding(key: Uint8Array) {
  if (key.length !== KEY_BYTES) throw new RangeError(`store key must be ${KEY_BYTES} bytes`)
  // Random 24-byte nonces as before, only fetched in blocks; each is used once (offset moves on).
  let nonces = Buffer.alloc(0)
  let offset = 0
  const nextNonce = (): Buffer => {
    if (offset + NONCE_BYTES > nonces.length) {
      nonces = randomBytes(NONCE_BYTES * NONCES_PER_DRAW)
      offset = 0
    }
    offset += NONCE_BYTES
    return nonces.subarray(offset - NONCE_BYTES, offset)
  }
  return {
    name: 'standin-sealed-json',
    format: 'buffer' as const,
    encode(value: unknown): Buffer {
      // A feed entry's text is usually written already (protocol/encoding.ts documentJson).
      const plain = Buffer.from(rememberedJson(value) ?? JSON.stringify(value), 'utf8')
      // [version ‖ nonce ‖ box] in one buffer: the box is sealed in place, nothing copied after.
      const out = Buffer.allocUnsafe(1 + NONCE_BYTES + SECRETBOX_MAC_BYTES + plain.length)
      out[0] = SEALED_V1
      nextNonce().copy(out, 1)
      secretboxInto(out.subarray(1 + NONCE_BYTES), plain, out.subarray(1, 1 + NONCE_BYTES), key)
      return out
    },
    decode(data: Buffer): unknown {
      if (!isSealed(data)) throw new SealedValueError('store value is not sealed (written before encryption at rest, or not by this node)')
      const opened = data.length < 1 + NONCE_BYTES ? null : secretboxOpen(data.subarray(1 + NONCE_BYTES), data.subarray(1, 1 + NONCE_BYTES), key)
      if (opened === null) throw new SealedValueError("store value does not open with this node's key (another node's db/, or damaged)")
      return JSON.parse(Buffer.from(opened.buffer, opened.byteOffset, opened.byteLength).toString('utf8'))
    },
  }
}
