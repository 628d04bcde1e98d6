// The engine's factory: builds its parts once, in dependency order, each handed what it uses and
// nothing more; connects the signals parts emit to the parts that listen; and lists the parts in
// the order they start (they stop in reverse). No part is filled in later and none calls back into
// the engine: what flows upward flows through a Signal connected here.
import type { FeedState, ShopId } from '../../protocol/index.js'
import { Allotments } from './allotments.js'
import { Background } from './background.js'
import { ClaimBook } from './claims.js'
import { bySku, Coverage } from './coverage.js'
import { Drills } from './drill.js'
import { Escrow } from './escrow.js'
import type { EngineEvent, EventSink } from './events.js'
import { Failover } from './failover.js'
import { Federation } from './federation.js'
import { FeedWriter } from './feed-writer.js'
import { Fulfilment } from './fulfilment.js'
import { Handback } from './handback.js'
import { Incidents } from './incidents.js'
import { type Startable, Timers } from './lifecycle.js'
import { Liveness } from './liveness.js'
import type { EngineOptions } from './options.js'
import { Outbox } from './outbox.js'
import { PartnerReceipts } from './partner-receipts.js'
import { PeerWork } from './peer-work.js'
import { ReceiptGuard } from './receipt-guard.js'
import { OwnFeedRejoin } from './own-feed-rejoin.js'
import { ownRecordApplier } from './own-records.js'
import { recordApplier } from './records.js'
import { Replication } from './replication.js'
import { Revocations } from './revocations.js'
import { Settlement } from './settlement.js'
import { State } from './state/index.js'

export interface EngineParts {
  readonly o: EngineOptions
  readonly federation: Federation
  readonly state: State
  readonly writer: FeedWriter
  readonly escrowBook: Escrow
  readonly coverage: Coverage
  readonly drills: Drills
  readonly replication: Replication
  readonly rejoin: OwnFeedRejoin
  readonly revocations: Revocations
  readonly allotments: Allotments
  readonly liveness: Liveness
  readonly failover: Failover
  readonly fulfilment: Fulfilment
  readonly incidents: Incidents
  readonly handback: Handback
  readonly outbox: Outbox
  readonly settlement: Settlement
  readonly background: Background
  readonly work: PeerWork
  /** Every timer the parts set: cleared at stop, so none fires on a closed store. */
  readonly timers: Timers
  /** What has a start or a stop, in start order. */
  readonly lifecycle: readonly Startable[]
}

/** Base URL of our claim page for one origin's buyers, or null when we publish no pages. */
export function claimUrlOf(publicUrl: string | null | undefined, origin: ShopId): string | null {
  return publicUrl ? `${publicUrl.replace(/\/$/, '')}/claim?shop=${origin}` : null
}

export function assemble(o: EngineOptions): EngineParts {
  const me = o.identity.id
  const { clock, logger } = o
  const federation = new Federation(me, o.box.publicKey, o.agreement, o.cards, o.earlierAgreements)
  const state = new State({ me, store: o.store, federation, logger, canary: o.canary })
  const incidents = new Incidents(me, o.store)
  const background = new Background(logger)
  const timers = new Timers(clock)
  const work = new PeerWork({ clock, logger, background })
  const emit: EventSink = (at: number, event: EngineEvent) => {
    incidents.onEvent(at, event)
    o.emit?.(at, event)
  }
  /** Our box key pairs, current first, then those rotated out (D93). */
  const keyring = [o.box, ...(o.canary === 'no-keyring' ? [] : (o.previousBoxes ?? []))]
  const writer = new FeedWriter({
    identity: o.identity,
    box: o.box,
    store: o.store,
    clock,
    rng: o.rng,
    termsHash: () => federation.termsHash,
    recipients: () => federation.recipients(),
  })
  const revocations = new Revocations({
    me,
    federation,
    store: o.store,
    writer,
    clock,
    logger,
    emit,
    canary: o.canary === 'seal-to-revoked' ? o.canary : undefined,
  })
  const coverage = new Coverage({ me, federation, keys: state.keys })
  const escrowBook = new Escrow(
    me,
    state,
    writer,
    (origin, order, fulfillers) => {
      logger.warn({ origin, order, fulfillers }, 'duplicate delivery detected')
      emit(clock.now(), { kind: 'duplicate', origin, order, fulfillers })
    },
    (sku, qty) => coverage.reasonFor(sku, qty),
    (unserved) => {
      coverage.record(unserved)
      for (const group of bySku(unserved)) {
        logger.warn(
          { sku: group.sku, reason: group.reason, orders: group.orders, count: group.count },
          'orders escrowed that no partner could serve if the shop went down now: consign keys of this sku (standin allot) or add it to the terms (standin terms propose --add-sku)',
        )
        emit(clock.now(), { kind: 'order-unserved', ...group })
      }
    },
  )
  const settlement = new Settlement({ me, books: state.books, writer, federation, clock, rng: o.rng, logger, emit, commit: (tx) => state.commit(tx) })
  const guard = new ReceiptGuard({ me, state, federation, clock })
  const receipts = new PartnerReceipts({ me, state, guard, clock, logger, emit, background, onLateBooking: () => settlement.rematch() })
  const allotments = new Allotments({
    identity: o.identity,
    box: o.box,
    keyring,
    state,
    rng: o.rng,
    writer,
    federation,
    adapter: o.adapter,
    logger,
    background,
    clock,
    onPeerKeys: (origin) => receipts.keysKnown(origin),
  })
  const liveness = new Liveness({ me, federation, clock, logger, observe: o.emit })
  const failover = new Failover({
    identity: o.identity,
    federation,
    store: o.store,
    state,
    transport: o.transport,
    clock,
    timers,
    logger,
    background,
    emit,
    liveness,
    adapter: o.adapter,
  })
  const claims = new ClaimBook({
    me,
    federation,
    state,
    clock,
    logger,
    emit,
    isAlive: (p) => liveness.isAlive(p),
    takeoverEpoch: (origin) => failover.takeoverEpoch(origin),
  })
  const outbox = new Outbox({
    me,
    myName: o.name,
    claimUrl: (origin) => claimUrlOf(o.publicUrl, origin),
    federation,
    rows: state.outbox,
    mailer: o.mailer,
    clock,
    timers,
    logger,
    background,
    emit,
  })
  const fulfilment = new Fulfilment({
    identity: o.identity,
    federation,
    state,
    writer,
    claims,
    transport: o.transport,
    clock,
    timers,
    logger,
    background,
    work,
    emit,
    onOutbox: () => background.run('outbox.drain', () => outbox.drain()),
  })
  /** The origin's handback for `epoch` is in its feed (committed): our takeover of it is over. */
  const onHandback = (origin: ShopId, epoch: number) => {
    if (origin === me || !failover.applyHandback(origin, epoch)) return
    fulfilment.end(origin)
    o.emit?.(clock.now(), { kind: 'handback', origin, epoch, receipts: 0 })
  }
  const rejoin: OwnFeedRejoin = new OwnFeedRejoin({
    identity: o.identity,
    box: keyring,
    store: o.store,
    writer,
    transport: o.transport,
    clock,
    logger,
    emit,
    applyOwn: ownRecordApplier({
      me,
      state,
      escrow: escrowBook,
      handback: (tx, epoch) => failover.handbackTakenBack(tx, epoch),
      revoked: (tx, partner, reason, seq) => revocations.applyRecord(tx, me, { partner, reason }, { seq, time: clock.now() }),
    }),
    serially: (unit) => state.serially(unit),
    partners: () => federation.partners,
    headOf: (author): FeedState => replication.headOf(author),
    ignoreMarker: o.canary === 'no-rejoin',
  })
  const replication: Replication = new Replication({
    identity: o.identity,
    box: keyring,
    store: o.store,
    transport: o.transport,
    clock,
    timers,
    logger,
    background,
    work,
    emit,
    apply: recordApplier({ state, settlement, logger, escrow: escrowBook, allotments, failover, fulfilment, receipts, revocations, onHandback }),
    serially: (unit) => state.serially(unit),
    partners: () => federation.partners,
    knownTerms: (hash) => federation.knowsTerms(hash),
    ownHead: () => writer.state,
    rejoin,
  })
  const handback = new Handback({ me, federation, state, writer, adapter: o.adapter, clock, logger, emit })

  writer.appended.on((entries) => {
    const last = entries.at(-1)
    if (last)
      emit(clock.now(), { kind: 'own-append', seq: last.body.seq, records: entries.reduce((n, e) => n + e.body.records.length + (e.body.sealed ? 1 : 0), 0) })
    replication.onOwnAppended(entries)
  })
  failover.takenOver.on((origin, epoch) => background.run('fulfilment.start', async () => fulfilment.begin(origin, epoch)))
  // An epoch adopted late (a certificate or request that reached us after the receipts): judge
  // again what was held for it.
  state.authorities.adopted.on((row) => receipts.adopted(row.origin, row.epoch))

  // Loads in dependency order; at stop, background work settles before the store parts let go.
  // What we owe a partner: the credit limit it applies before taking over from us.
  const owedTo = (partner: ShopId) =>
    state.books.allBalances().find((b) => b.counterparty === partner && b.currency === federation.terms.settlement.currency)?.owedByUs ?? 0
  const drills = new Drills({
    identity: o.identity,
    federation,
    keys: state.keys,
    transport: o.transport,
    clock,
    timers,
    rng: o.rng,
    logger,
    emit,
    owedTo,
    everyMs: o.drillEveryMs ?? null,
  })
  // Revocations first: they fix who our partners are before any part reads the list.
  const lifecycle: Startable[] = [revocations, writer, rejoin, state, replication, failover, incidents, background, receipts, fulfilment, drills]
  return {
    o,
    federation,
    state,
    writer,
    escrowBook,
    coverage,
    drills,
    replication,
    rejoin,
    revocations,
    allotments,
    liveness,
    failover,
    fulfilment,
    incidents,
    handback,
    outbox,
    settlement,
    background,
    work,
    timers,
    lifecycle,
  }
}
