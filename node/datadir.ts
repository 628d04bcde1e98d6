// The node's data directory: config.json, secrets.json, adapter.json, cards/, agreements/, db/.
// The directory is 0700 and every file in it 0600 (checked and mended at start, D55). Every file
// is parsed with its schema; errors name the file, field and reason.
import { randomBytes } from 'node:crypto'
import { chmodSync, closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, statSync } from 'node:fs'
import { dirname, join } from 'node:path'
import writeFileAtomic from 'write-file-atomic'
import { z } from 'zod'
import {
  type Agreement,
  Agreement as AgreementSchema,
  boxKeyPairFromSecret,
  type BoxKeyPair,
  formatZodError,
  fromBase64url,
  type Identity,
  identityFromSeed,
  type ShopCard,
  SignedShopCard,
  type Signed,
  termsHash,
  toBase64url,
  verifyAgreement,
  verifyDocument,
} from '../protocol/index.js'
import { AdapterCredentials } from '../adapters/contract.js'
import { MAX_PREDECESSORS, MAX_PREVIOUS_BOX_SECRETS, NodeConfig, type NodeConfigFile, NodeSecrets, NodeSecretsV1 } from './config/schema.js'

export class DataDirError extends Error {}

/** Directory levels `secure()` walks below the data directory (db/, cards/, agreements/ are one). */
const MAX_DEPTH = 2

export interface Keys {
  readonly identity: Identity
  readonly box: BoxKeyPair
  /** Box key pairs rotated out, newest first (D93): sealed data addressed to them still opens. */
  readonly previousBoxes: readonly BoxKeyPair[]
  readonly secrets: NodeSecrets
  readonly adapter: AdapterCredentials
}

/** What `standin secrets rotate` can replace: the admin token and each adapter secret. */
export const SECRET_PURPOSES = ['admin', 'request', 'callback', 'claim', 'box'] as const
export type SecretPurpose = (typeof SECRET_PURPOSES)[number]

/** The data directory and its subdirectories: the node's user only. */
export const DIR_MODE = 0o700
/** Every file in it: the node's user only (LevelDB's own files come from the umask below). */
export const FILE_MODE = 0o600
const UMASK = 0o077
/** Bytes of randomness in each shared secret (base64url-encoded: 43 characters). */
const SECRET_BYTES = 32

const newSecret = (): string => randomBytes(SECRET_BYTES).toString('base64url')

function newAdapterCredentials(): AdapterCredentials {
  return { version: 1, requestSecret: newSecret(), callbackSecret: newSecret(), claimKey: newSecret() }
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8')
  } catch (error) {
    throw new DataDirError(`${path}: ${(error as Error).message}`)
  }
}

function readJson<S extends z.ZodType>(path: string, schema: S): z.infer<S> {
  return parseJson(path, readText(path), schema)
}

function parseJson<S extends z.ZodType>(path: string, text: string, schema: S): z.infer<S> {
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (error) {
    throw new DataDirError(`${path}: ${(error as Error).message}`)
  }
  const parsed = schema.safeParse(json)
  if (!parsed.success) throw new DataDirError(`${path}: ${formatZodError(parsed.error)}`)
  return parsed.data
}

/**
 * Atomic and durable: write-file-atomic writes a temp file created with `mode` (so secrets are
 * never readable by others, even briefly), fsyncs it and renames it over the old one. The CLI
 * prints tokens and partners act on cards right after these writes, so the rename is synced too.
 */
function writeJson(path: string, value: unknown, mode = FILE_MODE): void {
  writeFileAtomic.sync(path, `${JSON.stringify(value, null, 2)}\n`, { mode, fsync: true })
  // write-file-atomic syncs the file, not the directory entry the rename changed.
  syncDir(dirname(path))
}

function syncDir(path: string): void {
  const dir = openSync(path, 'r')
  try {
    fsyncSync(dir)
  } finally {
    closeSync(dir)
  }
}

export interface StoredAgreement {
  readonly hash: string
  readonly agreement: Agreement
  readonly missing: readonly string[]
}

export class DataDir {
  /**
   * Agreement files as last parsed and verified, by name, with their text. The terms exchange reads
   * the folder every second (the CLI co-signs by writing there); parsing and verifying every file
   * each time cost each node ≈1 % of a core (issue 22's escrow profile, D105). The text, not the
   * file's times, says whether it changed: times are as coarse as the kernel's clock tick.
   */
  private readonly readAgreements = new Map<string, { text: string; held: StoredAgreement }>()

  constructor(readonly path: string) {}

  get configPath(): string {
    return join(this.path, 'config.json')
  }

  get dbPath(): string {
    return join(this.path, 'db')
  }

  get secretsPath(): string {
    return join(this.path, 'secrets.json')
  }

  /** The adapter's credentials: the operator copies this file to where the adapter runs. */
  get adapterPath(): string {
    return join(this.path, 'adapter.json')
  }

  exists(): boolean {
    return existsSync(this.configPath)
  }

  /**
   * Creates a new node: fresh identity, box key and secrets, and the SMTP relay's password if it
   * has one (secrets.json, never config.json: D59). Refuses to overwrite one.
   */
  init(config: NodeConfigFile, smtpPassword: string | null = null): Keys {
    if (this.exists()) throw new DataDirError(`${this.path} already holds a node (config.json exists)`)
    const parsed = NodeConfig.safeParse(config)
    if (!parsed.success) throw new DataDirError(`config: ${formatZodError(parsed.error)}`)
    const password = NodeSecrets.shape.smtpPassword.safeParse(smtpPassword)
    if (!password.success) throw new DataDirError(`smtpPassword: ${formatZodError(password.error)}`)
    process.umask(UMASK)
    for (const dir of [this.path, join(this.path, 'cards'), join(this.path, 'agreements')]) mkdirSync(dir, { recursive: true, mode: DIR_MODE })
    chmodSync(this.path, DIR_MODE) // mkdir leaves an existing (empty) directory's mode alone
    const secrets: NodeSecrets = {
      version: 2,
      seed: toBase64url(randomBytes(32)),
      boxSecret: toBase64url(randomBytes(32)),
      adminToken: newSecret(),
      smtpPassword,
    }
    writeJson(this.secretsPath, secrets)
    writeJson(this.adapterPath, newAdapterCredentials())
    writeJson(this.configPath, parsed.data)
    return this.keys()
  }

  /**
   * Makes the directory the node's user's alone before anything reads it: 0700 directories, 0600
   * files, and a umask so LevelDB creates its files 0600 too. Wrong modes are mended and named, so
   * the operator learns a backup or copy loosened them (D55); a mode that cannot be mended (a file
   * owned by another user) stops the node.
   */
  secure(): string[] {
    process.umask(UMASK)
    const mended: string[] = []
    const visit = (path: string, depth: number): void => {
      const stat = statSync(path)
      const want = stat.isDirectory() ? DIR_MODE : FILE_MODE
      const mode = stat.mode & 0o777
      if (stat.isDirectory() ? mode !== want : (mode & 0o077) !== 0) {
        try {
          chmodSync(path, want)
        } catch (error) {
          throw new DataDirError(
            `${path}: mode ${mode.toString(8)} lets other users in and cannot be changed (${(error as Error).message}); chmod ${want.toString(8)} it as its owner`,
          )
        }
        mended.push(`${path}: mode ${mode.toString(8).padStart(4, '0')} → ${want.toString(8).padStart(4, '0')}`)
      }
      // The layout is two levels deep (db/, cards/, agreements/); deeper is not ours to walk.
      if (stat.isDirectory() && depth < MAX_DEPTH) for (const entry of readdirSync(path)) visit(join(path, entry), depth + 1)
    }
    visit(this.path, 0)
    return mended
  }

  /** config.json with environment overrides (STANDIN_HTTP_PORT, STANDIN_HTTP_HOST, STANDIN_LOG_LEVEL). */
  config(env: NodeJS.ProcessEnv = process.env): NodeConfig {
    this.upgrade()
    const config = readJson(this.configPath, NodeConfig)
    const merged = {
      ...config,
      http: {
        ...config.http,
        ...(env.STANDIN_HTTP_HOST ? { host: env.STANDIN_HTTP_HOST } : {}),
        ...(env.STANDIN_HTTP_PORT ? { port: Number(env.STANDIN_HTTP_PORT) } : {}),
      },
      ...(env.STANDIN_LOG_LEVEL ? { logLevel: env.STANDIN_LOG_LEVEL } : {}),
    }
    const parsed = NodeConfig.safeParse(merged)
    if (!parsed.success) throw new DataDirError(`config (after STANDIN_* environment overrides): ${formatZodError(parsed.error)}`)
    return parsed.data
  }

  keys(): Keys {
    this.upgrade()
    const secrets = readJson(this.secretsPath, NodeSecrets)
    const adapter = readJson(this.adapterPath, AdapterCredentials)
    return {
      identity: identityFromSeed(fromBase64url(secrets.seed)),
      box: boxKeyPairFromSecret(fromBase64url(secrets.boxSecret)),
      previousBoxes: (secrets.previousBoxSecrets ?? []).map((s) => boxKeyPairFromSecret(fromBase64url(s))),
      secrets,
      adapter,
    }
  }

  /**
   * A secrets.json of version 1 held one adapter secret for every purpose. It is split without
   * changing what any party holds: adapter.json gets that secret for each purpose (so the shop's
   * adapter and its derived claim secrets keep working), and `standin secrets rotate` separates
   * them when the operator is ready.
   */
  private upgradeSecrets(): boolean {
    const raw = readJson(this.secretsPath, z.looseObject({ version: z.number() }))
    if (raw.version !== 1) return false
    const old = readJson(this.secretsPath, NodeSecretsV1)
    const same = old.adapterSecret
    if (!existsSync(this.adapterPath))
      writeJson(this.adapterPath, { version: 1, requestSecret: same, callbackSecret: same, claimKey: same } satisfies AdapterCredentials)
    writeJson(this.secretsPath, { version: 2, seed: old.seed, boxSecret: old.boxSecret, adminToken: old.adminToken, smtpPassword: null } satisfies NodeSecrets)
    return true
  }

  /**
   * Brings files written by older versions up to date; returns what it changed, for the node's
   * log. Runs before any read of config.json or secrets.json, and does nothing the second time.
   */
  upgrade(): string[] {
    // Not a node (no config.json): nothing to upgrade, and the reader's own error names the file.
    if (!this.exists()) return []
    const changed: string[] = []
    if (this.upgradeSecrets()) changed.push(`${this.secretsPath}: version 1 split into secrets.json and adapter.json (D53)`)
    const moved = this.moveSmtpPassword()
    if (moved !== null) changed.push(moved)
    return changed
  }

  /**
   * config.json's `smtp.password`, from before D59, moves to secrets.json `smtpPassword`:
   * secrets.json is written (and synced) first, then config.json without the field, so a crash
   * between the two leaves the password in both and the next start finishes the move.
   */
  private moveSmtpPassword(): string | null {
    const json = readJson(this.configPath, z.record(z.string(), z.unknown()))
    const smtp = json.smtp
    if (typeof smtp !== 'object' || smtp === null || !Object.hasOwn(smtp, 'password')) return null
    const { password, ...rest } = smtp as Record<string, unknown>
    const legacy = z.string().max(255).nullable().safeParse(password)
    if (!legacy.success)
      throw new DataDirError(
        `${this.configPath}: smtp.password: ${formatZodError(legacy.error)}; the SMTP password belongs in ${this.secretsPath} smtpPassword now`,
      )
    const moving = legacy.data === '' ? null : legacy.data
    if (moving !== null) {
      this.upgradeSecrets()
      const secrets = readJson(this.secretsPath, NodeSecrets)
      if (secrets.smtpPassword === null) writeJson(this.secretsPath, { ...secrets, smtpPassword: moving } satisfies NodeSecrets)
      else if (secrets.smtpPassword !== moving)
        throw new DataDirError(
          `${this.configPath}: smtp.password and ${this.secretsPath} smtpPassword hold different passwords; keep the right one in secrets.json smtpPassword and delete smtp.password from config.json`,
        )
    }
    writeJson(this.configPath, { ...json, smtp: rest })
    return moving === null
      ? `${this.configPath}: removed smtp.password (empty); the SMTP password is secrets.json smtpPassword now (D59)`
      : `${this.configPath}: moved smtp.password to ${this.secretsPath} smtpPassword (D59)`
  }

  /**
   * Replaces one secret with a fresh one; returns the file the new value is in. The admin token and
   * the request and callback secrets keep their old value in secrets.json until `untilMs` (the
   * grace: the node accepts both, ../config/rotating-secret.ts); `untilMs` null ends it at once. The
   * claim key has no grace: only the adapter uses it.
   */
  rotate(purpose: SecretPurpose, untilMs: number | null): string {
    const { secrets, adapter } = this.keys()
    if (purpose === 'box') {
      // The old box secret stays (partners sealed to it until they see our new card, D93).
      const previousBoxSecrets = [secrets.boxSecret, ...(secrets.previousBoxSecrets ?? [])].slice(0, MAX_PREVIOUS_BOX_SECRETS)
      writeJson(this.secretsPath, { ...secrets, boxSecret: toBase64url(randomBytes(32)), previousBoxSecrets } satisfies NodeSecrets)
      return this.secretsPath
    }
    const previous = (value: string) => (untilMs === null ? undefined : { value, untilMs })
    if (purpose === 'admin') {
      writeJson(this.secretsPath, { ...secrets, adminToken: newSecret(), previousAdminToken: previous(secrets.adminToken) } satisfies NodeSecrets)
      return this.secretsPath
    }
    if (purpose === 'request') writeJson(this.secretsPath, { ...secrets, previousRequestSecret: previous(adapter.requestSecret) } satisfies NodeSecrets)
    if (purpose === 'callback') writeJson(this.secretsPath, { ...secrets, previousCallbackSecret: previous(adapter.callbackSecret) } satisfies NodeSecrets)
    const field = ({ request: 'requestSecret', callback: 'callbackSecret', claim: 'claimKey' } as const)[purpose]
    writeJson(this.adapterPath, { ...adapter, [field]: newSecret() } satisfies AdapterCredentials)
    return this.adapterPath
  }

  /** Where the store of an identity this node handed over stays (D99). */
  retiredDbPath(id: string): string {
    return join(this.path, `db-${id}`)
  }

  /**
   * The identity this shop hands its place to (D99): made by the first `standin identity rotate`
   * and kept in secrets.json until the handover takes force; the same one while it waits.
   */
  successorIdentity(): Identity {
    const { secrets } = this.keys()
    if (secrets.successorSeed) return identityFromSeed(fromBase64url(secrets.successorSeed))
    const successorSeed = toBase64url(randomBytes(32))
    writeJson(this.secretsPath, { ...secrets, successorSeed } satisfies NodeSecrets)
    return identityFromSeed(fromBase64url(successorSeed))
  }

  /**
   * The handover in force (D99): the successor's seed becomes the identity (and keys the store),
   * the old seed is kept beside the id it was, and the old store moves aside to db-<old id>/, so
   * the successor starts on an empty one. secrets.json is written and synced first; a start that
   * finds the newest predecessor's store not yet moved moves it, so a crash between the two steps
   * ends the same way. Returns the id handed over.
   */
  handOver(nowMs: number): string {
    const { secrets, identity } = this.keys()
    const { successorSeed, ...rest } = secrets
    if (!successorSeed) throw new DataDirError('no successor identity to hand over to (`standin identity rotate` makes one)')
    // The moved store is the marker that the handover finished: one that never ran gets an empty one.
    if (!existsSync(this.dbPath)) mkdirSync(this.dbPath, { mode: DIR_MODE })
    const predecessors = [{ id: identity.id, seed: secrets.seed, retiredAt: nowMs }, ...(secrets.predecessors ?? [])].slice(0, MAX_PREDECESSORS)
    writeJson(this.secretsPath, { ...rest, seed: successorSeed, predecessors } satisfies NodeSecrets)
    this.finishHandover()
    return identity.id
  }

  /** Moves the newest predecessor's store aside if its handover stopped before that; returns where to, or null. */
  finishHandover(): string | null {
    this.upgrade()
    const last = readJson(this.secretsPath, NodeSecrets).predecessors?.[0]
    if (!last) return null
    const aside = this.retiredDbPath(last.id)
    if (existsSync(aside) || !existsSync(this.dbPath)) return null
    renameSync(this.dbPath, aside)
    syncDir(this.path)
    return aside
  }

  saveCard(card: Signed<ShopCard>): void {
    const verified = verifyDocument('shop-card', card)
    if (!verified.ok) throw new DataDirError(`shop card: ${verified.error.message}`)
    writeJson(join(this.path, 'cards', `${card.body.id}.json`), card)
  }

  /** The card held for `id` (ours included), if any. */
  cardOf(id: string): Signed<ShopCard> | undefined {
    const path = join(this.path, 'cards', `${id}.json`)
    return existsSync(path) ? readJson(path, SignedShopCard) : undefined
  }

  cards(): Signed<ShopCard>[] {
    const dir = join(this.path, 'cards')
    if (!existsSync(dir)) return []
    return readdirSync(dir)
      .filter((f) => f.endsWith('.json'))
      .map((f) => readJson(join(dir, f), SignedShopCard))
  }

  /** Stores an agreement, merging signatures with any copy we already hold. */
  saveAgreement(agreement: Agreement): Agreement {
    const hash = termsHash(agreement.terms)
    const path = join(this.path, 'agreements', `${hash}.json`)
    const held = existsSync(path) ? readJson(path, AgreementSchema) : null
    const signatures = [...(held?.signatures ?? [])]
    for (const s of agreement.signatures) if (!signatures.some((h) => h.signer === s.signer)) signatures.push(s)
    const merged = { terms: agreement.terms, signatures }
    const verified = verifyAgreement(merged)
    if (!verified.ok) throw new DataDirError(`agreement: ${verified.error.message}`)
    writeJson(path, merged)
    return merged
  }

  agreements(): StoredAgreement[] {
    const dir = join(this.path, 'agreements')
    if (!existsSync(dir)) return []
    const files = readdirSync(dir).filter((f) => f.endsWith('.json'))
    for (const f of this.readAgreements.keys()) if (!files.includes(f)) this.readAgreements.delete(f)
    return files.map((f) => {
      const path = join(dir, f)
      const text = readText(path)
      const cached = this.readAgreements.get(f)
      if (cached?.text === text) return cached.held
      const agreement = parseJson(path, text, AgreementSchema)
      const verified = verifyAgreement(agreement)
      if (!verified.ok) throw new DataDirError(`${f}: ${verified.error.message}`)
      const held = { hash: verified.value.hash, agreement, missing: verified.value.missing }
      this.readAgreements.set(f, { text, held })
      return held
    })
  }

  /** The agreement in force for `me` at `nowMs`: naming it, signed by every party, not expired, highest revision. */
  agreementInForce(nowMs: number, me: string): Agreement | null {
    const complete = this.agreements().filter((a) => a.missing.length === 0 && a.agreement.terms.expiresAt > nowMs && a.agreement.terms.parties.includes(me))
    complete.sort((a, b) => b.agreement.terms.revision - a.agreement.terms.revision || b.agreement.terms.createdAt - a.agreement.terms.createdAt)
    return complete[0]?.agreement ?? null
  }
}
