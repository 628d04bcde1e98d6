// Backup, restore and recovery with real node processes (issue 21, D92). A restored node is behind
// its own feed: its partners hold what it signed after the backup. It must learn that from them
// before it writes, take those entries back, and go on after them: no partner quarantines it, and
// no order it escrowed (and its partners acknowledged) is lost. A node whose disk is gone comes
// back from a secrets-only backup the same way, its feed and escrow from its partners.
import { renameSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import type { EscrowOrderView, EscrowReply, PartnerStatus, SelfStatus } from '../../node/core/api-schemas.js'
import { cliAsync, waitFor } from './cluster.js'
import { type Federation, shop, SKU, startFederation, stopFederation } from './federation-env.js'

let f: Federation | undefined
afterEach(async () => {
  await stopFederation(f)
  f = undefined
})

const PASSPHRASE = { STANDIN_BACKUP_PASSPHRASE: 'correct horse battery staple' }
/** A fresh order escrows, and every partner acknowledges it, within this long. */
const ESCROW_TIMEOUT_MS = 30_000
/** A restarted node confirms its feed with both partners within this long (they reconnect first). */
const REJOIN_TIMEOUT_MS = 60_000

async function buyEscrowed(federation: Federation, email: string): Promise<string> {
  const s = shop(federation, 'A')
  const { order } = await s.buy({ sku: SKU, qty: 1, email, locale: 'en' })
  await waitFor(`order ${order} escrowed`, () => (s.state().orders.escrowed >= s.state().orders.total ? true : undefined), ESCROW_TIMEOUT_MS)
  return order
}

const ownSeq = async (federation: Federation) => (await federation.cluster.admin<EscrowReply>('A', '/v1/admin/escrow')).ownSeq

async function ackedByAll(federation: Federation, seq: number): Promise<boolean> {
  const reply = await federation.cluster.admin<{ acked: boolean }>('A', `/v1/admin/acks/wait?seq=${seq}&timeoutMs=${ESCROW_TIMEOUT_MS}`)
  return reply.acked
}

async function ownOrders(federation: Federation): Promise<Map<string, string>> {
  const id = federation.cluster.node('A').id
  const { orders } = await federation.cluster.admin<{ orders: EscrowOrderView[] }>('A', `/v1/admin/escrow/${id}/orders?limit=1000`)
  return new Map(orders.map((o) => [o.order, o.state]))
}

/** What B and C say of A: connected, its head, and never quarantined. */
async function partnersOfA(federation: Federation): Promise<PartnerStatus[]> {
  const id = federation.cluster.node('A').id
  const views: PartnerStatus[] = []
  for (const name of ['B', 'C']) {
    const { partners } = await federation.cluster.admin<{ partners: PartnerStatus[] }>(name, '/v1/admin/partners')
    views.push(partners.find((p) => p.id === id) as PartnerStatus)
  }
  return views
}

async function rejoined(federation: Federation): Promise<SelfStatus['feed']> {
  return waitFor(
    'A confirmed its feed with every partner',
    async () => {
      const self = await federation.cluster.admin<SelfStatus>('A', '/v1/admin/self')
      return self.feed.rejoining === null ? self.feed : undefined
    },
    REJOIN_TIMEOUT_MS,
    200,
  )
}

/** Every order is still there; one still escrowed before may since have been delivered by a partner (a takeover while A was down). */
function expectKept(before: Map<string, string>, after: Map<string, string>): void {
  expect([...after.keys()].sort()).toEqual([...before.keys()].sort())
  for (const [order, state] of before) expect(after.get(order) === state || (state === 'escrowed' && after.get(order) === 'delivered')).toBe(true)
}

/** A new order goes after the node's head, both partners acknowledge it, and neither quarantines the node. */
async function writesOnAfterItsHead(federation: Federation): Promise<void> {
  const head = await ownSeq(federation)
  await buyEscrowed(federation, 'after-rejoin@example.com')
  const next = await ownSeq(federation)
  expect(next).toBeGreaterThan(head)
  expect(await ackedByAll(federation, next)).toBe(true)
  for (const view of await partnersOfA(federation)) {
    expect(view.quarantined).toBe(false)
    // At least that far (the node may have written more since: a handback after a takeover).
    expect(view.theirHead.seq).toBeGreaterThanOrEqual(next)
  }
}

describe('backup and restore', () => {
  it('restore after 10 more entries: the node takes them back from its partners, nobody quarantines it, nothing acknowledged is lost', async () => {
    f = await startFederation()
    const a = f.cluster.node('A')
    for (let i = 0; i < 3; i++) await buyEscrowed(f, `before-${i}@example.com`)
    const file = join(f.cluster.root, 'a.backup')
    const out = await cliAsync(['backup', file, '-d', a.dir], PASSPHRASE)
    expect(out).toMatch(/from the running node \(one snapshot\)/)
    const atBackup = await ownSeq(f)

    // Ten more entries, each acknowledged by both partners.
    for (let i = 0; i < 10; i++) await buyEscrowed(f, `after-${i}@example.com`)
    const head = await ownSeq(f)
    expect(head).toBeGreaterThanOrEqual(atBackup + 10)
    expect(await ackedByAll(f, head)).toBe(true)
    const before = await ownOrders(f)
    expect(before.size).toBe(13)

    // The disk is replaced by the backup.
    await f.cluster.kill('A', 'SIGTERM')
    renameSync(a.dir, `${a.dir}.old`)
    const restored = await cliAsync(['restore', file, '-d', a.dir], PASSPHRASE)
    expect(restored).toMatch(/restored Shop A/)
    await f.cluster.start('A')

    const feed = await rejoined(f)
    // Its head is where it was (or past it: a handback, when partners took over while it was down).
    expect(feed.seq).toBeGreaterThanOrEqual(head)
    expect(feed.confirmed).toHaveLength(2)
    expect(feed.rebuilt).toBeGreaterThanOrEqual(10)
    expect(feed.notRebuilt).toEqual({})
    expectKept(before, await ownOrders(f))
    await writesOnAfterItsHead(f)
    expect(a.output).not.toMatch(/fork/)
  }, 300_000)

  it('a lost disk: recovered from a secrets-only backup, the feed and escrow come back from the partners', async () => {
    f = await startFederation()
    const a = f.cluster.node('A')
    const file = join(f.cluster.root, 'a-secrets.backup')
    const passphraseFile = join(f.cluster.root, 'passphrase')
    writeFileSync(passphraseFile, 'another long passphrase\n', { mode: 0o600 })
    expect(await cliAsync(['backup', file, '--secrets-only', '--passphrase-file', passphraseFile, '-d', a.dir])).toMatch(/no store \(secrets only\)/)
    // Restore refuses a secrets-only file, naming the command that takes it.
    await expect(cliAsync(['restore', file, '--passphrase-file', passphraseFile, '-d', join(f.cluster.root, 'elsewhere')])).rejects.toThrow(
      /holds secrets only: use standin recover/,
    )

    for (let i = 0; i < 5; i++) await buyEscrowed(f, `order-${i}@example.com`)
    const head = await ownSeq(f)
    expect(await ackedByAll(f, head)).toBe(true)
    const before = await ownOrders(f)

    await f.cluster.kill('A', 'SIGKILL')
    rmSync(a.dir, { recursive: true, force: true })
    // A wrong passphrase opens nothing and leaves nothing behind.
    writeFileSync(join(f.cluster.root, 'wrong'), 'not the passphrase at all', { mode: 0o600 })
    await expect(cliAsync(['recover', file, '--passphrase-file', join(f.cluster.root, 'wrong'), '-d', a.dir])).rejects.toThrow(/does not open this backup/)
    expect(await cliAsync(['recover', file, '--passphrase-file', passphraseFile, '-d', a.dir])).toMatch(/recovered Shop A/)
    await f.cluster.start('A')

    const feed = await rejoined(f)
    expect(feed.seq).toBeGreaterThanOrEqual(head)
    expectKept(before, await ownOrders(f))
    await writesOnAfterItsHead(f)
    expect(a.output).not.toMatch(/fork/)
  }, 300_000)
})
