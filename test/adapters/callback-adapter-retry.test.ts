// How the callback adapter treats a misbehaving shop: scripted stub servers on 127.0.0.1 answer
// with errors, bad replies or nothing at all. Idempotent callbacks retry; take-stock does not,
// unless the request provably never reached the shop.
import { afterEach, describe, expect, it } from 'vitest'
import { CallbackError, createCallbackAdapter, createNullAdapter } from '../../node/shop/callback-adapter.js'
import { CALLBACK_PATHS } from '../../protocol/index.js'
import { bob } from '../protocol/fixtures.js'
import { CALLBACK_SECRET, closedPort, recordingLogger, type Stub, stubShop } from './helpers.js'

const OK = { status: 200, body: '{"ok":true}' }
const UNAVAILABLE = { status: 503, body: '{"error":"unavailable","message":"try later"}' }
let stub: Stub | null = null
afterEach(async () => {
  await stub?.stop()
  stub = null
})

const adapterFor = (url: string, logger = recordingLogger(), timeoutMs = 2_000) =>
  createCallbackAdapter({ baseUrl: url, secret: CALLBACK_SECRET, logger, retries: 3, backoffMs: 1, timeoutMs, takeStockTimeoutMs: timeoutMs })

describe('idempotent callbacks retry', () => {
  it('fence: 503 twice, then ok → succeeds on the third attempt, each attempt freshly signed', async () => {
    stub = await stubShop((n) => (n <= 2 ? UNAVAILABLE : OK))
    const logger = recordingLogger()
    await adapterFor(stub.url, logger).setFenced(true)
    expect(stub.requests.map((r) => r.path)).toEqual([CALLBACK_PATHS.fence, CALLBACK_PATHS.fence, CALLBACK_PATHS.fence])
    expect(logger.lines.filter((l) => l.message.includes('retrying'))).toHaveLength(2)
  })

  it('write-back gives up after the retries, with the last error', async () => {
    stub = await stubShop(() => UNAVAILABLE)
    const delivery = {
      order: 'o-1',
      sku: 'steam-50',
      keys: [{ keyId: 'k-1', key: 'STEAM-AAAA-BBBB-CCCC' }],
      fulfiller: bob.identity.id,
      fulfillerName: 'Shop B',
      epoch: 2,
      deliveredAt: 1_790_000_000_000,
      channel: 'email' as const,
    }
    await expect(adapterFor(stub.url).writeBack(delivery)).rejects.toThrow(/503: unavailable: try later/)
    expect(stub.requests).toHaveLength(4)
    expect(JSON.parse(stub.requests[0]!.body)).toEqual({ deliveries: [delivery] })
  })

  it('a 400 is not retried', async () => {
    stub = await stubShop(() => ({ status: 400, body: '{"error":"invalid","message":"body.fenced: bad"}' }))
    await expect(adapterFor(stub.url).setFenced(true)).rejects.toMatchObject({ status: 400 })
    expect(stub.requests).toHaveLength(1)
  })
})

describe('take-stock is never retried blindly', () => {
  it('a 503 is not retried: the shop may have moved the keys', async () => {
    stub = await stubShop(() => UNAVAILABLE)
    await expect(adapterFor(stub.url).takeStock('steam-50', 5)).rejects.toMatchObject({ status: 503 })
    expect(stub.requests).toHaveLength(1)
  })

  it('a timeout is not retried, and is logged as an unknown outcome to reconcile', async () => {
    stub = await stubShop(() => 'hang')
    const logger = recordingLogger()
    const error = await adapterFor(stub.url, logger, 100)
      .takeStock('steam-50', 5)
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(CallbackError)
    expect((error as CallbackError).message).toMatch(/timed out/)
    expect(stub.requests).toHaveLength(1)
    expect(logger.lines.some((l) => l.level === 'error' && l.message.startsWith('take-stock outcome unknown'))).toBe(true)
  })

  it('connection refused is retried: the request never reached the shop', async () => {
    const port = await closedPort()
    const logger = recordingLogger()
    const error = await adapterFor(`http://127.0.0.1:${port}`, logger)
      .takeStock('steam-50', 5)
      .catch((e: unknown) => e)
    expect(error).toMatchObject({ status: null, notSent: true })
    expect((error as Error).message).toMatch(/not sent \(ECONNREFUSED\)/)
    expect(logger.lines.filter((l) => l.message.includes('retrying'))).toHaveLength(3)
  })
})

describe('replies are parsed with the protocol schemas', () => {
  it('a reply failing TakeStockReply names the field', async () => {
    stub = await stubShop(() => ({ status: 200, body: '{"keys":[{"keyId":"k 1","key":"x"}]}' }))
    await expect(adapterFor(stub.url).takeStock('steam-50', 1)).rejects.toThrow(/reply: keys\.0\.keyId: /)
  })

  it('more keys than asked for is refused, and the key ids are logged for reconciliation', async () => {
    const keys = [1, 2, 3].map((n) => ({ keyId: `k-${n}`, key: `STEAM-${n}` }))
    stub = await stubShop(() => ({ status: 200, body: JSON.stringify({ keys }) }))
    const logger = recordingLogger()
    await expect(adapterFor(stub.url, logger).takeStock('steam-50', 2)).rejects.toThrow(/reply: keys: 3 keys for a request of 2/)
    const line = logger.lines.find((l) => l.level === 'error')
    expect(line?.fields.keyIds).toEqual(['k-1', 'k-2', 'k-3'])
    expect(JSON.stringify(logger.lines)).not.toContain('STEAM-1') // key ids only, never the keys
  })

  it('duplicate key ids are refused', async () => {
    const keys = [
      { keyId: 'k-1', key: 'A' },
      { keyId: 'k-1', key: 'B' },
    ]
    stub = await stubShop(() => ({ status: 200, body: JSON.stringify({ keys }) }))
    await expect(adapterFor(stub.url).takeStock('steam-50', 2)).rejects.toThrow(/key ids must be distinct/)
  })

  it('a non-JSON reply and an OkReply with extra fields are errors', async () => {
    stub = await stubShop((n) => (n === 1 ? { status: 200, body: 'yes' } : { status: 200, body: '{"ok":true,"extra":1}' }))
    const adapter = adapterFor(stub.url)
    await expect(adapter.setFenced(true)).rejects.toThrow(/reply: not JSON/)
    await expect(adapter.setFenced(true)).rejects.toThrow(/reply: .*extra/)
  })

  it('what we send is validated too: a bad request never leaves the node', async () => {
    stub = await stubShop(() => OK)
    await expect(adapterFor(stub.url).takeStock('steam-50', 0)).rejects.toThrow(/^takeStock: count: /)
    expect(stub.requests).toHaveLength(0)
  })

  it('signs the full request target when the base URL has a path prefix', async () => {
    stub = await stubShop(() => OK)
    await adapterFor(`${stub.url}/shop-api/`).setFenced(false)
    expect(stub.requests[0]?.path).toBe(`/shop-api${CALLBACK_PATHS.fence}`)
  })
})

describe('null adapter (no callback URL)', () => {
  it('logs fences and write-backs; refuses to take or return stock', async () => {
    const logger = recordingLogger()
    const adapter = createNullAdapter(logger)
    await adapter.setFenced(true)
    await expect(adapter.takeStock('steam-50', 1)).rejects.toThrow(/^no adapter callback configured/)
    await expect(adapter.returnStock('steam-50', [{ keyId: 'k-1', key: 'x' }])).rejects.toThrow(/^no adapter callback configured/)
    await adapter.writeBack({
      order: 'o-1',
      sku: 'steam-50',
      keys: [{ keyId: 'k-1', key: 'x' }],
      fulfiller: bob.identity.id,
      fulfillerName: 'Shop B',
      epoch: 2,
      deliveredAt: 1,
      channel: 'email',
    })
    expect(logger.lines.map((l) => l.level)).toEqual(['warn', 'error', 'warn'])
  })
})
