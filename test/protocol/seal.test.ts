import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { boxKeyPairFromSecret, fromBase64url, openJson, openSealed, seal, SealedBox, sha256, toBase64url, utf8 } from '../../protocol/index.js'
import { z } from 'zod'
import { alice, bob, carol, mallory, random } from './fixtures.js'

const plaintext = utf8('{"orders":["A-1","A-2"],"contact":"buyer@example.com"}')

describe('sealing', () => {
  it('every recipient opens the same plaintext; nobody else can', () => {
    const box = seal(plaintext, [alice.recipient, bob.recipient, carol.recipient], alice.box, random())
    expect(SealedBox.safeParse(box).success).toBe(true)
    for (const s of [alice, bob, carol]) expect(openSealed(box, s.identity.id, s.box)).toEqual({ ok: true, value: plaintext })
    expect(openSealed(box, mallory.identity.id, mallory.box)).toMatchObject({ ok: false, error: { code: 'cannot-open' } })
    // Mallory relabelling bob's boxed key as hers gains nothing: it is boxed to bob's key.
    const relabelled = { ...box, keys: box.keys.map((k) => (k.to === bob.identity.id ? { ...k, to: mallory.identity.id } : k)) }
    expect(openSealed(relabelled, mallory.identity.id, mallory.box).ok).toBe(false)
  })

  it('after a box key rotation (D93) a box sealed to the old key opens with a keyring holding it, and not without', () => {
    const rotated = boxKeyPairFromSecret(sha256(utf8('standin test box bob, rotated')))
    const box = seal(plaintext, [bob.recipient], alice.box, random('rotation'))
    expect(openSealed(box, bob.identity.id, [rotated, bob.box])).toEqual({ ok: true, value: plaintext })
    expect(openSealed(box, bob.identity.id, [rotated]).ok).toBe(false)
    const fresh = seal(plaintext, [{ id: bob.identity.id, boxKey: rotated.publicKey }], alice.box, random('rotation 2'))
    expect(openSealed(fresh, bob.identity.id, [rotated, bob.box])).toEqual({ ok: true, value: plaintext })
    expect(openSealed(fresh, bob.identity.id, bob.box).ok).toBe(false)
  })

  it('a single-holder box opens for the holder only', () => {
    const box = seal(plaintext, [bob.recipient], alice.box, random('single'))
    expect(openSealed(box, bob.identity.id, bob.box).ok).toBe(true)
    expect(openSealed(box, carol.identity.id, carol.box).ok).toBe(false)
    expect(openSealed(box, alice.identity.id, alice.box).ok).toBe(false)
  })

  it('refuses a sender key with bit 255 set, which X25519 would silently ignore (fast-check found it)', () => {
    const box = seal(plaintext, [bob.recipient], alice.box, random('bit-255'))
    const sender = fromBase64url(box.sender)
    sender[31] = (sender[31] as number) | 0x80
    expect(openSealed({ ...box, sender: toBase64url(sender) }, bob.identity.id, bob.box)).toMatchObject({ ok: false, error: { code: 'cannot-open' } })
  })

  it('rejects any one-byte tamper of ciphertext, nonces, boxed keys or sender key', () => {
    const box = seal(plaintext, [alice.recipient, bob.recipient], alice.box, random('tamper'))
    const fields = ['ciphertext', 'nonce', 'sender', 'key.box', 'key.nonce'] as const
    fc.assert(
      fc.property(fc.constantFrom(...fields), fc.nat(), fc.integer({ min: 1, max: 255 }), (field, index, delta) => {
        const flip = (text: string) => {
          const bytes = fromBase64url(text)
          const i = index % bytes.byteLength
          bytes[i] = ((bytes[i] as number) + delta) & 0xff
          return toBase64url(bytes)
        }
        const key = box.keys.find((k) => k.to === bob.identity.id)!
        const tampered: SealedBox =
          field === 'key.box' || field === 'key.nonce'
            ? {
                ...box,
                keys: box.keys.map((k) => (k === key ? { ...k, [field === 'key.box' ? 'box' : 'nonce']: flip(k[field === 'key.box' ? 'box' : 'nonce']) } : k)),
              }
            : { ...box, [field]: flip(box[field]) }
        expect(openSealed(tampered, bob.identity.id, bob.box)).toMatchObject({ ok: false, error: { code: 'cannot-open' } })
      }),
      { numRuns: 1_000 },
    )
  })

  it('opens and validates JSON against a schema', () => {
    const schema = z.strictObject({ orders: z.array(z.string()), contact: z.string() })
    const box = seal(plaintext, [bob.recipient], alice.box, random())
    expect(openJson(box, bob.identity.id, bob.box, schema)).toMatchObject({ ok: true, value: { orders: ['A-1', 'A-2'] } })
    expect(openJson(box, bob.identity.id, bob.box, z.strictObject({ other: z.string() }))).toMatchObject({ ok: false, error: { code: 'invalid' } })
  })

  it('uses fresh randomness: the same plaintext seals differently each time', () => {
    const rng = random('fresh')
    const a = seal(plaintext, [bob.recipient], alice.box, rng)
    const b = seal(plaintext, [bob.recipient], alice.box, rng)
    expect(a.ciphertext).not.toBe(b.ciphertext)
  })
})
