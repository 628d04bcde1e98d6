// Rotating a shop's box key while orders flow (issue 21, D93), real processes: B rotates the key
// partners seal escrow and consignments to. B's node hands its new card to A and C at once; what
// A escrows and consigns from then on is sealed to the new key and B opens it; the keys A
// consigned under the old key still open at B (it keeps the old secret), and when A's shop dies B
// and C deliver its stranded orders with old and new keys alike, each key once.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { boxKeyPairFromSecret, fromBase64url, toBase64url } from '../../protocol/index.js'
import type { DrillResultView, EscrowOrderView } from '../../node/core/api-schemas.js'
import { cliAsync, waitFor } from './cluster.js'
import {
  allot,
  buyAtA,
  ESCROW_TIMEOUT_MS,
  type Federation,
  keysToOrders,
  mails,
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

const boxKeyIn = (dir: string) =>
  toBase64url(boxKeyPairFromSecret(fromBase64url((JSON.parse(readFileSync(join(dir, 'secrets.json'), 'utf8')) as { boxSecret: string }).boxSecret)).publicKey)
const cardBoxKey = (dir: string, id: string) => (JSON.parse(readFileSync(join(dir, 'cards', `${id}.json`), 'utf8')) as { body: { boxKey: string } }).body.boxKey

/** A's orders as B holds them in escrow: B could open each one's sealed record (the buyer is there). */
async function openedAtB(federation: Federation): Promise<Map<string, string | null | undefined>> {
  const a = federation.cluster.node('A').id
  const { orders } = await federation.cluster.admin<{ orders: EscrowOrderView[] }>('B', `/v1/admin/escrow/${a}/orders?limit=1000`)
  return new Map(orders.map((o) => [o.order, o.buyer.email]))
}

/** A fire drill run by A's node with one partner (POST /v1/admin/drills). */
async function drillOf(federation: Federation, partner: string): Promise<DrillResultView> {
  const node = federation.cluster.node('A')
  const response = await fetch(`${node.baseUrl}/v1/admin/drills`, {
    method: 'POST',
    headers: { authorization: `Bearer ${node.adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ partner }),
  })
  expect(response.status).toBe(200)
  return (await response.json()) as DrillResultView
}

describe('box key rotation', () => {
  it('B rotates its box key while A escrows and consigns: sealed to the new key from then on, old consignments still open, every stranded order delivered once', async () => {
    f = await startFederation()
    const a = f.cluster.node('A')
    const b = f.cluster.node('B')
    await allot(f, 'A', 'B', 4)
    await allot(f, 'A', 'C', 4)
    const before = await buyAtA(f, ['before-0@example.com', 'before-1@example.com'])
    const oldKey = boxKeyIn(b.dir)

    const out = await cliAsync(['secrets', 'rotate', 'box', '-d', b.dir])
    expect(out).toMatch(/our card re-signed with the new box key/)
    expect(out).toMatch(/the running node took it/)
    const newKey = boxKeyIn(b.dir)
    expect(newKey).not.toBe(oldKey)
    expect(cardBoxKey(b.dir, b.id)).toBe(newKey)
    // A takes B's new card at once (no operator at A does anything).
    await waitFor('A holds B new card', () => (cardBoxKey(a.dir, b.id) === newKey ? true : undefined), ESCROW_TIMEOUT_MS, 200)
    await waitFor('C holds B new card', () => (cardBoxKey(f!.cluster.node('C').dir, b.id) === newKey ? true : undefined), ESCROW_TIMEOUT_MS, 200)

    // Orders escrowed and keys consigned after the rotation: sealed to the new key, opened by B.
    const after = await buyAtA(f, ['after-0@example.com', 'after-1@example.com'])
    await allot(f, 'A', 'B', 4)
    await waitFor('B opened every order of A', async () => {
      const opened = await openedAtB(f as Federation)
      return [...before, ...after].every((o) => opened.get(o)?.endsWith('@example.com')) ? true : undefined
    })
    // A's fire drill: B proves it holds and can read all 8 keys, 4 sealed to each of its box keys.
    const drill = await drillOf(f, b.id)
    expect(drill.ok).toBe(true)
    expect(drill.partners[0]?.skus[0]).toMatchObject({ expected: 8, held: 8, proofOk: true })

    // Rotated again while B's node is stopped: A goes on sealing to the key it knows, which B has
    // just rotated out; B opens those entries with the old secret when it is back, and hands A
    // its newest card as it connects.
    await f.cluster.kill('B', 'SIGTERM')
    expect(await cliAsync(['secrets', 'rotate', 'box', '-d', b.dir])).toMatch(/the node is not running: it takes it when it starts/)
    const newest = boxKeyIn(b.dir)
    const whileDown = await buyAtA(f, ['while-down-0@example.com', 'while-down-1@example.com'], false)
    await f.cluster.start('B')
    await waitFor('A holds B newest card', () => (cardBoxKey(a.dir, b.id) === newest ? true : undefined), ESCROW_TIMEOUT_MS, 200)
    await waitFor('B opened the orders sealed to its rotated-out key', async () => {
      const opened = await openedAtB(f as Federation)
      return whileDown.every((o) => opened.get(o)?.endsWith('@example.com')) ? true : undefined
    })

    // A's shop dies: B and C deliver every stranded order, with keys consigned under both B keys.
    const more = await buyAtA(
      f,
      Array.from({ length: 4 }, (_, i) => `stranded-${i}@example.com`),
    )
    const stranded = [...before, ...after, ...whileDown, ...more]
    await f.cluster.kill('A', 'SIGKILL')
    await shop(f, 'A').setPlatform('down')
    await waitFor(`${stranded.length} buyer mails`, () => (f && f.sink.received.length >= stranded.length) || undefined, STRANDED_TIMEOUT_MS)
    const received = mails(f, stranded)
    expect(new Set(received.map((m) => m.order))).toEqual(new Set(stranded))
    for (const [key, to] of keysToOrders(received)) expect(to.size, `key ${key} went to ${[...to].join(', ')}`).toBe(1)
    expect(b.output).not.toMatch(/does not open|cannot-open/)
  }, 300_000)
})
