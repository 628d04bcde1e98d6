// verifyCallback, the shop's check of node → shop callbacks: the node's own ingress checks in the
// same order (headers, clock window, MAC over method + path + exact bytes, then replay).
import { describe, expect, it } from 'vitest'
import { CallbackReplayGuard, verifyCallback } from '../../adapters/generic/callback-server.js'
import { ADAPTER_REPLAY_WINDOW_MS, ADAPTER_SIGNATURE_HEADER, ADAPTER_TIMESTAMP_HEADER, CALLBACK_PATHS } from '../../protocol/index.js'
import { CALLBACK_SECRET, signed, type SignedPost } from './helpers.js'

const NOW = 1_790_000_000_000
const PATH = CALLBACK_PATHS.fence

function check(
  request: Partial<SignedPost> = {},
  overrides: { path?: string; method?: string; rawBody?: string; guard?: CallbackReplayGuard; nowMs?: number } = {},
) {
  const { body, headers } = signed({ path: PATH, body: { fenced: true }, timestampMs: NOW, ...request })
  return verifyCallback(CALLBACK_SECRET, {
    method: overrides.method ?? 'POST',
    path: overrides.path ?? PATH,
    headers,
    rawBody: overrides.rawBody ?? body,
    nowMs: overrides.nowMs ?? NOW,
    replayGuard: overrides.guard ?? new CallbackReplayGuard(NOW - 10 * ADAPTER_REPLAY_WINDOW_MS),
  })
}

describe('verifyCallback', () => {
  it('accepts a correctly signed callback', () => {
    expect(check()).toEqual({ ok: true, timestampMs: NOW })
  })

  it('accepts headers in any letter case', () => {
    const { body, headers } = signed({ path: PATH, body: { fenced: true }, timestampMs: NOW })
    const upper = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toUpperCase(), v]))
    expect(
      verifyCallback(CALLBACK_SECRET, { method: 'POST', path: PATH, headers: upper, rawBody: body, nowMs: NOW, replayGuard: new CallbackReplayGuard(NOW) }).ok,
    ).toBe(true)
  })

  it.each([
    ['timestamp', ADAPTER_TIMESTAMP_HEADER],
    ['signature', ADAPTER_SIGNATURE_HEADER],
  ] as const)('missing %s header → 401 naming the header', (omit, header) => {
    const verdict = check({ omit })
    expect(verdict).toMatchObject({ ok: false, status: 401, error: 'unauthorized' })
    expect(!verdict.ok && verdict.message).toMatch(new RegExp(`^${header}: missing`))
  })

  it('a signature that is not 64 hex characters → 401', () => {
    expect(check({ signature: 'ABC' })).toMatchObject({ ok: false, status: 401 })
  })

  it.each([ADAPTER_REPLAY_WINDOW_MS + 1, -(ADAPTER_REPLAY_WINDOW_MS + 1)])('timestamp %d ms off the clock → 401 stale', (offset) => {
    const verdict = check({ timestampMs: NOW - offset })
    expect(verdict).toMatchObject({ ok: false, status: 401 })
    expect(!verdict.ok && verdict.message).toMatch(/^stale timestamp/)
  })

  it('at the edge of the window it is still accepted', () => {
    expect(check({ timestampMs: NOW - ADAPTER_REPLAY_WINDOW_MS }).ok).toBe(true)
  })

  it.each([
    ['another secret', { secret: 'not-the-callback-secret-0123456789' }, {}],
    ['another path', {}, { path: CALLBACK_PATHS.takeStock }],
    ['another method', {}, { method: 'PUT' }],
    ['other body bytes', {}, { rawBody: '{"fenced":false}' }],
  ] as const)('MAC over %s → 401', (_name, request, overrides) => {
    const verdict = check(request, overrides)
    expect(verdict).toMatchObject({ ok: false, status: 401 })
    expect(!verdict.ok && verdict.message).toMatch(/does not match/)
  })

  it('the same signed request twice → 409 replayed', () => {
    const guard = new CallbackReplayGuard(NOW)
    expect(check({}, { guard }).ok).toBe(true)
    expect(check({}, { guard })).toMatchObject({ ok: false, status: 409, error: 'replayed' })
  })

  it('a refused request does not occupy the replay guard', () => {
    const guard = new CallbackReplayGuard(NOW)
    check({ secret: 'not-the-callback-secret-0123456789' }, { guard })
    check({ timestampMs: 0 }, { guard })
    expect(guard.size).toBe(0)
  })

  it('a full guard fails closed (503) and forgets signatures once they are stale', () => {
    const guard = new CallbackReplayGuard(NOW, 1)
    expect(check({}, { guard }).ok).toBe(true)
    expect(check({ timestampMs: NOW + 1 }, { guard, nowMs: NOW + 1 })).toMatchObject({ ok: false, status: 503 })
    const later = NOW + ADAPTER_REPLAY_WINDOW_MS + 10
    expect(check({ timestampMs: later }, { guard, nowMs: later }).ok).toBe(true)
  })

  it('remembers as many signatures as the node does: 20,000 write-backs inside one window all pass', () => {
    // The node writes back one partner delivery per callback; after an outage thousands come at once.
    const guard = new CallbackReplayGuard(NOW)
    for (let i = 0; i < 20_000; i++) expect(guard.admit(i.toString(16).padStart(64, '0'), NOW, NOW)).toBe('fresh')
    expect(guard.size).toBe(20_000)
  })

  it('refuses to run with an empty secret', () => {
    expect(() => verifyCallback('', { method: 'POST', path: PATH, headers: {}, rawBody: '', nowMs: NOW, replayGuard: new CallbackReplayGuard(NOW) })).toThrow(
      /secret/,
    )
  })
})
