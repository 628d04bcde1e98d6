// Shop side of the generic adapter's webhook: how shop software checks that a callback really
// comes from its Standin node. The same HMAC scheme signs both directions, so these are the node's
// own ingress checks (node/http/hmac-auth.ts) without fastify: headers, clock window, MAC over the
// exact bytes, then replay. Nothing in the body may be parsed or acted on before this says ok.
import {
  ADAPTER_REPLAY_WINDOW_MS,
  ADAPTER_SIGNATURE_HEADER,
  ADAPTER_TIMESTAMP_HEADER,
  adapterSignature,
  adapterSignatureMatches,
} from '../../protocol/index.js'
import { MAX_SEEN_SIGNATURES, ReplayGuard, type ReplayVerdict } from '../contract.js'

/**
 * The contract's ReplayGuard, told the time by each call: a shop checks a callback against the
 * `nowMs` it read for that request. Capacity as the node's (MAX_SEEN_SIGNATURES): the node writes
 * back one partner delivery per callback, so after an outage thousands come within minutes.
 */
export class CallbackReplayGuard {
  private nowMs = 0
  private readonly guard: ReplayGuard

  /** `startedAtMs`: when this shop process started (Date.now()); earlier callbacks are refused. */
  constructor(startedAtMs: number, capacity = MAX_SEEN_SIGNATURES) {
    this.nowMs = startedAtMs
    this.guard = new ReplayGuard(() => this.nowMs, capacity)
  }

  admit(signature: string, timestampMs: number, nowMs: number): ReplayVerdict {
    this.nowMs = nowMs
    return this.guard.admit(signature, timestampMs)
  }

  /** Signatures still inside their window at the last call's time. */
  get size(): number {
    return this.guard.size
  }
}

const TIMESTAMP_PATTERN = /^\d{1,16}$/
const SIGNATURE_PATTERN = /^[0-9a-f]{64}$/

export type HeaderBag = Readonly<Record<string, string | readonly string[] | undefined>>

export interface CallbackRequest {
  readonly method: string
  /** The request target exactly as received (path and any query string), e.g. `req.url`. */
  readonly path: string
  readonly headers: HeaderBag
  /** The exact body bytes, before any parsing. */
  readonly rawBody: Uint8Array | string
  readonly nowMs: number
  readonly replayGuard: CallbackReplayGuard
}

export type CallbackVerdict =
  | { readonly ok: true; readonly timestampMs: number }
  | { readonly ok: false; readonly status: 401 | 409 | 503; readonly error: string; readonly message: string }

function header(headers: HeaderBag, name: string): string | undefined {
  // node:http lower-cases header names; other frameworks may not.
  const direct = headers[name] ?? Object.entries(headers).find(([key]) => key.toLowerCase() === name)?.[1]
  return typeof direct === 'string' ? direct : undefined
}

type Refusal = Extract<CallbackVerdict, { ok: false }>
const refuse = (status: 401 | 409 | 503, error: string, message: string): Refusal => ({ ok: false, status, error, message })

export type HeaderCheck = { readonly ok: true; readonly timestampMs: number; readonly signature: string } | Refusal

/**
 * The checks that need no body (both headers present and well formed, timestamp inside the
 * window): run them before reading a body, so a stranger cannot make the shop buffer one.
 */
export function checkCallbackHeaders(headers: HeaderBag, nowMs: number): HeaderCheck {
  const timestamp = header(headers, ADAPTER_TIMESTAMP_HEADER)
  const signature = header(headers, ADAPTER_SIGNATURE_HEADER)
  if (timestamp === undefined || !TIMESTAMP_PATTERN.test(timestamp)) {
    return refuse(401, 'unauthorized', `${ADAPTER_TIMESTAMP_HEADER}: missing or not an integer of milliseconds since the epoch`)
  }
  if (signature === undefined || !SIGNATURE_PATTERN.test(signature)) {
    return refuse(401, 'unauthorized', `${ADAPTER_SIGNATURE_HEADER}: missing or not 64 lowercase hex characters (HMAC-SHA256)`)
  }
  const timestampMs = Number(timestamp)
  const skewMs = nowMs - timestampMs
  if (Math.abs(skewMs) > ADAPTER_REPLAY_WINDOW_MS) {
    return refuse(
      401,
      'unauthorized',
      `stale timestamp: ${ADAPTER_TIMESTAMP_HEADER} is ${skewMs} ms from the shop's clock (allowed ±${ADAPTER_REPLAY_WINDOW_MS} ms)`,
    )
  }
  return { ok: true, timestampMs, signature }
}

/** Checks a node → shop callback; on `ok: false` answer `status` with `{ error, message }` and change nothing. */
export function verifyCallback(secret: string, request: CallbackRequest): CallbackVerdict {
  if (secret.length === 0) throw new Error('callback secret must not be empty')
  const head = checkCallbackHeaders(request.headers, request.nowMs)
  if (!head.ok) return head
  const { timestampMs, signature } = head
  const expected = adapterSignature(secret, timestampMs, request.method, request.path, request.rawBody)
  if (!adapterSignatureMatches(expected, signature)) {
    return refuse(401, 'unauthorized', `${ADAPTER_SIGNATURE_HEADER}: does not match the method, path, timestamp and body`)
  }
  // Replay is checked last, so only authentic requests can occupy the guard.
  const verdict = request.replayGuard.admit(signature, timestampMs, request.nowMs)
  if (verdict === 'replayed') return refuse(409, 'replayed', 'replayed request: this timestamp and signature were already accepted')
  if (verdict === 'full') return refuse(503, 'unavailable', 'too many signed requests inside the replay window; retry later')
  if (verdict === 'before-start')
    return refuse(401, 'unauthorized', 'signed before this shop process started: a captured request cannot be replayed; sign it afresh')
  return { ok: true, timestampMs }
}
