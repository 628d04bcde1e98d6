// A small simulated card shop, run as a library by the demo and the integration tests (each in its
// own process). It sells keys from in-memory stock, escrows every paid order at its Standin node
// before delivering it, reports platform health, and serves the generic adapter's callbacks
// (fence, take/return stock, write-back) verified with verifyCallback.
//
// HTTP (127.0.0.1 only):
//   POST /buy {sku, qty?, email, locale?}   a paid order (201), escrowed before it is delivered
//   POST /platform {platform: 'up'|'down'}   simulate an outage of the delivery pipeline
//   GET  /state                              stock, orders by status, duplicates, fence, platform
//   GET  /orders/<id>                        one order, as the buyer would see it
//   POST /orders/<id>/deliver                the operator delivers a paid order by hand (409 while fenced)
//   POST /orders/<id>/cancel {reason?}        the operator cancels (refunds) a paid order
//   POST CALLBACK_PATHS.*                    node → shop callbacks, HMAC-verified
//
// "Platform down" stops the shop's own deliveries (orders stay paid: stranded) while checkout,
// escrow and the callback endpoints keep working: the outage the product exists for is a broken
// delivery pipeline, and the node must still be able to fence the shop and write back to it.
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { z } from 'zod'
import type { Logger } from '../../adapters/contract.js'
import { CALLBACK_PATHS, Currency, FenceBody, Id, LIMITS, Locale, ReturnStockBody, TakeStockBody, WriteBackBody } from '../../protocol/index.js'
import { CallbackReplayGuard, verifyCallback } from '../../adapters/generic/callback-server.js'
import { AdapterClient } from '../../adapters/generic/client.js'
import { type BuyInput, type CoreSnapshot, ShopCore, type SimOrder } from './core.js'
import { parseBody, parseInput, readBody, sendError, sendJson, ShopError } from '../../adapters/generic/shop-http.js'
import { type KeyStatus, MAX_KEYS_PER_SKU, ShopStock, type SkuCounts } from './stock.js'

/** Largest /buy or /platform body. */
export const MAX_CONTROL_BODY_BYTES = 16 * 1024
/** Largest callback body: a return of 5,000 keys of up to 1 KiB each, with JSON overhead. */
export const MAX_CALLBACK_BODY_BYTES = 8 * 1024 * 1024
/** SKUs one simulated shop sells. */
export const MAX_SIM_SKUS = 100
/** Longest simulated delivery delay. */
export const MAX_DELIVER_DELAY_MS = 60 * 60 * 1000
/** How long the shop waits for its node before recording the call as failed. */
export const NODE_TIMEOUT_MS = 10_000
/** Slowest client the server waits for, header to last body byte. */
const REQUEST_TIMEOUT_MS = 30_000
/** Default wait in idle(). */
const IDLE_TIMEOUT_MS = 30_000

const SkuOption = z.strictObject({
  sku: Id,
  // Small enough that price × the largest quantity is still a valid amount.
  priceMinorUnits: z
    .number()
    .int()
    .min(0)
    .max(Math.floor(LIMITS.maxMinorUnits / LIMITS.maxOrderQty)),
  currency: Currency,
  keys: z.number().int().min(0).max(MAX_KEYS_PER_SKU),
})

const OptionsSchema = z.strictObject({
  name: z.string().min(1).max(100),
  port: z.number().int().min(0).max(65_535).default(0),
  node: z.strictObject({ baseUrl: z.string().url(), secret: z.string().min(1) }),
  callbackSecret: z.string().min(1),
  skus: z
    .array(SkuOption)
    .min(1)
    .max(MAX_SIM_SKUS)
    .refine((skus) => new Set(skus.map((s) => s.sku)).size === skus.length, 'sku ids must be distinct'),
  deliverDelayMs: z.number().int().min(0).max(MAX_DELIVER_DELAY_MS).default(0),
  /**
   * Health is reported again this often (adapters/README.md: "a restarted node learns it"). A node
   * restarted while taken over waits for `up` before it hands back; a shop that reported only on
   * change left it fenced until the platform changed.
   */
  healthRepeatMs: z.number().int().min(100).max(3_600_000).default(60_000),
  /** The simulated shop's database: a JSON file saved after every change and loaded at start. */
  stateFile: z.string().min(1).optional(),
})

export type ShopSimulatorOptions = z.input<typeof OptionsSchema> & {
  /** Structured logger (pino fits); silent when absent. */
  readonly logger?: Logger
}

const BuyBody = z.strictObject({
  sku: Id,
  qty: z.number().int().min(1).max(LIMITS.maxOrderQty).default(1),
  email: z.string().max(254).email().nullable(),
  locale: Locale.default('en'),
})
export type BuyRequest = z.input<typeof BuyBody>

const PlatformBody = z.strictObject({ platform: z.enum(['up', 'down']) })
const CancelBody = z.strictObject({ reason: z.string().min(1).max(LIMITS.maxTextChars).default('cancelled by the shop') })

/** What the buyer and tests see of an order (a copy: changing it changes nothing in the shop). */
export type SimOrderView = Readonly<SimOrder>

export interface ShopState {
  name: string
  platform: 'up' | 'down'
  fenced: boolean
  health: { reported: 'up' | 'down' | null; error: string | null }
  stock: Record<string, SkuCounts>
  orders: { total: number; paid: number; delivered: number; 'delivered-by-partner': number; cancelled: number; escrowed: number; escrowFailed: number }
  duplicates: { count: number; orders: string[] }
  writeBacks: { applied: number; repeated: number; unknownOrders: number; keyConflicts: number }
  pendingTombstones: number
}

export interface ShopSimulator {
  readonly name: string
  /** http://127.0.0.1:<port>: the callback base URL to give the node, and the control API. */
  readonly url: string
  readonly fenced: boolean
  readonly platform: 'up' | 'down'
  buy(request: BuyRequest): Promise<SimOrderView>
  setPlatform(platform: 'up' | 'down'): Promise<{ platform: 'up' | 'down'; reported: boolean; error: string | null }>
  state(): ShopState
  order(id: string): SimOrderView | undefined
  orders(): SimOrderView[]
  /** The operator delivers a paid order by hand now; refused (409) while fenced. */
  deliverNow(id: string): SimOrderView
  /** The operator cancels (refunds) a paid order; the node gets a `cancelled` tombstone. */
  cancel(id: string, reason: string): SimOrderView
  /** Key ids in a status, e.g. 'sold' or 'consigned' (for invariant checks). */
  keyIds(status: KeyStatus): string[]
  /** Resolves once no delivery is scheduled and no node call is in flight. */
  idle(timeoutMs?: number): Promise<void>
  stop(): Promise<void>
}

const SILENT: Logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined }

const view = (order: SimOrder): SimOrderView => structuredClone(order)

function snapshot(core: ShopCore, name: string): ShopState {
  const orders = { total: core.orders.size, paid: 0, delivered: 0, 'delivered-by-partner': 0, cancelled: 0, escrowed: 0, escrowFailed: 0 }
  for (const order of core.orders.values()) {
    orders[order.status]++
    if (order.escrow === 'escrowed') orders.escrowed++
    else if (order.escrow === 'failed') orders.escrowFailed++
  }
  return {
    name,
    platform: core.platform,
    fenced: core.fenced,
    health: { ...core.health },
    stock: core.stockCounts(),
    orders,
    duplicates: { count: core.duplicates.count, orders: [...core.duplicates.orders] },
    writeBacks: { ...core.writeBacks },
    pendingTombstones: core.pendingTombstoneCount,
  }
}

/** Write-then-rename with fsync, so a SIGKILL leaves the old or the new state, never half. */
function saveState(path: string, snapshot: CoreSnapshot): void {
  const tmp = `${path}.tmp`
  const fd = openSync(tmp, 'w')
  try {
    writeSync(fd, JSON.stringify(snapshot))
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
  renameSync(tmp, path)
}

export async function startShopSimulator(options: ShopSimulatorOptions): Promise<ShopSimulator> {
  const { logger = SILENT, ...rest } = options
  const config = parseInput(OptionsSchema, rest, 'options')
  const stock = new ShopStock(config.skus)
  const node = new AdapterClient({ baseUrl: config.node.baseUrl, secret: config.node.secret, timeoutMs: NODE_TIMEOUT_MS })
  const save = config.stateFile ? () => saveState(config.stateFile as string, core.snapshot()) : undefined
  const core = new ShopCore({ name: config.name, stock, skus: config.skus, node, deliverDelayMs: config.deliverDelayMs, logger, now: Date.now, onChange: save })
  if (config.stateFile && existsSync(config.stateFile)) core.restore(JSON.parse(readFileSync(config.stateFile, 'utf8')) as CoreSnapshot)
  const replayGuard = new CallbackReplayGuard(Date.now())

  const buy = async (request: BuyRequest): Promise<SimOrderView> => {
    const input: BuyInput = parseInput(BuyBody, request, 'body')
    return view(await core.buy(input))
  }

  /** Verifies before parsing: an unauthenticated body is never interpreted. */
  async function callback(request: IncomingMessage, response: ServerResponse, path: string): Promise<void> {
    const raw = await readBody(request, MAX_CALLBACK_BODY_BYTES)
    if (raw === null) return sendError(response, new ShopError(413, 'too_large', `body: larger than ${MAX_CALLBACK_BODY_BYTES} bytes`), true)
    const verdict = verifyCallback(config.callbackSecret, {
      method: request.method ?? '',
      path,
      headers: request.headers,
      rawBody: raw,
      nowMs: Date.now(),
      replayGuard,
    })
    if (!verdict.ok) return sendError(response, new ShopError(verdict.status, verdict.error, verdict.message))
    switch (path) {
      case CALLBACK_PATHS.fence:
        core.setFenced(parseBody(raw, FenceBody).fenced)
        return sendJson(response, 200, { ok: true })
      case CALLBACK_PATHS.takeStock: {
        const body = parseBody(raw, TakeStockBody)
        return sendJson(response, 200, { keys: core.takeStock(body.sku, body.count) })
      }
      case CALLBACK_PATHS.returnStock: {
        const body = parseBody(raw, ReturnStockBody)
        core.returnStock(body.sku, body.keys)
        return sendJson(response, 200, { ok: true })
      }
      default:
        for (const delivery of parseBody(raw, WriteBackBody).deliveries) core.writeBack(delivery)
        return sendJson(response, 200, { ok: true })
    }
  }

  async function route(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const path = request.url ?? '/'
    const method = request.method ?? 'GET'
    if ((Object.values(CALLBACK_PATHS) as string[]).includes(path)) {
      if (method !== 'POST') throw new ShopError(405, 'method_not_allowed', `${method} ${path}: use POST`)
      return callback(request, response, path)
    }
    if (method === 'GET' && path === '/state') return sendJson(response, 200, snapshot(core, config.name))
    const action = /^\/orders\/([^/]+)\/(deliver|cancel)$/.exec(path)
    if (method === 'POST' && action !== null) {
      const id = decodeURIComponent(action[1] as string)
      const raw = await readBody(request, MAX_CONTROL_BODY_BYTES)
      if (raw === null) return sendError(response, new ShopError(413, 'too_large', `body: larger than ${MAX_CONTROL_BODY_BYTES} bytes`), true)
      if (action[2] === 'deliver') return sendJson(response, 200, view(core.deliverNow(id)))
      return sendJson(response, 200, view(core.cancel(id, parseBody(raw.length === 0 ? Buffer.from('{}') : raw, CancelBody).reason)))
    }
    if (method === 'GET' && path.startsWith('/orders/')) {
      const order = core.orders.get(decodeURIComponent(path.slice('/orders/'.length)))
      if (order === undefined) throw new ShopError(404, 'not_found', 'order: no such order')
      return sendJson(response, 200, view(order))
    }
    if (method === 'POST' && (path === '/buy' || path === '/platform')) {
      const raw = await readBody(request, MAX_CONTROL_BODY_BYTES)
      if (raw === null) return sendError(response, new ShopError(413, 'too_large', `body: larger than ${MAX_CONTROL_BODY_BYTES} bytes`), true)
      if (path === '/buy') return sendJson(response, 201, view(await core.buy(parseBody(raw, BuyBody))))
      return sendJson(response, 200, await core.setPlatform(parseBody(raw, PlatformBody).platform))
    }
    throw new ShopError(404, 'not_found', `${method} ${path}: no such route`)
  }

  const server = createServer((request, response) => {
    route(request, response).catch((error: unknown) => {
      const refusal = error instanceof ShopError ? error : new ShopError(500, 'internal', 'internal error')
      if (!(error instanceof ShopError)) logger.error({ err: String(error) }, 'shop simulator request failed')
      if (!response.headersSent) sendError(response, refusal)
      else response.destroy()
    })
  })
  server.requestTimeout = REQUEST_TIMEOUT_MS
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(config.port, '127.0.0.1', () => resolve())
  })
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  logger.info({ shop: config.name, url }, 'shop simulator listening')
  // A real adapter reports health at start and then on an interval; failure is recorded in the state, not fatal.
  await core.reportHealth()
  const healthTimer = setInterval(() => {
    core.reportHealth().catch((error: unknown) => logger.warn({ err: String(error) }, 'health report failed'))
  }, config.healthRepeatMs)
  healthTimer.unref()

  return {
    name: config.name,
    url,
    get fenced() {
      return core.fenced
    },
    get platform() {
      return core.platform
    },
    buy,
    setPlatform: (platform) => core.setPlatform(parseInput(PlatformBody, { platform }, 'platform').platform),
    state: () => snapshot(core, config.name),
    order: (id) => {
      const order = core.orders.get(id)
      return order === undefined ? undefined : view(order)
    },
    orders: () => [...core.orders.values()].map(view),
    deliverNow: (id) => view(core.deliverNow(id)),
    cancel: (id, reason) => view(core.cancel(id, parseInput(CancelBody, { reason }, 'cancel').reason)),
    keyIds: (status) => stock.keyIds(status),
    idle: (timeoutMs = IDLE_TIMEOUT_MS) => core.idle(timeoutMs),
    async stop() {
      clearInterval(healthTimer)
      core.stop()
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
