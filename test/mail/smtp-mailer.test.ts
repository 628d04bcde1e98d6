// The SMTP mailer against a real SMTP server on loopback: what arrives, and that every failure
// reaches the caller (the engine retries) instead of being swallowed.
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { deliveryEmail } from '../../node/core/delivery-mail.js'
import type { Logger } from '../../node/core/ports.js'
import { createNullMailer, createSmtpMailer, SMTP_LIMITS } from '../../node/mail/index.js'
import { SMTP_DEFAULT_CONNECTIONS, SMTP_MAX_CONNECTIONS, SmtpConfig } from '../../node/config/schema.js'
import { type Sink, startSink } from './sink.js'

const KEY = 'CARD-KEY-7F3A-99QX'

interface Line {
  level: string
  fields: Record<string, unknown>
  message: string
}

function recordingLogger(): Logger & { lines: Line[] } {
  const lines: Line[] = []
  const at = (level: string) => (fields: Record<string, unknown>, message: string) => void lines.push({ level, fields, message })
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') }
}

const config = (port: number, overrides: Partial<SmtpConfig> = {}): SmtpConfig => ({
  host: '127.0.0.1',
  port,
  secure: false,
  user: null,
  from: 'Moon Shop <noreply@moon.example>',
  requireTls: false,
  tlsCaFile: null,
  maxConnections: SMTP_DEFAULT_CONNECTIONS,
  maxMessagesPerSecond: null,
  ...overrides,
})

const message = (locale: 'zh-CN' | 'en' = 'en') =>
  deliveryEmail({
    locale,
    to: 'buyer@example.com',
    originName: 'Star Digital',
    fulfillerName: 'Moon Shop',
    order: 'order-42',
    keys: [KEY],
    claimUrl: 'https://moon.example/claim',
  })

const cleanup: (() => Promise<void>)[] = []
afterEach(async () => {
  while (cleanup.length > 0) await cleanup.pop()?.()
})

async function sink(options: Parameters<typeof startSink>[0] = {}): Promise<Sink> {
  const s = await startSink(options)
  cleanup.push(() => s.close())
  return s
}

function mailer(...args: Parameters<typeof createSmtpMailer>) {
  const m = createSmtpMailer(...args)
  cleanup.push(() => m.close())
  return m
}

describe('createSmtpMailer', () => {
  it('has named, bounded timeouts; config.json smtp without pool settings gets a small pool and no rate limit', () => {
    expect(SMTP_LIMITS.connectionTimeoutMs).toBeGreaterThan(0)
    expect(SMTP_LIMITS.greetingTimeoutMs).toBeGreaterThan(0)
    expect(SMTP_LIMITS.socketTimeoutMs).toBeGreaterThan(0)
    const parsed = SmtpConfig.parse({ host: '127.0.0.1', port: 25, secure: false, user: null, from: 'a@b.example' })
    expect(parsed.maxConnections).toBe(SMTP_DEFAULT_CONNECTIONS)
    expect(parsed.maxConnections).toBeLessThanOrEqual(5)
    expect(parsed.maxMessagesPerSecond).toBeNull()
  })

  it.each([
    [{ maxConnections: 0 }, 'maxConnections'],
    [{ maxConnections: SMTP_MAX_CONNECTIONS + 1 }, 'maxConnections'],
    [{ maxMessagesPerSecond: 0 }, 'maxMessagesPerSecond'],
    [{ maxMessagesPerSecond: 1.5 }, 'maxMessagesPerSecond'],
  ])('config.json smtp %j is refused, naming the field', (fields, field) => {
    const parsed = SmtpConfig.safeParse({ host: '127.0.0.1', port: 25, secure: false, user: null, from: 'a@b.example', ...fields })
    expect(parsed.success).toBe(false)
    expect(parsed.error?.issues[0]?.path).toEqual([field])
  })

  it('smtp.maxMessagesPerSecond: the relay gets no more messages than that in a second', async () => {
    const s = await sink()
    const m = mailer(config(s.port, { maxMessagesPerSecond: 1 }), null, recordingLogger())
    await Promise.all([1, 2, 3].map((i) => m.send({ ...message(), to: `buyer${i}@example.com` })))
    const at = s.received.map((r) => r.at).sort((x, y) => x - y)
    expect(at).toHaveLength(3)
    // A limiter can only spread messages out, however slow the machine: one per 1,000 ms window,
    // less the jitter between handing a message to its connection and the relay taking it.
    expect((at[2] as number) - (at[0] as number)).toBeGreaterThanOrEqual(1_500)
  })

  it.each(['en', 'zh-CN'] as const)('%s: the sink receives the message with the recipient, subject and key', async (locale) => {
    const s = await sink()
    const logger = recordingLogger()
    const m = mailer(config(s.port), null, logger)
    const sent = message(locale)
    await m.send(sent)

    expect(s.received).toHaveLength(1)
    const got = s.received[0]!
    expect(got.to).toEqual(['buyer@example.com'])
    expect(got.from).toBe('noreply@moon.example')
    const read = got.mail
    expect(read.subject).toBe(sent.subject)
    expect(read.to).toMatchObject({ text: 'buyer@example.com' })
    expect(read.headers.get('auto-submitted')).toBe('auto-generated')
    expect(read.text).toContain(KEY)
    expect(read.text).toContain('order-42')
    expect(read.html).toContain(KEY)
    // Both parts go base64 (D106): Node encodes it, where quoted-printable is nodemailer's own
    // JavaScript a character at a time; the subject as an encoded word in B form when it needs one.
    expect(got.raw.match(/^Content-Transfer-Encoding: .*$/gim)).toEqual(['Content-Transfer-Encoding: base64', 'Content-Transfer-Encoding: base64'])
    expect(got.raw).not.toContain(KEY) // encoded, so only the decoded text holds it
    if (locale === 'zh-CN') expect(got.raw).toMatch(/^Subject: =\?UTF-8\?B\?/m)
    // The log says the relay took it, and never what it said.
    expect(logger.lines.some((l) => l.level === 'info' && /accepted/.test(l.message))).toBe(true)
    expect(JSON.stringify(logger.lines)).not.toContain(KEY)
  })

  it('sends several messages over the pool', async () => {
    const s = await sink()
    const m = mailer(config(s.port), null, recordingLogger())
    await Promise.all([1, 2, 3, 4, 5].map((i) => m.send({ ...message(), to: `buyer${i}@example.com` })))
    expect(s.received.map((r) => r.to[0]).sort()).toEqual([1, 2, 3, 4, 5].map((i) => `buyer${i}@example.com`))
    // Message-ID and boundaries come from our UUIDs (one draw each, not nodemailer's nine
    // randomBytes calls): each message its own, the ID in the sender's domain.
    const ids = s.received.map((r) => r.mail.messageId)
    for (const id of ids) expect(id).toMatch(/^<[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}@moon\.example>$/)
    const boundaries = s.received.map((r) => /boundary="?([^";\r\n]+)/.exec(r.raw)?.[1])
    for (const boundary of boundaries) expect(boundary).toMatch(/-[0-9a-f]{32}-Part_/)
    expect(new Set(ids).size).toBe(5)
    expect(new Set(boundaries).size).toBe(5)
  })

  it('authenticates with the configured user and password', async () => {
    const s = await sink({ credentials: { user: 'relay-user', password: 'relay-pass' } })
    const m = mailer(config(s.port, { user: 'relay-user' }), 'relay-pass', recordingLogger())
    await m.send(message())
    expect(s.received[0]?.user).toBe('relay-user')
  })

  it('wrong credentials → send rejects', async () => {
    const s = await sink({ credentials: { user: 'relay-user', password: 'relay-pass' } })
    const m = mailer(config(s.port, { user: 'relay-user' }), 'wrong', recordingLogger())
    await expect(m.send(message())).rejects.toThrow()
    expect(s.received).toHaveLength(0)
  })

  it.each(['rcpt', 'data'] as const)('a sink that refuses at %s → send rejects, and the failure is logged without the message', async (reject) => {
    const s = await sink({ reject })
    const logger = recordingLogger()
    const m = mailer(config(s.port), null, logger)
    await expect(m.send(message())).rejects.toThrow()
    expect(s.received).toHaveLength(0)
    const failure = logger.lines.find((l) => l.level === 'warn' && /send failed/.test(l.message))
    expect(failure?.fields.responseCode).toBe(reject === 'rcpt' ? 550 : 554)
    expect(JSON.stringify(logger.lines)).not.toContain(KEY)
  })

  it('nothing listening → send rejects', async () => {
    const s = await startSink()
    const port = s.port
    await s.close()
    const m = mailer(config(port), null, recordingLogger())
    await expect(m.send(message())).rejects.toThrow(/ECONNREFUSED|connect/i)
  })

  it('a server that never greets → send rejects after the greeting timeout', async () => {
    const sockets: Socket[] = []
    const silent: Server = createServer((socket) => void sockets.push(socket))
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
    cleanup.push(async () => {
      for (const socket of sockets) socket.destroy()
      await new Promise<void>((resolve) => silent.close(() => resolve()))
    })
    const { port } = silent.address() as AddressInfo
    const m = mailer(config(port), null, recordingLogger(), { greetingTimeoutMs: 300 })
    const started = Date.now()
    await expect(m.send(message())).rejects.toThrow(/greeting/i)
    expect(Date.now() - started).toBeLessThan(5_000)
  })

  it('close() waits for messages in flight, then refuses new ones', async () => {
    const s = await startSink()
    cleanup.push(() => s.close())
    const m = createSmtpMailer(config(s.port), null, recordingLogger())
    const sending = m.send(message())
    await m.close()
    await expect(sending).resolves.toBeUndefined()
    expect(s.received).toHaveLength(1)
    await expect(m.send(message())).rejects.toThrow(/closed/)
  })
})

describe('createNullMailer', () => {
  it('resolves, and logs that email is not configured without any of the message', async () => {
    const logger = recordingLogger()
    const m = createNullMailer(logger)
    await expect(m.send(message())).resolves.toBeUndefined()
    await m.close()
    expect(logger.lines.some((l) => /not configured/.test(l.message))).toBe(true)
    const logged = JSON.stringify(logger.lines)
    expect(logged).not.toContain(KEY)
    expect(logged).not.toContain('buyer@example.com')
  })
})
