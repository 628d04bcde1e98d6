// Arguments of the `standin` command, validated like any other input. This node's own command
// line, so it lives with the node, not in protocol/.
import { z } from 'zod'
import { DEFAULT_LOCALE, Locale } from '../core/i18n/index.js'
import { AllotmentCapArg, DEFAULT_ALLOTMENT_CAP, MAX_SKU_CHANGES, SkuValueArg } from '../terms/schemas.js'

const Port = z.coerce.number().int().min(0).max(65_535)

export const InitArgs = z
  .strictObject({
    dir: z.string().min(1),
    name: z.string().min(1).max(100),
    host: z.string().min(1).max(255),
    p2pPort: Port,
    httpPort: Port,
    publicUrl: z.string().url().optional(),
    callbackUrl: z.string().url().optional(),
    /** host:port of an SMTP relay, optional; STARTTLS is required unless the host is loopback (D58). */
    smtp: z
      .string()
      .regex(/^[^:\s]+:\d{1,5}$/, 'must be host:port')
      .optional(),
    mailFrom: z.string().min(3).max(255).optional(),
    /** The relay's account. */
    smtpUser: z.string().min(1).max(255).optional(),
    /** The relay's password, from the environment (STANDIN_SMTP_PASSWORD), never argv (D59). */
    smtpPassword: z.string().min(1, 'STANDIN_SMTP_PASSWORD is empty').max(255).optional(),
  })
  .refine((a) => a.smtpUser === undefined || a.smtp !== undefined, { path: ['smtpUser'], message: '--smtp-user needs --smtp' })
  .refine((a) => a.smtpUser === undefined || a.smtpPassword !== undefined, {
    path: ['smtpUser'],
    message: "needs the relay's password in the environment variable STANDIN_SMTP_PASSWORD (never on the command line, where every user can read it)",
  })
  .refine((a) => a.smtpPassword === undefined || a.smtpUser !== undefined, {
    path: ['smtpPassword'],
    message: 'STANDIN_SMTP_PASSWORD is set but --smtp-user is not: give the account it belongs to',
  })
export type InitArgs = z.infer<typeof InitArgs>

export const TermsPreset = z.enum(['local', 'standard'])
export type TermsPreset = z.infer<typeof TermsPreset>

export const JoinArgs = z.strictObject({
  dir: z.string().min(1),
  tokens: z.array(z.string().min(10)).min(1).max(15),
  preset: TermsPreset,
  id: z
    .string()
    .min(1)
    .max(128)
    .regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces'),
  termsFile: z.string().min(1).optional(),
  sku: z.array(SkuValueArg).max(MAX_SKU_CHANGES).default([]),
  cap: AllotmentCapArg.default(DEFAULT_ALLOTMENT_CAP),
})
export type JoinArgs = z.infer<typeof JoinArgs>

export const AllotArgs = z.strictObject({
  dir: z.string().min(1),
  to: z.string().min(1).max(128),
  sku: z.string().min(1).max(128),
  count: z.coerce.number().int().min(1).max(5_000),
})
export type AllotArgs = z.infer<typeof AllotArgs>

/** Longest grace a rotated secret may keep, in minutes (a week). */
export const MAX_GRACE_MINUTES = 7 * 24 * 60

/** `standin backup <file> [--secrets-only] [--passphrase-file <path>]`. */
export const BackupArgs = z.strictObject({
  dir: z.string().min(1),
  file: z.string().min(1).max(4_096),
  secretsOnly: z.boolean().default(false),
  passphraseFile: z.string().min(1).optional(),
})

/** `standin restore <file>` / `standin recover <file>` into an empty directory. */
export const RestoreArgs = z.strictObject({
  dir: z.string().min(1),
  file: z.string().min(1).max(4_096),
  passphraseFile: z.string().min(1).optional(),
})

export const RotateArgs = z.strictObject({
  dir: z.string().min(1),
  purpose: z.enum(['admin', 'request', 'callback', 'claim', 'box']),
  /** How long the running node still accepts the old value; 0 refuses it at once (a leaked secret). */
  graceMinutes: z.coerce.number().int().min(0).max(MAX_GRACE_MINUTES).default(60),
})
export type RotateArgs = z.infer<typeof RotateArgs>

export const MailTestArgs = z.strictObject({
  dir: z.string().min(1),
  to: z.email().max(254),
  /** The test message's language: the node's catalogue's, Chinese first. */
  locale: Locale.default(DEFAULT_LOCALE),
})
export type MailTestArgs = z.infer<typeof MailTestArgs>

/** `standin drill [--partner X] [--sku Y] [--last] [--json]`. */
export const DrillArgs = z.strictObject({
  dir: z.string().min(1),
  partner: z.string().min(1).max(100).optional(),
  sku: z.string().min(1).max(128).optional(),
  last: z.boolean().default(false),
  json: z.boolean().default(false),
})
