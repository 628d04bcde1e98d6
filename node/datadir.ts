// The node's data directory: config.json, secrets.json (0600), cards/, agreements/, db/.
// Every file is parsed with its protocol schema; errors name the file, field and reason.
import { randomBytes } from 'node:crypto'
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import writeFileAtomic from 'write-file-atomic'
import type { z } from 'zod'
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
import { NodeConfig, NodeSecrets } from './config/schema.js'

export class DataDirError extends Error {}

export interface Keys {
  readonly identity: Identity
  readonly box: BoxKeyPair
  readonly secrets: NodeSecrets
}

function readJson<S extends z.ZodType>(path: string, schema: S): z.infer<S> {
  let json: unknown
  try {
    json = JSON.parse(readFileSync(path, 'utf8'))
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
function writeJson(path: string, value: unknown, mode = 0o644): void {
  writeFileAtomic.sync(path, `${JSON.stringify(value, null, 2)}\n`, { mode, fsync: true })
  // write-file-atomic syncs the file, not the directory entry the rename changed.
  const dir = openSync(dirname(path), 'r')
  try {
    fsyncSync(dir)
  } finally {
    closeSync(dir)
  }
}

export class DataDir {
  constructor(readonly path: string) {}

  get configPath(): string {
    return join(this.path, 'config.json')
  }

  get dbPath(): string {
    return join(this.path, 'db')
  }

  exists(): boolean {
    return existsSync(this.configPath)
  }

  /** Creates a new node: fresh identity, box key and secrets. Refuses to overwrite one. */
  init(config: NodeConfig): Keys {
    if (this.exists()) throw new DataDirError(`${this.path} already holds a node (config.json exists)`)
    const parsed = NodeConfig.safeParse(config)
    if (!parsed.success) throw new DataDirError(`config: ${formatZodError(parsed.error)}`)
    for (const dir of [this.path, join(this.path, 'cards'), join(this.path, 'agreements')]) mkdirSync(dir, { recursive: true })
    const secrets: NodeSecrets = {
      version: 1,
      seed: toBase64url(randomBytes(32)),
      boxSecret: toBase64url(randomBytes(32)),
      adminToken: randomBytes(24).toString('base64url'),
      adapterSecret: randomBytes(32).toString('base64url'),
    }
    writeJson(join(this.path, 'secrets.json'), secrets, 0o600)
    writeJson(this.configPath, parsed.data)
    return this.keys()
  }

  /** config.json with environment overrides (STANDIN_HTTP_PORT, STANDIN_HTTP_HOST, STANDIN_LOG_LEVEL). */
  config(env: NodeJS.ProcessEnv = process.env): NodeConfig {
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
    const secrets = readJson(join(this.path, 'secrets.json'), NodeSecrets)
    return { identity: identityFromSeed(fromBase64url(secrets.seed)), box: boxKeyPairFromSecret(fromBase64url(secrets.boxSecret)), secrets }
  }

  saveCard(card: Signed<ShopCard>): void {
    const verified = verifyDocument('shop-card', card)
    if (!verified.ok) throw new DataDirError(`shop card: ${verified.error.message}`)
    writeJson(join(this.path, 'cards', `${card.body.id}.json`), card)
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

  agreements(): { hash: string; agreement: Agreement; missing: readonly string[] }[] {
    const dir = join(this.path, 'agreements')
    if (!existsSync(dir)) return []
    return readdirSync(dir)
      .filter((f) => f.endsWith('.json'))
      .map((f) => {
        const agreement = readJson(join(dir, f), AgreementSchema)
        const verified = verifyAgreement(agreement)
        if (!verified.ok) throw new DataDirError(`${f}: ${verified.error.message}`)
        return { hash: verified.value.hash, agreement, missing: verified.value.missing }
      })
  }

  /** The agreement in force at `nowMs`: signed by every party, not expired, highest revision. */
  agreementInForce(nowMs: number): Agreement | null {
    const complete = this.agreements().filter((a) => a.missing.length === 0 && a.agreement.terms.expiresAt > nowMs)
    complete.sort((a, b) => b.agreement.terms.revision - a.agreement.terms.revision || b.agreement.terms.createdAt - a.agreement.terms.createdAt)
    return complete[0]?.agreement ?? null
  }
}
