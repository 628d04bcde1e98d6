// callback-host.ts serves any Adapter over the generic callback API. The Adapter here is a FAKE
// (an in-memory recorder) so the HTTP side is tested alone: HMAC checked before anything runs,
// refusals mapped to statuses the node's callback adapter understands. Real adapters behind it are
// run by the conformance suites (test/containers/dujiaoka.test.ts drives dujiaoka through it).
import { request as httpRequest } from 'node:http'
import { afterEach, describe, expect, it } from 'vitest'
import { AdapterError, type Adapter, type CardKey, type PartnerDelivery } from '../../adapters/contract.js'
import { createCallbackAdapter } from '../../node/shop/callback-adapter.js'
import { type CallbackHost, startCallbackHost } from '../../adapters/generic/callback-host.js'
import { CALLBACK_PATHS } from '../../protocol/index.js'
import { PARTNER_ID } from './conformance.js'
import { CALLBACK_SECRET, postSigned, recordingLogger, send } from './helpers.js'

function recorder(): Adapter & { calls: string[]; failWith: Error | null } {
  const calls: string[] = []
  const fake = {
    calls,
    failWith: null as Error | null,
    async setFenced(fenced: boolean) {
      if (fake.failWith) throw fake.failWith
      calls.push(`fence ${fenced}`)
    },
    async takeStock(sku: string, count: number): Promise<CardKey[]> {
      if (fake.failWith) throw fake.failWith
      calls.push(`take ${sku} ${count}`)
      return [{ keyId: '1', key: 'KEY-1' }]
    },
    async returnStock(sku: string, keys: readonly CardKey[]) {
      if (fake.failWith) throw fake.failWith
      calls.push(`return ${sku} ${keys.length}`)
    },
    async writeBack(delivery: PartnerDelivery) {
      if (fake.failWith) throw fake.failWith
      calls.push(`write-back ${delivery.order}`)
    },
  }
  return fake
}

let host: CallbackHost | null = null
afterEach(async () => {
  await host?.stop()
  host = null
})

describe('startCallbackHost', () => {
  it('drives every port call from the node’s callback adapter', async () => {
    const adapter = recorder()
    host = await startCallbackHost({ adapter, secret: CALLBACK_SECRET, logger: recordingLogger() })
    const node = createCallbackAdapter({ baseUrl: host.url, secret: CALLBACK_SECRET, logger: recordingLogger(), retries: 0 })
    await node.setFenced(true)
    expect(await node.takeStock('1', 5)).toEqual([{ keyId: '1', key: 'KEY-1' }])
    await node.returnStock('1', [{ keyId: '1', key: 'KEY-1' }])
    await node.writeBack({
      order: 'O-1',
      sku: '1',
      keys: [{ keyId: '1', key: 'KEY-1' }],
      fulfiller: PARTNER_ID,
      fulfillerName: 'B',
      epoch: 2,
      deliveredAt: 1,
      channel: 'email',
    })
    expect(adapter.calls).toEqual(['fence true', 'take 1 5', 'return 1 1', 'write-back O-1'])
  })

  it('refuses an unsigned callback before reading its body (a stranger cannot make it buffer 8 MiB)', async () => {
    host = await startCallbackHost({ adapter: recorder(), secret: CALLBACK_SECRET, logger: recordingLogger() })
    const url = new URL(`${host.url}${CALLBACK_PATHS.fence}`)
    // Announces 8 MB, sends 10 bytes and never finishes: only a refusal without the body answers.
    const status = await new Promise<number>((resolve, reject) => {
      const request = httpRequest(url, { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': 8_000_000 } }, (response) => {
        response.resume()
        resolve(response.statusCode ?? 0)
      })
      request.on('error', reject)
      request.write('{"fenced":')
    })
    expect(status).toBe(401)
  })

  it('refuses an unsigned or wrongly signed callback before the adapter sees it', async () => {
    const adapter = recorder()
    host = await startCallbackHost({ adapter, secret: CALLBACK_SECRET, logger: recordingLogger() })
    const unsigned = await send(host.url, CALLBACK_PATHS.fence, JSON.stringify({ fenced: true }), { 'content-type': 'application/json' })
    expect(unsigned.status).toBe(401)
    const wrong = await postSigned(host.url, { path: CALLBACK_PATHS.takeStock, body: { sku: '1', count: 1 }, secret: 'not-the-secret-0123456789' })
    expect(wrong.status).toBe(401)
    const invalid = await postSigned(host.url, { path: CALLBACK_PATHS.takeStock, body: { sku: '1', count: 0 } })
    expect(invalid).toMatchObject({ status: 400, json: { error: 'invalid' } })
    expect(adapter.calls).toEqual([])
  })

  it.each([
    [new AdapterError('unknown_sku', 'sku: no goods 9'), 404],
    [new AdapterError('unknown_key', 'keys.0: never ours'), 400],
    [new AdapterError('key_conflict', 'keys.0: delivered'), 409],
    [new AdapterError('unavailable', 'database: ECONNREFUSED'), 503],
    [new Error('a bug'), 500],
  ])('maps %s to %d', async (error, status) => {
    const adapter = recorder()
    adapter.failWith = error
    host = await startCallbackHost({ adapter, secret: CALLBACK_SECRET, logger: recordingLogger() })
    const reply = await postSigned(host.url, { path: CALLBACK_PATHS.returnStock, body: { sku: '1', keys: [{ keyId: '1', key: 'K' }] } })
    expect(reply.status).toBe(status)
    expect(reply.json.message).toBe(status === 500 ? 'internal error; see the adapter log' : error.message)
  })

  it('answers 404 for other paths and 405 for other methods', async () => {
    host = await startCallbackHost({ adapter: recorder(), secret: CALLBACK_SECRET, logger: recordingLogger() })
    expect((await fetch(`${host.url}/elsewhere`, { method: 'POST' })).status).toBe(404)
    expect((await fetch(`${host.url}${CALLBACK_PATHS.fence}`)).status).toBe(405)
  })
})
