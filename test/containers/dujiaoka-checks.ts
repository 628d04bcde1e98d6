// Small helpers shared by the dujiaoka container cases: raw queries, bounded waits, and the key
// invariant (every key in exactly one place: on sale, delivered by dujiaoka, or consigned).
import type { RowDataPacket } from 'mysql2'
import { expect } from 'vitest'
import type { DujiaokaRig } from './dujiaoka-rig.js'
import type { PayHooks } from './dujiaoka-shop.js'

export async function rows(rig: DujiaokaRig, sql: string, params: unknown[] = []): Promise<RowDataPacket[]> {
  const [result] = await rig.pool.query<RowDataPacket[]>(sql, params)
  return result
}

export async function until(condition: () => Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = performance.now() + timeoutMs
  while (!(await condition())) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

/** Every key of goods `goods` is in exactly one place: on sale, delivered by dujiaoka, or consigned. */
export async function checkKeyInvariants(rig: DujiaokaRig, goods: number) {
  const delivered = await rig.shop.deliveredKeyIds()
  const sellable = await rig.shop.sellableKeyIds(goods)
  const consigned = new Set(
    (await rows(rig, "SELECT carmis_id FROM standin_consigned WHERE state = 'consigned' AND goods_id = ?", [goods])).map((r) => String(r.carmis_id)),
  )
  const all = (await rows(rig, 'SELECT id, status, deleted_at FROM carmis WHERE goods_id = ? AND is_loop = 0', [goods])).map((r) => ({
    id: String(r.id),
    status: Number(r.status),
    deleted: r.deleted_at !== null,
  }))
  for (const id of consigned) {
    expect(delivered.has(id), `key ${id} both delivered by dujiaoka and consigned`).toBe(false)
    expect(sellable.has(id), `key ${id} both unsold in carmis and consigned`).toBe(false)
    expect(all.find((k) => k.id === id)).toMatchObject({ status: 3, deleted: true })
  }
  for (const key of all) {
    const places = Number(delivered.has(key.id)) + Number(sellable.has(key.id)) + Number(consigned.has(key.id))
    expect(places, `key ${key.id} (status ${key.status})`).toBe(1)
  }
  return { delivered, sellable, consigned }
}

/**
 * A sale of `qty` keys of goods `goodsId` that stops at `step` of its transaction (after reading its
 * keys, or after also saving the order) and holds the transaction open until `release()`.
 */
export async function heldSale(rig: DujiaokaRig, input: { goodsId: number; qty: number; email: string; step: 'afterRead' | 'afterOrderSaved' }) {
  const order = await rig.shop.createOrder({ goodsId: input.goodsId, qty: input.qty, email: input.email })
  let release!: () => void
  const held = new Promise<void>((resolve) => (release = resolve))
  let reached = false
  const hooks: PayHooks = {
    [input.step]: async () => {
      reached = true
      await held
    },
  }
  const done = rig.shop.pay(order, hooks)
  await until(async () => reached, `the sale to reach ${input.step}`)
  return { order, release, done }
}

/** True once phase 1 of a consignment has committed (some key marked 3). */
export async function phaseOneCommitted(rig: DujiaokaRig): Promise<boolean> {
  return Number((await rows(rig, 'SELECT COUNT(*) AS n FROM carmis WHERE status = 3')).at(0)?.n) > 0
}
