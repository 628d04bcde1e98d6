// The admin API's terms routes (D64) on real data directories: list, propose (bad input named, a
// refusal by the rules as 422, nothing written), sign a partner's proposal, and the operator guard.
import pino from 'pino'
import { afterAll, describe, expect, it } from 'vitest'
import { buildHttpServer } from '../../node/http/index.js'
import { propose } from '../../node/cli/federation-commands.js'
import { TermsService } from '../../node/terms/service.js'
import { FakeApi } from './fake-api.js'
import { SECRET, TOKEN } from './helpers.js'
import { federation, NOW } from '../cli/terms-fixture.js'

describe('admin terms routes', async () => {
  const { A, B } = federation()
  const service = new TermsService(B.dir)
  const app = await buildHttpServer({
    api: new FakeApi(),
    adapterSecret: SECRET,
    adminToken: TOKEN,
    logger: pino({ level: 'silent' }),
    terms: service.operations(() => NOW),
  })
  afterAll(() => app.close())
  const admin = (method: 'GET' | 'POST', url: string, payload?: unknown) =>
    app.inject({
      method,
      url,
      remoteAddress: '127.0.0.1',
      headers: { authorization: `Bearer ${TOKEN}` },
      ...(payload === undefined ? {} : { payload: payload as object }),
    })

  it('lists every revision with its parties, signatures and skus', async () => {
    const reply = await admin('GET', '/v1/admin/terms')
    expect(reply.statusCode).toBe(200)
    const [first] = reply.json<{
      agreements: { revision: number; state: string; parties: { name: string; signed: boolean }[]; skus: { sku: string; shopName: string }[] }[]
    }>().agreements
    expect(first).toMatchObject({ revision: 1, state: 'in-force', skus: [{ sku: 'steam-50', shopName: 'Shop C' }] })
    expect(first?.parties.every((p) => p.signed)).toBe(true)
  })

  it('refuses bad input naming the field, and a change the rules forbid as 422; nothing is written', async () => {
    const before = service.list(NOW).agreements.length
    const bad = await admin('POST', '/v1/admin/terms/propose', { addSkus: ['steam-9=9.999'] })
    expect(bad.statusCode).toBe(400)
    expect(bad.body).toMatch(/addSkus\.0/)
    const refused = await admin('POST', '/v1/admin/terms/propose', { removeSkus: ['steam-50'] })
    expect(refused.statusCode).toBe(422)
    expect(refused.json()).toMatchObject({ error: 'refused', message: expect.stringMatching(/do not cover it/) })
    const nothing = await admin('POST', '/v1/admin/terms/accept', {})
    expect(nothing.statusCode).toBe(422)
    expect(nothing.json()).toMatchObject({ message: expect.stringMatching(/no terms are waiting for our signature/) })
    expect(service.list(NOW).agreements.length).toBe(before)
  })

  it("proposes a revision, and signs the one a partner's node brought", async () => {
    const ours = await admin('POST', '/v1/admin/terms/propose', { addSkus: ['steam-100=100.00'], cap: 50 })
    expect(ours.statusCode).toBe(200)
    expect(ours.json()).toMatchObject({
      missing: expect.arrayContaining([A.book.me]),
      next: expect.stringMatching(/waiting for Shop A, Shop C|waiting for Shop C, Shop A/),
    })
    // A's own proposal reaches B's node (as the exchange would store it); B's operator signs it here.
    const fromA = propose({ dir: A.path, addSku: ['steam-30=30.00'], removeSku: [] })
    expect(B.book.receive(A.book.me, A.book.find(fromA.hash, NOW).agreement, NOW).kind).toBe('merged')
    const signed = await admin('POST', '/v1/admin/terms/accept', { hash: fromA.hash.slice(0, 12) })
    expect(signed.statusCode).toBe(200)
    expect(signed.json<{ missing: string[] }>().missing).toHaveLength(1)
  })

  it('is behind the operator guard', async () => {
    const remote = await app.inject({ method: 'GET', url: '/v1/admin/terms', remoteAddress: '203.0.113.9', headers: { authorization: `Bearer ${TOKEN}` } })
    expect(remote.statusCode).toBe(403)
    const noToken = await app.inject({ method: 'GET', url: '/v1/admin/terms', remoteAddress: '127.0.0.1' })
    expect(noToken.statusCode).toBe(401)
  })
})
