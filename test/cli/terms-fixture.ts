// Three real data directories (init, real Ed25519 keys) with revision 1 of their terms in force,
// signed through tokens as operators do; no node runs. For the terms tests.
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { accept, invite, join as joinTerms } from '../../node/cli/federation-commands.js'
import { init } from '../../node/cli/local-commands.js'
import { DataDir } from '../../node/datadir.js'
import { TermsBook } from '../../node/terms/book.js'
import pino from 'pino'
import type { ControlMessage } from '../../protocol/index.js'
import type { InboundHandler, Transport } from '../../node/core/ports.js'
import { TermsExchange, type TermsExchangeOptions } from '../../node/terms/exchange.js'

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

export interface Wire {
  readonly exchange: TermsExchange
  /** Everything the exchange sent, in order. */
  readonly sent: { peer: string; message: ControlMessage }[]
  /** The handler the exchange gave the transport: messages and connections are delivered through it. */
  readonly handler: () => InboundHandler
}

/** A TermsExchange for `shop` on a recording transport where every peer is connected. */
export function exchangeFor(shop: Shop, options: Partial<TermsExchangeOptions> = {}): Wire {
  const sent: Wire['sent'] = []
  let handler: InboundHandler | null = null
  const transport: Transport = {
    send: ((peer: string, _p: string, message: ControlMessage) => sent.push({ peer, message }) > 0) as Transport['send'],
    isConnected: () => true,
    setHandler: (h) => void (handler = h),
  }
  const exchange = new TermsExchange({
    book: shop.book,
    logger: pino({ level: 'silent' }),
    now: () => NOW,
    onInForce: () => undefined,
    cards: { own: () => shop.dir.cardOf(shop.book.me), of: (id) => shop.dir.cardOf(id), save: (card) => shop.dir.saveCard(card) },
    ...options,
  })
  exchange.attach(transport)
  return { exchange, sent, handler: () => handler as unknown as InboundHandler }
}
