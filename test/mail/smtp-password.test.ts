// The relay's password lives in secrets.json (0600) as smtpPassword, never in config.json
// (docs/decisions.md D59): init writes it there, a config.json from before moves it there at the
// first read, and the node's mailer logs in with what secrets.json holds.
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import type { NodeConfigFile } from '../../node/config/schema.js'
import type { Logger } from '../../node/core/ports.js'
import { DataDir, DataDirError } from '../../node/datadir.js'
import { createSmtpMailer } from '../../node/mail/index.js'
import { type Sink, startSink } from './sink.js'

const USER = 'relay-user'
const PASSWORD = 'relay-pass-5Qe9'
const silent: Logger = { debug() {}, info() {}, warn() {}, error() {} }

const nodeConfig = (port: number, user: string | null): NodeConfigFile => ({
  version: 1,
  name: 'Moon Shop',
  p2p: { listen: ['/ip4/127.0.0.1/tcp/4001'], announce: ['/ip4/127.0.0.1/tcp/4001'], dialOverrides: {} },
  http: { host: '127.0.0.1', port: 8080, publicUrl: 'http://127.0.0.1:8080', adminAllowRemote: false },
  smtp: { host: '127.0.0.1', port, secure: false, user, from: 'Moon Shop <noreply@moon.example>' },
  adapter: { callbackUrl: null },
  logLevel: 'info',
})

const newDir = () => new DataDir(join(mkdtempSync(join(tmpdir(), 'standin-smtp-')), 'node'))
const readJson = (path: string) => JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>
const mode = (path: string) => statSync(path).mode & 0o777

/** A config.json as nodes before D59 wrote it: the password beside the user. */
function writeLegacyPassword(dir: DataDir, password: string | null): void {
  const config = readJson(dir.configPath)
  writeFileSync(dir.configPath, JSON.stringify({ ...config, smtp: { ...(config.smtp as object), password } }, null, 2), { mode: 0o600 })
}

const cleanup: (() => Promise<void>)[] = []
afterEach(async () => {
  while (cleanup.length > 0) await cleanup.pop()?.()
})

async function sink(): Promise<Sink> {
  const s = await startSink({ credentials: { user: USER, password: PASSWORD } })
  cleanup.push(() => s.close())
  return s
}

describe('the SMTP password in secrets.json', () => {
  it('init writes it to secrets.json only; the mailer logs in with it', async () => {
    const s = await sink()
    const dir = newDir()
    dir.init(nodeConfig(s.port, USER), PASSWORD)
    expect(readFileSync(dir.configPath, 'utf8')).not.toContain(PASSWORD)
    expect(readJson(dir.configPath).smtp).not.toHaveProperty('password')
    expect(readJson(dir.secretsPath).smtpPassword).toBe(PASSWORD)
    expect(mode(dir.secretsPath)).toBe(0o600)

    const config = dir.config()
    const mailer = createSmtpMailer(config.smtp!, dir.keys().secrets.smtpPassword, silent)
    cleanup.push(() => mailer.close())
    await mailer.send({ to: 'buyer@example.com', subject: 's', text: 't' })
    expect(s.auths).toEqual([{ user: USER, password: PASSWORD, secure: false }])
    expect(s.received[0]?.user).toBe(USER)
  })

  it('a config.json from before moves smtp.password to secrets.json at the first read, and the rest of the file stays as it was', async () => {
    const s = await sink()
    const dir = newDir()
    dir.init(nodeConfig(s.port, USER))
    expect(readJson(dir.secretsPath).smtpPassword).toBeNull()
    writeLegacyPassword(dir, PASSWORD)
    const before = readJson(dir.configPath)

    expect(dir.upgrade()).toEqual([`${dir.configPath}: moved smtp.password to ${dir.secretsPath} smtpPassword (D59)`])
    expect(readFileSync(dir.configPath, 'utf8')).not.toContain(PASSWORD)
    const after = readJson(dir.configPath)
    expect(after).toEqual({ ...before, smtp: { ...(before.smtp as object), password: undefined } })
    expect(Object.keys(after)).toEqual(Object.keys(before))
    expect(readJson(dir.secretsPath).smtpPassword).toBe(PASSWORD)
    expect([mode(dir.configPath), mode(dir.secretsPath)]).toEqual([0o600, 0o600])
    expect(dir.upgrade()).toEqual([])

    const mailer = createSmtpMailer(dir.config().smtp!, dir.keys().secrets.smtpPassword, silent)
    cleanup.push(() => mailer.close())
    await mailer.send({ to: 'buyer@example.com', subject: 's', text: 't' })
    expect(s.auths.map((a) => a.password)).toEqual([PASSWORD])
  })

  it('config() alone migrates, so no reader ever sees the old field', () => {
    const dir = newDir()
    dir.init(nodeConfig(2525, USER))
    writeLegacyPassword(dir, PASSWORD)
    expect(dir.config().smtp?.user).toBe(USER)
    expect(readJson(dir.secretsPath).smtpPassword).toBe(PASSWORD)
    expect(readJson(dir.configPath).smtp).not.toHaveProperty('password')
  })

  it('a crash between the two writes is finished at the next read (the password already in both)', () => {
    const dir = newDir()
    dir.init(nodeConfig(2525, USER), PASSWORD)
    writeLegacyPassword(dir, PASSWORD)
    expect(dir.upgrade()).toHaveLength(1)
    expect(readJson(dir.configPath).smtp).not.toHaveProperty('password')
    expect(readJson(dir.secretsPath).smtpPassword).toBe(PASSWORD)
  })

  it('a null or empty old password is dropped without touching secrets.json', () => {
    for (const old of [null, '']) {
      const dir = newDir()
      dir.init(nodeConfig(2525, null))
      writeLegacyPassword(dir, old)
      expect(dir.upgrade()[0]).toMatch(/removed smtp\.password \(empty\)/)
      expect(readJson(dir.configPath).smtp).not.toHaveProperty('password')
      expect(readJson(dir.secretsPath).smtpPassword).toBeNull()
    }
  })

  it('two different passwords are not chosen between: the error names both fields and nothing changes', () => {
    const dir = newDir()
    dir.init(nodeConfig(2525, USER), PASSWORD)
    writeLegacyPassword(dir, 'another-password')
    const config = readFileSync(dir.configPath, 'utf8')
    expect(() => dir.config()).toThrow(DataDirError)
    expect(() => dir.config()).toThrow(/smtp\.password and .*secrets\.json smtpPassword hold different passwords/)
    expect(readFileSync(dir.configPath, 'utf8')).toBe(config)
    expect(readJson(dir.secretsPath).smtpPassword).toBe(PASSWORD)
  })

  it('a version-1 secrets.json and an old config.json are both brought up to date', () => {
    const dir = newDir()
    dir.init(nodeConfig(2525, USER))
    const secrets = readJson(dir.secretsPath)
    const v1 = { version: 1, seed: secrets.seed, boxSecret: secrets.boxSecret, adminToken: secrets.adminToken, adapterSecret: 'a'.repeat(43) }
    writeFileSync(dir.secretsPath, JSON.stringify(v1), { mode: 0o600 })
    writeLegacyPassword(dir, PASSWORD)
    expect(dir.upgrade()).toHaveLength(2)
    expect(readJson(dir.secretsPath)).toMatchObject({ version: 2, smtpPassword: PASSWORD, adminToken: secrets.adminToken })
  })
})
