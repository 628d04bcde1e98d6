// `standin mail test <address>`: one short message through the configured relay, straight from the
// CLI (no running node needed), with the node's own TLS policy (D58) and the relay password from
// secrets.json (D59). It says what the relay answered, or why nothing was sent; never the password.
import { formatZodError } from '../../protocol/index.js'
import { translator } from '../core/i18n/index.js'
import type { MailMessage } from '../core/ports.js'
import type { SmtpConfig } from '../config/schema.js'
import { DataDir } from '../datadir.js'
import { sendOnce, type SmtpTls, smtpTls, smtpTransportOptions } from '../mail/index.js'
import { MailTestArgs } from './schemas.js'

export interface MailTestResult {
  /** The relay accepted the message. */
  sent: boolean
  /** What to print: on stdout when sent, on stderr otherwise. */
  text: string
}

const SESSION: Record<SmtpTls, string> = {
  tls: 'TLS from the first byte (smtp.secure)',
  'starttls-required': 'STARTTLS required (smtp.requireTls)',
  'starttls-if-offered': 'STARTTLS if the relay offers it, plain SMTP otherwise (smtp.requireTls is false)',
}

/** The relay, how its session is protected and whose login it takes: for init and mail test. */
export function relayLines(smtp: SmtpConfig | null): string[] {
  if (smtp === null) return ['mail relay:     none (config.json smtp is null): buyers get their keys on the claim page only']
  return [
    `mail relay:     ${smtp.host}:${smtp.port}, ${SESSION[smtpTls(smtp)]}`,
    `relay login:    ${smtp.user === null ? 'none' : `${smtp.user} (password in secrets.json smtpPassword)`}`,
  ]
}

/** A relay's words on one line, without control characters. */
const oneLine = (text: string) => text.replace(/[\p{Cc}\u2028\u2029]+/gu, ' ').trim()

function testMessage(config: { name: string; smtp: SmtpConfig }, to: string, locale: MailTestArgs['locale']): MailMessage {
  const tr = translator(locale)
  const values = { shopName: oneLine(config.name), relay: `${config.smtp.host}:${config.smtp.port}` }
  const body = tr('mail.test.body', { ...values, time: tr('time.zoned', { time: new Date() }) })
  return { to, subject: tr('mail.test.subject', values), text: `${body}\n\n-- \n${tr('mail.test.signOff', values)}\n` }
}

interface SmtpError {
  message?: unknown
  code?: unknown
  command?: unknown
  response?: unknown
}

const CERTIFICATE = /certificate|self[- ]signed|unable to verify|CERT_|altnames|hostname/i

/** Why the relay took nothing, in the operator's terms, with what to change. */
export function explainFailure(error: unknown, smtp: SmtpConfig): string {
  const e = (typeof error === 'object' && error !== null ? error : {}) as SmtpError
  const message = oneLine(typeof e.message === 'string' ? e.message : String(error))
  const said = typeof e.response === 'string' && e.response !== '' ? ` (the relay said: ${oneLine(e.response)})` : ''
  const relay = `${smtp.host}:${smtp.port}`
  if (e.code === 'ETLS' && e.command === 'STARTTLS' && said !== '' && smtpTls(smtp) === 'starttls-required')
    return (
      `the relay does not offer STARTTLS and smtp.requireTls is on, so nothing was sent in the clear${said}. ` +
      'Use a relay that offers STARTTLS, or its TLS port with smtp.secure: true; set smtp.requireTls to false only for a relay on this machine or one reached without any user login'
    )
  if (CERTIFICATE.test(message))
    return `the relay's TLS certificate is not trusted: ${message}. If it comes from a private CA, set smtp.tlsCaFile to that CA's PEM file (an absolute path)`
  if (e.code === 'ETLS') return `TLS with the relay failed: ${message}`
  if (e.code === 'EAUTH')
    return `the relay refused the login of smtp.user ${smtp.user ?? ''}${said || `: ${message}`}. The password is secrets.json smtpPassword`
  if (e.code === 'ETIMEDOUT') return `${relay} did not answer in time: ${message}`
  if (e.code === 'ECONNECTION' || e.code === 'ESOCKET' || e.code === 'EDNS') return `cannot talk to ${relay}: ${message}`
  if (e.code === 'EENVELOPE') return `the relay refused the sender or the recipient${said || `: ${message}`}`
  if (e.code === 'EMESSAGE') return `the relay refused the message${said || `: ${message}`}`
  return message
}

export async function mailTest(raw: Record<string, unknown>): Promise<MailTestResult> {
  const args = MailTestArgs.safeParse(raw)
  if (!args.success) throw new Error(`arguments: ${formatZodError(args.error)}`)
  const dir = new DataDir(args.data.dir)
  if (!dir.exists()) throw new Error(`${args.data.dir}: no node here (config.json missing); run standin init first`)
  const config = dir.config()
  const smtp = config.smtp
  if (smtp === null) throw new Error(`${dir.configPath}: smtp is null, no relay is configured (standin init --smtp, or edit config.json)`)
  const { secrets } = dir.keys()
  const relay = `${smtp.host}:${smtp.port}`
  const about = relayLines(smtp)
  // A configuration that cannot work (a login without its password, an unreadable tlsCaFile) is
  // an error of its own (exit 2), before anything connects.
  smtpTransportOptions(smtp, secrets.smtpPassword)
  try {
    const reply = await sendOnce(smtp, secrets.smtpPassword, testMessage({ name: config.name, smtp }, args.data.to, args.data.locale))
    return { sent: true, text: [`sent: ${relay} accepted the test message to ${args.data.to}: ${oneLine(reply.response)}`, ...about].join('\n') }
  } catch (error) {
    return { sent: false, text: [`not sent: ${explainFailure(error, smtp)}`, ...about].join('\n') }
  }
}
