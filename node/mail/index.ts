// Outgoing mail for the engine's Mailer port: SMTP when configured, a logging no-op otherwise.
export { createNullMailer } from './null-mailer.js'
export { type ClosableMailer, createSmtpMailer, SMTP_LIMITS, type SmtpMailerLimits } from './smtp-mailer.js'
