// The one factory that wires a live node: LevelDB store, libp2p transport, engine, HTTP server.
// Start order: store → engine → p2p → http; stop in reverse, so nothing is acknowledged by a
// layer whose lower layers are gone.
import { Alerter } from './alerts/alerter.js'
import { setTimeout as delay } from 'node:timers/promises'
import { Registry } from 'prom-client'
import type { FastifyInstance } from 'fastify'
import { Engine } from './core/engine.js'
import { UnavailableError } from './core/api.js'
import { DataDir, DataDirError, type Keys } from './datadir.js'
import { createNodeLogger } from './logger.js'
import { createP2pTransport, type P2pTransport } from './p2p/index.js'
import { buildHttpServer } from './http/index.js'
import { LevelStore } from './store/level-store.js'
import { storeLines } from './backup/archive.js'
import { storeKeyFromSeed } from './store/sealed-values.js'
import { cryptoRng, systemClock } from './system.js'
import { createNullMailer, createSmtpMailer } from './mail/index.js'
import { createCallbackAdapter, createNullAdapter } from './shop/callback-adapter.js'
import { type Agreement, assert, fromBase64url, toBase64url, leaseQuorum, type ShopId, signatureSchemeName } from '../protocol/index.js'
import { TermsService } from './terms/service.js'
import { TermsBook } from './terms/book.js'
import { TermsExchange } from './terms/exchange.js'
import { recallAll } from './terms/wind-down.js'
import { SecretSlot } from './config/rotating-secret.js'

/** How long a stop waits for the engine's in-flight work before closing the store. */
const STOP_SETTLE_MS = 5_000
/** How long a stop waits for the shop to take the fence. */
const FENCE_AT_STOP_MS = 5_000

/** `work`'s result, or false once `ms` have passed; the timer goes when the work ends first. */
async function within(ms: number, work: Promise<boolean>): Promise<boolean> {
  const timer = new AbortController()
  try {
    return await Promise.race([work, delay(ms, false, { signal: timer.signal }).catch(() => false)])
  } finally {
    timer.abort()
  }
}

export interface RunningNode {
  /** The engine on the agreement in force now; a new one replaces it when a revision takes force (D67). */
  readonly engine: Engine
  readonly http: FastifyInstance
  readonly p2p: P2pTransport
  readonly httpUrl: string
  /** Engine timers set and not yet fired or cleared, counted at the clock (0 once stopped). */
  pendingTimers(): number
  /**
   * Settles once every party signed this shop's handover to its new identity (D99): the caller
   * stops this node and starts it again, which then runs as the new identity. Never settles otherwise.
   */
  readonly handedOver: Promise<void>
  stop(): Promise<void>
}

export interface StartOptions {
  /** Ends a wait for the parties' signatures (D66): startNode then stops what it started and rejects. */
  readonly signal?: AbortSignal
}

/** How often a removed shop's node tries again to lift the fence until the adapter confirms (ms, D98). */
const UNFENCE_RETRY_MS = 5_000

/** Every method of the engine running now, for the HTTP layer, which outlives each engine (D67). */
function currentEngine(get: () => Engine | null, removed: () => boolean): Engine {
  return new Proxy({} as Engine, {
    get(_target, prop) {
      const engine = get()
      // 503 with the reason: an adapter retries later, an operator reads why.
      if (!engine && removed())
        throw new UnavailableError(
          'this shop was removed from the federation (every other party signed terms without it); the node serves nothing more: stop it (D98)',
        )
      if (!engine) throw new UnavailableError('the node is changing to new terms; try again in a moment')
      const value = Reflect.get(engine, prop, engine) as unknown
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(engine) : value
    },
  })
}

export async function startNode(dirPath: string, env: NodeJS.ProcessEnv = process.env, options: StartOptions = {}): Promise<RunningNode> {
  // The simulator's cheap MAC must never sign anything a real partner sees.
  assert(signatureSchemeName() === 'ed25519', `live nodes sign with Ed25519, not ${signatureSchemeName()}`)
  const dir = new DataDir(dirPath)
  const mended = dir.secure()
  const upgraded = dir.upgrade()
  const config = dir.config(env)
  // A handover every party signed (D99), or one a stop interrupted, is finished before anything
  // reads the identity: from here on this node is the successor, on an empty store.
  const movedAside = dir.finishHandover()
  const handedOverFrom = new TermsBook(dir, dir.keys().identity).handedOver(Date.now()) ? dir.handOver(Date.now()) : null
  const { identity, secrets, adapter: adapterCredentials } = dir.keys()
  // Replaced by `standin secrets rotate box` while the node runs (the engine restarts on them, D93).
  let boxes = dir.keys()
  // The secrets `standin secrets rotate` may replace while the node runs: taken now, and again
  // from the files whenever the CLI asks the running node to reload.
  const adminToken = new SecretSlot(secrets.adminToken)
  const requestSecret = new SecretSlot(adapterCredentials.requestSecret)
  const callbackSecret = new SecretSlot(adapterCredentials.callbackSecret)
  const takeSecrets = (read: Pick<Keys, 'secrets' | 'adapter'>): void => {
    adminToken.replace(read.secrets.adminToken, read.secrets.previousAdminToken ?? null)
    requestSecret.replace(read.adapter.requestSecret, read.secrets.previousRequestSecret ?? null)
    callbackSecret.replace(read.adapter.callbackSecret, read.secrets.previousCallbackSecret ?? null)
  }
  takeSecrets({ secrets, adapter: adapterCredentials })
  const termsService = new TermsService(dir)
  const book = termsService.book
  const now = () => Date.now()
  if (!book.inForce(now()) && !book.held(now()).some((h) => h.state === 'waiting' && h.signedByUs))
    throw new DataDirError("no terms signed by this shop: propose them with `standin join <invites…>` or sign a partner's with `standin terms accept <token>`")
  const logger = createNodeLogger({ level: config.logLevel, shop: config.name, env })
  for (const line of upgraded) logger.info({ upgraded: line }, 'data directory: a file written by an earlier version was brought up to date')
  for (const line of mended) logger.warn({ mended: line }, 'data directory: a mode let other users in; mended (docs/decisions.md D55)')
  if (handedOverFrom !== null || movedAside !== null)
    logger.warn(
      {
        predecessor: handedOverFrom ?? secrets.predecessors?.[0]?.id,
        id: identity.id,
        oldStore: dir.retiredDbPath(handedOverFrom ?? secrets.predecessors?.[0]?.id ?? ''),
      },
      "identity: every party signed this shop's handover; the node runs as its new identity from here, on an empty store, and the old identity's store stays aside (D99)",
    )
  const store = await LevelStore.openOnDisk(dir.dbPath, storeKeyFromSeed(fromBase64url(secrets.seed)))
  // Engine changes (first terms, a revision) run one at a time, in the order they were noticed.
  let changes: Promise<void> = Promise.resolve()
  let handOver: () => void = () => undefined
  const handedOver = new Promise<void>((resolve) => {
    handOver = resolve
  })
  // Resolved by the first agreement in force, which a node waiting for signatures waits for (D66).
  let firstInForce: () => void = () => undefined
  const inForce = new Promise<void>((resolve) => {
    firstInForce = resolve
  })
  const exchange = new TermsExchange({
    book,
    logger,
    now,
    cards: { own: () => dir.cardOf(identity.id), of: (id) => dir.cardOf(id), save: (card) => dir.saveCard(card) },
    // A partner's new box key: the engine seals to it from its next start, on the same store. A
    // card that changed only its addresses needs none: the dialer reads them from `cardOf`. A
    // newcomer's first card may be what a revision in force waited for (D97).
    onCard: (id, boxKeyChanged) => {
      cardOf = new Map(dir.cards().map((c) => [c.body.id, c.body]))
      if (awaitingCards) {
        const next = awaitingCards
        awaitingCards = null
        changes = changes
          .then(() => adopt(next))
          .catch((error: unknown) => logger.error({ err: String(error) }, 'terms: the new agreement could not be applied'))
      } else if (boxKeyChanged && engine?.federation.isPartner(id)) restart(`a new box key of ${id}`)
    },
    onParties: () => refreshPeers(),
    onHandedOver: (handover) => {
      logger.warn(
        { successor: handover.terms.succession?.body.successor, revision: handover.terms.revision },
        "identity: every party signed this shop's handover to its new identity; the node restarts as it (D99)",
      )
      handOver()
    },
    // While the old identity still is a party, what it holds of ours comes back: after the handover
    // nothing reaches it (as the proposer of a removal does, D95).
    onHandoverSigned: (predecessor) => {
      changes = changes
        .then(() => recallFrom(predecessor))
        .catch((error: unknown) => logger.warn({ err: String(error), predecessor }, 'could not recall what a handed-over identity holds'))
    },
    onForeignHandover: (from) => alerter.raise({ kind: 'identity-taken', subject: from, params: { partner: cardOf.get(from)?.name ?? from } }),
    onRemoved: (removal) => {
      changes = changes.then(() => standDown(removal)).catch((error: unknown) => logger.error({ err: String(error) }, 'could not stand down'))
    },
    onInForce: (agreement) => {
      firstInForce()
      changes = changes
        .then(() => adopt(agreement))
        .catch((error: unknown) => logger.error({ err: String(error) }, 'terms: the new agreement could not be applied'))
    },
  })
  // Who the p2p layer lets in and dials: the engine's partners, and the parties of terms we signed
  // that wait for others (a shop being added must reach us to sign, D97), less the revoked. Cards
  // and addresses come from cards/.
  let partnerIds = exchange.parties()
  let cardOf = new Map(dir.cards().map((c) => [c.body.id, c.body]))
  // A revision in force that names a shop whose card has not reached us yet (D97).
  let awaitingCards: Agreement | null = null
  const refreshPeers = (): void => {
    const running = engine
    if (removedBy) {
      partnerIds = [] // removed (D98): no partner any more
      return
    }
    if (!running) {
      partnerIds = exchange.parties()
      return
    }
    const signing = exchange.parties().filter((p) => !running.federation.isRevoked(p))
    partnerIds = [...new Set([...running.federation.partners, ...signing])]
  }
  let rejectedFrames = 0
  const p2p = await createP2pTransport({
    identity,
    listen: config.p2p.listen,
    isPartner: (id) => partnerIds.includes(id),
    partners: () => partnerIds,
    addressesOf: (id) => config.p2p.dialOverrides[id] ?? cardOf.get(id)?.addrs ?? [],
    // A partner dials in from its own address, whichever address we dial it at.
    inboundAddressesOf: (id) => [...(cardOf.get(id)?.addrs ?? []), ...(config.p2p.dialOverrides[id] ?? [])],
    allowFrom: config.p2p.allowFrom,
    logger,
    // p2p already logs each rejected frame with its reason; here it is only counted.
    onRejected: () => {
      rejectedFrames++
    },
  })
  const transport = exchange.attach(p2p.transport)
  const adapter = config.adapter.callbackUrl
    ? createCallbackAdapter({ baseUrl: config.adapter.callbackUrl, secret: callbackSecret, logger })
    : createNullAdapter(logger)
  const mailer = config.smtp ? createSmtpMailer(config.smtp, secrets.smtpPassword, logger) : createNullMailer(logger)
  const alerter = new Alerter({
    channels: config.alerts.channels,
    secrets: secrets.alerts ?? {},
    mailer,
    now,
    log: logger,
    shopName: config.name,
  })
  const clock = systemClock()
  let stopping = false
  let engine: Engine | null = null
  let agreement: Agreement | null = null
  // The revision that removed this shop (D98): from then on no engine runs and the shop is unfenced.
  let removedBy: Agreement | null = null
  let unfenceTimer: NodeJS.Timeout | null = null

  const startEngine = async (terms: Agreement): Promise<void> => {
    const next = new Engine({
      identity,
      box: boxes.box,
      previousBoxes: boxes.previousBoxes,
      name: config.name,
      addrs: () => p2p.listenAddrs(),
      agreement: terms,
      earlierAgreements: dir
        .agreements()
        .filter((a) => a.missing.length === 0)
        .map((a) => a.agreement),
      cards: dir.cards(),
      clock,
      rng: cryptoRng,
      store,
      transport,
      logger,
      adapter,
      mailer,
      publicUrl: config.http.publicUrl,
      drillEveryMs: config.drills.everyMinutes === null ? null : config.drills.everyMinutes * 60_000,
      emit: (at, event) => {
        logger.debug({ at, event }, 'engine event')
        alerter.onEngineEvent(at, event)
        // A quorum revoked a partner (D94): the engine runs without it from its next start, and
        // the p2p layer lets it in no more (its connection closes at the next keep-connected round).
        if (event.kind === 'partner-revoked' && !event.us) restart(`partner ${event.partner} revoked`)
      },
    })
    await next.start()
    engine = next
    agreement = terms
    refreshPeers()
    // A node that waited for a card (D97) serves from here, as one that waited for signatures does.
    firstInForce()
  }

  /**
   * Stops the running engine and starts one on `terms`. The platform health the adapter last
   * reported goes to the new engine at once, as the adapter's next report would within a minute:
   * until then an origin taken over could not hand back (seed rv-13, D94).
   */
  const replaceEngine = async (terms: Agreement): Promise<void> => {
    const old = engine as Engine
    const platform = old.platformHealth()
    engine = null
    await old.stop()
    await startEngine(terms)
    const next = engine as Engine | null // set by startEngine
    if (platform !== 'unknown') next?.reportPlatformHealth(platform)
  }

  /** The engine again on the agreement in force, the store and connections kept (as for a revision, D67). */
  const restart = (why: string): void => {
    changes = changes
      .then(async () => {
        if (stopping || !engine || !agreement) return
        cardOf = new Map(dir.cards().map((c) => [c.body.id, c.body]))
        await replaceEngine(agreement)
        logger.info({ why }, 'engine restarted on the same store and connections')
      })
      .catch((error: unknown) => logger.error({ err: String(error), why }, 'the engine could not restart'))
  }

  /**
   * A new agreement in force. The first one starts the engine (the HTTP server follows below); a
   * revision replaces the engine on the same store and connections (D67), parties left out or not
   * (D95): the p2p layer follows `partnerIds`, which the new engine sets, and closes a former
   * party's connection at its next round.
   */
  const adopt = async (next: Agreement): Promise<void> => {
    if (stopping || removedBy) return
    const parties = next.terms.parties.filter((p) => p !== identity.id)
    cardOf = new Map(dir.cards().map((c) => [c.body.id, c.body]))
    const noCard = parties.filter((p) => !cardOf.has(p))
    if (noCard.length > 0) {
      // The engine keeps running on the terms before; the card comes with the proposal or from the
      // newcomer as it connects, and the revision is taken then.
      awaitingCards = next
      logger.warn({ revision: next.terms.revision, noCard }, 'terms: in force, but the card of a party has not reached this node; waiting for it')
      return
    }
    if (!engine) {
      partnerIds = parties
      cardOf = new Map(dir.cards().map((c) => [c.body.id, c.body]))
      await startEngine(next)
      return
    }
    const leaving = partnerIds.filter((p) => !parties.includes(p))
    const joining = parties.filter((p) => !partnerIds.includes(p))
    // Parties the revision leaves out hear of it while still connected, and stand down (D98).
    const removed = (agreement?.terms.parties ?? []).filter((p) => p !== identity.id && !parties.includes(p))
    if (removed.length > 0) exchange.tellRemoved(removed, next)
    if (leaving.length + joining.length > 0)
      logger.warn({ revision: next.terms.revision, leaving, joining }, 'terms: the revision in force changes the parties')
    cardOf = new Map(dir.cards().map((c) => [c.body.id, c.body]))
    await replaceEngine(next)
    logger.info(
      { terms: next.terms.id, revision: next.terms.revision, skus: next.terms.skus.length },
      'terms: a new revision is in force; the node runs on it now',
    )
  }

  /** Every allotment of ours `holder` still holds, recalled (D99: a partner's old identity). */
  const recallFrom = async (holder: ShopId): Promise<void> => {
    const running = engine
    if (!running) return
    const allotments = await recallAll(running, holder)
    if (allotments.length > 0)
      logger.warn({ holder, allotments }, "identity: recalled what a partner's old identity holds of ours, before its handover takes force (D99)")
  }

  /**
   * Every other party signed terms without this shop (D95): no partner takes it over or holds its
   * escrow any more, so the fence has nothing left to guard. The engine stops, the shop is told it
   * may deliver every order itself (again until the adapter confirms), and the node serves nothing
   * but says why; the operator stops it (D98).
   */
  const standDown = async (removal: Agreement): Promise<void> => {
    if (stopping || removedBy) return
    removedBy = removal
    logger.error(
      { revision: removal.terms.revision, parties: removal.terms.parties.length },
      'this shop was removed from the federation: every other party signed terms without it. The node stands down: the shop is unfenced, nothing is escrowed any more; take the Standin adapter out of the shop, then stop the node (D98)',
    )
    alerter.raise({ kind: 'removed', subject: '', params: { revision: String(removal.terms.revision) } })
    const old = engine
    engine = null
    partnerIds = []
    if (old) await old.stop()
    const unfence = (): void => {
      adapter.setFenced(false).then(
        () => {
          if (unfenceTimer) clearInterval(unfenceTimer)
          unfenceTimer = null
          logger.info('fence lifted for good: this shop is no party any more (D98)')
        },
        (error: unknown) => logger.warn({ err: String(error) }, 'could not reach the shop adapter to lift the fence; retrying'),
      )
    }
    unfenceTimer = setInterval(unfence, UNFENCE_RETRY_MS)
    unfenceTimer.unref()
    unfence()
  }

  const first = exchange.ready()
  const removal = book.removal(now())
  if (removal) await standDown(removal)
  else if (first) await adopt(first)
  exchange.start()
  await p2p.start()
  if (!engine && !removedBy) {
    const waiting = book.held(now()).filter((h) => h.state === 'waiting' && h.signedByUs)
    const names = new Map(dir.cards().map((c) => [c.body.id, c.body.name]))
    if (exchange.wantedHistory().length > 0)
      logger.warn(
        { earlierTerms: exchange.wantedHistory().map((h) => h.slice(0, 12)) },
        'terms: this shop joined terms in force; fetching the earlier revisions from partners before the node serves (D97)',
      )
    logger.warn(
      { waitingFor: [...new Set(waiting.flatMap((h) => h.missing))].map((id) => names.get(id) ?? id) },
      'terms not signed by every party yet: waiting for their nodes to pass their signatures on; the node serves once every party has signed (D66)',
    )
    let onAbort: () => void = () => undefined
    const aborted = new Promise<never>((_resolve, reject) => {
      onAbort = () => reject(new Error('stopped while waiting for the parties to sign the terms'))
      if (options.signal?.aborted) onAbort()
      options.signal?.addEventListener('abort', onAbort, { once: true })
    })
    try {
      await Promise.race([inForce, aborted])
      options.signal?.removeEventListener('abort', onAbort)
      await changes
      if (!engine) throw new Error('the terms in force could not be applied (see the log above)')
    } catch (error) {
      stopping = true
      exchange.stop()
      await p2p.stop()
      await mailer.close()
      await store.close()
      throw error
    }
  }
  const registry = new Registry()
  const api = currentEngine(
    () => engine,
    () => removedBy !== null,
  )
  const http = await buildHttpServer({
    api,
    adapterSecret: requestSecret,
    adminToken,
    reloadSecrets: () => {
      const read = dir.keys()
      takeSecrets(read)
      logger.info('secrets reloaded from the data directory (standin secrets rotate)')
      if (toBase64url(read.box.publicKey) !== toBase64url(boxes.box.publicKey)) {
        // A new box key: the engine opens with it (and the old ones), partners get our new card.
        boxes = read
        restart('a new box key (standin secrets rotate box)')
        changes = changes.then(() => exchange.announceCard())
      }
    },
    backupLines: () => storeLines(store.rawPairs()),
    adminAllowRemote: config.http.adminAllowRemote,
    // Over the network only through an https proxy; on this machine (the default) plain http is fine.
    secureCookies: config.http.adminAllowRemote && config.http.publicUrl.startsWith('https:'),
    terms: termsService.operations(now),
    alerts: alerter,
    logger,
    metrics: {
      registry,
      collect: () => ({
        p2p_rejected_frames: rejectedFrames,
        feed_own_seq: engine?.feeds()[0]?.seq ?? 0,
        partners_connected: engine?.partners().filter((p) => p.connected).length ?? 0,
        partners_quarantined: engine?.partners().filter((p) => p.quarantined).length ?? 0,
      }),
    },
  })
  const address = await http.listen({ host: config.http.host, port: config.http.port })
  logger.info({ id: identity.id, http: address, p2p: p2p.listenAddrs() }, 'standin node running')
  let stopped = false
  return {
    get engine() {
      return api
    },
    http,
    p2p,
    httpUrl: address,
    pendingTimers: () => clock.pending(),
    handedOver,
    async stop() {
      if (stopped) return
      stopped = true
      stopping = true
      exchange.stop()
      if (unfenceTimer) clearInterval(unfenceTimer)
      await http.close()
      await p2p.stop()
      await changes
      const running = engine
      const engineStopped = running ? running.stop() : Promise.resolve()
      // Where partners can certify us down, they take over while we are gone: the shop stops
      // delivering escrowed orders now (a node starts fenced, and lifts it once it holds leases
      // again). After engine.stop, so no tick lifts it. A shop that cannot be reached in time is
      // the killed-node case the README names.
      if (agreement && !removedBy && leaseQuorum(agreement.terms) > 0) {
        const fenced = await within(
          FENCE_AT_STOP_MS,
          adapter.setFenced(true).then(
            () => true,
            () => false,
          ),
        )
        if (fenced) logger.info('stopping: shop fenced until this node is back and holds its leases')
        else logger.warn({ waitedMs: FENCE_AT_STOP_MS }, 'stopping: the shop did not take the fence; it may deliver escrowed orders partners take over')
      }
      // Work in flight (a pump reading the store, a mail round) settles before the store closes;
      // past the bound we close anyway: everything acknowledged is already synced.
      const settled = await within(
        STOP_SETTLE_MS,
        engineStopped.then(() => true),
      )
      if (!settled) logger.warn({ waitedMs: STOP_SETTLE_MS }, 'engine work still in flight at stop; closing the store anyway')
      // Alerts still queued or retrying would keep the process (and its sockets) alive: dropped.
      await alerter.stop()
      await mailer.close()
      await store.close()
    },
  }
}
