// Outgoing mail for the engine's Mailer port: SMTP when configured, a logging no-op otherwise.
export { createNullMailer } from './null-mailer.js'
export {
  type ClosableMailer,
  createSmtpMailer,
  type RelayReply,
  sendOnce,
  SMTP_LIMITS,
  type SmtpMailerLimits,
  type SmtpTls,
  smtpTls,
  smtpTransportOptions,
} from './smtp-mailer.js'
