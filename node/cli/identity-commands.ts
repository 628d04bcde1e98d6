// `standin identity rotate` (D99): this shop hands its place in the terms in force to a new
// identity key. The old key signs the succession, the new one the revision that carries it; the
// partners' nodes sign it without their operators, and once all have, the running node restarts
// as the new identity on an empty store. Before that, while the old identity still is a party,
// what partners hold of ours is recalled and a final statement issued to each (as for a party
// leaving, D95): after the handover nothing reaches the old identity. So the wind-down runs
// before the handover is written: once it is, the running node passes it on, the partners sign at
// once and the node restarts as the new identity, and a recall sent after that would find it
// restarting or already someone else (a CI run caught that race).
import { DataDir } from '../datadir.js'
import { TermsService } from '../terms/service.js'
import { windDownPartner } from './partner-commands.js'

export async function rotateIdentity(dirPath: string): Promise<string> {
  const dir = new DataDir(dirPath)
  if (!dir.exists()) throw new Error(`${dirPath}: no node here (config.json missing); run standin init first`)
  const service = new TermsService(dir)
  const me = service.book.me
  // The book's own check, before anything is recalled: nothing is wound down for a handover it refuses.
  const current = service.book.handoverBasis(Date.now())
  const woundDown: string[] = []
  for (const partner of current.terms.parties) if (partner !== me) woundDown.push(await windDownPartner(dirPath, partner))
  const result = service.handOver(Date.now())
  return [`this shop's new identity: ${result.successor} (the old one, ${me}, signed the handover)`, ...woundDown, `next: ${result.next}`].join('\n')
}
