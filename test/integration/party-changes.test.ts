// Changing the federation while orders flow (issue 21), real processes, through the CLI.
// Revoking a compromised party (D94): A's operator signs a revocation of C; alone it changes
// nothing but alerts B. B's operator signs too: that is the quorum, and both running nodes drop C
// at once, without a restart by hand. Removing a party (D95): A proposes terms without C, which
// first recalls what C holds and issues a final statement; once B signed, both nodes run the new
// terms without a restart, and C's node stands down, its shop unfenced (D98). Either way, from then
// on A seals nothing to C and C's node learns nothing more of A; when A's platform dies, B delivers
// every stranded order once and C none.
import { afterEach, describe, expect, it } from 'vitest'
import type { HoldingView } from '../../node/core/api-schemas.js'
import { cliAsync, waitFor } from './cluster.js'
import {
  allot,
  buyAtA,
  ESCROW_TIMEOUT_MS,
  type Federation,
  incidents,
  keysToOrders,
  mails,
  partnersOf,
  selfOf,
  shop,
  startFederation,
  STRANDED_TIMEOUT_MS,
  stopFederation,
} from './federation-env.js'

let f: Federation | undefined
afterEach(async () => {
  await stopFederation(f)
  f = undefined
})

const partnerIds = async (federation: Federation, name: string) => (await partnersOf(federation, name)).map((p) => p.id)
/** A's orders C's node holds in escrow. */
async function heldAtC(federation: Federation): Promise<string[]> {
  const a = federation.cluster.node('A').id
  const { orders } = await federation.cluster.admin<{ orders: { order: string }[] }>('C', `/v1/admin/escrow/${a}/orders?limit=1000`)
  return orders.map((o) => o.order)
}

/**
 * A's shop platform dies, its node alive: A's signed takeover request is the authority (with C
 * gone, A has one partner left, below the quorum of 2: no certificate can form, as between two
 * parties). B delivers every stranded order, each key once; C none, and still holds `atC` keys.
 */
async function strandedDeliveredByB(federation: Federation, stranded: readonly string[], atC: number, cServes = true): Promise<void> {
  const b = federation.cluster.node('B')
  const c = federation.cluster.node('C')
  await shop(federation, 'A').setPlatform('down')
  await waitFor(`${stranded.length} buyer mails`, () => federation.sink.received.length >= stranded.length || undefined, STRANDED_TIMEOUT_MS)
  const received = mails(federation, stranded)
  expect(new Set(received.map((m) => m.order))).toEqual(new Set(stranded))
  for (const [key, to] of keysToOrders(received)) expect(to.size, `key ${key} went to ${[...to].join(', ')}`).toBe(1)
  // At A, which took every receipt: B delivered them all, none of the keys at C was used.
  const { holdings } = await federation.cluster.admin<{ holdings: HoldingView[] }>('A', '/v1/admin/allotments')
  expect(holdings.find((h) => h.holder === c.id)).toMatchObject({ delivered: 0, held: atC })
  expect(holdings.find((h) => h.holder === b.id)?.delivered).toBe(stranded.length)
  // A removed C's node serves nothing (D98); a revoked C's keeps its reports.
  if (cServes) for (const report of await incidents(federation, 'C')) expect(report.fulfillers).toEqual({})
}

const nodesOf = (federation: Federation) => ({ a: federation.cluster.node('A'), b: federation.cluster.node('B'), c: federation.cluster.node('C') })

/** A's and B's running nodes have dropped C (no restart by hand). */
async function bothRunWithoutC(federation: Federation): Promise<void> {
  const c = federation.cluster.node('C').id
  for (const name of ['A', 'B'])
    await waitFor(`${name} runs without C`, async () => (!(await partnerIds(federation, name)).includes(c) ? true : undefined), ESCROW_TIMEOUT_MS, 200)
}

/** A consigns 6 keys to B and 4 to C, and sells two orders every partner acknowledges. */
async function setUp(federation: Federation): Promise<string[]> {
  await allot(federation, 'A', 'B', 6)
  await allot(federation, 'A', 'C', 4)
  return buyAtA(federation, ['before-0@example.com', 'before-1@example.com'])
}

describe('changing the federation', () => {
  it('A and B revoke C while A sells: in force at both once both signed, C sealed out and never delivers', async () => {
    f = await startFederation()
    const { a, b, c } = nodesOf(f)
    const before = await setUp(f)
    await waitFor('C holds the orders escrowed before', async () => ((await heldAtC(f as Federation)).length === 2 ? true : undefined), ESCROW_TIMEOUT_MS)

    // A alone: its word, and an alert for the others.
    const first = await cliAsync(['partner', 'revoke', 'Shop C', '--reason', 'key stolen', '-d', a.dir])
    expect(first).toMatch(/1 of the 2 parties needed/)
    await waitFor('B sees A revocation', async () => ((await selfOf(f as Federation, 'B')).revocations.length === 1 ? true : undefined), ESCROW_TIMEOUT_MS, 200)
    expect(await partnerIds(f, 'A')).toContain(c.id)
    expect((await selfOf(f, 'B')).revocations[0]).toMatchObject({ partner: c.id, inForce: false, needed: 2 })

    // Orders keep flowing meanwhile; then B signs: the quorum.
    const during = await buyAtA(f, ['during-0@example.com'])
    const second = await cliAsync(['partner', 'revoke', c.id, '--reason', 'agreed with A', '-d', b.dir])
    expect(second).toMatch(/IN FORCE/)
    await bothRunWithoutC(f)
    const status = await selfOf(f, 'A')
    expect(status.revocations).toEqual([expect.objectContaining({ partner: c.id, inForce: true, keysHeld: 4 })])

    // After: A's orders reach B only.
    const after = await buyAtA(f, ['after-0@example.com', 'after-1@example.com'])
    const atC = await heldAtC(f)
    for (const order of after) expect(atC).not.toContain(order)

    await strandedDeliveredByB(f, [...before, ...during, ...after], 4)
  }, 300_000)

  it('A and B remove C by a terms revision while A sells: C releases its keys first, then both run without it', async () => {
    f = await startFederation()
    const { a, b, c } = nodesOf(f)
    const before = await setUp(f)

    // A proposes terms without C: C's allotment recalled while C is still a party.
    const token = await cliAsync(['terms', 'propose', '--remove-party', 'Shop C', '-d', a.dir])
    await waitFor(
      'C released its keys',
      async () => {
        const { holdings } = await f!.cluster.admin<{ holdings: HoldingView[] }>('A', '/v1/admin/allotments')
        return holdings.find((h) => h.holder === c.id)?.returned === 4 ? true : undefined
      },
      ESCROW_TIMEOUT_MS,
      200,
    )
    const during = await buyAtA(f, ['during-0@example.com'])
    expect(await partnerIds(f, 'A')).toContain(c.id)

    // B signs: the revision is in force at both running nodes, with C left out.
    await cliAsync(['terms', 'accept', token, '-d', b.dir])
    await bothRunWithoutC(f)
    expect((await selfOf(f, 'A')).terms.revision).toBe(2)
    // C's node hears of it and stands down (D98): its shop is unfenced for good, not left fenced
    // for want of leases, and the node says why it serves nothing.
    await waitFor('C stands down', () => (/removed from the federation/.test(c.output) ? true : undefined), ESCROW_TIMEOUT_MS, 200)
    await waitFor('C unfenced', () => (shop(f as Federation, 'C').fenced === false ? true : undefined), ESCROW_TIMEOUT_MS, 200)
    await expect(selfOf(f, 'C')).rejects.toThrow(/removed from the federation/)

    const after = await buyAtA(f, ['after-0@example.com', 'after-1@example.com'])
    await strandedDeliveredByB(f, [...before, ...during, ...after], 0, false)
  }, 300_000)
})
