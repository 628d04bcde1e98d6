// Three real data directories (init, real Ed25519 keys) with revision 1 of their terms in force,
// signed through tokens as operators do; no node runs. For the terms tests.
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { accept, invite, join as joinTerms } from '../../node/cli/federation-commands.js'
import { init } from '../../node/cli/local-commands.js'
import { DataDir } from '../../node/datadir.js'
import { TermsBook } from '../../node/terms/book.js'

export const NOW = Date.now()

export interface Shop {
  readonly dir: DataDir
  readonly book: TermsBook
  readonly path: string
}

/** Data directories set up with `standin init`, no terms yet. */
export function shops(names: string[]): Record<string, Shop> {
  const root = mkdtempSync(join(tmpdir(), 'standin-terms-'))
  const out: Record<string, Shop> = {}
  for (const [i, name] of names.entries()) {
    const path = join(root, name)
    init({ dir: path, name: `Shop ${name}`, host: '127.0.0.1', p2pPort: String(4100 + i), httpPort: String(8100 + i) })
    const dir = new DataDir(path)
    out[name] = { dir, book: new TermsBook(dir, dir.keys().identity), path }
  }
  return out
}

/** A, B, C with revision 1 in force at all three (every party signed through tokens). */
export function federation() {
  const s = shops(['A', 'B', 'C'])
  const { A, B, C } = s as Required<typeof s>
  const proposal = joinTerms({ dir: C!.path, tokens: [invite(A!.path), invite(B!.path)], preset: 'local', id: 'fed', sku: ['steam-50=50.00'] })
  const signedA = accept(A!.path, proposal.token)
  const all = accept(B!.path, signedA.token)
  accept(A!.path, all.token)
  accept(C!.path, all.token)
  return { A: A!, B: B!, C: C! }
}
