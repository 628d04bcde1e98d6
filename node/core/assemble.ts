// Builds the engine's parts and wires their hooks, once, in dependency order. Hooks that need the
// finished engine go through `ref`, filled in as soon as the engine exists.
import type { EngineEvent, EventSink } from './events.js'
import type { ShopId, PlatformHealth } from '../../protocol/index.js'
import { Allotments } from './allotments.js'
import { Background } from './background.js'
import { ClaimBook } from './claims.js'
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
import { PeerWork } from './peer-work.js'
import { PartnerReceipts } from './partner-receipts.js'
import { ReceiptGuard } from './receipt-guard.js'
import { recordApplier } from './records.js'
import { Replication } from './replication.js'
import { State } from './state/index.js'

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
  readonly state: State
  readonly writer: FeedWriter
  readonly escrowBook: Escrow
  readonly replication: Replication
  readonly allotments: Allotments
  readonly failover: Failover
  readonly fulfilment: Fulfilment
  readonly incidents: Incidents
  readonly handback: Handback
  readonly outbox: Outbox
  readonly settlement: Settlement
  readonly peers: Map<ShopId, PeerView>
  readonly background: Background
  readonly work: PeerWork
}

export function assemble(o: EngineOptions, ref: EngineRef): EngineParts {
  const me = o.identity.id
  const federation = new Federation(me, o.box.publicKey, o.agreement, o.cards, o.earlierAgreements)
  const state = new State({ me, store: o.store, federation, logger: o.logger, canary: o.canary })
  const incidents = new Incidents(me, o.store)
  const background = new Background(o.logger)
  const work = new PeerWork({ clock: o.clock, logger: o.logger, background })
  const emit: EventSink = (at: number, event: EngineEvent) => {
    incidents.onEvent(at, event)
    o.emit?.(at, event)
  }
  const parts: Partial<{ replication: Replication; fulfilment: Fulfilment; outbox: Outbox; receipts: PartnerReceipts }> = {}
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
  const escrowBook = new Escrow(me, state, writer, (origin, order, fulfillers) => {
    o.logger.warn({ origin, order, fulfillers }, 'duplicate delivery detected')
    emit(o.clock.now(), { kind: 'duplicate', origin, order, fulfillers })
  })
  const settlement = new Settlement({ me, books: state.books, writer, federation, clock: o.clock, rng: o.rng, logger: o.logger, commit: (tx) => state.commit(tx) })
  const allotments = new Allotments({ identity: o.identity, box: o.box, state, rng: o.rng, writer, federation, adapter: o.adapter, logger: o.logger, background, clock: o.clock, onPeerKeys: (origin) => parts.receipts?.keysKnown(origin) })
  const peers = new Map<ShopId, PeerView>(federation.partners.map((p) => [p, { lastHeartbeatAt: null, platform: 'unknown', advertisedSeq: 0 }]))
  const isAlive = (p: ShopId) => {
    const seen = peers.get(p)?.lastHeartbeatAt
    return seen !== null && seen !== undefined && o.clock.now() - seen <= federation.terms.timing.suspectAfterMs
  }
  const failover = new Failover({
    identity: o.identity,
    federation,
    store: o.store,
    state,
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
  const claims = new ClaimBook({ me, federation, state, clock: o.clock, logger: o.logger, emit, isAlive, takeoverEpoch: (origin) => failover.takeoverEpoch(origin) })
  const fulfilment = new Fulfilment({
    identity: o.identity,
    federation,
    state,
    writer,
    claims,
    transport: o.transport,
    clock: o.clock,
    logger: o.logger,
    background,
    work,
    emit,
    onOutbox: () => background.run('outbox.drain', async () => parts.outbox?.drain()),
  })
  parts.fulfilment = fulfilment
  const receipts = (parts.receipts = new PartnerReceipts({ me, state, guard: new ReceiptGuard({ me, state, federation, clock: o.clock }), clock: o.clock, logger: o.logger, emit, background, onLateBooking: () => settlement.rematch() }))
  // An epoch adopted late (a certificate or request that reached us after the receipts): judge
  // again what was held for it.
  state.authorities.onAdopted = (row) => receipts.adopted(row.origin, row.epoch)
  const replication = new Replication({
    identity: o.identity,
    box: o.box,
    store: o.store,
    transport: o.transport,
    clock: o.clock,
    logger: o.logger,
    background,
    work,
    emit,
    apply: recordApplier({ state, settlement, logger: o.logger, escrow: escrowBook, allotments, failover, fulfilment, receipts, onHandback: (origin, epoch) => ref.engine?.onHandback(origin, epoch) }),
    serially: (unit) => state.serially(unit),
    partners: () => federation.partners,
    knownTerms: (hash) => federation.knowsTerms(hash),
    ownHead: () => writer.state,
  })
  parts.replication = replication
  const handback = new Handback({ me, federation, state, writer, adapter: o.adapter, clock: o.clock, logger: o.logger, emit })
  const claimUrl = (origin: ShopId) => (o.publicUrl ? `${o.publicUrl.replace(/\/$/, '')}/claim?shop=${origin}` : null)
  const outbox = new Outbox({ me, myName: o.name, claimUrl, federation, rows: state.outbox, mailer: o.mailer, clock: o.clock, logger: o.logger, background })
  parts.outbox = outbox
  return { o, federation, state, writer, escrowBook, replication, allotments, failover, fulfilment, incidents, handback, outbox, settlement, peers, background, work }
}
