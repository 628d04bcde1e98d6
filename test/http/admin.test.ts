// The admin API: bearer token or nothing, then the engine's data in the reply schemas.
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { fromThisMachine } from '../../node/http/operator-guard.js'
import { bob, mallory } from '../protocol/fixtures.js'
import { FakeApi } from './fake-api.js'
import { errorOf, harness, type Harness, TOKEN } from './helpers.js'

let h: Harness
beforeEach(async () => {
  h = await harness()
})
afterEach(async () => {
  await h.app.close()
})

const get = (url: string, authorization: string | null = `Bearer ${TOKEN}`) =>
  h.app.inject({ method: 'GET', url, headers: authorization === null ? {} : { authorization } })

describe('admin authentication', () => {
  it.each([
    ['no header', null, /^authorization: missing/],
    ['wrong token', 'Bearer not-the-admin-token-at-all', /^authorization: wrong admin token$/],
    ['token prefix only', `Bearer ${TOKEN.slice(0, -1)}`, /wrong admin token/],
    ['another scheme', `Basic ${Buffer.from(`admin:${TOKEN}`).toString('base64')}`, /^authorization: missing/],
    ['lowercase scheme and no token', 'bearer ', /^authorization: missing/],
  ])('%s → 401 and the engine is not asked', async (_label, authorization, message) => {
    const response = await get('/v1/admin/identity', authorization)
    expect(response.statusCode).toBe(401)
    expect(response.headers['www-authenticate']).toMatch(/^Bearer/)
    const body = errorOf(response)
    expect(body.error).toBe('unauthorized')
    expect(body.message).toMatch(message)
    expect(h.api.calls).toEqual([])
  })

  it('a client on another host → 403 before the token is looked at', async () => {
    const response = await h.app.inject({ method: 'GET', url: '/v1/admin/identity', headers: { authorization: `Bearer ${TOKEN}` }, remoteAddress: '192.0.2.9' })
    expect(response.statusCode).toBe(403)
    expect(errorOf(response).message).toMatch(/loopback clients only/)
    expect(h.api.calls).toEqual([])
  })

  it('this machine is loopback, or our own address dialled from itself (a node bound to a LAN address)', () => {
    expect(fromThisMachine({ remoteAddress: '127.0.0.1', localAddress: '127.0.0.1' })).toBe(true)
    expect(fromThisMachine({ remoteAddress: '::ffff:127.0.0.2', localAddress: '::ffff:127.0.0.1' })).toBe(true)
    expect(fromThisMachine({ remoteAddress: '192.0.2.2', localAddress: '192.0.2.2' })).toBe(true)
    expect(fromThisMachine({ remoteAddress: '192.0.2.9', localAddress: '192.0.2.2' })).toBe(false)
    expect(fromThisMachine({ remoteAddress: undefined, localAddress: undefined })).toBe(false)
  })

  it('the adapter secret is not an admin token, and admin routes ignore HMAC headers', async () => {
    const response = await get('/v1/admin/partners', 'Bearer adapter-secret-for-tests-0123456789')
    expect(response.statusCode).toBe(401)
  })
})

describe('admin data', () => {
  it('GET /v1/admin/identity', async () => {
    const response = await get('/v1/admin/identity')
    expect(response.statusCode).toBe(200)
    expect(response.json()).toEqual(FakeApi.identityReply)
  })

  it('GET /v1/admin/self', async () => {
    expect((await get('/v1/admin/self')).json()).toEqual(FakeApi.self)
  })

  it("POST /v1/admin/platform: the operator's word reaches the engine; anything but up/down is a 400 naming the field", async () => {
    const post = (body: unknown, authorization = `Bearer ${TOKEN}`) =>
      h.app.inject({ method: 'POST', url: '/v1/admin/platform', headers: { authorization }, payload: body as object })
    const ok = await post({ platform: 'down' })
    expect(ok.statusCode).toBe(200)
    expect(ok.json()).toEqual({ platform: FakeApi.self.platform, fenced: FakeApi.self.fenced, takenOver: true })
    expect(h.api.calls.filter((c) => c.method === 'operatorReportsPlatform').map((c) => c.args)).toEqual([['down']])
    for (const body of [{ platform: 'unknown' }, { platform: 'down', extra: 1 }, {}]) {
      const refused = await post(body)
      expect(refused.statusCode).toBe(400)
      expect(errorOf(refused).message).toMatch(/platform|extra|unrecognized/i)
    }
    expect((await post({ platform: 'up' }, 'Bearer wrong-token-wrong-token')).statusCode).toBe(401)
    expect(h.api.calls.filter((c) => c.method === 'operatorReportsPlatform')).toHaveLength(1)
  })

  it('POST /v1/admin/drills runs a drill with one partner or all; an unknown partner or extra field is refused before the engine', async () => {
    const post = (body: unknown) =>
      h.app.inject({ method: 'POST', url: '/v1/admin/drills', headers: { authorization: `Bearer ${TOKEN}` }, payload: body as object })
    const all = await post({})
    expect(all.statusCode).toBe(200)
    expect(all.json()).toEqual(h.api.onDrill({}))
    const one = await post({ partner: FakeApi.partner.id, sku: 'steam-50' })
    expect(one.statusCode).toBe(200)
    const stranger = await post({ partner: mallory.identity.id })
    expect(stranger.statusCode).toBe(422)
    expect(errorOf(stranger).message).toMatch(/is not a partner under the terms in force/)
    for (const body of [{ sku: '' }, { extra: 1 }]) expect((await post(body)).statusCode).toBe(400)
    expect(h.api.calls.filter((c) => c.method === 'drill').map((c) => c.args)).toEqual([[{}], [{ partner: FakeApi.partner.id, sku: 'steam-50' }]])
    expect((await get('/v1/admin/drills')).json()).toEqual({ drills: [h.api.onDrill({})] })
  })

  it('GET /v1/admin/partners', async () => {
    expect((await get('/v1/admin/partners')).json()).toEqual({ partners: [FakeApi.partner] })
  })

  it('GET /v1/admin/escrow', async () => {
    expect((await get('/v1/admin/escrow')).json()).toEqual(FakeApi.escrowReply)
  })

  it('GET /v1/admin/feeds', async () => {
    expect((await get('/v1/admin/feeds')).json()).toEqual({ feeds: [FakeApi.feed] })
  })

  it('GET /v1/admin/escrow/:origin/orders passes origin, cursor and limit (default 100)', async () => {
    const base = `/v1/admin/escrow/${bob.identity.id}/orders`
    expect((await get(base)).json()).toEqual({ orders: [], next: null })
    expect((await get(`${base}?after=order-9&limit=25`)).statusCode).toBe(200)
    expect(h.api.calls).toEqual([
      { method: 'listEscrow', args: [bob.identity.id, undefined, 100] },
      { method: 'listEscrow', args: [bob.identity.id, 'order-9', 25] },
    ])
  })

  it.each([
    ['/v1/admin/escrow/not-a-shop/orders', /^params\.origin: must be the PeerId/],
    [`/v1/admin/escrow/${bob.identity.id}/orders?limit=1001`, /^query\.limit: Too big: expected number to be <=1000/],
    [`/v1/admin/escrow/${bob.identity.id}/orders?limit=ten`, /^query\.limit: Invalid input: expected number, received NaN/],
    [`/v1/admin/escrow/${bob.identity.id}/orders?sort=desc`, /^query: Unrecognized key: "sort"/],
    ['/v1/admin/acks/wait?seq=3&timeoutMs=60001', /^query\.timeoutMs: Too big: expected number to be <=60000/],
    ['/v1/admin/acks/wait?seq=-1', /^query\.seq: Too small/],
    ['/v1/admin/acks/wait', /^query\.seq: /],
  ])('%s → 400 naming the field', async (url, message) => {
    const response = await get(url)
    expect(response.statusCode, response.body).toBe(400)
    expect(errorOf(response)).toEqual({ error: 'invalid', message: expect.stringMatching(message) })
    expect(h.api.calls).toEqual([])
  })

  it('GET /v1/admin/acks/wait waits on the engine', async () => {
    expect((await get('/v1/admin/acks/wait?seq=5&timeoutMs=60000')).json()).toEqual({ acked: true })
    h.api.ackResult = false
    expect((await get('/v1/admin/acks/wait?seq=6')).json()).toEqual({ acked: false })
    expect(h.api.calls).toEqual([
      { method: 'waitForAcks', args: [5, 60_000] },
      { method: 'waitForAcks', args: [6, 10_000] },
    ])
  })
})
