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

/** Signatures a shop remembers at most; callbacks are rare (fences, consignments, write-backs). */
export const MAX_SEEN_CALLBACK_SIGNATURES = 10_000

const TIMESTAMP_PATTERN = /^\d{1,16}$/
const SIGNATURE_PATTERN = /^[0-9a-f]{64}$/

export type ReplayVerdict = 'fresh' | 'replayed' | 'full'

/** Remembers accepted signatures until their timestamps leave the window (fails closed when full). */
export class CallbackReplayGuard {
  // signature → the time after which its timestamp is stale, so it can no longer pass the clock check
  private readonly seen = new Map<string, number>()

  constructor(
    private readonly capacity = MAX_SEEN_CALLBACK_SIGNATURES,
    private readonly windowMs = ADAPTER_REPLAY_WINDOW_MS,
  ) {}

  admit(signature: string, timestampMs: number, nowMs: number): ReplayVerdict {
    for (const [seen, staleAfterMs] of this.seen) {
      if (staleAfterMs < nowMs) this.seen.delete(seen)
    }
    if (this.seen.has(signature)) return 'replayed'
    // Forgetting a live signature would reopen a replay hole, so refuse instead.
    if (this.seen.size >= this.capacity) return 'full'
    this.seen.set(signature, timestampMs + this.windowMs)
    return 'fresh'
  }

  get size(): number {
    return this.seen.size
  }
}

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

const refuse = (status: 401 | 409 | 503, error: string, message: string): CallbackVerdict => ({ ok: false, status, error, message })

/** Checks a node → shop callback; on `ok: false` answer `status` with `{ error, message }` and change nothing. */
export function verifyCallback(secret: string, request: CallbackRequest): CallbackVerdict {
  if (secret.length === 0) throw new Error('callback secret must not be empty')
  const timestamp = header(request.headers, ADAPTER_TIMESTAMP_HEADER)
  const signature = header(request.headers, ADAPTER_SIGNATURE_HEADER)
  if (timestamp === undefined || !TIMESTAMP_PATTERN.test(timestamp)) {
    return refuse(401, 'unauthorized', `${ADAPTER_TIMESTAMP_HEADER}: missing or not an integer of milliseconds since the epoch`)
  }
  if (signature === undefined || !SIGNATURE_PATTERN.test(signature)) {
    return refuse(401, 'unauthorized', `${ADAPTER_SIGNATURE_HEADER}: missing or not 64 lowercase hex characters (HMAC-SHA256)`)
  }
  const timestampMs = Number(timestamp)
  const skewMs = request.nowMs - timestampMs
  if (Math.abs(skewMs) > ADAPTER_REPLAY_WINDOW_MS) {
    return refuse(401, 'unauthorized', `stale timestamp: ${ADAPTER_TIMESTAMP_HEADER} is ${skewMs} ms from the shop's clock (allowed ±${ADAPTER_REPLAY_WINDOW_MS} ms)`)
  }
  const expected = adapterSignature(secret, timestampMs, request.method, request.path, request.rawBody)
  if (!adapterSignatureMatches(expected, signature)) {
    return refuse(401, 'unauthorized', `${ADAPTER_SIGNATURE_HEADER}: does not match the method, path, timestamp and body`)
  }
  // Replay is checked last, so only authentic requests can occupy the guard.
  const verdict = request.replayGuard.admit(signature, timestampMs, request.nowMs)
  if (verdict === 'replayed') return refuse(409, 'replayed', 'replayed request: this timestamp and signature were already accepted')
  if (verdict === 'full') return refuse(503, 'unavailable', 'too many signed requests inside the replay window; retry later')
  return { ok: true, timestampMs }
}
