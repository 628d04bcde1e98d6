// Serves any implementation of the engine's Adapter port over the generic callback API, so a stock
// Standin node configured with `--callback-url` drives it (the node side is node/shop/callback-adapter.ts).
// Every request is verified with verifyCallback before its body is parsed; refusals from the port
// (AdapterError) become their HTTP status, anything else a 500 that changes nothing we know of.
//
//   POST /standin/fence           FenceBody        → { ok: true }
//   POST /standin/stock/take      TakeStockBody    → TakeStockReply
//   POST /standin/stock/return    ReturnStockBody  → { ok: true }
//   POST /standin/deliveries      WriteBackBody    → { ok: true }
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { CALLBACK_PATHS, FenceBody, ReturnStockBody, TakeStockBody, WriteBackBody } from '../../protocol/index.js'
import { type Adapter, AdapterError, type Logger } from '../contract.js'
import { CallbackReplayGuard, checkCallbackHeaders, verifyCallback } from './callback-server.js'
import { parseBody, readBody, sendError, sendJson, ShopError } from './shop-http.js'

/** Largest callback body: a return of 5,000 keys of up to 1 KiB each, with JSON overhead. */
export const MAX_HOSTED_CALLBACK_BYTES = 8 * 1024 * 1024
/** Slowest request we wait for, first header byte to last body byte. */
const REQUEST_TIMEOUT_MS = 30_000

export interface CallbackHostOptions {
  readonly adapter: Adapter
  /** adapter.json `callbackSecret`: the node signs its callbacks with it. */
  readonly secret: string
  readonly logger: Logger
  /** 127.0.0.1 unless the node runs on another machine (then put TLS in front). */
  readonly host?: string
  readonly port?: number
  readonly now?: () => number
}

export interface CallbackHost {
  /** The callback base URL to give the node (`standin init --callback-url`). */
  readonly url: string
  stop(): Promise<void>
}

const PATHS = new Set<string>(Object.values(CALLBACK_PATHS))

export async function startCallbackHost(options: CallbackHostOptions): Promise<CallbackHost> {
  if (options.secret.length === 0) throw new Error('callback secret must not be empty')
  const { adapter, logger } = options
  const now = options.now ?? Date.now
  const replayGuard = new CallbackReplayGuard(now())

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const path = request.url ?? '/'
    const method = request.method ?? 'GET'
    if (!PATHS.has(path)) throw new ShopError(404, 'not_found', `${method} ${path}: no such route`)
    if (method !== 'POST') throw new ShopError(405, 'method_not_allowed', `${method} ${path}: use POST`)
    const head = checkCallbackHeaders(request.headers, now())
    if (!head.ok) return sendError(response, new ShopError(head.status, head.error, head.message), true)
    const raw = await readBody(request, MAX_HOSTED_CALLBACK_BYTES)
    if (raw === null) return sendError(response, new ShopError(413, 'too_large', `body: larger than ${MAX_HOSTED_CALLBACK_BYTES} bytes`), true)
    const verdict = verifyCallback(options.secret, { method, path, headers: request.headers, rawBody: raw, nowMs: now(), replayGuard })
    if (!verdict.ok) return sendError(response, new ShopError(verdict.status, verdict.error, verdict.message))
    switch (path) {
      case CALLBACK_PATHS.fence:
        await adapter.setFenced(parseBody(raw, FenceBody).fenced)
        return sendJson(response, 200, { ok: true })
      case CALLBACK_PATHS.takeStock: {
        const body = parseBody(raw, TakeStockBody)
        let callerLeft = false
        response.once('close', () => (callerLeft = !response.writableFinished))
        const keys = await adapter.takeStock(body.sku, body.count)
        if (callerLeft) {
          // The node stopped waiting (its take-stock timeout) and can never learn these keys, so
          // they go back on sale rather than out of the shop to nobody.
          await adapter.returnStock(body.sku, keys)
          logger.warn({ sku: body.sku, returned: keys.length }, 'take-stock: the node left before the keys were ready; put them back on sale')
          return
        }
        return sendJson(response, 200, { keys })
      }
      case CALLBACK_PATHS.returnStock: {
        const body = parseBody(raw, ReturnStockBody)
        await adapter.returnStock(body.sku, body.keys)
        return sendJson(response, 200, { ok: true })
      }
      default:
        // One at a time, in order: each write-back is idempotent, so a retry after a failure in
        // the middle repeats the ones already applied harmlessly.
        for (const delivery of parseBody(raw, WriteBackBody).deliveries) await adapter.writeBack(delivery)
        return sendJson(response, 200, { ok: true })
    }
  }

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      let refusal: ShopError
      if (error instanceof ShopError) refusal = error
      else if (error instanceof AdapterError) refusal = new ShopError(error.status, error.code, error.message)
      else {
        logger.error({ path: request.url, err: error instanceof Error ? error.message : String(error) }, 'adapter callback failed')
        refusal = new ShopError(500, 'internal', 'internal error; see the adapter log')
      }
      if (!response.headersSent) sendError(response, refusal)
      else response.destroy()
    })
  })
  server.requestTimeout = REQUEST_TIMEOUT_MS
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve())
  })
  const address = server.address() as AddressInfo
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address
  const url = `http://${host}:${address.port}`
  logger.info({ url }, 'adapter callbacks listening')
  return {
    url,
    async stop() {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
