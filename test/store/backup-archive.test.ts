// The backup file (node/backup/archive.ts, D92): a store read raw from disk and written back is the
// same store; the files open only with the passphrase; a file cut short or altered is refused.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import {
  BACKUP_FORMAT,
  BACKUP_VERSION,
  type BackupHeader,
  checkPassphrase,
  DataFiles,
  openFiles,
  readBackup,
  sealFiles,
  storeLines,
} from '../../node/backup/archive.js'
import { LevelStore, rawPairsOnDisk, SECTIONS, writeRawPairs } from '../../node/store/level-store.js'
import { alice } from '../protocol/fixtures.js'

const KEY = new Uint8Array(32).fill(7)
const PASSPHRASE = 'a passphrase long enough'
let dirs: string[] = []
afterEach(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
  dirs = []
})
const tmp = () => {
  const dir = mkdtempSync(join(tmpdir(), 'standin-backup-'))
  dirs.push(dir)
  return dir
}

function header(files: DataFiles = { 'config.json': '{}' }): BackupHeader {
  return {
    format: BACKUP_FORMAT,
    version: BACKUP_VERSION,
    shop: alice.identity.id,
    name: 'alice',
    createdAt: 1,
    store: 1,
    withStore: true,
    files: sealFiles(files, PASSPHRASE),
  }
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = []
  for await (const item of items) out.push(item)
  return out
}

/** A backup's lines as a reader gets them (no newlines), from a header and a store on disk. */
async function linesOf(path: string): Promise<string[]> {
  const body = await collect(storeLines(rawPairsOnDisk(path)))
  return [JSON.stringify(header()), ...body.map((l) => l.replace(/\n$/, ''))]
}

async function* from(lines: readonly string[]): AsyncIterable<string> {
  yield* lines
}

async function storeOnDisk(): Promise<string> {
  const path = join(tmp(), 'db')
  const store = await LevelStore.openOnDisk(path, KEY)
  await store.write(
    [
      { type: 'put', section: 'orders', key: 'A!O-1', value: { buyer: 'someone@example.com' } },
      { type: 'put', section: 'entries', key: 'A!0000000001', value: { seq: 1 } },
      { type: 'put', section: 'meta', key: 'own-head', value: { seq: 1, hash: null } },
    ],
    { sync: true },
  )
  await store.close()
  return path
}

async function everything(path: string): Promise<string[]> {
  const store = await LevelStore.openOnDisk(path, KEY)
  const rows: string[] = []
  for (const section of SECTIONS) for await (const [key, value] of store.range(section, {})) rows.push(`${section} ${key} ${JSON.stringify(value)}`)
  await store.close()
  return rows
}

describe('backup file', () => {
  it('a store read raw and written back holds the same rows, sealed as before (no buyer text in the file)', async () => {
    const path = await storeOnDisk()
    const lines = await linesOf(path)
    expect(lines.join('\n')).not.toContain('someone@example.com')
    let seen: BackupHeader | null = null
    const copy = join(tmp(), 'db')
    const written = await writeRawPairs(
      copy,
      readBackup(from(lines), (h) => (seen = h)),
    )
    expect(seen).not.toBeNull()
    expect(written).toBe(lines.length - 2)
    expect(await everything(copy)).toEqual(await everything(path))
  })

  it('refuses a file cut short, a pair altered, a pair added, or lines after the end', async () => {
    const lines = await linesOf(await storeOnDisk())
    const read = (l: readonly string[]) => collect(readBackup(from(l), () => undefined))
    await expect(read(lines.slice(0, -1))).rejects.toThrow(/no end line/)
    const altered = [...lines]
    altered[1] = JSON.stringify([JSON.parse(lines[1] as string)[0], Buffer.from('other').toString('base64')])
    await expect(read(altered)).rejects.toThrow(/altered or cut/)
    await expect(read([...lines.slice(0, 2), lines[1] as string, ...lines.slice(2)])).rejects.toThrow(/altered or cut/)
    await expect(read([...lines, lines[1] as string])).rejects.toThrow(/lines after the end/)
    await expect(read([JSON.stringify({ ...header(), version: 2 }), ...lines.slice(1)])).rejects.toThrow(/backup header: version/)
  })

  it('the files open with the passphrase only, and only as data-directory paths', () => {
    const files = { 'config.json': '{"name":"alice"}', 'cards/x.json': '{}' }
    const sealed = sealFiles(files, PASSPHRASE)
    expect(JSON.stringify(sealed)).not.toContain('alice')
    expect(openFiles(sealed, PASSPHRASE)).toEqual(files)
    expect(() => openFiles(sealed, `${PASSPHRASE}!`)).toThrow(/does not open this backup/)
    for (const path of ['../secrets.json', '/etc/passwd', 'db/CURRENT', 'a/b/c.json', '.hidden'])
      expect(DataFiles.safeParse({ [path]: '' }).success, path).toBe(false)
    expect(() => openFiles(sealFiles({ '../x': '' } as DataFiles, PASSPHRASE), PASSPHRASE)).toThrow(/backup files: \.\.\/x/)
  })

  it('a passphrase is at least 12 characters; a trailing newline from a file is not part of it', () => {
    expect(() => checkPassphrase('short')).toThrow(/at least 12 characters/)
    expect(checkPassphrase(`${PASSPHRASE}\n`)).toBe(PASSPHRASE)
  })
})
