import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { LevelStore, MAX_OPS_PER_WRITE, MAX_RANGE_LIMIT } from '../../node/store/level-store.js'
import { storeKeyFromSeed } from '../../node/store/sealed-values.js'

const dirs: string[] = []
const KEY = storeKeyFromSeed(new Uint8Array(32).fill(7))
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = []
  for await (const item of iterable) out.push(item)
  return out
}

describe('LevelStore on disk (classic-level)', () => {
  it('keeps synced writes across close and reopen, atomically across sections', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'standin-store-'))
    dirs.push(dir)
    const store = await LevelStore.openOnDisk(dir, KEY)
    await store.write(
      [
        { type: 'put', section: 'entries', key: 'a!0000000000000001', value: { seq: 1 } },
        { type: 'put', section: 'heads', key: 'a', value: { seq: 1, hash: 'h' } },
      ],
      { sync: true },
    )
    await store.close()
    const reopened = await LevelStore.openOnDisk(dir, KEY)
    expect(await reopened.get('heads', 'a')).toEqual({ seq: 1, hash: 'h' })
    expect(await reopened.get('entries', 'a!0000000000000001')).toEqual({ seq: 1 })
    expect(await reopened.get('heads', 'missing')).toBeUndefined()
    await reopened.close()
  })

  it('keeps sections apart and ranges in key order', async () => {
    const store = await LevelStore.openInMemory()
    await store.write(
      [3, 1, 2].map((n) => ({ type: 'put' as const, section: 'orders' as const, key: `o${n}`, value: n })),
      { sync: false },
    )
    await store.write([{ type: 'put', section: 'acks', key: 'o1', value: 'other' }], { sync: false })
    expect(await collect(store.range('orders', {}))).toEqual([
      ['o1', 1],
      ['o2', 2],
      ['o3', 3],
    ])
    expect(await collect(store.range('orders', { gt: 'o1', limit: 1 }))).toEqual([['o2', 2]])
    expect(await collect(store.range('orders', { reverse: true, limit: 1 }))).toEqual([['o3', 3]])
    await store.write([{ type: 'del', section: 'orders', key: 'o2' }], { sync: true })
    expect(await collect(store.range('orders', {}))).toHaveLength(2)
    expect(await store.get('acks', 'o1')).toBe('other')
    await store.close()
  })

  it('on disk, a batch of puts and deletes across sections lands whole; a bad op or a closed store writes none of it', async () => {
    // The on-disk store writes through classic-level's native batch, not abstract-level's (level-store.ts).
    const dir = mkdtempSync(join(tmpdir(), 'standin-store-'))
    dirs.push(dir)
    const store = await LevelStore.openOnDisk(dir, KEY)
    await store.write(
      [3, 1, 2].map((n) => ({ type: 'put' as const, section: 'orders' as const, key: `o${n}`, value: { n } })),
      { sync: false },
    )
    await store.write(
      [
        { type: 'del', section: 'orders', key: 'o2' },
        { type: 'put', section: 'acks', key: 'o1', value: 'other' },
      ],
      { sync: true },
    )
    expect(await collect(store.range('orders', {}))).toEqual([
      ['o1', { n: 1 }],
      ['o3', { n: 3 }],
    ])
    expect(await store.get('acks', 'o1')).toBe('other')
    await expect(
      store.write(
        [
          { type: 'put', section: 'orders', key: 'o4', value: { n: 4 } },
          { type: 'put', section: 'orders', key: 'o5', value: undefined },
        ],
        { sync: true },
      ),
    ).rejects.toThrow(/store value of orders\/o5 is undefined/)
    expect(await store.get('orders', 'o4')).toBeUndefined()
    await store.close()
    await expect(store.write([{ type: 'put', section: 'orders', key: 'o6', value: { n: 6 } }], { sync: true })).rejects.toThrow(/store is closed, not open/)
    const reopened = await LevelStore.openOnDisk(dir, KEY)
    expect(await collect(reopened.range('orders', {}))).toEqual([
      ['o1', { n: 1 }],
      ['o3', { n: 3 }],
    ])
    await reopened.close()
  })

  it('refuses a batch over its limit and writes none of it', async () => {
    const store = await LevelStore.openInMemory()
    const ops = Array.from({ length: MAX_OPS_PER_WRITE + 1 }, (_, i) => ({ type: 'put' as const, section: 'meta' as const, key: `k${i}`, value: i }))
    await expect(store.write(ops, { sync: false })).rejects.toThrow(/exceeds/)
    expect(await store.get('meta', 'k0')).toBeUndefined()
    await store.close()
  })

  it('a range without a limit reads the whole section, past MAX_RANGE_LIMIT; a limit above it is held to it', async () => {
    // A node's loads and a takeover's plan read whole sections; a cap cut them off at 100,000 rows.
    const store = await LevelStore.openInMemory()
    const rows = MAX_RANGE_LIMIT + 10
    for (let start = 0; start < rows; start += MAX_OPS_PER_WRITE) {
      const ops = Array.from({ length: Math.min(MAX_OPS_PER_WRITE, rows - start) }, (_, i) => ({
        type: 'put' as const,
        section: 'orders' as const,
        key: `o${String(start + i).padStart(7, '0')}`,
        value: 1,
      }))
      await store.write(ops, { sync: false })
    }
    let all = 0
    for await (const _ of store.range('orders', { values: false })) all++
    expect(all).toBe(rows)
    let limited = 0
    for await (const _ of store.range('orders', { limit: rows, values: false })) limited++
    expect(limited).toBe(MAX_RANGE_LIMIT)
    await store.close()
  })
})
