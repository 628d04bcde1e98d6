// Builds the engine's parts and wires their hooks, once, in dependency order. Hooks that need the
// finished engine go through `ref`, filled in as soon as the engine exists.
import type { EngineEvent, EventSink } from './events.js'
import type { ShopId, PlatformHealth } from '../../protocol/index.js'
import { Allotments } from './allotments.js'
import { Background } from './background.js'
import { Books } from './books.js'
import { Settlement } from './settlement.js'
import type { EngineOptions } from './options.js'
import { Escrow } from './escrow.js'
import { Failover } from './failover.js'
import { Federation } from './federation.js'
import { FeedWriter } from './feed-writer.js'
import { Fulfilment } from './fulfilment.js'
import { Handback } from './handback.js'
import { Incidents } from './incidents.js'
import { Outbox } from './outbox.js'
import { ReceiptGuard } from './receipt-guard.js'
import { recordApplier } from './records.js'
import { Replication } from './replication.js'

export interface PeerView {
  lastHeartbeatAt: number | null
  platform: PlatformHealth
  advertisedSeq: number
}

/** What the parts call back into the finished engine. */
export interface EngineCallbacks {
  setFence(fenced: boolean): void
  onHandback(origin: ShopId, epoch: number): void
}

export interface EngineRef {
  engine: EngineCallbacks | null
}

export interface EngineParts {
  readonly o: EngineOptions
  readonly federation: Federation
  readonly writer: FeedWriter
  readonly escrowBook: Escrow
  readonly replication: Replication
  readonly allotments: Allotments
  readonly failover: Failover
  readonly fulfilment: Fulfilment
  readonly incidents: Incidents
  readonly handback: Handback
  readonly outbox: Outbox
  readonly books: Books
  readonly settlement: Settlement
  readonly peers: Map<ShopId, PeerView>
  readonly background: Background
}

export function assemble(o: EngineOptions, ref: EngineRef): EngineParts {
  const me = o.identity.id
  const federation = new Federation(me, o.box.publicKey, o.agreement, o.cards, o.earlierAgreements)
  const incidents = new Incidents(me, o.store)
  const background = new Background(o.logger)
  const emit: EventSink = (at: number, event: EngineEvent) => {
    incidents.onEvent(at, event)
    o.emit?.(at, event)
  }
  const parts: Partial<{ replication: Replication; fulfilment: Fulfilment; outbox: Outbox }> = {}
  const writer = new FeedWriter({
    identity: o.identity,
    box: o.box,
    store: o.store,
    clock: o.clock,
    rng: o.rng,
    termsHash: () => federation.termsHash,
    recipients: () => federation.recipients(),
    onAppended: (entries) => {
      const last = entries.at(-1)
      if (last) emit(o.clock.now(), { kind: 'own-append', seq: last.body.seq, records: entries.reduce((n, e) => n + e.body.records.length + (e.body.sealed ? 1 : 0), 0) })
      parts.replication?.onOwnAppended(entries)
    },
  })
  const escrowBook = new Escrow(me, o.store, writer, (origin, order, fulfillers) => {
    o.logger.warn({ origin, order, fulfillers }, 'duplicate delivery detected')
    emit(o.clock.now(), { kind: 'duplicate', origin, order, fulfillers })
  })
  const books = new Books({ me, store: o.store, federation, logger: o.logger })
  const settlement = new Settlement({ me, books, writer, federation, store: o.store, clock: o.clock, rng: o.rng, logger: o.logger })
  const allotments = new Allotments({ identity: o.identity, box: o.box, store: o.store, rng: o.rng, writer, federation, adapter: o.adapter, logger: o.logger, canary: o.canary })
  const peers = new Map<ShopId, PeerView>(federation.partners.map((p) => [p, { lastHeartbeatAt: null, platform: 'unknown', advertisedSeq: 0 }]))
  const isAlive = (p: ShopId) => {
    const seen = peers.get(p)?.lastHeartbeatAt
    return seen !== null && seen !== undefined && o.clock.now() - seen <= federation.terms.timing.suspectAfterMs
  }
  const failover = new Failover({
    identity: o.identity,
    federation,
    store: o.store,
    transport: o.transport,
    clock: o.clock,
    logger: o.logger,
    background,
    emit,
    hooks: {
      onTakenOver: (origin, epoch) => background.run('fulfilment.start', async () => parts.fulfilment?.start(origin, epoch)),
      onOwnTakeover: () => undefined,
      onFenceChange: (fenced) => ref.engine?.setFence(fenced),
    },
  })
  const fulfilment = new Fulfilment({
    identity: o.identity,
    federation,
    store: o.store,
    writer,
    escrow: escrowBook,
    books,
    allotments,
    transport: o.transport,
    clock: o.clock,
    logger: o.logger,
    background,
    emit,
    hooks: { isAlive, onDelivered: () => undefined, onOutbox: () => background.run('outbox.drain', async () => parts.outbox?.drain()) },
  })
  parts.fulfilment = fulfilment
  const replication = new Replication({
    identity: o.identity,
    box: o.box,
    store: o.store,
    transport: o.transport,
    clock: o.clock,
    logger: o.logger,
    background,
    emit,
    apply: recordApplier({ me, receiptGuard: new ReceiptGuard({ me, store: o.store, federation }), store: o.store, clock: o.clock, logger: o.logger, emit, escrow: escrowBook, books, settlement, allotments, failover, fulfilment, onHandback: (origin, epoch) => ref.engine?.onHandback(origin, epoch) }),
    partners: () => federation.partners,
    knownTerms: (hash) => federation.knowsTerms(hash),
    ownHead: () => writer.state,
  })
  parts.replication = replication
  const handback = new Handback({ me, federation, store: o.store, writer, allotments, adapter: o.adapter, clock: o.clock, logger: o.logger, emit })
  const claimUrl = (origin: ShopId) => (o.publicUrl ? `${o.publicUrl.replace(/\/$/, '')}/claim?shop=${origin}` : null)
  const outbox = new Outbox({ me, myName: o.name, claimUrl, federation, store: o.store, mailer: o.mailer, clock: o.clock, logger: o.logger, background })
  parts.outbox = outbox
  return { o, federation, writer, escrowBook, replication, allotments, failover, fulfilment, incidents, handback, outbox, books, settlement, peers, background }
}
