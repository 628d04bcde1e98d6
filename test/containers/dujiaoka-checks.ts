// Small helpers shared by the dujiaoka container cases: raw queries, bounded waits, and the key
// invariant (every key in exactly one place: on sale, delivered by dujiaoka, or consigned).
import type { RowDataPacket } from 'mysql2'
import { expect } from 'vitest'
import type { DujiaokaRig } from './dujiaoka-rig.js'

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
  const consigned = new Set((await rows(rig, "SELECT carmis_id FROM standin_consigned WHERE state = 'consigned' AND goods_id = ?", [goods])).map((r) => String(r.carmis_id)))
  const all = (await rows(rig, 'SELECT id, status, deleted_at FROM carmis WHERE goods_id = ? AND is_loop = 0', [goods])).map((r) => ({ id: String(r.id), status: Number(r.status), deleted: r.deleted_at !== null }))
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
