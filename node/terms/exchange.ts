// Passes terms and signatures between the parties' nodes (D65), so a signature given at one shop
// reaches every party without anyone carrying a token back, and notices when the agreement in force
// changes (a revision every party signed), whether the change came from a partner or from our own
// operator's CLI writing to the data directory. It sits in front of the engine on the transport:
// `terms.agreement` messages stop here, everything else goes on to the engine's handler. So do
// `card` messages: each node hands its own card to a partner as it connects, and a partner takes a
// newer one signed by the sender's identity (a rotated box key, D93).
import {
  type Agreement,
  type ControlMessage,
  type FeedMessage,
  type ShopCard,
  type ShopId,
  type Signed,
  termsHash,
  verifyDocument,
} from '../../protocol/index.js'
import type { InboundHandler, Logger, Transport } from '../core/ports.js'
import type { TermsBook } from './book.js'

/** How often the data directory is read for what the CLI wrote there (ms). */
export const TERMS_POLL_MS = 1_000
/** Agreements sent to a partner when it connects: those still collecting signatures, newest first, and the one in force. */
export const MAX_AGREEMENTS_PER_GREETING = 4

/**
 * Terms messages taken from one partner per minute. Each costs signature checks and a read of the
 * agreements directory; honest nodes send a few per change, so the rest of a flood is dropped.
 */
export const MAX_TERMS_MESSAGES_PER_MINUTE = 30
const MINUTE_MS = 60_000

export interface TermsExchangeOptions {
  readonly book: TermsBook
  readonly logger: Logger
  readonly now: () => number
  /** The agreement in force changed to `agreement` (first terms, or a revision). */
  readonly onInForce: (agreement: Agreement) => void
  readonly pollMs?: number
  /** The cards in the data directory; without them no card is sent or taken. */
  readonly cards?: CardFiles
  /** A partner's newer card was stored; `boxKeyChanged`: the engine must seal to its new box key from now on. */
  readonly onCard?: (from: ShopId, boxKeyChanged: boolean) => void
}

export interface CardFiles {
  own(): Signed<ShopCard> | undefined
  of(id: ShopId): Signed<ShopCard> | undefined
  save(card: Signed<ShopCard>): void
}

export class TermsExchange {
  private engine: InboundHandler | null = null
  private transport: Transport | null = null
  private timer: NodeJS.Timeout | null = null
  /** Signatures held per terms hash at the last look: what changed since is sent on. */
  private seen = new Map<string, number>()
  private inForceHash: string | null
  /** Per partner: the start of its current minute and the messages taken in it (one row per party). */
  private readonly taken = new Map<ShopId, { since: number; count: number }>()

  constructor(private readonly o: TermsExchangeOptions) {
    this.inForceHash = this.currentHash()
    this.seen = this.signatureCounts()
  }

  /**
   * Takes the p2p transport's one handler slot and returns the Transport the engine is given: its
   * handler receives every message but ours.
   */
  attach(transport: Transport): Transport {
    this.transport = transport
    transport.setHandler({
      onFeedMessage: (from, m: FeedMessage) => this.engine?.onFeedMessage(from, m),
      onControlMessage: (from, m: ControlMessage) =>
        m.type === 'terms.agreement'
          ? this.onAgreement(from, m.agreement)
          : m.type === 'card'
            ? this.onCard(from, m.card)
            : this.engine?.onControlMessage(from, m),
      onPeerConnected: (peer) => {
        this.greet(peer)
        this.engine?.onPeerConnected(peer)
      },
      onPeerDisconnected: (peer) => this.engine?.onPeerDisconnected(peer),
    })
    return {
      send: ((peer: ShopId, protocol: 'feed' | 'control', message: FeedMessage | ControlMessage) =>
        (transport.send as (p: ShopId, pr: string, m: unknown) => boolean)(peer, protocol, message)) as Transport['send'],
      isConnected: (peer) => transport.isConnected(peer),
      setHandler: (handler) => {
        this.engine = handler
      },
    }
  }

  start(): void {
    this.timer = setInterval(() => this.check(), this.o.pollMs ?? TERMS_POLL_MS)
    this.timer.unref()
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer)
    this.timer = null
  }

  /** Parties of the agreements we hold that name us: who the p2p layer lets in and dials. */
  parties(): ShopId[] {
    const now = this.o.now()
    const ids = new Set<ShopId>()
    for (const h of this.o.book.held(now))
      if (h.state === 'in-force' || (h.state === 'waiting' && h.signedByUs)) for (const p of h.agreement.terms.parties) ids.add(p)
    ids.delete(this.o.book.me)
    return [...ids]
  }

  /** Reads what the CLI wrote; sends what changed; says when the agreement in force changed. */
  check(): void {
    let counts: Map<string, number>
    try {
      counts = this.signatureCounts()
    } catch (error) {
      this.o.logger.warn({ err: (error as Error).message }, 'terms: the agreements directory could not be read; trying again')
      return
    }
    const changed = [...counts].filter(([hash, n]) => this.seen.get(hash) !== n).map(([hash]) => hash)
    this.seen = counts
    if (changed.length === 0) return
    for (const h of this.outgoing()) if (changed.includes(h.hash)) this.sendToParties(h.agreement, null)
    const hash = this.currentHash()
    if (hash !== null && hash !== this.inForceHash) {
      this.inForceHash = hash
      const agreement = this.o.book.inForce(this.o.now())
      if (agreement) this.o.onInForce(agreement)
    }
  }

  private onAgreement(from: ShopId, agreement: Agreement): void {
    if (!this.take(from)) return
    const result = this.o.book.receive(from, agreement, this.o.now())
    if (result.kind === 'refused') {
      this.o.logger.warn({ from, reason: result.reason }, 'terms from a partner refused')
      return
    }
    if (result.kind === 'unchanged') return
    this.o.logger.info({ from, terms: result.hash.slice(0, 12), complete: result.complete }, 'terms: signatures from a partner stored')
    // Passed on at once, so a signature reaches parties its signer is not connected to.
    this.sendToParties(agreement, from)
    this.check()
  }

  /**
   * A partner's card. Authority: the partner's own identity, which signed it; only its own card,
   * only newer than the one we hold, and still valid. Anything else is dropped and logged.
   */
  private onCard(from: ShopId, raw: Signed<ShopCard>): void {
    const files = this.o.cards
    if (!files || !this.take(from)) return
    const verified = verifyDocument('shop-card', raw)
    const held = files.of(from)
    const now = this.o.now()
    let refused: string | null = null
    if (!verified.ok) refused = verified.error.message
    else if (raw.body.id !== from) refused = `a card of ${raw.body.id}, not of the sender`
    else if (raw.body.validUntil <= now) refused = 'expired'
    else if (held && raw.body.issuedAt <= held.body.issuedAt) return // the one we hold, or older: nothing new
    if (refused !== null) {
      this.o.logger.warn({ from, reason: refused }, 'card from a partner refused')
      return
    }
    files.save(raw)
    const boxKeyChanged = held?.body.boxKey !== raw.body.boxKey
    this.o.logger.info({ from, boxKeyChanged, issuedAt: new Date(raw.body.issuedAt).toISOString() }, "a partner's newer card stored")
    this.o.onCard?.(from, boxKeyChanged)
  }

  /** Our card to every connected partner (after `standin secrets rotate box`). */
  announceCard(): void {
    for (const p of this.parties()) if (this.transport?.isConnected(p)) this.sendCard(p)
  }

  private sendCard(peer: ShopId): void {
    const card = this.o.cards?.own()
    if (card) this.transport?.send(peer, 'control', { type: 'card', card })
  }

  /** False once `from` has sent its share this minute; logged once per minute. */
  private take(from: ShopId): boolean {
    const now = this.o.now()
    const row = this.taken.get(from)
    if (!row || now - row.since >= MINUTE_MS) {
      this.taken.set(from, { since: now, count: 1 })
      return true
    }
    row.count++
    if (row.count === MAX_TERMS_MESSAGES_PER_MINUTE + 1)
      this.o.logger.warn({ from, limit: MAX_TERMS_MESSAGES_PER_MINUTE }, 'terms: too many terms messages from a partner this minute; dropping the rest')
    return row.count <= MAX_TERMS_MESSAGES_PER_MINUTE
  }

  private greet(peer: ShopId): void {
    this.sendCard(peer)
    for (const h of this.outgoing())
      if (h.agreement.terms.parties.includes(peer)) this.transport?.send(peer, 'control', { type: 'terms.agreement', agreement: h.agreement })
  }

  private outgoing() {
    const held = this.o.book.held(this.o.now())
    const collecting = held.filter((h) => h.state === 'waiting' && h.signedByUs).slice(-(MAX_AGREEMENTS_PER_GREETING - 1))
    return [...held.filter((h) => h.state === 'in-force'), ...collecting]
  }

  private sendToParties(agreement: Agreement, except: ShopId | null): void {
    // The merged copy we now hold, not the sender's: it carries every signature we know.
    const hash = termsHash(agreement.terms)
    const held = this.o.book.held(this.o.now()).find((h) => h.hash === hash)
    const copy = held?.agreement ?? agreement
    for (const p of copy.terms.parties)
      if (p !== this.o.book.me && p !== except && this.transport?.isConnected(p))
        this.transport.send(p, 'control', { type: 'terms.agreement', agreement: copy })
  }

  private currentHash(): string | null {
    return this.o.book.held(this.o.now()).find((h) => h.state === 'in-force')?.hash ?? null
  }

  private signatureCounts(): Map<string, number> {
    return new Map(this.o.book.held(this.o.now()).map((h) => [h.hash, h.agreement.signatures.length]))
  }
}
