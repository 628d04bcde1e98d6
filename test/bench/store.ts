// npm run bench -- store [rows] — what sealing every value at rest costs (docs/decisions.md D55):
// the same rows (an order row of about 600 bytes with a buyer email and a card key) written in
// batches of 100, read back one by one and ranged over, through LevelStore on disk (sealed) and
// through classic-level with plain JSON values (what a node stored before D55). Prints rows/s.
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { z } from 'zod'
import { ClassicLevel } from 'classic-level'
import { LevelStore } from '../../node/store/level-store.js'
import { storeKeyFromSeed } from '../../node/store/sealed-values.js'
import { benchArgs, wholeNumber } from './args.js'

const BATCH = 100

interface Target {
  put(rows: { key: string; value: unknown }[]): Promise<void>
  get(key: string): Promise<unknown>
  count(): Promise<number>
  close(): Promise<void>
}

function row(i: number): { key: string; value: unknown } {
  const key = `order-${String(i).padStart(8, '0')}`
  return {
    key,
    value: {
      order: key,
      sku: 'steam-50',
      qty: 1,
      amount: { minorUnits: 5_000, currency: 'CNY' },
      buyer: { email: `buyer${i}@example.com`, locale: 'zh-CN' },
      state: 'delivered',
      keys: [{ id: `k-${i}`, key: randomBytes(24).toString('base64url') }],
      history: Array.from({ length: 4 }, (_, n) => ({ at: 1_790_000_000_000 + n, by: 'x'.repeat(43), what: 'step' })),
    },
  }
}

async function sealed(dir: string): Promise<Target> {
  const store = await LevelStore.openOnDisk(dir, storeKeyFromSeed(randomBytes(32)))
  return {
    put: (rows) =>
      store.write(
        rows.map((r) => ({ type: 'put' as const, section: 'orders' as const, key: r.key, value: r.value })),
        { sync: false },
      ),
    get: (key) => store.get('orders', key),
    async count() {
      let n = 0
      for await (const _ of store.range('orders', {})) n++
      return n
    },
    close: () => store.close(),
  }
}

async function plain(dir: string): Promise<Target> {
  const db = new ClassicLevel<string, unknown>(dir, { valueEncoding: 'json' })
  await db.open()
  const orders = db.sublevel<string, unknown>('orders', { valueEncoding: 'json' })
  return {
    put: (rows) => orders.batch(rows.map((r) => ({ type: 'put' as const, key: r.key, value: r.value }))),
    get: (key) => orders.get(key),
    async count() {
      let n = 0
      for await (const _ of orders.iterator()) n++
      return n
    },
    close: () => db.close(),
  }
}

async function measure(name: string, open: (dir: string) => Promise<Target>, rows: number): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'standin-bench-store-'))
  try {
    const target = await open(dir)
    let t = performance.now()
    for (let i = 0; i < rows; i += BATCH) await target.put(Array.from({ length: Math.min(BATCH, rows - i) }, (_, j) => row(i + j)))
    const writeS = (performance.now() - t) / 1000
    t = performance.now()
    for (let i = 0; i < rows; i++) await target.get(`order-${String(i).padStart(8, '0')}`)
    const readS = (performance.now() - t) / 1000
    t = performance.now()
    const counted = await target.count()
    const rangeS = (performance.now() - t) / 1000
    await target.close()
    if (counted !== rows) throw new Error(`${name}: ranged ${counted} of ${rows} rows`)
    const rate = (s: number) => Math.round(rows / s).toLocaleString('en-US')
    console.log(`${name.padEnd(7)} rows=${rows} write ${rate(writeS)}/s  get ${rate(readS)}/s  range ${rate(rangeS)}/s`)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

const Args = z.object({ rows: wholeNumber(BATCH).default(100_000) })

export async function run(args: string[]): Promise<void> {
  const { rows } = benchArgs('store', Args, args)
  await measure('plain', plain, rows)
  await measure('sealed', sealed, rows)
}
