import { z } from 'zod'
import { LIMITS } from '../limits.js'
import { BoxPublicKey, Multiaddr, ShopId, TimeMs, WebUrl, WellFormedString } from './primitives.js'

/** What a shop tells its partners about itself; rotating the box key publishes a new card. */
export const ShopCard = z
  .strictObject({
    id: ShopId,
    name: WellFormedString.min(1).max(100),
    boxKey: BoxPublicKey,
    addrs: z.array(Multiaddr).max(LIMITS.maxAddrs),
    /** The shop's public claim page; buyers are sent there for orders it delivered. */
    claimUrl: WebUrl.nullable(),
    issuedAt: TimeMs,
    validUntil: TimeMs,
  })
  .refine((card) => card.validUntil > card.issuedAt, {
    message: 'must be later than issuedAt',
    path: ['validUntil'],
  })
export type ShopCard = z.infer<typeof ShopCard>
