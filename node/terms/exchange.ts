// Passes terms and signatures between the parties' nodes (D65), so a signature given at one shop
// reaches every party without anyone carrying a token back, and notices when the agreement in force
// changes (a revision every party signed), whether the change came from a partner or from our own
// operator's CLI writing to the data directory. It sits in front of the engine on the transport:
// `terms.agreement` messages stop here, everything else goes on to the engine's handler. So do
// `card` messages: each node hands its own card to a partner as it connects, and a partner takes a
// newer one signed by the sender's identity (a rotated box key, D93). A shop added to terms in force
// (D97) asks its partners for the earlier terms (`terms.ask`) before its node runs on them, and the
// proposer passes the newcomer's card on with the proposal.
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
/** A newcomer asks again for earlier terms nobody sent (ms): a partner may have been busy or away. */
export const HISTORY_ASK_AGAIN_MS = 5_000

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
  /** A newer card of `id` was stored; `boxKeyChanged`: the engine must seal to its new box key from now on. */
  readonly onCard?: (id: ShopId, boxKeyChanged: boolean) => void
  /** Who the p2p layer should let in may have changed: our operator signed, or terms took force. */
  readonly onParties?: () => void
  /** The other parties signed terms without us (D98): told once, whether a partner or our CLI brought them. */
  readonly onRemoved?: (removal: Agreement) => void
  /** Every party signed our handover to our successor (D99): told once; the node restarts as the successor. */
  readonly onHandedOver?: (handover: Agreement) => void
  /** Our node signed a partner's handover to its new identity (D99): what the old identity holds of ours is recalled now. */
  readonly onHandoverSigned?: (predecessor: ShopId) => void
  /** A partner passed a handover of our own place that we never made: our identity key is in other hands (D99). */
  readonly onForeignHandover?: (from: ShopId, hash: string) => void
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
  /** Earlier terms we lack (D97), as of the last look; empty for a shop that signed them all. */
  private wanted: string[]
  private lastAsk = { key: '', at: Number.NEGATIVE_INFINITY }
  private removedTold = false
  private handedOverTold = false

  constructor(private readonly o: TermsExchangeOptions) {
    this.wanted = this.o.book.wantedHistory(this.o.now())
    this.inForceHash = this.currentHash()
    this.seen = this.signatureCounts()
  }

  /**
   * The agreement in force once we hold every earlier revision it builds on: a node runs on it only
   * then, or it would refuse its partners' entries made under terms it cannot check (D97).
   */
  ready(): Agreement | null {
    return this.wanted.length === 0 ? this.o.book.inForce(this.o.now()) : null
  }

  /** Earlier terms this node still waits for from its partners (D97). */
  wantedHistory(): readonly string[] {
    return this.wanted
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
          : m.type === 'terms.ask'
            ? this.onAsk(from, m.hash)
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
    if (this.wanted.length > 0 || changed.length > 0) this.wanted = this.o.book.wantedHistory(this.o.now())
    this.askHistory()
    if (changed.length === 0) return
    this.o.onParties?.()
    const removal = this.removedTold ? null : this.o.book.removal(this.o.now())
    if (removal) {
      this.removedTold = true
      this.o.onRemoved?.(removal)
    }
    const handover = this.handedOverTold ? null : this.o.book.handedOver(this.o.now())
    if (handover) {
      this.handedOverTold = true
      this.o.onHandedOver?.(handover)
    }
    for (const h of this.outgoing()) if (changed.includes(h.hash)) this.sendToParties(h.agreement, null)
    const hash = this.currentHash()
    if (hash !== null && hash !== this.inForceHash) {
      this.inForceHash = hash
      const agreement = this.o.book.inForce(this.o.now())
      if (agreement) this.o.onInForce(agreement)
    }
  }

  private onAgreement(from: ShopId, agreement: Agreement): void {
    // Earlier terms we asked for come past the per-minute share: a long history arrives in one go.
    if (!this.wanted.includes(termsHash(agreement.terms)) && !this.take(from)) return
    const result = this.o.book.receive(from, agreement, this.o.now())
    if (result.kind === 'refused') {
      this.o.logger.warn({ from, reason: result.reason }, 'terms from a partner refused')
      return
    }
    if (result.kind === 'unchanged') return
    if (result.kind === 'not-ours') {
      this.o.logger.error(
        { from, terms: result.hash.slice(0, 12) },
        "terms: a partner passed on a handover of this shop's place to a new identity that this node never made: someone else holds this shop's identity key (D99)",
      )
      this.o.onForeignHandover?.(from, result.hash)
      return
    }
    if (result.kind === 'removed') {
      this.o.logger.error({ from, terms: result.hash.slice(0, 12) }, 'terms: every other party signed terms without this shop (D98)')
      return this.check()
    }
    if (result.kind === 'history') {
      this.o.logger.info({ from, terms: result.hash.slice(0, 12), revision: agreement.terms.revision }, 'terms: earlier terms from a partner stored')
      return this.check()
    }
    const handover = agreement.terms.succession?.body
    if (result.signedForUs && handover) {
      this.o.logger.info(
        { from, terms: result.hash.slice(0, 12), predecessor: handover.predecessor, successor: handover.successor },
        'terms: a partner hands its place to a new identity, signed by its old and new keys; signed for our operator, nothing else changes (D99)',
      )
      this.o.onHandoverSigned?.(handover.predecessor)
    } else this.o.logger.info({ from, terms: result.hash.slice(0, 12), complete: result.complete }, 'terms: signatures from a partner stored')
    // Passed on at once, so a signature reaches parties its signer is not connected to.
    this.sendToParties(agreement, from)
    this.check()
  }

  /**
   * Earlier terms a partner that joined later asks for (D97). Authority: terms we signed name it;
   * it gets only terms every party signed, one per ask, within its share of terms messages.
   */
  private onAsk(from: ShopId, hash: string): void {
    if (!this.take(from)) return
    if (!this.parties().includes(from)) {
      this.o.logger.warn({ from }, 'terms: asked for earlier terms by a shop no terms we signed name; not answered')
      return
    }
    const held = this.o.book.held(this.o.now()).find((h) => h.hash === hash && h.missing.length === 0)
    if (held) this.transport?.send(from, 'control', { type: 'terms.agreement', agreement: held.agreement })
  }

  /** Asks the connected parties for the earlier terms we lack; again only after HISTORY_ASK_AGAIN_MS. */
  private askHistory(): void {
    if (this.wanted.length === 0) return
    const now = this.o.now()
    const key = this.wanted.join(',')
    if (key === this.lastAsk.key && now - this.lastAsk.at < HISTORY_ASK_AGAIN_MS) return
    const connected = this.parties().filter((p) => this.transport?.isConnected(p))
    if (connected.length === 0) return
    this.lastAsk = { key, at: now }
    this.o.logger.info({ wanted: this.wanted.map((h) => h.slice(0, 12)) }, 'terms: asking partners for earlier terms (D97)')
    for (const p of connected) for (const hash of this.wanted) this.transport?.send(p, 'control', { type: 'terms.ask', hash })
  }

  /**
   * A card. Authority: the identity it names, which signed it; only newer than the one we hold, and
   * still valid. The sender's own, or (D97) one of a shop that terms we hold name beside us, which
   * the proposer of a new party passes on. Anything else is dropped and logged.
   */
  private onCard(from: ShopId, raw: Signed<ShopCard>): void {
    const files = this.o.cards
    if (!files || !this.take(from)) return
    const verified = verifyDocument('shop-card', raw)
    const id = raw.body.id
    const held = files.of(id)
    const now = this.o.now()
    let refused: string | null = null
    if (!verified.ok) refused = verified.error.message
    else if (id === this.o.book.me) refused = 'a card of ours'
    else if (id !== from && !this.named(id)) refused = `a card of ${id}, which no terms we hold name`
    else if (raw.body.validUntil <= now) refused = 'expired'
    else if (held && raw.body.issuedAt <= held.body.issuedAt) return // the one we hold, or older: nothing new
    if (refused !== null) {
      this.o.logger.warn({ from, reason: refused }, 'card from a partner refused')
      return
    }
    files.save(raw)
    const boxKeyChanged = held?.body.boxKey !== raw.body.boxKey
    this.o.logger.info({ from, id, boxKeyChanged, issuedAt: new Date(raw.body.issuedAt).toISOString() }, "a partner's newer card stored")
    this.o.onCard?.(id, boxKeyChanged)
  }

  /** True when terms we hold name `id` beside us (signed by us or not). */
  private named(id: ShopId): boolean {
    return this.o.book.held(this.o.now()).some((h) => h.agreement.terms.parties.includes(this.o.book.me) && h.agreement.terms.parties.includes(id))
  }

  /**
   * Cards of the parties `agreement` adds to the revision it supersedes, for a party that may not
   * have them (D97): without its card no node can seal to a newcomer or dial it.
   */
  private sendNewcomerCards(peer: ShopId, agreement: Agreement): void {
    const files = this.o.cards
    const supersedes = agreement.terms.supersedes
    if (supersedes === null) return
    const before = this.o.book.held(this.o.now()).find((h) => h.hash === supersedes)?.agreement.terms.parties ?? []
    for (const p of agreement.terms.parties) {
      if (p === peer || p === this.o.book.me || before.includes(p)) continue
      const card = files?.of(p)
      if (card) this.transport?.send(peer, 'control', { type: 'card', card })
    }
  }

  /**
   * A revision that leaves `parties` out, to each of them still connected (D98): their nodes stand
   * down on it rather than keep their shops fenced for want of leases.
   */
  tellRemoved(parties: readonly ShopId[], agreement: Agreement): void {
    for (const p of parties) if (this.transport?.isConnected(p)) this.transport.send(p, 'control', { type: 'terms.agreement', agreement })
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
      if (h.agreement.terms.parties.includes(peer)) {
        this.transport?.send(peer, 'control', { type: 'terms.agreement', agreement: h.agreement })
        this.sendNewcomerCards(peer, h.agreement)
      }
    // The one that just connected only: the others were asked when they did (D97).
    for (const hash of this.wanted) this.transport?.send(peer, 'control', { type: 'terms.ask', hash })
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
    // A handover's predecessor is no party of it, yet waits for every signature to restart as its
    // successor (D99): it gets each, its own sender's too.
    const predecessor = copy.terms.succession?.body.predecessor
    const to = [...copy.terms.parties.filter((p) => p !== except), ...(predecessor === undefined ? [] : [predecessor])]
    for (const p of to)
      if (p !== this.o.book.me && this.transport?.isConnected(p)) {
        this.transport.send(p, 'control', { type: 'terms.agreement', agreement: copy })
        this.sendNewcomerCards(p, copy)
      }
  }

  /** The in-force hash the node may run on: none while earlier terms are missing (D97). */
  private currentHash(): string | null {
    if (this.wanted.length > 0) return null
    return this.o.book.held(this.o.now()).find((h) => h.state === 'in-force')?.hash ?? null
  }

  private signatureCounts(): Map<string, number> {
    return new Map(this.o.book.held(this.o.now()).map((h) => [h.hash, h.agreement.signatures.length]))
  }
}
