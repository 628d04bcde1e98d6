// Helpers for the public pages: posting the claim form as a browser does, and canned engine data.
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import type { ClaimForm, ClaimResult, ShopStatusView } from '../../node/core/api-schemas.js'
import { bob, T0 } from '../protocol/fixtures.js'

export const SHOP = bob.identity.id
export const ORDER = 'order-7'
export const SECRET_OK = 'claim-secret-7'
export const KEYS = ['GIFT-7777-AAAA-0001', 'GIFT-7777-AAAA-0002']
export const DELIVERED_AT = T0 + 90_000

/** Answers like the engine: the keys only for the right shop, order and secret; else not-found. */
export function claimsOf(orders: Record<string, { secret: string; result: ClaimResult }>): (form: ClaimForm) => ClaimResult {
  return (form) => {
    const known = form.shop === SHOP ? orders[form.order] : undefined
    return known !== undefined && known.secret === form.secret ? known.result : { status: 'not-found' }
  }
}

export const deliveredOrder = claimsOf({
  [ORDER]: { secret: SECRET_OK, result: { status: 'delivered', order: ORDER, keys: KEYS, deliveredAt: DELIVERED_AT, fulfillerName: 'Moon Shop' } },
  'order-8': { secret: 'claim-secret-8', result: { status: 'pending', order: 'order-8' } },
})

export function status(overrides: Partial<ShopStatusView> = {}): ShopStatusView {
  return {
    shop: SHOP,
    name: 'Star Digital',
    state: 'partners-delivering',
    since: T0,
    deliveredByPartners: 12,
    pending: 3,
    claimUrl: 'https://moon.example/claim',
    ...overrides,
  }
}

export function form(fields: Record<string, string> | string): string {
  return typeof fields === 'string' ? fields : new URLSearchParams(fields).toString()
}

export function postClaim(
  app: FastifyInstance,
  fields: Record<string, string> | string,
  options: { url?: string; headers?: Record<string, string> } = {},
): Promise<LightMyRequestResponse> {
  return app.inject({
    method: 'POST',
    url: options.url ?? '/claim',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...options.headers },
    payload: form(fields),
  })
}

/** The text of the keys block, unescaped, or undefined when the page shows none. */
export function keysBlock(body: string): string | undefined {
  const match = /<pre class="keys" id="keys">([\s\S]*?)<\/pre>/.exec(body)
  return match?.[1]
    ?.replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&')
}

export function htmlLang(body: string): string | undefined {
  return /<html lang="([^"]+)">/.exec(body)?.[1]
}
