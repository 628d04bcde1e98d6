// Encryption at rest (issue 18, D55): what a copy of db/ shows. Each test also finds a plain
// store key in the same files, so "not found" means sealed, not "the scan cannot see the files".
import { randomBytes } from 'node:crypto'
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ClassicLevel } from 'classic-level'
import { afterEach, describe, expect, it } from 'vitest'
import { LevelStore } from '../../node/store/level-store.js'
import { storeKeyFromSeed } from '../../node/store/sealed-values.js'

const dirs: string[] = []
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'standin-sealed-'))
  dirs.push(dir)
  return dir
}

/** Every file under `dir`, as bytes. */
function filesUnder(dir: string): { path: string; bytes: Buffer }[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((name) => join(dir, name))
    .filter((path) => statSync(path).isFile())
    .map((path) => ({ path, bytes: readFileSync(path) }))
}

const containing = (dir: string, text: string): string[] =>
  filesUnder(dir)
    .filter((f) => f.bytes.includes(text))
    .map((f) => f.path)

const KEY_TEXT = 'STEAM-KEY-7Q2X-PLAINTEXT-CANARY'
const EMAIL = 'buyer.canary@example.com'
const ORDER_ID = 'order-id-visible-as-a-store-key'

describe('LevelStore on disk seals its values', () => {
  it('keeps no card key or buyer email in any file, synced or compacted, and reads them back', async () => {
    const dir = tempDir()
    const key = storeKeyFromSeed(randomBytes(32))
    const store = await LevelStore.openOnDisk(dir, key)
    await store.write([{ type: 'put', section: 'orders', key: ORDER_ID, value: { buyer: { email: EMAIL } } }], { sync: true })
    await store.write([{ type: 'put', section: 'keys', key: 'k1', value: { key: KEY_TEXT } }], { sync: true })
    expect(containing(dir, ORDER_ID).length).toBeGreaterThan(0)
    expect(containing(dir, KEY_TEXT)).toEqual([])
    expect(containing(dir, EMAIL)).toEqual([])
    await store.close()
    const reopened = await LevelStore.openOnDisk(dir, key)
    expect(await reopened.get('keys', 'k1')).toEqual({ key: KEY_TEXT })
    expect(await reopened.get('orders', ORDER_ID)).toEqual({ buyer: { email: EMAIL } })
    await reopened.close()
    expect(containing(dir, KEY_TEXT)).toEqual([])
  })

  it('does not open under another key, and says why', async () => {
    const dir = tempDir()
    const key = storeKeyFromSeed(randomBytes(32))
    const store = await LevelStore.openOnDisk(dir, key)
    await store.write([{ type: 'put', section: 'keys', key: 'k1', value: { key: KEY_TEXT } }], { sync: true })
    await store.close()
    // Refused at open: the store's version record is sealed too (node/store/migrations.ts).
    await expect(LevelStore.openOnDisk(dir, storeKeyFromSeed(randomBytes(32)))).rejects.toThrow(/does not open with this node's key/)
    const reopened = await LevelStore.openOnDisk(dir, key)
    expect(await reopened.get('keys', 'k1')).toEqual({ key: KEY_TEXT })
    await reopened.close()
  })

  it('seals a store written before encryption at rest in place, and compacts the plaintext away', async () => {
    const dir = tempDir()
    // What a node before D55 left: JSON values in the same sublevels.
    const old = new ClassicLevel<string, unknown>(dir, { valueEncoding: 'json' })
    await old.open()
    await old.sublevel<string, unknown>('keys', { valueEncoding: 'json' }).put('k1', { key: KEY_TEXT })
    await old.sublevel<string, unknown>('orders', { valueEncoding: 'json' }).put(ORDER_ID, { buyer: { email: EMAIL } })
    await old.close()
    expect(containing(dir, KEY_TEXT).length).toBeGreaterThan(0)

    const key = storeKeyFromSeed(randomBytes(32))
    const store = await LevelStore.openOnDisk(dir, key)
    expect(await store.get('keys', 'k1')).toEqual({ key: KEY_TEXT })
    expect(await store.get('orders', ORDER_ID)).toEqual({ buyer: { email: EMAIL } })
    await store.close()
    expect(containing(dir, ORDER_ID).length).toBeGreaterThan(0)
    expect(containing(dir, KEY_TEXT)).toEqual([])
    expect(containing(dir, EMAIL)).toEqual([])
  })
})
