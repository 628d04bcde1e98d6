// Sends the engine's mail through the operator's SMTP relay (config.smtp). The engine retries a
// failed delivery email, so `send` rejects on any failure instead of swallowing it, and every
// network step is bounded so a dead relay cannot hold a fulfilment open.
import nodemailer from 'nodemailer'
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
  /** Connections held open to the relay at once; delivery mail is low volume and relays throttle. */
  maxConnections: number
  /** Messages sent over one connection before it is replaced (relays cap this too). */
  maxMessagesPerConnection: number
}

export const SMTP_LIMITS: Readonly<SmtpMailerLimits> = {
  connectionTimeoutMs: 10_000,
  greetingTimeoutMs: 10_000,
  socketTimeoutMs: 30_000,
  maxConnections: 4,
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

export function createSmtpMailer(config: SmtpConfig, logger: Logger, limits: Partial<SmtpMailerLimits> = {}): ClosableMailer {
  const l = { ...SMTP_LIMITS, ...limits }
  const transport = nodemailer.createTransport({
    pool: true,
    host: config.host,
    port: config.port,
    // secure: TLS from the first byte (port 465); otherwise STARTTLS whenever the relay offers it.
    secure: config.secure,
    ...(config.user === null ? {} : { auth: { user: config.user, pass: config.password ?? '' } }),
    connectionTimeout: l.connectionTimeoutMs,
    greetingTimeout: l.greetingTimeoutMs,
    socketTimeout: l.socketTimeoutMs,
    maxConnections: l.maxConnections,
    maxMessages: l.maxMessagesPerConnection,
    // Messages are built from our own strings; never let a value make nodemailer read a file or URL.
    disableFileAccess: true,
    disableUrlAccess: true,
  })
  // A pooled connection failing between messages is reported here; without a listener it would
  // crash the process. The next send opens a fresh connection.
  transport.on('error', (error) => logger.warn(describeFailure(error), 'smtp: connection error'))

  const inFlight = new Set<Promise<unknown>>()
  let closed = false

  return {
    async send(message: MailMessage): Promise<void> {
      if (closed) throw new Error('smtp mailer is closed')
      const sending = transport.sendMail({
        from: config.from,
        to: message.to,
        subject: message.subject,
        text: message.text,
        ...(message.html === undefined ? {} : { html: message.html }),
        // RFC 3834: tells autoresponders not to answer a machine-sent message.
        headers: { 'Auto-Submitted': 'auto-generated' },
      })
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
