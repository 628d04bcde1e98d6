// Shared pieces of the adapter tests: a recording logger, a hand-signed request, a scripted stub
// shop for the callback adapter's retry and reply checks, and a simulator wired to a fake node.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { startShopSimulator, type ShopSimulator, type ShopSimulatorOptions } from '../../examples/shop-simulator/simulator.js'
import type { Logger } from '../../node/core/ports.js'
import { ADAPTER_SIGNATURE_HEADER, ADAPTER_TIMESTAMP_HEADER, adapterSignature } from '../../protocol/index.js'
import type { Adapter } from '../../adapters/contract.js'
import { startCallbackHost } from '../../adapters/generic/callback-host.js'
import { createCallbackAdapter } from '../../node/shop/callback-adapter.js'
import { type FakeNode, startFakeNode } from './fake-node.js'

export const NODE_SECRET = 'node-adapter-secret-for-tests-0123456789'
export const CALLBACK_SECRET = 'shop-callback-secret-for-tests-0123456789'

export interface LogLine {
  level: 'debug' | 'info' | 'warn' | 'error'
  fields: Record<string, unknown>
  message: string
}

export function recordingLogger(): Logger & { lines: LogLine[] } {
  const lines: LogLine[] = []
  const at = (level: LogLine['level']) => (fields: Record<string, unknown>, message: string) => void lines.push({ level, fields, message })
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') }
}

export interface SignedPost {
  path: string
  body: unknown
  secret?: string
  timestampMs?: number
  /** Replace the signature with this value. */
  signature?: string
  omit?: 'timestamp' | 'signature'
}

/** A request signed by hand, as the node would sign it, so tests can break one part at a time. */
export function signed(request: SignedPost): { body: string; headers: Record<string, string> } {
  const body = JSON.stringify(request.body)
  const timestampMs = request.timestampMs ?? Date.now()
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    [ADAPTER_TIMESTAMP_HEADER]: String(timestampMs),
    [ADAPTER_SIGNATURE_HEADER]: request.signature ?? adapterSignature(request.secret ?? CALLBACK_SECRET, timestampMs, 'POST', request.path, body),
  }
  if (request.omit === 'timestamp') delete headers[ADAPTER_TIMESTAMP_HEADER]
  if (request.omit === 'signature') delete headers[ADAPTER_SIGNATURE_HEADER]
  return { body, headers }
}

export async function postSigned(baseUrl: string, request: SignedPost): Promise<{ status: number; json: Record<string, unknown> }> {
  const { body, headers } = signed(request)
  return send(baseUrl, request.path, body, headers)
}

export async function send(baseUrl: string, path: string, body: string, headers: Record<string, string>) {
  const response = await fetch(`${baseUrl}${path}`, { method: 'POST', body, headers })
  return { status: response.status, json: (await response.json()) as Record<string, unknown> }
}

export interface Rig {
  node: FakeNode
  shop: ShopSimulator
  stop(): Promise<void>
}

/** A simulator pointed at a fresh fake node. */
export async function rig(overrides: Partial<ShopSimulatorOptions> = {}): Promise<Rig> {
  const node = await startFakeNode(NODE_SECRET)
  const shop = await startShopSimulator({
    name: 'Shop A',
    port: 0,
    node: { baseUrl: node.url, secret: NODE_SECRET },
    callbackSecret: CALLBACK_SECRET,
    skus: [{ sku: 'steam-50', priceMinorUnits: 5_000, currency: 'CNY', keys: 50 }],
    deliverDelayMs: 5,
    ...overrides,
  })
  return {
    node,
    shop,
    async stop() {
      await shop.stop()
      await node.stop()
    },
  }
}

export interface Stub {
  readonly url: string
  readonly requests: { path: string; body: string }[]
  stop(): Promise<void>
}

/** A scripted shop: answers request n with script(n); 'hang' never answers. */
export async function stubShop(script: (n: number, request: IncomingMessage) => { status: number; body: string } | 'hang'): Promise<Stub> {
  const requests: Stub['requests'] = []
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', () => {
      requests.push({ path: request.url ?? '', body: Buffer.concat(chunks).toString('utf8') })
      const answer = script(requests.length, request)
      if (answer === 'hang') return
      response.writeHead(answer.status, { 'content-type': 'application/json' })
      response.end(answer.body)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    async stop() {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

/** A port nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

/**
 * The port as a conformance rig drives it: in-process, or (`overHttp`) as a stock node reaches it,
 * through the node's callback adapter and the shop's callback host.
 */
export async function portFor(adapter: Adapter, overHttp: boolean, logger: Logger): Promise<{ adapter: Adapter; stop: () => Promise<void> }> {
  if (!overHttp) return { adapter, stop: async () => undefined }
  const host = await startCallbackHost({ adapter, secret: NODE_SECRET, logger })
  return { adapter: createCallbackAdapter({ baseUrl: host.url, secret: NODE_SECRET, logger, retries: 0 }), stop: () => host.stop() }
}
