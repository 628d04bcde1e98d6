// HMAC-SHA256 authentication of adapter → node requests. The shop software and the node share a
// secret; every request carries its timestamp and the MAC of "standin/1/adapter\n" + timestamp +
// "\n" + method + " " + path + "\n" + raw body, so a body cannot be replayed on another route.
import { createHmac, timingSafeEqual } from 'node:crypto'

export const ADAPTER_TIMESTAMP_HEADER = 'x-standin-timestamp'
export const ADAPTER_SIGNATURE_HEADER = 'x-standin-signature'
/** Requests older or newer than this (by the node's clock) are refused. */
export const ADAPTER_REPLAY_WINDOW_MS = 5 * 60 * 1000

export function adapterSignature(secret: string, timestampMs: number, method: string, path: string, rawBody: Uint8Array | string): string {
  return createHmac('sha256', secret)
    .update(`standin/1/adapter\n${timestampMs}\n${method.toUpperCase()} ${path}\n`)
    .update(rawBody)
    .digest('hex')
}

/** Constant-time comparison of a presented hex MAC with the expected one. */
export function adapterSignatureMatches(expectedHex: string, presentedHex: string): boolean {
  if (!/^[0-9a-f]{64}$/.test(presentedHex)) return false
  return timingSafeEqual(Buffer.from(expectedHex, 'hex'), Buffer.from(presentedHex, 'hex'))
}
