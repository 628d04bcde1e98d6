// A FAKE Standin node for the adapter tests: a plain node:http server that speaks only the
// /v1/adapter/* routes the shop calls, checks their HMAC with the same scheme, validates bodies with
// the protocol schemas, records every call and answers with the protocol reply schemas. It keeps
// orders in memory with the real node's intake rules (node/core/escrow.ts), because adapters rely
// on them: an identical resubmission is a duplicate, the same id with other content is refused with
// 409 and nothing is written, a tombstone for an order never escrowed comes back as `unknown`, a
// repeated tombstone changes nothing. It is not durable and replicates nothing; the real node's
// ingress is tested in test/http and test/integration. Here we need to see what the shop sends.
import { createServer, type IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { z } from 'zod'
import { CallbackReplayGuard, verifyCallback } from '../../adapters/generic/callback-server.js'
import { type AdapterOrder, CancelledBody, canonicalJson, DeliveredBody, HealthBody, SubmitOrdersBody } from '../../protocol/index.js'

export type FakeNodeCall =
  | { readonly path: '/v1/adapter/orders'; readonly body: SubmitOrdersBody; readonly at: number }
  | { readonly path: '/v1/adapter/orders/delivered'; readonly body: DeliveredBody; readonly at: number }
  | { readonly path: '/v1/adapter/orders/cancelled'; readonly body: z.infer<typeof CancelledBody>; readonly at: number }
  | { readonly path: '/v1/adapter/health'; readonly body: HealthBody; readonly at: number }

const SCHEMAS = {
  '/v1/adapter/orders': SubmitOrdersBody,
  '/v1/adapter/orders/delivered': DeliveredBody,
  '/v1/adapter/orders/cancelled': CancelledBody,
  '/v1/adapter/health': HealthBody,
} as const

export interface FakeNode {
  readonly url: string
  /** Every authenticated, valid call, in arrival order; `at` is a global sequence number. */
  readonly calls: FakeNodeCall[]
  /** Requests refused (bad MAC, bad body), with the reason. */
  readonly refused: string[]
  /** Until the returned function is called, escrow replies are held back (the orders are "being synced"). */
  holdEscrow(): () => void
  /** Answer every call with this status (null: answer normally). */
  failWith: number | null
  /** Sequence number of the reply to the submit that carried `order`, or undefined. */
  escrowAckedAt(order: string): number | undefined
  /** What the node holds of each order: the first accepted content and its state. */
  readonly escrow: ReadonlyMap<string, { order: AdapterOrder; state: 'escrowed' | 'delivered' | 'cancelled' }>
  /** Orders resubmitted with identical content (the node's `duplicates` count, summed). */
  readonly duplicateSubmissions: string[]
  stop(): Promise<void>
}

async function readAll(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const chunk of request as AsyncIterable<Buffer>) chunks.push(chunk)
  return Buffer.concat(chunks)
}

export async function startFakeNode(secret: string): Promise<FakeNode> {
  const calls: FakeNodeCall[] = []
  const refused: string[] = []
  const acked = new Map<string, number>()
  const escrow = new Map<string, { order: AdapterOrder; state: 'escrowed' | 'delivered' | 'cancelled' }>()
  const duplicateSubmissions: string[] = []
  // The fake's callers sign with their own (test) clocks: no restart to guard against here.
  const guard = new CallbackReplayGuard(0)
  let sequence = 0
  let seq = 0
  let gate: Promise<void> | null = null

  const server = createServer((request, response) => {
    void (async () => {
      const raw = await readAll(request)
      const path = request.url ?? ''
      const reply = (status: number, body: unknown) => {
        response.writeHead(status, { 'content-type': 'application/json' })
        response.end(JSON.stringify(body))
      }
      const verdict = verifyCallback(secret, {
        method: request.method ?? '',
        path,
        headers: request.headers,
        rawBody: raw,
        nowMs: Date.now(),
        replayGuard: guard,
      })
      if (!verdict.ok) {
        refused.push(`${path}: ${verdict.message}`)
        return reply(verdict.status, { error: verdict.error, message: verdict.message })
      }
      if (fake.failWith !== null) return reply(fake.failWith, { error: 'unavailable', message: 'fake node told to fail' })
      const schema = SCHEMAS[path as keyof typeof SCHEMAS]
      const parsed = schema?.safeParse(JSON.parse(raw.toString('utf8')))
      if (parsed === undefined || !parsed.success) {
        refused.push(`${path}: invalid body`)
        return reply(400, { error: 'invalid', message: `${path}: invalid body` })
      }
      calls.push({ path, body: parsed.data, at: ++sequence } as FakeNodeCall)
      if (path === '/v1/adapter/orders') {
        const orders = (parsed.data as SubmitOrdersBody).orders
        const conflicts = orders.filter((o) => escrow.has(o.order) && canonicalJson(escrow.get(o.order)?.order) !== canonicalJson(o))
        if (conflicts.length > 0)
          return reply(409, { error: 'conflict', message: `orders: ${conflicts.map((o) => o.order).join(', ')} already escrowed with other content` })
        const fresh = orders.filter((o) => !escrow.has(o.order))
        for (const o of orders) if (escrow.has(o.order)) duplicateSubmissions.push(o.order)
        for (const o of fresh) escrow.set(o.order, { order: o, state: 'escrowed' })
        if (gate !== null) await gate
        const at = ++sequence
        for (const { order } of orders) acked.set(order, at)
        return reply(200, { accepted: fresh.length, duplicates: orders.length - fresh.length, seq: fresh.length > 0 ? ++seq : 0, unserved: [] })
      }
      if (path === '/v1/adapter/health') return reply(200, { ok: true })
      const state = path === '/v1/adapter/orders/delivered' ? 'delivered' : 'cancelled'
      const orders = (parsed.data as DeliveredBody).orders
      const unknown = orders.filter((o) => !escrow.has(o.order)).map((o) => o.order)
      const changed = orders.filter((o) => escrow.get(o.order)?.state === 'escrowed')
      for (const { order } of changed) escrow.set(order, { ...(escrow.get(order) as { order: AdapterOrder }), state })
      return reply(200, { updated: changed.length, unknown, seq: changed.length > 0 ? ++seq : 0 })
    })().catch((error: unknown) => {
      response.writeHead(500)
      response.end(String(error))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))

  const fake: FakeNode = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    calls,
    refused,
    failWith: null,
    holdEscrow() {
      let release!: () => void
      gate = new Promise((resolve) => (release = resolve))
      return () => {
        gate = null
        release()
      }
    },
    escrowAckedAt: (order) => acked.get(order),
    escrow,
    duplicateSubmissions,
    async stop() {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
  return fake
}
