// The generic adapter's client: how shop software calls a Standin node's /v1/adapter API.
// Every request is HMAC-signed over timestamp, method, path and the exact body bytes.
import {
  ADAPTER_SIGNATURE_HEADER,
  ADAPTER_TIMESTAMP_HEADER,
  type AdapterOrder,
  adapterSignature,
  type CancelledBody,
  type DeliveredBody,
  type HealthBody,
  OkReply,
  SubmitOrdersReply,
  TombstoneReply,
} from '../../protocol/index.js'
import type { z } from 'zod'

export interface AdapterClientOptions {
  /** Base URL of the node, e.g. http://127.0.0.1:8080 */
  readonly baseUrl: string
  readonly secret: string
  readonly timeoutMs?: number
  readonly now?: () => number
}

export class AdapterRequestError extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
  ) {
    super(`standin node answered ${status}: ${body}`)
  }
}

export class AdapterClient {
  // Strictly increasing timestamps: two identical bodies sent in one millisecond (a health report
  // repeated, a retried submit) would otherwise carry one signature and the second would be a replay.
  private lastTimestampMs = 0

  constructor(private readonly options: AdapterClientOptions) {}

  private async post<S extends z.ZodType>(path: string, body: unknown, reply: S): Promise<z.infer<S>> {
    const raw = JSON.stringify(body)
    const timestamp = Math.max((this.options.now ?? Date.now)(), this.lastTimestampMs + 1)
    this.lastTimestampMs = timestamp
    const response = await fetch(`${this.options.baseUrl.replace(/\/$/, '')}${path}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        [ADAPTER_TIMESTAMP_HEADER]: String(timestamp),
        [ADAPTER_SIGNATURE_HEADER]: adapterSignature(this.options.secret, timestamp, 'POST', path, raw),
      },
      body: raw,
      signal: AbortSignal.timeout(this.options.timeoutMs ?? 30_000),
    })
    const text = await response.text()
    if (!response.ok) throw new AdapterRequestError(response.status, text)
    return reply.parse(JSON.parse(text))
  }

  /** Resolves once the orders are durable at the node (synced to its disk). */
  submitOrders(orders: readonly AdapterOrder[]) {
    return this.post('/v1/adapter/orders', { orders }, SubmitOrdersReply)
  }

  markDelivered(orders: DeliveredBody['orders']) {
    return this.post('/v1/adapter/orders/delivered', { orders }, TombstoneReply)
  }

  markCancelled(orders: CancelledBody['orders']) {
    return this.post('/v1/adapter/orders/cancelled', { orders }, TombstoneReply)
  }

  reportHealth(body: HealthBody) {
    return this.post('/v1/adapter/health', body, OkReply)
  }
}
