// A backup file (docs/decisions.md D92): gzip of JSON lines.
//   1. the header: format, version, shop, when, the store version, and the data directory's files
//      (config, secrets, adapter credentials, cards, agreements) sealed under the passphrase;
//   2. one line per store pair, [key, value]: the value base64 as it sits on disk, already sealed
//      under the node's store key (which comes from the identity seed inside the sealed files);
//   3. the end: how many pairs, and the SHA-256 of their lines, so a cut or altered file is refused.
// A secrets-only backup (for `standin recover`) has the header and the end, no pairs.
// Nothing in the file is readable without the passphrase; every line is parsed with its schema.
import { createHash, randomBytes, scryptSync } from 'node:crypto'
import { z } from 'zod'
import { formatZodError, SECRETBOX_KEY_BYTES, SECRETBOX_NONCE_BYTES, secretbox, secretboxOpen, ShopId, TimeMs } from '../../protocol/index.js'

export const BACKUP_FORMAT = 'standin-backup'
export const BACKUP_VERSION = 1
/** Shortest passphrase accepted: the file may sit on a shared disk or in someone's cloud. */
export const MIN_PASSPHRASE_CHARS = 12
/** Longest passphrase read (a file holding something else by mistake is refused). */
export const MAX_PASSPHRASE_CHARS = 1_024
/** scrypt cost: about 0.1 s and 32 MiB here, once per backup or restore. */
const SCRYPT = { N: 2 ** 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 } as const
const SALT_BYTES = 16
/** Largest data-directory file backed up (config, secrets, a card, an agreement are a few KiB). */
export const MAX_FILE_BYTES = 1024 * 1024
/** Most data-directory files (each card and agreement is one). */
export const MAX_FILES = 4_096
/** Longest line of the file read back (a pair's key and value, or the header). */
export const MAX_LINE_BYTES = 64 * 1024 * 1024

export class BackupError extends Error {}

const B64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, 'base64')
/** A file's path in the data directory: a name, or one directory and a name; never `..` or absolute. */
export const RelPath = z
  .string()
  .max(255)
  .regex(/^(?:[A-Za-z0-9_-][A-Za-z0-9._-]*\/)?[A-Za-z0-9_-][A-Za-z0-9._-]*$/, 'a file name, or one directory and a file name')
  .refine((p) => !p.startsWith('db/'), 'db/ travels as store pairs, not as files')

export const DataFiles = z
  .record(RelPath, z.string().max(MAX_FILE_BYTES))
  .refine((files) => Object.keys(files).length <= MAX_FILES, `at most ${MAX_FILES} files`)
export type DataFiles = z.infer<typeof DataFiles>

const SealedFiles = z.strictObject({ kdf: z.literal('scrypt'), salt: B64, nonce: B64, box: B64 })

export const BackupHeader = z.strictObject({
  format: z.literal(BACKUP_FORMAT),
  version: z.literal(BACKUP_VERSION),
  shop: ShopId,
  name: z.string().max(200),
  createdAt: TimeMs,
  /** The store version of the pairs (node/store/migrations.ts); a newer Standin migrates them at start. */
  store: z.number().int().nonnegative(),
  /** False for a secrets-only backup (`standin backup --secrets-only`, for `standin recover`). */
  withStore: z.boolean(),
  files: SealedFiles,
})
export type BackupHeader = z.infer<typeof BackupHeader>

const StorePair = z.tuple([z.string().min(1).max(4_096), B64])
const BackupEnd = z.strictObject({ end: z.number().int().nonnegative(), sha256: z.string().regex(/^[0-9a-f]{64}$/) })

export function checkPassphrase(passphrase: string): string {
  const text = passphrase.replace(/\r?\n$/, '')
  if (text.length < MIN_PASSPHRASE_CHARS) throw new BackupError(`passphrase: at least ${MIN_PASSPHRASE_CHARS} characters`)
  if (text.length > MAX_PASSPHRASE_CHARS) throw new BackupError(`passphrase: at most ${MAX_PASSPHRASE_CHARS} characters`)
  return text
}

function keyOf(passphrase: string, salt: Buffer): Uint8Array {
  return new Uint8Array(scryptSync(passphrase.normalize('NFC'), salt, SECRETBOX_KEY_BYTES, SCRYPT))
}

export function sealFiles(files: DataFiles, passphrase: string): BackupHeader['files'] {
  const salt = randomBytes(SALT_BYTES)
  const nonce = randomBytes(SECRETBOX_NONCE_BYTES)
  const box = secretbox(Buffer.from(JSON.stringify(files), 'utf8'), nonce, keyOf(passphrase, salt))
  return { kdf: 'scrypt', salt: salt.toString('base64'), nonce: nonce.toString('base64'), box: Buffer.from(box).toString('base64') }
}

export function openFiles(sealed: BackupHeader['files'], passphrase: string): DataFiles {
  const key = keyOf(passphrase, Buffer.from(sealed.salt, 'base64'))
  const opened = secretboxOpen(Buffer.from(sealed.box, 'base64'), Buffer.from(sealed.nonce, 'base64'), key)
  if (opened === null) throw new BackupError('the passphrase does not open this backup (or the file is damaged)')
  const parsed = DataFiles.safeParse(JSON.parse(Buffer.from(opened).toString('utf8')))
  if (!parsed.success) throw new BackupError(`backup files: ${formatZodError(parsed.error)}`)
  return parsed.data
}

/** The lines of a backup after its header: one per store pair, then the end line. */
export async function* storeLines(pairs: AsyncIterable<readonly [string, Buffer]>): AsyncIterable<string> {
  const digest = createHash('sha256')
  let count = 0
  for await (const [key, value] of pairs) {
    const line = `${JSON.stringify([key, value.toString('base64')])}\n`
    digest.update(line)
    count++
    yield line
  }
  yield `${JSON.stringify({ end: count, sha256: digest.digest('hex') })}\n`
}

function parseLine<S extends z.ZodType>(schema: S, line: string, what: string): z.infer<S> {
  let json: unknown
  try {
    json = JSON.parse(line)
  } catch (error) {
    throw new BackupError(`${what}: not JSON (${(error as Error).message})`)
  }
  const parsed = schema.safeParse(json)
  if (!parsed.success) throw new BackupError(`${what}: ${formatZodError(parsed.error)}`)
  return parsed.data as z.infer<S>
}

/**
 * Reads a backup's lines: the header first (`onHeader`, which may refuse), then the pairs as they
 * come, checked against the end line once all are read. A file cut short or altered throws after
 * the last pair, so the caller writes pairs to a place it removes on failure.
 */
export async function* readBackup(lines: AsyncIterable<string>, onHeader: (header: BackupHeader) => void): AsyncIterable<readonly [string, Buffer]> {
  const digest = createHash('sha256')
  let count = 0
  let state: 'header' | 'pairs' | 'ended' = 'header'
  for await (const line of lines) {
    if (line.length === 0) continue
    if (state === 'ended') throw new BackupError('backup: lines after the end line')
    if (state === 'header') {
      onHeader(parseLine(BackupHeader, line, 'backup header'))
      state = 'pairs'
      continue
    }
    if (line.startsWith('{')) {
      const end = parseLine(BackupEnd, line, 'backup end')
      if (end.end !== count || end.sha256 !== digest.digest('hex'))
        throw new BackupError(`backup: the end line names ${end.end} pairs and another digest; ${count} were read (the file was altered or cut)`)
      state = 'ended'
      continue
    }
    const [key, value] = parseLine(StorePair, line, `backup pair ${count + 1}`)
    digest.update(`${line}\n`)
    count++
    yield [key, Buffer.from(value, 'base64')]
  }
  if (state !== 'ended') throw new BackupError('backup: no end line (the file was cut short)')
}
