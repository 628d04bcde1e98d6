// `standin secrets rotate`: one secret per purpose (D54), each replaced alone. The new value goes
// to its file, never to the screen; the command says who must be given it and what to restart.
import { formatZodError } from '../../protocol/index.js'
import { DataDir, type SecretPurpose } from '../datadir.js'
import { RotateArgs } from './schemas.js'

const AFTER: Record<SecretPurpose, string> = {
  admin: 'restart the node (`standin run`); the CLI reads the new token from the file',
  request: "copy it to the shop's adapter and restart the node and the adapter: until both run with it, the node refuses the adapter's requests",
  callback: "copy it to the shop's adapter and restart the node and the adapter: until both run with it, the shop refuses the node's callbacks",
  claim: "copy it to the shop's adapter and restart the adapter: claim secrets it derives for new orders change; orders already escrowed keep theirs",
}

export function rotateSecret(raw: Record<string, unknown>): string {
  const args = RotateArgs.safeParse(raw)
  if (!args.success) throw new Error(`arguments: ${formatZodError(args.error)}`)
  const dir = new DataDir(args.data.dir)
  if (!dir.exists()) throw new Error(`${args.data.dir}: no node here (config.json missing); run standin init first`)
  const file = dir.rotate(args.data.purpose)
  return [`rotated the ${args.data.purpose} secret in ${file}`, `next: ${AFTER[args.data.purpose]}`].join('\n')
}
