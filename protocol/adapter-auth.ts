// HMAC-SHA256 authentication of adapter → node requests. The shop software and the node share a
// secret; every request carries its timestamp and the MAC of "standin/1/adapter\n" + timestamp +
// "\n" + method + " " + path + "\n" + raw body, so a body cannot be replayed on another route.
import { createHmac, timingSafeEqual } from 'node:crypto'

export const ADAPTER_TIMESTAMP_HEADER = 'x-standin-timestamp'
export const ADAPTER_SIGNATURE_HEADER = 'x-standin-signature'
/**
 * The replay rule, the same in both directions (adapter → node, node → shop callbacks): the
 * receiver refuses a request whose timestamp is more than this off its own clock, and refuses a
 * signature it already accepted until that timestamp leaves the window (from then on the clock
 * check refuses it, so it may be forgotten). A receiver that cannot remember one more signature
 * refuses the request rather than forget a live one.
 */
export const ADAPTER_REPLAY_WINDOW_MS = 5 * 60 * 1000

export function adapterSignature(secret: string, timestampMs: number, method: string, path: string, rawBody: Uint8Array | string): string {
  return createHmac('sha256', secret).update(`standin/1/adapter\n${timestampMs}\n${method.toUpperCase()} ${path}\n`).update(rawBody).digest('hex')
}

/** Constant-time comparison of a presented hex MAC with the expected one. */
export function adapterSignatureMatches(expectedHex: string, presentedHex: string): boolean {
  if (!/^[0-9a-f]{64}$/.test(presentedHex)) return false
  return timingSafeEqual(Buffer.from(expectedHex, 'hex'), Buffer.from(presentedHex, 'hex'))
}
