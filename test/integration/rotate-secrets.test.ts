// Rotating the admin token and the adapter's secrets while orders flow, without downtime (issue 21,
// D91): real node processes, the shop simulator as A's adapter holding the OLD adapter.json all
// along (as an adapter not yet restarted does). After each `standin secrets rotate`, the running
// node takes the new value at once and still accepts the old one until the grace ends; a rotation
// with no grace refuses the old value at once.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { ADAPTER_SIGNATURE_HEADER, ADAPTER_TIMESTAMP_HEADER, adapterSignature } from '../../protocol/index.js'
import { cliAsync } from '../../examples/support/processes.js'
import { waitFor } from './cluster.js'
import { allot, type Federation, shop, SKU, startFederation, stopFederation } from './federation-env.js'

let f: Federation | undefined
afterEach(async () => {
  await stopFederation(f)
  f = undefined
})

/** A fresh order escrows within this long (the simulator submits it at once). */
const ESCROW_TIMEOUT_MS = 30_000

const fileOf = (dir: string, name: string) => JSON.parse(readFileSync(join(dir, name), 'utf8')) as Record<string, string>

async function adminStatus(federation: Federation, token: string): Promise<number> {
  const response = await fetch(`${federation.cluster.node('A').baseUrl}/v1/admin/partners`, { headers: { authorization: `Bearer ${token}` } })
  return response.status
}

/** A `/v1/adapter/health` request to A's node signed with `secret`, as an adapter sends it: its HTTP status. */
async function adapterStatus(federation: Federation, secret: string): Promise<number> {
  const path = '/v1/adapter/health'
  const body = JSON.stringify({ platform: 'up' })
  const timestamp = Date.now()
  const response = await fetch(`${federation.cluster.node('A').baseUrl}${path}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      [ADAPTER_TIMESTAMP_HEADER]: String(timestamp),
      [ADAPTER_SIGNATURE_HEADER]: adapterSignature(secret, timestamp, 'POST', path, body),
    },
    body,
  })
  return response.status
}

async function buyAndEscrow(federation: Federation, email: string): Promise<void> {
  const s = shop(federation, 'A')
  const { order } = await s.buy({ sku: SKU, qty: 1, email, locale: 'en' })
  await waitFor(`order ${order} escrowed`, () => (s.state().orders.escrowed >= s.state().orders.total ? true : undefined), ESCROW_TIMEOUT_MS)
}

describe('rotating secrets while the node runs', () => {
  it('admin token, request and callback secrets: the new one works at once, the old one until its grace ends, orders and consignments never stop', async () => {
    f = await startFederation()
    const dir = f.cluster.node('A').dir
    const oldToken = f.cluster.node('A').adminToken
    const oldAdapter = fileOf(dir, 'adapter.json')

    // Admin token, with the default grace.
    const admin = await cliAsync(['secrets', 'rotate', 'admin', '-d', dir])
    expect(admin).toMatch(/the running node took it/)
    const newToken = fileOf(dir, 'secrets.json').adminToken as string
    expect(newToken).not.toBe(oldToken)
    expect(await adminStatus(f, newToken)).toBe(200)
    expect(await adminStatus(f, oldToken)).toBe(200)
    expect(await adminStatus(f, 'x'.repeat(43))).toBe(401)

    // Request secret: the adapter still signs with the old one; orders keep flowing.
    expect(await cliAsync(['secrets', 'rotate', 'request', '-d', dir])).toMatch(/the running node took it/)
    const newRequest = fileOf(dir, 'adapter.json').requestSecret as string
    expect(newRequest).not.toBe(oldAdapter.requestSecret)
    await buyAndEscrow(f, 'during-request-rotation@example.com')
    expect(await adapterStatus(f, newRequest)).toBe(200)
    expect(await adapterStatus(f, oldAdapter.requestSecret as string)).toBe(200)

    // Callback secret: the adapter still verifies with the old one; a consignment (takeStock) goes through.
    expect(await cliAsync(['secrets', 'rotate', 'callback', '-d', dir])).toMatch(/the running node took it/)
    const before = shop(f, 'A').state()
    await allot(f, 'A', 'B', 5)
    expect(shop(f, 'A').state()).not.toEqual(before)
    await buyAndEscrow(f, 'after-callback-rotation@example.com')
    // The adapter refused the new callback secret, and the node signed again with the previous one.
    expect(f.cluster.node('A').output).toMatch(/shop refused the new callback secret; signing with the previous one/)

    // A leaked secret: no grace, the old value is refused at once.
    expect(await cliAsync(['secrets', 'rotate', 'request', '-d', dir, '--grace-minutes', '0'])).toMatch(/refused from now on/)
    expect(await adapterStatus(f, newRequest)).toBe(401)
    expect(await adapterStatus(f, fileOf(dir, 'adapter.json').requestSecret as string)).toBe(200)
    expect(await cliAsync(['secrets', 'rotate', 'admin', '-d', dir, '--grace-minutes', '0'])).toMatch(/the running node took it/)
    expect(await adminStatus(f, newToken)).toBe(401)
    expect(await adminStatus(f, fileOf(dir, 'secrets.json').adminToken as string)).toBe(200)
  }, 300_000)
})
