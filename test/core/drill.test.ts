// The fire drill (issue 19 item 4, D69): before any outage, origin A asks each partner to prove it
// holds, and can read, the unused keys A consigned to it. Whole simulated federation (three
// engines, virtual time, real Ed25519). A healthy federation passes and nothing moves; a partner
// that lost its allotment (its key rows deleted from its store) fails, and so does one that names
// the right keys but cannot prove it reads them. A holder answers only the origin itself, and at
// most once per DRILL_MIN_INTERVAL_MS.
import { afterEach, describe, expect, it } from 'vitest'
import { drillProof, signDocument, type DrillReport, type DrillRequest, type Signed } from '../../protocol/index.js'
import { DRILL_MIN_INTERVAL_MS, DRILL_REPLY_TIMEOUT_MS } from '../../node/core/drill.js'
import type { DrillResultView } from '../../node/core/api-schemas.js'
import type { KeyRow } from '../../node/core/state/keys.js'
import { SIM_START_MS, SimFederation, type SimShop } from '../sim/sim-federation.js'

const FORGED_PROOF = 'A'.repeat(43)

let sim: SimFederation | undefined
afterEach(async () => {
  await sim?.close()
  sim = undefined
})

interface Set {
  readonly sim: SimFederation
  readonly a: SimShop
  readonly b: SimShop
  readonly c: SimShop
}

/** A consigns 5 keys to B and 3 to C. */
async function federation(seed: string, drillEveryMs?: number): Promise<Set> {
  const s = await SimFederation.create({ seed, shops: 3, drillEveryMs })
  sim = s
  await s.runUntil(600)
  const [a, b, c] = ['A', 'B', 'C'].map((n) => s.shop(n)) as [SimShop, SimShop, SimShop]
  await a.engine.consign(b.identity.id, 'card-100', 5)
  await a.engine.consign(c.identity.id, 'card-100', 3)
  await s.runUntil(1_500)
  return { sim: s, a, b, c }
}

/** Runs a drill on A while virtual time passes (its messages travel the simulated network). */
async function drill(set: Set, options: { partner?: string; sku?: string } = {}): Promise<DrillResultView> {
  let done: DrillResultView | null = null
  const pending = set.a.engine.drill(options).then((r) => (done = r))
  const end = set.sim.clock.now() - SIM_START_MS + DRILL_REPLY_TIMEOUT_MS + 500
  while (done === null && set.sim.clock.now() - SIM_START_MS < end) await set.sim.runUntil(set.sim.clock.now() - SIM_START_MS + 100)
  return pending
}

function skuRow(result: DrillResultView, shop: SimShop) {
  return result.partners.find((p) => p.partner === shop.identity.id)
}

async function keysOf(shop: SimShop, holder: SimShop): Promise<KeyRow[]> {
  const out: KeyRow[] = []
  for await (const [, row] of shop.store.range<KeyRow>('keys', {})) if (row.holder === holder.identity.id) out.push(row)
  return out
}

describe('standin drill', () => {
  it('passes for a healthy federation and changes nothing anywhere', async () => {
    const set = await federation('drill-healthy')
    const feeds = set.sim.shops.map((s) =>
      s.engine
        .feeds()
        .map((f) => `${f.author}:${f.seq}`)
        .join(),
    )
    const keysBefore = JSON.stringify([await keysOf(set.b, set.b), await keysOf(set.c, set.c), await keysOf(set.a, set.b)])

    const result = await drill(set)

    expect(result.ok).toBe(true)
    const limit = set.a.engine.federation.terms.limits.maxOrdersPerOutage
    expect(skuRow(result, set.b)).toMatchObject({
      ok: true,
      reason: null,
      skus: [{ sku: 'card-100', expected: 5, held: 5, proofOk: true, wouldServe: true, servesUpTo: Math.min(5, limit), ok: true, reason: null }],
    })
    expect(skuRow(result, set.c)?.skus).toEqual([
      { sku: 'card-100', expected: 3, held: 3, proofOk: true, wouldServe: true, servesUpTo: Math.min(3, limit), ok: true, reason: null },
    ])
    // Nothing delivered, written to a feed or moved; no alert event.
    expect(
      set.sim.shops.map((s) =>
        s.engine
          .feeds()
          .map((f) => `${f.author}:${f.seq}`)
          .join(),
      ),
    ).toEqual(feeds)
    expect(JSON.stringify([await keysOf(set.b, set.b), await keysOf(set.c, set.c), await keysOf(set.a, set.b)])).toBe(keysBefore)
    expect(set.sim.shops.flatMap((s) => s.mailer.sent)).toEqual([])
    expect(set.sim.events.filter((e) => e.event.kind === 'drill-failed')).toEqual([])
    expect(set.a.engine.drills().map((d) => d.id)).toEqual([result.id])
  })

  it('fails for a partner that lost its allotment, and raises drill-failed for it only', async () => {
    const set = await federation('drill-lost')
    // B loses every key A consigned to it (a wiped disk, a restore from an old backup).
    set.sim.crash('B')
    const lost = await keysOf(set.b, set.b)
    expect(lost).toHaveLength(5)
    await set.b.store.write(
      lost.map((k) => ({ type: 'del' as const, section: 'keys' as const, key: `${k.origin}!${k.keyId}` })),
      { sync: true },
    )
    await set.sim.restart('B')
    await set.sim.runUntil(set.sim.clock.now() - SIM_START_MS + 1_000)

    const result = await drill(set)

    expect(result.ok).toBe(false)
    const b = skuRow(result, set.b)
    expect(b).toMatchObject({ ok: false, skus: [{ sku: 'card-100', expected: 5, held: 0, servesUpTo: 0, ok: false }] })
    expect(b?.reason).toMatch(/holds 0 of the 5 keys we consigned/)
    expect(skuRow(result, set.c)?.ok).toBe(true)
    const failed = set.sim.events.filter((e) => e.node === 'A' && e.event.kind === 'drill-failed').map((e) => e.event)
    expect(failed).toEqual([{ kind: 'drill-failed', partner: set.b.identity.id, reason: b?.reason }])
  })

  it('fails for a partner that names the keys but cannot prove it reads them', async () => {
    const set = await federation('drill-proof')
    // B's operator answers for itself, with the right key ids and a made-up proof.
    set.sim.network.intercept = (from, to, _protocol, message) => {
      const m = message as { type: string; report?: Signed<DrillReport> }
      if (from !== set.b.identity.id || to !== set.a.identity.id || m.type !== 'drill.report' || !m.report) return true
      if (m.report.body.allotments.every((x) => x.proof === FORGED_PROOF)) return true // the forgery itself
      const forged: DrillReport = { ...m.report.body, allotments: m.report.body.allotments.map((x) => ({ ...x, proof: FORGED_PROOF })) }
      set.sim?.network.sendAs(from, to, 'control', { type: 'drill.report', report: signDocument('drill-report', forged, set.b.identity) })
      return false
    }
    const result = await drill(set, { partner: set.b.identity.id })
    expect(result.partners.map((p) => p.partner)).toEqual([set.b.identity.id])
    expect(skuRow(result, set.b)).toMatchObject({ ok: false, skus: [{ held: 0, proofOk: false, ok: false }] })
    expect(skuRow(result, set.b)?.reason).toMatch(/does not match our keys: it cannot read them/)
  })

  it('fails for a partner that names one key twice to make up for one it lost', async () => {
    const set = await federation('drill-twice')
    set.sim.network.intercept = (from, to, _protocol, message) => {
      const m = message as { type: string; report?: Signed<DrillReport> }
      if (from !== set.b.identity.id || to !== set.a.identity.id || m.type !== 'drill.report' || !m.report) return true
      const [first] = m.report.body.allotments
      if (!first || new Set(first.keyIds).size < first.keyIds.length) return true // the forgery itself
      // It lost its last key: names the first one again, with a proof that matches that list (its
      // operator reads the key texts from its own engine: test-only access, as the adversary has).
      const keyIds = [...first.keyIds.slice(0, 4), first.keyIds[0] as string]
      const held = (set.b.engine as unknown as { parts: { state: { keys: { freeOf(origin: string): KeyRow[] } } } }).parts.state.keys.freeOf(set.a.identity.id)
      const texts = keyIds.map((id) => held.find((k) => k.keyId === id) as KeyRow)
      const forged: DrillReport = { ...m.report.body, allotments: [{ ...first, keyIds, proof: drillProof(m.report.body.nonce, texts) }] }
      set.sim?.network.sendAs(from, to, 'control', { type: 'drill.report', report: signDocument('drill-report', forged, set.b.identity) })
      return false
    }
    const result = await drill(set, { partner: set.b.identity.id })
    expect(skuRow(result, set.b)).toMatchObject({ ok: false, skus: [{ expected: 5, held: 0, proofOk: false, ok: false }] })
    expect(skuRow(result, set.b)?.reason).toMatch(/names key .* more than once/)
  })

  it('is answered only to the origin itself, at most once per interval', async () => {
    const set = await federation('drill-authority')
    const reports: DrillReport[] = []
    const requests: Signed<DrillRequest>[] = []
    set.sim.network.observe = (from, _to, _protocol, message) => {
      if (message.type === 'drill.report' && from === set.b.identity.id) reports.push(message.report.body)
      if (message.type === 'drill.request' && from === set.a.identity.id) requests.push(message.request)
    }
    const first = await drill(set, { partner: set.b.identity.id })
    expect(first.ok).toBe(true)
    expect(reports).toHaveLength(1)

    // C relays A's genuine signed request to B, later: B answers only the origin that signed it.
    await set.sim.runUntil(set.sim.clock.now() - SIM_START_MS + DRILL_MIN_INTERVAL_MS)
    set.sim.network.sendAs(set.c.identity.id, set.b.identity.id, 'control', { type: 'drill.request', request: requests[0] })
    await set.sim.runUntil(set.sim.clock.now() - SIM_START_MS + 1_000)
    expect(reports).toHaveLength(1)

    // A asks again within the interval after its first drill: refused, and the drill says so.
    const again = await drill(set, { partner: set.b.identity.id })
    expect(again.ok).toBe(true) // the relayed request did not use up A's interval
    const refused = await drill(set, { partner: set.b.identity.id })
    expect(refused.ok).toBe(false)
    expect(skuRow(refused, set.b)?.reason).toMatch(/^refused: one drill per/)
    expect(reports.map((r) => r.refused === null)).toEqual([true, true, false])
  })

  it('runs on the configured schedule', async () => {
    const every = 60_000
    const set = await federation('drill-schedule', every)
    await set.sim.runUntil(2 * every + DRILL_REPLY_TIMEOUT_MS + 1_000)
    const drills = set.a.engine.drills()
    expect(drills).toHaveLength(2)
    expect(drills.every((d) => d.ok && d.partners.length === 2)).toBe(true)
  })
})
