// `standin console`: a one-time link to the operator console of the running node (D72). The link
// logs in once, within 10 minutes, from this machine (or any, with http.adminAllowRemote).
import { DataDir } from '../datadir.js'
import { admin } from './local-commands.js'

export async function consoleLink(dirPath: string): Promise<string> {
  const dir = new DataDir(dirPath)
  const config = dir.config()
  const host = config.http.host === '0.0.0.0' ? '127.0.0.1' : config.http.host
  const reply = await admin<{ path: string; expiresAt: number }>(dir, '/v1/admin/console/link', {})
  return `http://${host}:${config.http.port}${reply.path}\n(one-time link, valid until ${new Date(reply.expiresAt).toISOString()}; it opens a session of 8 hours)`
}
