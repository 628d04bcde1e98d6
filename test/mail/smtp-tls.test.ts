// The relay's TLS policy (docs/decisions.md D58) against real SMTP servers on 127.0.0.1: with
// smtp.requireTls a relay without STARTTLS gets nothing (no AUTH, no message), a relay with STARTTLS
// and a pinned CA gets the login only inside TLS, and a plain loopback relay still works by default.
// Tests may only reach 127.0.0.0/8, so "not loopback" is played by an explicit requireTls: true.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { isLoopbackHost, SmtpConfig } from '../../node/config/schema.js'
import type { Logger } from '../../node/core/ports.js'
import { createSmtpMailer, sendOnce, smtpTransportOptions } from '../../node/mail/index.js'
import { type Sink, startSink } from './sink.js'
import { makeCertificate, type TestCertificate } from './tls-cert.js'

const USER = 'relay-user'
const PASSWORD = 'relay-pass-5Qe9'

const silent: Logger = { debug() {}, info() {}, warn() {}, error() {} }

const message = { to: 'buyer@example.com', subject: 'Order 42', text: 'CARD-KEY-7F3A\n' }

/** config.json's smtp as an operator writes it, parsed the way the node parses it. */
const smtp = (port: number, fields: Record<string, unknown> = {}) =>
  SmtpConfig.parse({ host: '127.0.0.1', port, secure: false, user: null, from: 'Moon Shop <noreply@moon.example>', ...fields })

let certificate: TestCertificate
beforeAll(async () => {
  certificate = await makeCertificate()
})
afterAll(() => certificate.remove())

const cleanup: (() => Promise<void>)[] = []
afterEach(async () => {
  while (cleanup.length > 0) await cleanup.pop()?.()
})

async function sink(options: Parameters<typeof startSink>[0] = {}): Promise<Sink> {
  const s = await startSink(options)
  cleanup.push(() => s.close())
  return s
}

describe('smtp.requireTls: its default and what it may not be', () => {
  it.each(['127.0.0.1', '127.8.9.10', '::1', '[::1]', '0:0:0:0:0:0:0:1', '::ffff:127.0.0.1', 'localhost', 'LOCALHOST'])('%s is loopback', (host) => {
    expect(isLoopbackHost(host)).toBe(true)
  })

  it.each(['10.0.0.1', '128.0.0.1', '192.168.1.1', 'smtp.example.com', 'localhost.example.com', '::ffff:10.0.0.1', '::2'])('%s is not loopback', (host) => {
    expect(isLoopbackHost(host)).toBe(false)
  })

  it('absent: on for a relay elsewhere, off on loopback; explicit values are kept', () => {
    expect(smtp(25, { host: 'smtp.example.com' }).requireTls).toBe(true)
    expect(smtp(25, { host: '10.1.2.3' }).requireTls).toBe(true)
    expect(smtp(25).requireTls).toBe(false)
    expect(smtp(25, { host: 'localhost' }).requireTls).toBe(false)
    expect(smtp(25, { requireTls: true }).requireTls).toBe(true)
    expect(smtp(25, { host: 'smtp.example.com', requireTls: false }).requireTls).toBe(false)
    expect(smtp(25).tlsCaFile).toBeNull()
  })

  it('off with a login to a relay elsewhere is refused: the password would cross the network in the clear', () => {
    const parsed = SmtpConfig.safeParse({ host: 'smtp.example.com', port: 587, secure: false, user: USER, from: 'a@b.example', requireTls: false })
    expect(parsed.success).toBe(false)
    expect(parsed.error?.issues[0]?.path).toEqual(['requireTls'])
    expect(parsed.error?.issues[0]?.message).toMatch(/password in the clear/)
    // TLS from the first byte, no login, or a loopback relay: nothing crosses a network in the clear.
    expect(smtp(465, { host: 'smtp.example.com', user: USER, requireTls: false, secure: true }).requireTls).toBe(false)
    expect(smtp(25, { host: 'smtp.example.com', requireTls: false }).user).toBeNull()
    expect(smtp(25, { user: USER, requireTls: false }).user).toBe(USER)
  })

  it('the password is not a config.json field any more, and tlsCaFile must be absolute', () => {
    expect(SmtpConfig.safeParse({ host: 'a', port: 25, secure: false, user: null, from: 'a@b.example', password: 'x' }).success).toBe(false)
    expect(SmtpConfig.safeParse({ host: 'a', port: 25, secure: false, user: null, from: 'a@b.example', tlsCaFile: 'ca.pem' }).success).toBe(false)
  })

  it('nodemailer is told to require STARTTLS exactly when the policy says so', () => {
    expect(smtpTransportOptions(smtp(587, { requireTls: true }), null)).toMatchObject({ secure: false, requireTLS: true })
    expect(smtpTransportOptions(smtp(465, { requireTls: true, secure: true }), null)).toMatchObject({ secure: true, requireTLS: false })
    expect(smtpTransportOptions(smtp(25), null)).toMatchObject({ secure: false, requireTLS: false })
    expect(smtpTransportOptions(smtp(25), null)).not.toHaveProperty('ignoreTLS')
  })

  it('a login without its password in secrets.json is refused before anything connects', () => {
    expect(() => createSmtpMailer(smtp(25, { user: USER }), null, silent)).toThrow(/smtp\.user is relay-user but secrets\.json smtpPassword is null/)
  })
})

describe('a relay that does not offer STARTTLS', () => {
  it('requireTls: the message is refused and the relay received no login and no message', async () => {
    const s = await sink({ credentials: { user: USER, password: PASSWORD } })
    const mailer = createSmtpMailer(smtp(s.port, { user: USER, requireTls: true }), PASSWORD, silent)
    cleanup.push(() => mailer.close())
    await expect(mailer.send(message)).rejects.toMatchObject({ code: 'ETLS', command: 'STARTTLS' })
    expect(s.received).toHaveLength(0)
    expect(s.auths).toHaveLength(0)
  })

  it('on loopback with the default config: delivered in plain SMTP (a local sink, the demo)', async () => {
    const s = await sink()
    const config = smtp(s.port)
    expect(config.requireTls).toBe(false)
    await expect(sendOnce(config, null, message)).resolves.toMatchObject({ response: expect.stringMatching(/^250/) })
    expect(s.received).toHaveLength(1)
    expect(s.received[0]?.secure).toBe(false)
  })
})

describe('a relay that offers STARTTLS', () => {
  it('requireTls with its CA pinned: delivered, and the login and the message came only inside TLS', async () => {
    const s = await sink({ credentials: { user: USER, password: PASSWORD }, tls: { key: certificate.key, cert: certificate.cert } })
    const mailer = createSmtpMailer(smtp(s.port, { user: USER, requireTls: true, tlsCaFile: certificate.certFile }), PASSWORD, silent)
    cleanup.push(() => mailer.close())
    await mailer.send(message)
    expect(s.received).toHaveLength(1)
    expect(s.received[0]?.secure).toBe(true)
    expect(s.received[0]?.user).toBe(USER)
    expect(s.auths).toEqual([{ user: USER, password: PASSWORD, secure: true }])
  })

  it('a certificate nobody pinned is not trusted: refused before the login', async () => {
    const s = await sink({ credentials: { user: USER, password: PASSWORD }, tls: { key: certificate.key, cert: certificate.cert } })
    await expect(sendOnce(smtp(s.port, { user: USER, requireTls: true }), PASSWORD, message)).rejects.toMatchObject({
      message: expect.stringMatching(/self-signed certificate/),
    })
    expect(s.received).toHaveLength(0)
    expect(s.auths).toHaveLength(0)
  })

  it('on loopback without requireTls, STARTTLS is still taken when offered', async () => {
    const s = await sink({ tls: { key: certificate.key, cert: certificate.cert } })
    await sendOnce(smtp(s.port, { tlsCaFile: certificate.certFile }), null, message)
    expect(s.received[0]?.secure).toBe(true)
  })

  it('a tlsCaFile that is missing or not a certificate stops the mailer with the field named', () => {
    expect(() => createSmtpMailer(smtp(25, { tlsCaFile: '/nonexistent/ca.pem' }), null, silent)).toThrow(/smtp\.tlsCaFile \/nonexistent\/ca\.pem: ENOENT/)
    expect(() => createSmtpMailer(smtp(25, { tlsCaFile: '/etc/hostname' }), null, silent)).toThrow(/holds no PEM certificate/)
  })
})
