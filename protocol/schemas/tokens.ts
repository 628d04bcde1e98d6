// Tokens operators copy between shops to federate (`standin invite`, `join`, `terms accept`):
// another implementation must read and print them to join a federation with this one. Encoded by
// protocol/tokens.ts.
import { z } from 'zod'
import { LIMITS } from '../limits.js'
import { Agreement } from './agreement.js'
import { ShopCard } from './shop-card.js'
import { signedSchema } from './signed.js'

export const SignedShopCard = signedSchema(ShopCard)

/** What `standin invite` prints: our signed card. */
export const InviteToken = z.strictObject({ kind: z.literal('invite'), card: SignedShopCard })
export type InviteToken = z.infer<typeof InviteToken>

/** What `standin join` and `standin terms accept` print: the terms with signatures so far. */
export const TermsToken = z.strictObject({
  kind: z.literal('terms'),
  agreement: Agreement,
  cards: z.array(SignedShopCard).max(LIMITS.maxParties),
})
export type TermsToken = z.infer<typeof TermsToken>

export const Token = z.discriminatedUnion('kind', [InviteToken, TermsToken])
export type Token = z.infer<typeof Token>
export const TOKEN_PREFIX = 'standin1.'
