// Sends the engine's mail through the operator's SMTP relay (config.smtp). The engine retries a
// failed delivery email, so `send` rejects on any failure instead of swallowing it, and every
// network step is bounded so a dead relay cannot hold a fulfilment open. Delivery mail carries
// card keys: unless the relay is on loopback, the session must be TLS before anything is sent
// (D58), and the relay's password comes from secrets.json, not config.json (D59).
import { randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { connect as tcpConnect, type Socket } from 'node:net'
import nodemailer from 'nodemailer'
import type SMTPPool from 'nodemailer/lib/smtp-pool/index.js'
import type SMTPTransport from 'nodemailer/lib/smtp-transport/index.js'
import type { SmtpConfig } from '../config/schema.js'
import type { Logger, Mailer, MailMessage } from '../core/ports.js'

/** A Mailer that holds connections and must be closed on shutdown. */
export type ClosableMailer = Mailer & { close(): Promise<void> }

export interface SmtpMailerLimits {
  /** Time to open the TCP (or TLS) connection to the relay. */
  connectionTimeoutMs: number
  /** Time from connecting to the relay's 220 greeting. */
  greetingTimeoutMs: number
  /** Longest silence on an open connection, mid-conversation or idle in the pool. */
  socketTimeoutMs: number
  /** Messages sent over one connection before it is replaced (relays cap this too). */
  maxMessagesPerConnection: number
}

export const SMTP_LIMITS: Readonly<SmtpMailerLimits> = {
  connectionTimeoutMs: 10_000,
  greetingTimeoutMs: 10_000,
  socketTimeoutMs: 30_000,
  maxMessagesPerConnection: 100,
}

interface SmtpFailure {
  code?: unknown
  responseCode?: unknown
  command?: unknown
}

// The error, never the message: the message carries card keys and must stay out of logs.
function describeFailure(error: unknown): Record<string, unknown> {
  const { code, responseCode, command } = (typeof error === 'object' && error !== null ? error : {}) as SmtpFailure
  return { code, responseCode, command, reason: error instanceof Error ? error.message : String(error) }
}

/** How the session with the relay is protected, from config.smtp (D58). */
export type SmtpTls =
  /** smtp.secure: TLS from the first byte. */
  | 'tls'
  /** STARTTLS or nothing is sent: a relay that does not offer it is refused. */
  | 'starttls-required'
  /** STARTTLS when the relay offers it, plain SMTP otherwise (loopback, or requireTls: false). */
  | 'starttls-if-offered'

export function smtpTls(config: SmtpConfig): SmtpTls {
  return config.secure ? 'tls' : config.requireTls ? 'starttls-required' : 'starttls-if-offered'
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----/

function trustedCa(path: string): string {
  let pem: string
  try {
    pem = readFileSync(path, 'utf8')
  } catch (error) {
    throw new Error(`smtp.tlsCaFile ${path}: ${(error as Error).message}`)
  }
  if (!PEM_CERTIFICATE.test(pem)) throw new Error(`smtp.tlsCaFile ${path}: holds no PEM certificate (-----BEGIN CERTIFICATE-----)`)
  return pem
}

/**
 * nodemailer's options for config.smtp with the relay's password (secrets.json smtpPassword):
 * the one place the TLS policy becomes transport options, for the node and `standin mail test`.
 */
export function smtpTransportOptions(config: SmtpConfig, password: string | null, limits: Partial<SmtpMailerLimits> = {}): SMTPTransport.Options {
  if (config.user !== null && password === null)
    throw new Error(`config.json smtp.user is ${config.user} but secrets.json smtpPassword is null: put the relay's password there`)
  const l = { ...SMTP_LIMITS, ...limits }
  const tls = smtpTls(config)
  return {
    host: config.host,
    port: config.port,
    secure: tls === 'tls',
    // With requireTLS nodemailer sends STARTTLS whether or not the relay offers it, and fails
    // (ETLS) rather than go on in the clear; so no AUTH or message is sent before TLS.
    requireTLS: tls === 'starttls-required',
    // Certificates are always checked (Node's default); tlsCaFile replaces the system's CAs.
    ...(config.tlsCaFile === null ? {} : { tls: { ca: trustedCa(config.tlsCaFile) } }),
    ...(config.user === null ? {} : { auth: { user: config.user, pass: password ?? '' } }),
    connectionTimeout: l.connectionTimeoutMs,
    greetingTimeout: l.greetingTimeoutMs,
    socketTimeout: l.socketTimeoutMs,
    // Messages are built from our own strings; never let a value make nodemailer read a file or URL.
    disableFileAccess: true,
    disableUrlAccess: true,
  }
}

/** The domain of the sender's address (`Shop <noreply@shop.example>` → shop.example), as nodemailer takes it for Message-IDs. */
function senderDomain(from: string): string {
  return /@([^\s@<>]+)>?\s*$/.exec(from)?.[1] ?? 'localhost'
}

function envelope(config: SmtpConfig, message: MailMessage) {
  return {
    from: config.from,
    // The Message-ID and the MIME boundaries' random part, each from one UUID. nodemailer would draw
    // them with nine crypto.randomBytes calls a message, each a call into OpenSSL's generator (5 % of
    // a sending partner's CPU in the failover bench's profile, issue 22); randomUUID draws from a
    // cached pool. `baseBoundary` is the message option nodemailer's MailComposer hands every MIME
    // node (7.x; test/mail/smtp-mailer.test.ts checks it is used).
    messageId: `<${randomUUID()}@${senderDomain(config.from)}>`,
    baseBoundary: randomUUID().replaceAll('-', ''),
    to: message.to,
    subject: message.subject,
    text: message.text,
    ...(message.html === undefined ? {} : { html: message.html }),
    // RFC 3834: tells autoresponders not to answer a machine-sent message.
    headers: { 'Auto-Submitted': 'auto-generated' },
    // Base64 for every text part and encoded word: nodemailer otherwise scans each value to choose
    // between it and quoted-printable, and its quoted-printable encoder is JavaScript run a character
    // at a time. Base64 is Node's own, and no larger for mostly-Chinese text (D106: 20 % of a
    // sender's CPU per mail).
    textEncoding: 'base64' as const,
  }
}

/** What the relay said when it took a message. */
export interface RelayReply {
  messageId: string
  /** The relay's reply to the message, e.g. "250 OK: queued as 4F2A". */
  response: string
}

/** One message over one connection, closed afterwards: `standin mail test`. Rejects on any failure. */
export async function sendOnce(config: SmtpConfig, password: string | null, message: MailMessage, limits: Partial<SmtpMailerLimits> = {}): Promise<RelayReply> {
  const transport = nodemailer.createTransport(smtpTransportOptions(config, password, limits))
  try {
    const info = await transport.sendMail(envelope(config, message))
    return { messageId: info.messageId, response: info.response }
  } finally {
    transport.close()
  }
}

/** The window smtp.maxMessagesPerSecond counts messages in. */
const RATE_WINDOW_MS = 1_000

/**
 * Waits until a message may start so that no RATE_WINDOW_MS holds more than `perWindow` starts
 * (a sliding window over the last starts). Ours, not nodemailer's rateLimit: that one is checked
 * only when a connection finishes a message, so each new pooled connection's first message
 * passes it.
 */
function rateGate(perWindow: number | null): (() => Promise<void>) | null {
  if (perWindow === null) return null
  const starts: number[] = [] // the last perWindow start times, oldest first
  let queue = Promise.resolve()
  return () => {
    const turn = queue.then(async () => {
      if (starts.length >= perWindow) {
        const waitMs = (starts.shift() as number) + RATE_WINDOW_MS - Date.now()
        if (waitMs > 0) await new Promise((resolve) => setTimeout(resolve, waitMs))
      }
      starts.push(Date.now())
    })
    queue = turn
    return turn
  }
}

/**
 * Opens the TCP connection to the relay with Nagle's algorithm off, for nodemailer's pool, which
 * then speaks SMTP over it (and upgrades it to TLS: secure or STARTTLS, as configured). nodemailer
 * writes each SMTP command as a small packet and waits for the reply; with Nagle on, every command
 * after the first waits out the relay's delayed ACK (40 ms on Linux), which held a connection to
 * ≈20 messages/s even on loopback (issue 22: 150 mails/s from a node, 6× that without).
 */
function openRelaySocket(
  config: SmtpConfig,
  timeoutMs: number,
): (options: unknown, callback: (error: Error | null, socket?: { connection: Socket }) => void) => void {
  return (_options, callback) => {
    const socket = tcpConnect({ host: config.host, port: config.port, noDelay: true })
    const fail = (error: Error) => {
      socket.destroy()
      callback(error)
    }
    const timer = setTimeout(() => fail(Object.assign(new Error('Connection timeout'), { code: 'ETIMEDOUT' })), timeoutMs)
    socket.once('error', fail)
    socket.once('connect', () => {
      clearTimeout(timer)
      socket.removeListener('error', fail)
      socket.setKeepAlive(true)
      callback(null, { connection: socket })
    })
  }
}

export function createSmtpMailer(config: SmtpConfig, password: string | null, logger: Logger, limits: Partial<SmtpMailerLimits> = {}): ClosableMailer {
  const l = { ...SMTP_LIMITS, ...limits }
  const transport = nodemailer.createTransport({
    ...smtpTransportOptions(config, password, limits),
    pool: true,
    maxConnections: config.maxConnections,
    maxMessages: l.maxMessagesPerConnection,
    getSocket: openRelaySocket(config, l.connectionTimeoutMs),
  } as SMTPPool.Options)
  if (config.user === null && password !== null) logger.warn({}, 'smtp: secrets.json smtpPassword is set but config.json smtp.user is null; no AUTH')
  logger.info({ smtpHost: config.host, smtpPort: config.port, tls: smtpTls(config) }, 'smtp: relay configured')
  // A pooled connection failing between messages is reported here; without a listener it would
  // crash the process. The next send opens a fresh connection.
  transport.on('error', (error) => logger.warn(describeFailure(error), 'smtp: connection error'))

  const mayStart = rateGate(config.maxMessagesPerSecond)
  const inFlight = new Set<Promise<unknown>>()
  let closed = false

  return {
    async send(message: MailMessage): Promise<void> {
      if (closed) throw new Error('smtp mailer is closed')
      if (mayStart !== null) {
        await mayStart()
        // Closed while it waited its turn: it never reached the relay, and stays in the outbox.
        if (closed) throw new Error('smtp mailer is closed')
      }
      const sending = transport.sendMail(envelope(config, message))
      inFlight.add(sending)
      try {
        const info = await sending
        logger.info({ messageId: info.messageId, smtpHost: config.host }, 'smtp: message accepted by the relay')
      } catch (error) {
        logger.warn({ ...describeFailure(error), smtpHost: config.host }, 'smtp: send failed')
        throw error
      } finally {
        inFlight.delete(sending)
      }
    },
    async close(): Promise<void> {
      closed = true
      // Let messages already handed to the relay finish (each is bounded by the timeouts above).
      await Promise.allSettled([...inFlight])
      transport.close()
    },
  }
}
