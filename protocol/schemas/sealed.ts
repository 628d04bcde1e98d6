import { z } from 'zod'
import { LIMITS } from '../limits.js'
import { BoxPublicKey, bytesB64, bytesB64Max, ShopId } from './primitives.js'

/** The data key boxed to one recipient (32-byte key + 16-byte MAC = 48 bytes). */
export const BoxedKey = z.strictObject({
  to: ShopId,
  nonce: bytesB64(24),
  box: bytesB64(48),
})
export type BoxedKey = z.infer<typeof BoxedKey>

/**
 * Multi-recipient sealed box: the plaintext is encrypted once with secretbox under a random data
 * key; the data key is boxed (X25519 + XSalsa20-Poly1305) from `sender` to each recipient.
 */
export const SealedBox = z.strictObject({
  alg: z.literal('x25519-xsalsa20-poly1305/1'),
  sender: BoxPublicKey,
  nonce: bytesB64(24),
  ciphertext: bytesB64Max(LIMITS.maxSealedChars),
  keys: z
    .array(BoxedKey)
    .min(1)
    .max(LIMITS.maxRecipients)
    .refine((keys) => new Set(keys.map((k) => k.to)).size === keys.length, 'recipients must be distinct'),
})
export type SealedBox = z.infer<typeof SealedBox>
