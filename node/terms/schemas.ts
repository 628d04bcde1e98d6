// What an operator gives and gets when changing terms, from the CLI or the admin API (D64): one
// schema per input, so both refuse the same things with the same words.
import { z } from 'zod'
import { Hash, LIMITS, ShopId } from '../../protocol/index.js'

/** Keys of one sku a partner may hold at once when no cap is given. */
export const DEFAULT_ALLOTMENT_CAP = 500
/** Skus one revision may add or remove. */
export const MAX_SKU_CHANGES = 64

/**
 * `<sku>=<unit value>`: a sku of ours and what one key is worth in settlement, in yuan with at most
 * two decimals (`steam-50=50.00`), turned into integer minor units here and nowhere else.
 */
export const SkuValueArg = z
  .string()
  .regex(/^[^=\s]{1,128}=\d{1,9}(\.\d{1,2})?$/, 'must be <sku>=<unit value in yuan>, e.g. steam-50=50.00 (at most two decimals)')
  .transform((text) => {
    const [sku = '', value = ''] = text.split('=')
    const [whole = '0', fraction = ''] = value.split('.')
    return { sku, unitMinorUnits: Number(whole) * 100 + Number(fraction.padEnd(2, '0')) }
  })

/** Keys of one sku a partner may hold at once, as terms store it. */
export const AllotmentCapArg = z.coerce.number().int().min(1).max(50_000)

export const ProposeBody = z.strictObject({
  addSkus: z.array(SkuValueArg).max(MAX_SKU_CHANGES).default([]),
  removeSkus: z.array(z.string().min(1).max(128)).max(MAX_SKU_CHANGES).default([]),
  cap: AllotmentCapArg.default(DEFAULT_ALLOTMENT_CAP),
  /** Parties the next revision leaves out (D95): a quorum-free way to part, signed by those who stay. */
  removeParties: z.array(ShopId).max(LIMITS.maxParties).default([]),
  /** Shops the next revision adds (D97): the invite token each printed with `standin invite`. */
  addParties: z.array(z.string().min(10).max(20_000)).max(LIMITS.maxParties).default([]),
})
export type ProposeBody = z.infer<typeof ProposeBody>

/** A terms token another party sent, or the hash (prefix) of terms a partner's node brought; neither: the one waiting. */
export const AcceptBody = z.strictObject({
  token: z.string().min(10).max(200_000).optional(),
  hash: z.string().min(4).max(64).optional(),
})
export type AcceptBody = z.infer<typeof AcceptBody>

export const TermsResultView = z.strictObject({
  token: z.string(),
  hash: Hash,
  missing: z.array(ShopId),
  /** What to do next, in words. */
  next: z.string(),
})
export type TermsResult = z.infer<typeof TermsResultView>

export const AgreementView = z.strictObject({
  hash: Hash,
  id: z.string(),
  revision: z.number().int(),
  state: z.enum(['in-force', 'superseded', 'signed', 'waiting']),
  signedByUs: z.boolean(),
  createdAt: z.number().int(),
  parties: z.array(z.strictObject({ id: ShopId, name: z.string(), signed: z.boolean() })),
  skus: z.array(
    z.strictObject({
      shop: ShopId,
      shopName: z.string(),
      sku: z.string(),
      allotmentCap: z.number().int(),
      unitValue: z.strictObject({ minorUnits: z.number().int(), currency: z.string() }),
    }),
  ),
})
export const TermsReply = z.strictObject({ agreements: z.array(AgreementView) })
export type TermsReply = z.infer<typeof TermsReply>

/** What the routes ask of the node's terms; a refusal (the rules say no) throws `refused`. */
export interface TermsOperations {
  list(): TermsReply
  propose(body: ProposeBody): TermsResult
  accept(body: AcceptBody): TermsResult
  /** Hands this shop's place to its new identity (D99): the revision, and the new identity's id. */
  handOver(): TermsResult & { readonly successor: string }
  /** True for an error that is the operator's to fix (nothing to sign, a sku already covered, …). */
  refused(error: unknown): boolean
}
