// Node side of the generic adapter's webhook: the engine's Adapter port, implemented by POSTing
// HMAC-signed JSON to the shop's callback URL (protocol/schemas/api.ts, "node → shop callbacks").
// Replies are parsed with the protocol schemas before the engine sees them. It lives in the node,
// not in adapters/, because it is how a node reaches any shop: every shop-side adapter (the
// generic callback host, dujiaoka, one in another language) is at the other end of it.
//
// Retries. Fence, return-stock and write-back are idempotent at the shop (setting a flag, putting
// back keys it already holds is a no-op, a write-back is keyed by order), so a lost reply is
// retried with backoff. Take-stock is not: it moves keys out of the shop's stock, and TakeStockBody
// carries no request id the shop could use to answer a retry with the same keys. If a reply is
// lost after the shop removed the keys, a blind retry would take a second batch and strand the
// first (out of the shop, in no allotment). So take-stock is retried only when the request
// provably never reached the shop (connection refused, name not resolved); any other failure is
// reported as "outcome unknown" for the operator to reconcile.
import { setTimeout as sleep } from 'node:timers/promises'
import type { z } from 'zod'
import type { Adapter, CardKey, Logger, PartnerDelivery } from '../../adapters/contract.js'
import {
  ADAPTER_SIGNATURE_HEADER,
  ADAPTER_TIMESTAMP_HEADER,
  adapterSignature,
  CALLBACK_PATHS,
  ErrorReply,
  FenceBody,
  formatZodError,
  OkReply,
  ReturnStockBody,
  TakeStockBody,
  TakeStockReply,
  WriteBackBody,
} from '../../protocol/index.js'
import { type RotatingSecret, rotating } from '../config/rotating-secret.js'

/** Per attempt, connect to last reply byte. A take-stock of 5,000 keys is well under this locally. */
export const DEFAULT_CALLBACK_TIMEOUT_MS = 10_000
/**
 * Take-stock may wait for the shop to settle first (dujiaoka waits for sales already running, up
 * to its consign.settleTimeoutMs ≤ 45 s). A node that gave up sooner would leave keys that left
 * the shop with nobody; the callback host puts them back, but the consignment is lost.
 */
export const DEFAULT_TAKE_STOCK_TIMEOUT_MS = 60_000
/** Extra attempts after the first, for the idempotent callbacks. */
export const DEFAULT_CALLBACK_RETRIES = 3
/** First backoff; doubles each attempt up to MAX_BACKOFF_MS. */
export const DEFAULT_BACKOFF_MS = 250
const MAX_BACKOFF_MS = 5_000
/** Largest reply read: a full take-stock (5,000 keys of up to 1 KiB) with JSON overhead. */
export const MAX_CALLBACK_REPLY_BYTES = 8 * 1024 * 1024

export interface CallbackAdapterOptions {
  /** The shop's callback base URL, e.g. http://127.0.0.1:9000 (CALLBACK_PATHS are appended). */
  readonly baseUrl: string
  /**
   * Signs every callback. While a rotation's grace runs (../config/rotating-secret.ts), a callback
   * the shop refuses with 401 is signed again with the previous secret at once: an adapter not yet
   * restarted knows only that one, and a 401 means it did nothing.
   */
  readonly secret: string | RotatingSecret
  readonly logger: Logger
  readonly timeoutMs?: number
  readonly takeStockTimeoutMs?: number
  readonly retries?: number
  readonly backoffMs?: number
  readonly now?: () => number
}

export class CallbackError extends Error {
  constructor(
    readonly path: string,
    /** HTTP status, or null when no reply arrived. */
    readonly status: number | null,
    message: string,
    /** True when the request provably never reached the shop, so even take-stock may be sent again. */
    readonly notSent: boolean,
  ) {
    super(`shop callback ${path}: ${message}`)
  }
}

type RetryPolicy = 'idempotent' | 'only-if-not-sent'

/** Failures where the request never left this host, so the shop cannot have acted on it. */
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN'])

function causeCode(error: unknown): string | undefined {
  const cause = (error as { cause?: unknown }).cause
  if (cause instanceof AggregateError) {
    const codes = cause.errors.map((inner) => (inner as { code?: unknown }).code)
    return codes.every((code) => typeof code === 'string' && NOT_SENT_CODES.has(code)) ? (codes[0] as string) : undefined
  }
  const code = (cause as { code?: unknown } | undefined)?.code
  return typeof code === 'string' ? code : undefined
}

/** The reply text, or null when it exceeds `maxBytes` (the rest is not read). */
async function readCapped(response: Response, maxBytes: number): Promise<string | null> {
  if (response.body === null) return ''
  const chunks: Uint8Array[] = []
  let total = 0
  for await (const chunk of response.body) {
    total += chunk.byteLength
    // Leaving the loop early cancels the stream, so the rest is never buffered.
    if (total > maxBytes) return null
    chunks.push(chunk)
  }
  return Buffer.concat(chunks).toString('utf8')
}

function transportError(path: string, error: unknown): CallbackError {
  if (error instanceof CallbackError) return error
  const name = (error as { name?: unknown }).name
  if (name === 'TimeoutError') return new CallbackError(path, null, 'timed out; the shop may or may not have acted', false)
  const code = causeCode(error)
  if (code !== undefined && NOT_SENT_CODES.has(code)) return new CallbackError(path, null, `not sent (${code})`, true)
  const reason = error instanceof Error ? error.message : String(error)
  return new CallbackError(path, null, `no reply (${code ?? reason}); the shop may or may not have acted`, false)
}

function statusError(path: string, status: number, text: string): CallbackError {
  let detail = text.slice(0, 500)
  try {
    const parsed = ErrorReply.safeParse(JSON.parse(text))
    if (parsed.success) detail = `${parsed.data.error}: ${parsed.data.message}`
  } catch {
    // not JSON: keep the raw text
  }
  return new CallbackError(path, status, `shop answered ${status}: ${detail}`, false)
}

/** Whether an idempotent call may be tried again after this error. */
function transient(error: CallbackError): boolean {
  if (error.status === null) return true
  // 409 is a replay collision (re-signed afresh on retry); 408/429/5xx are the shop asking to wait.
  return error.status === 408 || error.status === 409 || error.status === 429 || error.status >= 500
}

export function createCallbackAdapter(options: CallbackAdapterOptions): Adapter {
  const secret = rotating(options.secret)
  const base = new URL(options.baseUrl)
  const timeoutMs = options.timeoutMs ?? DEFAULT_CALLBACK_TIMEOUT_MS
  const takeStockTimeoutMs = options.takeStockTimeoutMs ?? DEFAULT_TAKE_STOCK_TIMEOUT_MS
  const retries = options.retries ?? DEFAULT_CALLBACK_RETRIES
  const backoffMs = options.backoffMs ?? DEFAULT_BACKOFF_MS
  const now = options.now ?? Date.now
  const log = options.logger
  // Strictly increasing timestamps: two identical bodies in one millisecond would otherwise carry
  // the same signature and the second would be refused as a replay.
  let lastTimestampMs = 0

  async function attempt<S extends z.ZodType>(path: string, raw: string, reply: S, signingSecret: string): Promise<z.infer<S>> {
    const attemptTimeoutMs = path === CALLBACK_PATHS.takeStock ? takeStockTimeoutMs : timeoutMs
    // Sign the request target exactly as sent, as the node's ingress does (a base URL may carry a prefix).
    const url = new URL(`${base.pathname.replace(/\/$/, '')}${path}`, base)
    const target = `${url.pathname}${url.search}`
    const timestampMs = Math.max(now(), lastTimestampMs + 1)
    lastTimestampMs = timestampMs
    let status: number
    let text: string
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          [ADAPTER_TIMESTAMP_HEADER]: String(timestampMs),
          [ADAPTER_SIGNATURE_HEADER]: adapterSignature(signingSecret, timestampMs, 'POST', target, raw),
        },
        body: raw,
        signal: AbortSignal.timeout(attemptTimeoutMs),
      })
      status = response.status
      const capped = await readCapped(response, MAX_CALLBACK_REPLY_BYTES)
      if (capped === null) throw new CallbackError(path, status, `reply: larger than ${MAX_CALLBACK_REPLY_BYTES} bytes`, false)
      text = capped
    } catch (error) {
      throw transportError(path, error)
    }
    if (status < 200 || status > 299) throw statusError(path, status, text)
    let json: unknown
    try {
      json = JSON.parse(text)
    } catch {
      throw new CallbackError(path, status, 'reply: not JSON', false)
    }
    const parsed = reply.safeParse(json)
    if (!parsed.success) throw new CallbackError(path, status, `reply: ${formatZodError(parsed.error)}`, false)
    return parsed.data
  }

  /** One attempt signed with the current secret, and once more with the previous one if the shop answers 401 during a rotation's grace. */
  async function attemptSigned<S extends z.ZodType>(path: string, raw: string, reply: S): Promise<z.infer<S>> {
    try {
      return await attempt(path, raw, reply, secret.current())
    } catch (error) {
      const previous = secret.previous(now())
      if (!(error instanceof CallbackError) || error.status !== 401 || previous === null) throw error
      log.warn(
        { path },
        'shop refused the new callback secret; signing with the previous one while its grace runs (restart the adapter with the new adapter.json)',
      )
      return attempt(path, raw, reply, previous)
    }
  }

  async function call<S extends z.ZodType>(path: string, body: unknown, reply: S, policy: RetryPolicy): Promise<z.infer<S>> {
    const raw = JSON.stringify(body)
    for (let attemptNo = 0; ; attemptNo++) {
      try {
        const result = await attemptSigned(path, raw, reply)
        log.debug({ path, attempt: attemptNo + 1 }, 'shop callback answered')
        return result
      } catch (caught) {
        const error = caught instanceof CallbackError ? caught : transportError(path, caught)
        const retryable = policy === 'idempotent' ? transient(error) : error.notSent
        if (!retryable || attemptNo >= retries) throw error
        const delayMs = Math.min(backoffMs * 2 ** attemptNo, MAX_BACKOFF_MS)
        log.warn({ path, attempt: attemptNo + 1, status: error.status, delayMs, err: error.message }, 'shop callback failed; retrying')
        await sleep(delayMs)
      }
    }
  }

  /** Validates what we send too, so a bug here is an error naming the field, not a confused shop. */
  function body<S extends z.ZodType>(schema: S, value: unknown, what: string): z.infer<S> {
    const parsed = schema.safeParse(value)
    if (!parsed.success) throw new Error(`${what}: ${formatZodError(parsed.error)}`)
    return parsed.data
  }

  return {
    async setFenced(fenced: boolean): Promise<void> {
      await call(CALLBACK_PATHS.fence, body(FenceBody, { fenced }, 'fence'), OkReply, 'idempotent')
      log.info({ fenced }, fenced ? 'shop fenced: it stops delivering escrowed orders' : 'shop unfenced')
    },

    async takeStock(sku: string, count: number): Promise<CardKey[]> {
      const request = body(TakeStockBody, { sku, count }, 'takeStock')
      let keys: CardKey[]
      try {
        ;({ keys } = await call(CALLBACK_PATHS.takeStock, request, TakeStockReply, 'only-if-not-sent'))
      } catch (error) {
        // No reply, or a 2xx we could not read: the shop may have removed keys we never learned of.
        const refusedByShop = error instanceof CallbackError && error.status !== null && (error.status < 200 || error.status > 299)
        const neverSent = error instanceof CallbackError && error.notSent
        if (!refusedByShop && !neverSent) {
          log.error(
            { sku, count, err: error instanceof Error ? error.message : String(error) },
            'take-stock outcome unknown: keys may have left the shop; reconcile before taking again',
          )
        }
        throw error
      }
      // The shop answered, so these keys have left its stock; a reply we cannot use is logged by
      // key id (never the key itself) so the operator can put them back.
      const problem =
        keys.length > count
          ? `reply: keys: ${keys.length} keys for a request of ${count}`
          : new Set(keys.map((k) => k.keyId)).size !== keys.length
            ? 'reply: keys: key ids must be distinct'
            : null
      if (problem !== null) {
        log.error({ sku, count, keyIds: keys.map((k) => k.keyId) }, `take-stock reply refused (${problem}); these keys left the shop`)
        throw new CallbackError(CALLBACK_PATHS.takeStock, 200, problem, false)
      }
      log.info({ sku, requested: count, taken: keys.length }, 'keys taken from shop stock')
      return keys
    },

    async returnStock(sku: string, keys: readonly CardKey[]): Promise<void> {
      await call(CALLBACK_PATHS.returnStock, body(ReturnStockBody, { sku, keys }, 'returnStock'), OkReply, 'idempotent')
      log.info({ sku, returned: keys.length }, 'keys returned to shop stock')
    },

    async writeBack(delivery: PartnerDelivery): Promise<void> {
      await call(CALLBACK_PATHS.writeBack, body(WriteBackBody, { deliveries: [delivery] }, 'writeBack'), OkReply, 'idempotent')
      log.info({ order: delivery.order, fulfiller: delivery.fulfiller }, 'partner delivery written back to the shop')
    },
  }
}

/** For nodes without a callback URL: nothing can be fenced, taken or written back in the shop. */
export function createNullAdapter(logger: Logger): Adapter {
  const missing = (what: string) => new Error(`no adapter callback configured: cannot ${what}; set the shop's callback URL to let the node reach the shop`)
  return {
    async setFenced(fenced: boolean): Promise<void> {
      logger.warn({ fenced }, 'no adapter callback configured: the shop was not told to fence; stop its deliveries by hand')
    },
    async takeStock(): Promise<CardKey[]> {
      throw missing('take keys out of the shop stock')
    },
    async returnStock(sku: string, keys: readonly CardKey[]): Promise<void> {
      // Throwing keeps the keys with the caller; logging and dropping them would lose stock.
      logger.error({ sku, keyIds: keys.map((k) => k.keyId) }, 'no adapter callback configured: keys not returned')
      throw missing('return keys to the shop stock')
    },
    async writeBack(delivery: PartnerDelivery): Promise<void> {
      logger.warn(
        { order: delivery.order, fulfiller: delivery.fulfiller, keyIds: delivery.keys.map((k) => k.keyId) },
        'no adapter callback configured: partner delivery not written back; record it in the shop by hand',
      )
    },
  }
}
