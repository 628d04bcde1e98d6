// `standin backup`, `standin restore`, `standin recover` (docs/decisions.md D92, README "Backup and
// restore"). A backup is one file: the data directory's files sealed under a passphrase, and the
// store read from one snapshot (through the running node, or from db/ when it is stopped). A
// restore writes both into an empty directory and marks the store: the node then confirms with
// every partner where its own feed ends before it writes again (core/own-feed-rejoin.ts). A
// recovery does the same from the files alone, for a node whose disk is gone: its feed and escrow
// come back from its partners.
import {
  closeSync,
  createReadStream,
  createWriteStream,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
} from 'node:fs'
import { dirname, join } from 'node:path'
import { createInterface } from 'node:readline'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { createGunzip, createGzip } from 'node:zlib'
import writeFileAtomic from 'write-file-atomic'
import { formatZodError, fromBase64url } from '../../protocol/index.js'
import {
  BackupError,
  type BackupHeader,
  BACKUP_FORMAT,
  BACKUP_VERSION,
  checkPassphrase,
  type DataFiles,
  MAX_FILE_BYTES,
  MAX_FILES,
  openFiles,
  readBackup,
  sealFiles,
  storeLines,
} from '../backup/archive.js'
import type { RejoinMarker, RejoinReason } from '../core/own-feed-rejoin.js'
import { META } from '../core/state/codec.js'
import { DataDir, DIR_MODE, FILE_MODE } from '../datadir.js'
import { LevelStore, rawPairsOnDisk, writeRawPairs } from '../store/level-store.js'
import { STORE_VERSION } from '../store/migrations.js'
import { storeKeyFromSeed } from '../store/sealed-values.js'
import { fetchNode, NodeNotRunningError } from './node-request.js'
import { BackupArgs, RestoreArgs } from './schemas.js'

/** Where the passphrase comes from when no --passphrase-file is given. */
export const PASSPHRASE_ENV = 'STANDIN_BACKUP_PASSPHRASE'

function passphraseOf(file: string | undefined, env: NodeJS.ProcessEnv): string {
  if (file !== undefined) return checkPassphrase(readFileSync(file, 'utf8'))
  const value = env[PASSPHRASE_ENV]
  if (value === undefined) throw new BackupError(`passphrase: give --passphrase-file <path> or set ${PASSPHRASE_ENV} (never on the command line)`)
  return checkPassphrase(value)
}

/** Every file of the data directory but db/: config, secrets, adapter credentials, cards, agreements. */
function dataFiles(dir: DataDir): DataFiles {
  const files: Record<string, string> = {}
  const visit = (rel: string, depth: number): void => {
    for (const name of readdirSync(join(dir.path, rel))) {
      const path = rel === '' ? name : `${rel}/${name}`
      if (path === 'db') continue
      const stat = statSync(join(dir.path, path))
      if (stat.isDirectory() && depth === 0) visit(path, 1)
      else if (stat.isFile()) {
        if (stat.size > MAX_FILE_BYTES) throw new BackupError(`${join(dir.path, path)}: larger than ${MAX_FILE_BYTES} bytes; not a node file`)
        files[path] = readFileSync(join(dir.path, path), 'utf8')
      }
    }
  }
  visit('', 0)
  if (Object.keys(files).length > MAX_FILES) throw new BackupError(`${dir.path}: more than ${MAX_FILES} files`)
  return files
}

/** The running node's store lines, or null when no node answers (then db/ is read directly). */
async function nodeStoreLines(dir: DataDir): Promise<AsyncIterable<string> | null> {
  const config = dir.config()
  const host = config.http.host === '0.0.0.0' ? '127.0.0.1' : config.http.host
  let response: Response
  try {
    response = await fetchNode(`http://${host}:${config.http.port}`, '/v1/admin/backup', dir.path, {
      headers: { authorization: `Bearer ${dir.keys().secrets.adminToken}` },
      // The body may take minutes for a big store: no timeout once the node answered.
      signal: null,
    })
  } catch (error) {
    if (error instanceof NodeNotRunningError) return null
    throw error
  }
  if (!response.ok || response.body === null) throw new BackupError(`/v1/admin/backup: HTTP ${response.status} ${await response.text()}`)
  return createInterface({ input: Readable.fromWeb(response.body as never), crlfDelay: Infinity })
}

async function* linesWithNewline(lines: AsyncIterable<string>): AsyncIterable<string> {
  for await (const line of lines) if (line.length > 0) yield `${line}\n`
}

function syncPath(path: string): void {
  const fd = openSync(path, 'r')
  try {
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
}

/** `standin backup <file>`: resolves with what to tell the operator. */
export async function backup(raw: Record<string, unknown>, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const args = BackupArgs.safeParse(raw)
  if (!args.success) throw new Error(`arguments: ${formatZodError(args.error)}`)
  const { file, secretsOnly } = args.data
  const dir = new DataDir(args.data.dir)
  if (!dir.exists()) throw new Error(`${args.data.dir}: no node here (config.json missing)`)
  if (existsSync(file)) throw new BackupError(`${file} exists; name a new file`)
  const passphrase = passphraseOf(args.data.passphraseFile, env)
  const { identity } = dir.keys()
  const files = dataFiles(dir)
  const header: BackupHeader = {
    format: BACKUP_FORMAT,
    version: BACKUP_VERSION,
    shop: identity.id,
    name: dir.config().name,
    createdAt: Date.now(),
    store: STORE_VERSION,
    withStore: !secretsOnly,
    files: sealFiles(files, passphrase),
  }
  let from = 'no store (secrets only)'
  let body: AsyncIterable<string> = storeLines((async function* () {})())
  if (!secretsOnly) {
    const online = await nodeStoreLines(dir)
    from = online ? 'the running node (one snapshot)' : `${dir.dbPath} (the node is stopped)`
    body = online ? linesWithNewline(online) : storeLines(rawPairsOnDisk(dir.dbPath))
  }
  let pairs = -1
  async function* all(): AsyncIterable<string> {
    yield `${JSON.stringify(header)}\n`
    for await (const line of body) {
      if (line.startsWith('{')) pairs = (JSON.parse(line) as { end: number }).end
      yield line
    }
  }
  const partial = `${file}.partial`
  try {
    await pipeline(Readable.from(all()), createGzip(), createWriteStream(partial, { mode: FILE_MODE, flags: 'wx' }))
    if (pairs < 0) throw new BackupError('the store stream ended without its end line (the node stopped midway?)')
    syncPath(partial)
    renameSync(partial, file)
    syncPath(dirname(file))
  } catch (error) {
    rmSync(partial, { force: true })
    throw error
  }
  return [
    `backup written: ${file}`,
    `  store: ${secretsOnly ? from : `${pairs} pairs from ${from}`}`,
    `  files: ${Object.keys(files).length} (config, secrets, adapter credentials, cards, agreements), sealed under the passphrase`,
    'keep the passphrase apart from the file: without it the backup opens for nobody, you included',
  ].join('\n')
}

async function* gunzipLines(file: string): AsyncIterable<string> {
  const input = createReadStream(file).pipe(createGunzip())
  yield* createInterface({ input, crlfDelay: Infinity })
}

/** Writes the data directory's files, each 0600 and synced, directories 0700. */
function writeFiles(root: string, files: DataFiles): void {
  for (const [rel, text] of Object.entries(files)) {
    const path = join(root, rel)
    mkdirSync(dirname(path), { recursive: true, mode: DIR_MODE })
    writeFileAtomic.sync(path, text, { mode: FILE_MODE, fsync: true })
  }
}

/** `standin restore <file>` (reason restored) and `standin recover <file>` (recovered: files only). */
export async function restore(raw: Record<string, unknown>, reason: RejoinReason, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const args = RestoreArgs.safeParse(raw)
  if (!args.success) throw new Error(`arguments: ${formatZodError(args.error)}`)
  const { file } = args.data
  const dir = new DataDir(args.data.dir)
  if (existsSync(dir.path) && readdirSync(dir.path).length > 0)
    throw new BackupError(`${dir.path} is not empty: ${reason === 'restored' ? 'restore' : 'recover'} into a new, empty directory (move the old one aside)`)
  if (!existsSync(file)) throw new BackupError(`${file}: no such file`)
  const passphrase = passphraseOf(args.data.passphraseFile, env)
  let header: BackupHeader | null = null
  let files: DataFiles = {}
  const onHeader = (h: BackupHeader): void => {
    if (reason === 'restored' && !h.withStore) throw new BackupError(`${file} holds secrets only: use standin recover with it`)
    files = openFiles(h.files, passphrase)
    for (const need of ['config.json', 'secrets.json', 'adapter.json']) if (!(need in files)) throw new BackupError(`${file}: the backup lacks ${need}`)
    header = h
  }
  mkdirSync(dir.path, { recursive: true, mode: DIR_MODE })
  let pairs = 0
  try {
    const stream = readBackup(gunzipLines(file), onHeader)
    if (reason === 'restored') pairs = await writeRawPairs(dir.dbPath, stream)
    else for await (const _ of stream) pairs++ // read to the end: the file is checked whole
    if (header === null) throw new BackupError(`${file}: empty`)
    writeFiles(dir.path, files)
    const { identity, secrets } = dir.keys()
    const h = header as BackupHeader
    if (identity.id !== h.shop) throw new BackupError(`${file}: its header names shop ${h.shop}, its secrets are of ${identity.id}`)
    // Opening migrates an older store and refuses one under another key; then the marker.
    const store = await LevelStore.openOnDisk(dir.dbPath, storeKeyFromSeed(fromBase64url(secrets.seed)))
    try {
      const marker: RejoinMarker = { reason, since: Date.now() }
      await store.write([{ type: 'put', section: 'meta', key: META.rejoin, value: marker }], { sync: true })
    } finally {
      await store.close()
    }
    return [
      `${reason === 'restored' ? 'restored' : 'recovered'} ${h.name} (${h.shop}) into ${dir.path}: ${Object.keys(files).length} files${reason === 'restored' ? `, ${pairs} store pairs` : ''}`,
      `backup made ${new Date(h.createdAt).toISOString()}`,
      'next: start the node (standin run). It does not write until every partner has said where its feed ends; standin status shows who answered.',
    ].join('\n')
  } catch (error) {
    for (const name of readdirSync(dir.path)) rmSync(join(dir.path, name), { recursive: true, force: true })
    throw error
  }
}
