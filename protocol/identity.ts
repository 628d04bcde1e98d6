// A shop is an Ed25519 key; its id is the libp2p PeerId of that key, so the public key can be
// recovered from the id alone. Signing uses node:crypto (≈15k/s here, tweetnacl ≈90/s) with
// signatures identical to tweetnacl's. The X25519 box key for sealing is separate so it can rotate.
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto'
import { publicKeyFromRaw } from '@libp2p/crypto/keys'
import { peerIdFromPublicKey, peerIdFromString } from '@libp2p/peer-id'
import nacl from 'tweetnacl'
import { assert } from './errors.js'
import type { ShopId } from './schemas/primitives.js'

const PKCS8_ED25519_PREFIX = Uint8Array.from([0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20])
const SPKI_ED25519_PREFIX = Uint8Array.from([0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00])

export interface Identity {
  readonly id: ShopId
  /** 32-byte Ed25519 seed: the secret from which everything else derives. */
  readonly seed: Uint8Array
  readonly publicKey: Uint8Array
  readonly privateKeyObject: KeyObject
}

export interface BoxKeyPair {
  readonly publicKey: Uint8Array
  readonly secretKey: Uint8Array
}

export function identityFromSeed(seed: Uint8Array): Identity {
  assert(seed.byteLength === 32, 'an Ed25519 seed is 32 bytes')
  const privateKeyObject = createPrivateKey({
    key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]),
    format: 'der',
    type: 'pkcs8',
  })
  const spki = createPublicKey(privateKeyObject).export({ format: 'der', type: 'spki' })
  const publicKey = new Uint8Array(spki.subarray(SPKI_ED25519_PREFIX.byteLength))
  return { id: shopIdFromPublicKey(publicKey), seed: Uint8Array.from(seed), publicKey, privateKeyObject }
}

/** The 64-byte tweetnacl / libp2p secret key (seed ‖ public key) of an identity. */
export function secretKeyBytes(identity: Identity): Uint8Array {
  const out = new Uint8Array(64)
  out.set(identity.seed, 0)
  out.set(identity.publicKey, 32)
  return out
}

/** X25519 key pair from a 32-byte secret (tweetnacl clamps it). */
export function boxKeyPairFromSecret(secret: Uint8Array): BoxKeyPair {
  assert(secret.byteLength === 32, 'an X25519 secret is 32 bytes')
  const pair = nacl.box.keyPair.fromSecretKey(Uint8Array.from(secret))
  return { publicKey: pair.publicKey, secretKey: pair.secretKey }
}

export function shopIdFromPublicKey(publicKey: Uint8Array): ShopId {
  return peerIdFromPublicKey(publicKeyFromRaw(publicKey)).toString()
}

const MAX_CACHED_KEYS = 4_096
const verifyKeyCache = new Map<string, KeyObject>()

/** Raw Ed25519 public key inside a shop id; throws if the id is not an Ed25519 PeerId. */
export function publicKeyOfShop(id: ShopId): Uint8Array {
  const peerId = peerIdFromString(id)
  if (peerId.type !== 'Ed25519') throw new TypeError('shop id is not an Ed25519 PeerId')
  return peerId.publicKey.raw
}

/** node:crypto verify key for a shop id, cached because parsing the id costs more than verifying. */
export function verifyKeyOfShop(id: ShopId): KeyObject {
  const cached = verifyKeyCache.get(id)
  if (cached) return cached
  const key = createPublicKey({
    key: Buffer.concat([SPKI_ED25519_PREFIX, publicKeyOfShop(id)]),
    format: 'der',
    type: 'spki',
  })
  if (verifyKeyCache.size >= MAX_CACHED_KEYS) verifyKeyCache.clear()
  verifyKeyCache.set(id, key)
  return key
}
