// NaCl's secretbox (XSalsa20-Poly1305), byte for byte the boxes tweetnacl makes and opens, computed
// by libsodium (sodium-native) instead of JavaScript: ≈5× faster for a store row of a few hundred
// bytes and ≈10× for a 300 KB feed entry. It was the largest single cost on the escrow path, at
// the origin and at every partner (test/bench/RESULTS.md). The one home of the primitive: the
// escrow seal, the store's encryption at rest and the backup archive all call it.
import type * as Sodium from 'sodium-native'
import nacl from 'tweetnacl'

/**
 * libsodium's binding, or null where its npm package brings no prebuilt binary (musl, e.g.
 * Alpine): tweetnacl then, the same bytes at tweetnacl's speed, so the node still runs there.
 */
const sodium: typeof Sodium | null = await import('sodium-native').then(
  (module) => module.default as typeof Sodium,
  () => null,
)
/** Which implementation seals here (a test checks it is libsodium on the machines we build on). */
export const SECRETBOX_BY: 'libsodium' | 'tweetnacl' = sodium === null ? 'tweetnacl' : 'libsodium'

export const SECRETBOX_KEY_BYTES = 32
export const SECRETBOX_NONCE_BYTES = 24
/** The Poly1305 tag in front of the ciphertext (the `easy` layout, as tweetnacl's secretbox). */
export const SECRETBOX_MAC_BYTES = 16

/** A Buffer over the same bytes: the binding takes Buffers, callers hold Uint8Arrays. */
function view(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}

function checkKeyAndNonce(nonce: Uint8Array, key: Uint8Array): void {
  if (key.byteLength !== SECRETBOX_KEY_BYTES) throw new RangeError(`secretbox key must be ${SECRETBOX_KEY_BYTES} bytes`)
  if (nonce.byteLength !== SECRETBOX_NONCE_BYTES) throw new RangeError(`secretbox nonce must be ${SECRETBOX_NONCE_BYTES} bytes`)
}

/** Seals `message` into `out`, which must be exactly `message.byteLength + SECRETBOX_MAC_BYTES` long. */
export function secretboxInto(out: Uint8Array, message: Uint8Array, nonce: Uint8Array, key: Uint8Array): void {
  checkKeyAndNonce(nonce, key)
  if (out.byteLength !== message.byteLength + SECRETBOX_MAC_BYTES) throw new RangeError('secretbox output must be the message length plus the MAC')
  if (sodium === null) out.set(nacl.secretbox(message, nonce, key))
  else sodium.crypto_secretbox_easy(view(out), view(message), view(nonce), view(key))
}

export function secretbox(message: Uint8Array, nonce: Uint8Array, key: Uint8Array): Uint8Array {
  const out = new Uint8Array(message.byteLength + SECRETBOX_MAC_BYTES)
  secretboxInto(out, message, nonce, key)
  return out
}

/** The message, or null when the box does not authenticate under this key and nonce (never throws for a bad box). */
export function secretboxOpen(box: Uint8Array, nonce: Uint8Array, key: Uint8Array): Uint8Array | null {
  checkKeyAndNonce(nonce, key)
  if (box.byteLength < SECRETBOX_MAC_BYTES) return null
  if (sodium === null) return nacl.secretbox.open(box, nonce, key)
  const out = new Uint8Array(box.byteLength - SECRETBOX_MAC_BYTES)
  return sodium.crypto_secretbox_open_easy(view(out), view(box), view(nonce), view(key)) ? out : null
}
