// Secrets rotated while the node runs (D91): the previous value is accepted until its grace ends,
// then refused; the callback adapter signs with the new secret and, while the grace runs, signs a
// refused callback again with the previous one. A clock the test moves stands in for time passing.
import pino from 'pino'
import { afterEach, describe, expect, it } from 'vitest'
import { acceptedSecrets, matchesSecret, SecretSlot } from '../../node/config/rotating-secret.js'
import { buildHttpServer } from '../../node/http/server.js'
import { createCallbackAdapter } from '../../node/shop/callback-adapter.js'
import { ADAPTER_SIGNATURE_HEADER, ADAPTER_TIMESTAMP_HEADER, adapterSignature } from '../../protocol/index.js'
import { CALLBACK_SECRET, recordingLogger, rig, type Rig } from '../adapters/helpers.js'
import { FakeApi } from './fake-api.js'

const OLD = 'old-secret-0123456789-0123456789-0123456789'
const NEW = 'new-secret-0123456789-0123456789-0123456789'
const GRACE_END_MS = 1_800_000_000_000

describe('SecretSlot', () => {
  it('accepts the previous value until its grace ends, and only the current one after; a replacement without grace drops it', () => {
    const slot = new SecretSlot(NEW, { value: OLD, untilMs: GRACE_END_MS })
    expect(acceptedSecrets(slot, GRACE_END_MS - 1)).toEqual([NEW, OLD])
    expect(acceptedSecrets(slot, GRACE_END_MS)).toEqual([NEW])
    expect(matchesSecret(OLD, slot, GRACE_END_MS - 1)).toBe(true)
    expect(matchesSecret(OLD, slot, GRACE_END_MS)).toBe(false)
    expect(matchesSecret('other', slot, 0)).toBe(false)
    slot.replace(OLD, null)
    expect(acceptedSecrets(slot, 0)).toEqual([OLD])
    expect(() => slot.replace('', null)).toThrow(/empty/)
  })
})

describe('the HTTP server with rotated secrets', () => {
  const apps: { close(): Promise<unknown> }[] = []
  afterEach(async () => {
    for (const app of apps.splice(0)) await app.close()
  })

  it('admin token and adapter request secret: new and previous accepted during the grace, the previous refused after', async () => {
    let now = GRACE_END_MS - 60_000
    const adminToken = new SecretSlot(NEW, { value: OLD, untilMs: GRACE_END_MS })
    const adapterSecret = new SecretSlot(NEW, { value: OLD, untilMs: GRACE_END_MS })
    const app = await buildHttpServer({ api: new FakeApi(), logger: pino({ level: 'silent' }), adminToken, adapterSecret, clock: () => now })
    apps.push(app)
    const adminWith = async (token: string) =>
      (await app.inject({ method: 'GET', url: '/v1/admin/partners', headers: { authorization: `Bearer ${token}` }, remoteAddress: '127.0.0.1' })).statusCode
    const adapterWith = async (secret: string) => {
      const body = JSON.stringify({ platform: 'up' })
      const headers = {
        'content-type': 'application/json',
        [ADAPTER_TIMESTAMP_HEADER]: String(now),
        [ADAPTER_SIGNATURE_HEADER]: adapterSignature(secret, now, 'POST', '/v1/adapter/health', body),
      }
      return (await app.inject({ method: 'POST', url: '/v1/adapter/health', headers, payload: body })).statusCode
    }
    expect(await adminWith(NEW)).toBe(200)
    expect(await adminWith(OLD)).toBe(200)
    expect(await adapterWith(NEW)).toBe(200)
    now += 1 // a fresh timestamp: the replay guard refuses a signature it accepted
    expect(await adapterWith(OLD)).toBe(200)
    now = GRACE_END_MS
    expect(await adminWith(OLD)).toBe(401)
    expect(await adapterWith(OLD)).toBe(401)
    expect(await adminWith(NEW)).toBe(200)
    expect(await adapterWith(NEW)).toBe(200)
  })
})

describe('the callback adapter with a rotated callback secret', () => {
  let r: Rig | undefined
  afterEach(async () => {
    await r?.stop()
  })

  it('an adapter that knows only the previous secret is served while the grace runs, and refused after', async () => {
    r = await rig() // the shop simulator verifies callbacks with CALLBACK_SECRET only
    let now = Date.now()
    const secret = new SecretSlot(NEW, { value: CALLBACK_SECRET, untilMs: now + 60_000 })
    const logger = recordingLogger()
    const adapter = createCallbackAdapter({ baseUrl: r.shop.url, secret, logger, backoffMs: 1, now: () => now })
    await adapter.setFenced(true)
    expect(r.shop.fenced).toBe(true)
    expect(logger.lines.some((l) => /shop refused the new callback secret/.test(l.message))).toBe(true)
    now += 60_000
    await expect(adapter.setFenced(false)).rejects.toThrow(/401/)
    expect(r.shop.fenced).toBe(true)
  })
})
