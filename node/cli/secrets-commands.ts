// `standin secrets rotate`: one secret per purpose (D54), each replaced alone. The new value goes
// to its file, never to the screen. The admin token and the request and callback secrets are
// replaced without downtime (D91): the old value stays valid for `--grace-minutes` (60 by
// default; 0 for a leaked secret), and a running node is told to reload at once; the command says
// who must be given the new value, by when.
import { formatZodError } from '../../protocol/index.js'
import { DataDir, type SecretPurpose } from '../datadir.js'
import { admin } from './local-commands.js'
import { NodeNotRunningError } from './node-request.js'
import { RotateArgs } from './schemas.js'
import { ownCard } from '../terms/service.js'

const AFTER: Record<SecretPurpose, string> = {
  admin: 'the CLI reads the new token from the file; give it to whoever logs in to the console with the token',
  request: "copy adapter.json to the shop's adapter and restart the adapter",
  callback: "copy adapter.json to the shop's adapter and restart the adapter",
  claim: "copy it to the shop's adapter and restart the adapter: claim secrets it derives for new orders change; orders already escrowed keep theirs",
  box: 'nothing to copy: the node hands its new card to every partner as it connects, and keeps the old box secret for what was sealed to it (D93). Take a new backup now (standin backup): one from before this rotation lacks the new key',
}

/** Rotates the secret; tells a running node to take it. Resolves with what to tell the operator. */
export async function rotateSecret(raw: Record<string, unknown>): Promise<string> {
  const args = RotateArgs.safeParse(raw)
  if (!args.success) throw new Error(`arguments: ${formatZodError(args.error)}`)
  const { purpose, graceMinutes } = args.data
  const dir = new DataDir(args.data.dir)
  if (!dir.exists()) throw new Error(`${args.data.dir}: no node here (config.json missing); run standin init first`)
  // The running node still holds the old admin token until it reloads.
  const tokenBefore = dir.keys().secrets.adminToken
  const untilMs = purpose === 'claim' || purpose === 'box' || graceMinutes === 0 ? null : Date.now() + graceMinutes * 60_000
  const file = dir.rotate(purpose, untilMs)
  const lines = [`rotated the ${purpose} secret in ${file}`]
  if (purpose === 'box') lines.push(`our card re-signed with the new box key (issued ${new Date(ownCard(dir, Date.now()).body.issuedAt).toISOString()})`)
  else if (purpose !== 'claim')
    lines.push(
      untilMs === null
        ? 'the old value is refused from now on'
        : `the old value is accepted until ${new Date(untilMs).toISOString()} (--grace-minutes ${graceMinutes}); refused after`,
    )
  try {
    await admin(dir, '/v1/admin/secrets/reload', {}, tokenBefore)
    lines.push('the running node took it')
  } catch (error) {
    if (error instanceof NodeNotRunningError) lines.push('the node is not running: it takes it when it starts')
    else lines.push(`the running node did not take it (${error instanceof Error ? error.message : String(error)}): restart it (standin run)`)
  }
  lines.push(`next: ${AFTER[purpose]}${untilMs === null || purpose === 'admin' || purpose === 'box' ? '' : `, before ${new Date(untilMs).toISOString()}`}`)
  return lines.join('\n')
}
