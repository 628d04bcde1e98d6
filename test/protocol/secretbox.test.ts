// The secretbox through libsodium must be NaCl's, byte for byte: every box already on disk, in a
// backup or on the wire was made by tweetnacl and must keep opening, and partners on either
// implementation must agree.
import { randomBytes } from 'node:crypto'
import nacl from 'tweetnacl'
import { describe, expect, it } from 'vitest'
import { SECRETBOX_BY, SECRETBOX_MAC_BYTES, secretbox, secretboxInto, secretboxOpen } from '../../protocol/index.js'

const SIZES = [0, 1, 15, 16, 17, 31, 32, 33, 63, 64, 65, 360, 1_000, 4_096, 65_537, 346_000]

describe('secretbox', () => {
  it('is computed by libsodium here (tweetnacl only where sodium-native has no prebuilt binary)', () => {
    expect(SECRETBOX_BY).toBe('libsodium')
  })

  it('makes the boxes tweetnacl makes and opens the boxes tweetnacl made', () => {
    for (const size of SIZES) {
      const message = new Uint8Array(randomBytes(size))
      const nonce = new Uint8Array(randomBytes(24))
      const key = new Uint8Array(randomBytes(32))
      const theirs = nacl.secretbox(message, nonce, key)
      expect(secretbox(message, nonce, key), `size ${size}`).toEqual(theirs)
      expect(secretboxOpen(theirs, nonce, key), `size ${size}`).toEqual(message)
      const into = new Uint8Array(size + SECRETBOX_MAC_BYTES)
      secretboxInto(into, message, nonce, key)
      expect(into).toEqual(theirs)
    }
  })

  it('opens to null, never throws, for a box that does not authenticate', () => {
    const nonce = new Uint8Array(randomBytes(24))
    const key = new Uint8Array(randomBytes(32))
    const box = secretbox(new Uint8Array(randomBytes(100)), nonce, key)
    for (const at of [0, 15, 16, 99, 115]) {
      const tampered = Uint8Array.from(box)
      tampered[at] = (tampered[at] as number) ^ 1
      expect(secretboxOpen(tampered, nonce, key), `byte ${at}`).toBeNull()
    }
    expect(secretboxOpen(box.subarray(0, SECRETBOX_MAC_BYTES - 1), nonce, key)).toBeNull()
    expect(secretboxOpen(box, nonce, new Uint8Array(randomBytes(32)))).toBeNull()
  })

  it('refuses a key or nonce of the wrong length, as tweetnacl does', () => {
    const message = new Uint8Array(10)
    expect(() => secretbox(message, new Uint8Array(23), new Uint8Array(32))).toThrow(/nonce must be 24 bytes/)
    expect(() => secretbox(message, new Uint8Array(24), new Uint8Array(31))).toThrow(/key must be 32 bytes/)
    expect(() => secretboxOpen(message, new Uint8Array(25), new Uint8Array(32))).toThrow(/nonce must be 24 bytes/)
    expect(() => secretboxInto(new Uint8Array(10), message, new Uint8Array(24), new Uint8Array(32))).toThrow(/MAC/)
  })
})
