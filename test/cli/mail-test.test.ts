// `standin mail test <address>` as a real process against real SMTP servers on 127.0.0.1: it sends
// through the configured relay with the node's TLS policy (docs/decisions.md D58) and the password
// from secrets.json (D59), says what the relay answered or why nothing was sent, exits 0 only when
// the relay took the message, and never prints the password.
import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { type Sink, startSink } from '../mail/sink.js'
import { makeCertificate, type TestCertificate } from '../mail/tls-cert.js'

const BIN = fileURLToPath(new URL('../../bin/standin.js', import.meta.url))
const USER = 'relay-user'
const PASSWORD = 'relay-pass-5Qe9'
const TO = 'owner@moon.example'

interface Run {
  code: number
  stdout: string
  stderr: string
}

function standin(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { timeout: 30_000, env: { ...process.env, ...env } }, (error, stdout, stderr) => {
      resolve({ code: error ? Number(error.code ?? -1) : 0, stdout, stderr })
    })
  })
}

let certificate: TestCertificate
beforeAll(async () => {
  certificate = await makeCertificate()
})
afterAll(() => certificate.remove())

const cleanup: (() => Promise<void>)[] = []
afterEach(async () => {
  while (cleanup.length > 0) await cleanup.pop()?.()
})

async function sink(options: Parameters<typeof startSink>[0]): Promise<Sink> {
  const s = await startSink(options)
  cleanup.push(() => s.close())
  return s
}

/** A node made by `standin init` with a relay login, its password given the way init takes it. */
async function initNode(port: number): Promise<string> {
  const dir = join(mkdtempSync(join(tmpdir(), 'standin-mail-')), 'node')
  const init = await standin(['init', '-d', dir, '-n', 'Moon Shop', '--smtp', `127.0.0.1:${port}`, '--smtp-user', USER], {
    STANDIN_SMTP_PASSWORD: PASSWORD,
  })
  expect(init.code).toBe(0)
  expect(init.stdout).toContain(`mail relay:     127.0.0.1:${port}, STARTTLS if the relay offers it`)
  expect(init.stdout).toContain('standin mail test')
  expect(init.stdout).not.toContain(PASSWORD)
  return dir
}

function editSmtp(dir: string, fields: Record<string, unknown>): void {
  const path = join(dir, 'config.json')
  const config = JSON.parse(readFileSync(path, 'utf8'))
  writeFileSync(path, JSON.stringify({ ...config, smtp: { ...config.smtp, ...fields } }, null, 2))
}

const printed = (run: Run) => run.stdout + run.stderr

/** Each case runs the CLI several times (about 2 s each, more on a busy machine); each run is bounded by its own timeout. */
const CASE_TIMEOUT_MS = 150_000

describe('standin mail test', () => {
  it(
    'a plain loopback relay: sent, with the password from secrets.json; then refused once requireTls is on',
    async () => {
      const s = await sink({ credentials: { user: USER, password: PASSWORD } })
      const dir = await initNode(s.port)
      expect(readFileSync(join(dir, 'config.json'), 'utf8')).not.toContain(PASSWORD)

      const sent = await standin(['mail', 'test', TO, '-d', dir, '--locale', 'en'])
      expect(sent.code).toBe(0)
      expect(sent.stdout).toMatch(new RegExp(`^sent: 127\\.0\\.0\\.1:${s.port} accepted the test message to ${TO}: 250 `))
      expect(sent.stdout).toContain(`relay login:    ${USER} (password in secrets.json smtpPassword)`)
      expect(printed(sent)).not.toContain(PASSWORD)
      expect(s.auths).toEqual([{ user: USER, password: PASSWORD, secure: false }])
      expect(s.received).toHaveLength(1)
      expect(s.received[0]?.to).toEqual([TO])
      expect(s.received[0]?.mail.subject).toBe('Standin test message from Moon Shop')
      expect(s.received[0]?.mail.headers.get('auto-submitted')).toBe('auto-generated')

      // Chinese by default, like the node's other mail.
      const zh = await standin(['mail', 'test', TO, '-d', dir])
      expect(zh.code).toBe(0)
      expect(s.received[1]?.mail.subject).toBe('「Moon Shop」的 Standin 测试邮件')

      // The relay offers no STARTTLS: with requireTls on, nothing is sent, not even the login.
      editSmtp(dir, { requireTls: true })
      const refused = await standin(['mail', 'test', TO, '-d', dir])
      expect(refused.code).toBe(1)
      expect(refused.stdout).toBe('')
      expect(refused.stderr).toMatch(
        /^not sent: the relay does not offer STARTTLS and smtp\.requireTls is on, so nothing was sent in the clear \(the relay said: 5\d\d /,
      )
      expect(refused.stderr).toContain('STARTTLS required (smtp.requireTls)')
      expect(printed(refused)).not.toContain(PASSWORD)
      expect(s.received).toHaveLength(2)
      expect(s.auths).toHaveLength(2)
    },
    CASE_TIMEOUT_MS,
  )

  it(
    'a relay with STARTTLS: sent inside TLS once its CA is pinned; refused with the reason before that',
    async () => {
      const s = await sink({ credentials: { user: USER, password: PASSWORD }, tls: { key: certificate.key, cert: certificate.cert } })
      const dir = await initNode(s.port)
      editSmtp(dir, { requireTls: true })

      const untrusted = await standin(['mail', 'test', TO, '-d', dir])
      expect(untrusted.code).toBe(1)
      expect(untrusted.stderr).toMatch(/^not sent: the relay's TLS certificate is not trusted: .*self-signed certificate.*set smtp\.tlsCaFile/)
      expect(s.auths).toHaveLength(0)
      expect(s.received).toHaveLength(0)

      editSmtp(dir, { tlsCaFile: certificate.certFile })
      const sent = await standin(['mail', 'test', TO, '-d', dir])
      expect(sent.code).toBe(0)
      expect(sent.stdout).toMatch(/^sent: .* 250 /)
      expect(printed(sent)).not.toContain(PASSWORD)
      expect(s.auths).toEqual([{ user: USER, password: PASSWORD, secure: true }])
      expect(s.received.map((r) => r.secure)).toEqual([true])
    },
    CASE_TIMEOUT_MS,
  )

  it(
    'a wrong address, no relay, or a login without its password: exit 2 with the reason, nothing sent',
    async () => {
      const dir = join(mkdtempSync(join(tmpdir(), 'standin-mail-')), 'node')
      expect((await standin(['init', '-d', dir, '-n', 'Moon Shop'])).code).toBe(0)
      const bad = await standin(['mail', 'test', 'not-an-address', '-d', dir])
      expect(bad.code).toBe(2)
      expect(bad.stderr).toMatch(/arguments: to: /)
      const none = await standin(['mail', 'test', TO, '-d', dir])
      expect(none.code).toBe(2)
      expect(none.stderr).toMatch(/smtp is null, no relay is configured/)
      // A login whose password is not in secrets.json: said before anything connects.
      editSmtp(dir, { host: '127.0.0.1', port: 1, secure: false, user: USER, from: 'Moon Shop <noreply@moon.example>' })
      const noPassword = await standin(['mail', 'test', TO, '-d', dir])
      expect(noPassword.code).toBe(2)
      expect(noPassword.stderr).toMatch(/smtp\.user is relay-user but secrets\.json smtpPassword is null/)
    },
    CASE_TIMEOUT_MS,
  )
})
