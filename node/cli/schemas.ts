// Arguments of the `standin` command, validated like any other input. This node's own command
// line, so it lives with the node, not in protocol/.
import { z } from 'zod'

const Port = z.coerce.number().int().min(0).max(65_535)

export const InitArgs = z.strictObject({
  dir: z.string().min(1),
  name: z.string().min(1).max(100),
  host: z.string().min(1).max(255),
  p2pPort: Port,
  httpPort: Port,
  publicUrl: z.string().url().optional(),
  callbackUrl: z.string().url().optional(),
  /** host:port of an SMTP relay (plain SMTP on loopback, e.g. a local sink), optional. */
  smtp: z
    .string()
    .regex(/^[^:\s]+:\d{1,5}$/, 'must be host:port')
    .optional(),
  mailFrom: z.string().min(3).max(255).optional(),
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
})
export type JoinArgs = z.infer<typeof JoinArgs>

export const AllotArgs = z.strictObject({
  dir: z.string().min(1),
  to: z.string().min(1).max(128),
  sku: z.string().min(1).max(128),
  count: z.coerce.number().int().min(1).max(5_000),
})
export type AllotArgs = z.infer<typeof AllotArgs>

export const RotateArgs = z.strictObject({
  dir: z.string().min(1),
  purpose: z.enum(['admin', 'request', 'callback', 'claim']),
})
export type RotateArgs = z.infer<typeof RotateArgs>
