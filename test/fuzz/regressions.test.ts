// Inputs the fuzz suites found, kept as explicit cases.
//
// A lone UTF-16 surrogate ("\ud800", valid as a JSON escape) passed every string schema that has
// no character class (Text, Url, Multiaddr, names, payment references, card keys), but RFC 8785
// canonical JSON cannot encode it. So verifyEntry / verifyDocument threw instead of refusing, and
// an adapter's cancel reason (or an operator's payment reference or dispute note) holding one
// reached the engine, whose feed writer then threw while signing: the request never answered and
// the error escaped as an unhandled rejection, which ends a node process.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { decodeFrame, encodeFrame } from '../../node/p2p/framing.js'
import { ControlMessage, verifyDocument, verifyEntry } from '../../protocol/index.js'
import { harness, type Harness, TOKEN, sign } from '../http/helpers.js'
import { CONTROL_MESSAGES, FEED, SIGNED_DOCUMENTS } from './documents.js'
import { expectRefusal } from './http-expect.js'

const LONE = '\ud800'

describe('a lone surrogate in a signed string', () => {
  it('is a typed rejection from verifyEntry, not an exception', () => {
    const entry = FEED.entries[1]!
    const records = entry.body.records.map((r) => (r.type === 'order.cancelled' ? { ...r, reason: `refunded ${LONE}` } : r))
    const wire = JSON.parse(JSON.stringify({ ...entry, body: { ...entry.body, records } })) as unknown
    expect(verifyEntry(wire)).toMatchObject({ ok: false, error: { code: 'invalid', message: expect.stringMatching(/records\.0\.reason/) } })
  })

  it.each([
    ['takeover-request', 'reason'],
    ['shop-card', 'name'],
    ['shop-card', 'addrs'],
    ['shop-card', 'claimUrl'],
  ] as const)('is a typed rejection from verifyDocument: %s.%s', (type, field) => {
    const { doc } = SIGNED_DOCUMENTS.find((d) => d.type === type)!
    const body = doc.body as Record<string, unknown>
    const value = field === 'addrs' ? [`/ip4/127.0.0.1/tcp/4001/${LONE}`] : field === 'claimUrl' ? `https://shop-a.example/${LONE}` : `x${LONE}`
    const result = verifyDocument(type, { body: { ...body, [field]: value }, sig: doc.sig })
    expect(result).toMatchObject({ ok: false, error: { code: 'invalid', message: expect.stringContaining(field) } })
  })

  it('is refused by the control frame decoder', () => {
    const message = CONTROL_MESSAGES.find((m) => m.type === 'takeover.request')!
    if (message.type !== 'takeover.request') throw new Error('corpus has no takeover.request')
    const changed = { ...message, request: { ...message.request, body: { ...message.request.body, reason: LONE } } }
    const decoded = decodeFrame(encodeFrame(changed), ControlMessage)
    expect(decoded).toMatchObject({ ok: false, reason: expect.stringMatching(/request\.body\.reason/) })
  })
})

describe('a lone surrogate in an HTTP request that the engine would sign', () => {
  let h: Harness
  beforeAll(async () => {
    h = await harness()
  })
  afterAll(async () => {
    await h.app.close()
  })

  it('an adapter cancel reason is a 400 naming the field, and the engine is not called', async () => {
    h.clock.now += 1_000
    const { payload, headers } = sign({ path: '/v1/adapter/orders/cancelled', body: { orders: [{ order: 'o-1', reason: LONE }] }, timestamp: h.clock.now })
    const response = await h.app.inject({ method: 'POST', url: '/v1/adapter/orders/cancelled', payload, headers })
    expect(expectRefusal({ response, api: h.api, targets: [{ part: 'body', path: ['orders', '0', 'reason'] }], codes: ['invalid'] })).toBe('invalid')
  })

  it.each([
    ['/v1/admin/statements/st-2026-11-0001/pay', { reference: `bank ${LONE}` }, ['reference']],
    ['/v1/admin/statements/st-2026-11-0001/accept', { disputes: [{ receipt: 'x'.repeat(43), reason: 'duplicate', note: LONE }] }, ['disputes', '0', 'note']],
  ])('an operator request to %s is a 400 naming the field, and the engine is not called', async (url, body, path) => {
    const headers = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }
    const response = await h.app.inject({ method: 'POST', url, payload: JSON.stringify(body), headers })
    expect(expectRefusal({ response, api: h.api, targets: [{ part: 'body', path }], codes: ['invalid'] })).toBe('invalid')
  })
})
