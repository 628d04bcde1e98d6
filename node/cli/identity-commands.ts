// `standin identity rotate` (D99): this shop hands its place in the terms in force to a new
// identity key. The old key signs the succession, the new one the revision that carries it; the
// partners' nodes sign it without their operators, and once all have, the running node restarts
// as the new identity on an empty store. Before that, while the old identity still is a party,
// what partners hold of ours is recalled and a final statement issued to each (as for a party
// leaving, D95): after the handover nothing reaches the old identity.
import { DataDir } from '../datadir.js'
import { TermsService } from '../terms/service.js'
import { windDownPartner } from './partner-commands.js'

export async function rotateIdentity(dirPath: string): Promise<string> {
  const dir = new DataDir(dirPath)
  if (!dir.exists()) throw new Error(`${dirPath}: no node here (config.json missing); run standin init first`)
  const service = new TermsService(dir)
  const me = service.book.me
  const now = Date.now()
  const current = service.book.inForce(now)
  const result = service.handOver(now)
  const lines = [`this shop's new identity: ${result.successor} (the old one, ${me}, signed the handover)`]
  for (const partner of current?.terms.parties ?? []) if (partner !== me) lines.push(await windDownPartner(dirPath, partner))
  lines.push(`next: ${result.next}`)
  return lines.join('\n')
}
