// One revocation (D94) in the operator's words, for `standin status` and the console alike: in
// force or how many more must sign, and what to do about our keys the revoked party holds.
import type { SelfStatus } from '../api-schemas.js'
import type { Translate } from './index.js'

export function revocationText(tr: Translate, r: SelfStatus['revocations'][number], me: string, nameOf: (id: string) => string): string {
  const by = r.by.map((b) => `${nameOf(b.shop)} (${b.reason})`).join(', ')
  if (r.partner === me) return tr('cli.self.revokedUs', { by })
  const state = r.inForce ? tr('cli.self.revokedInForce', { by }) : tr('cli.self.revokedPending', { by, count: String(r.by.length), needed: String(r.needed) })
  return r.keysHeld > 0 ? `${state}\n${tr('cli.self.revokedKeys', { keys: String(r.keysHeld) })}` : state
}
