// The one factory that wires a live node: LevelDB store, libp2p transport, engine, HTTP server.
// Start order: store → engine → p2p → http; stop in reverse, so nothing is acknowledged by a
// layer whose lower layers are gone.
import { Alerter } from './alerts/alerter.js'
import { setTimeout as delay } from 'node:timers/promises'
import { Registry } from 'prom-client'
import type { FastifyInstance } from 'fastify'
import { Engine } from './core/engine.js'
import { DataDir, DataDirError } from './datadir.js'
import { createNodeLogger } from './logger.js'
import { createP2pTransport, type P2pTransport } from './p2p/index.js'
import { buildHttpServer } from './http/index.js'
import { LevelStore } from './store/level-store.js'
import { storeKeyFromSeed } from './store/sealed-values.js'
import { cryptoRng, systemClock } from './system.js'
import { createNullMailer, createSmtpMailer } from './mail/index.js'
import { createCallbackAdapter, createNullAdapter } from './shop/callback-adapter.js'
import { assert, fromBase64url, leaseQuorum, signatureSchemeName } from '../protocol/index.js'

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
  readonly engine: Engine
  readonly http: FastifyInstance
  readonly p2p: P2pTransport
  readonly httpUrl: string
  /** Engine timers set and not yet fired or cleared, counted at the clock (0 once stopped). */
  pendingTimers(): number
  stop(): Promise<void>
}

export async function startNode(dirPath: string, env: NodeJS.ProcessEnv = process.env): Promise<RunningNode> {
  // The simulator's cheap MAC must never sign anything a real partner sees.
  assert(signatureSchemeName() === 'ed25519', `live nodes sign with Ed25519, not ${signatureSchemeName()}`)
  const dir = new DataDir(dirPath)
  const mended = dir.secure()
  const upgraded = dir.upgrade()
  const config = dir.config(env)
  const { identity, box, secrets, adapter: adapterCredentials } = dir.keys()
  const agreement = dir.agreementInForce(Date.now())
  if (!agreement) throw new DataDirError('no agreement in force: every party must sign the terms first (standin join / standin terms accept)')
  const cards = dir.cards()
  const logger = createNodeLogger({ level: config.logLevel, shop: config.name, env })
  for (const line of upgraded) logger.info({ upgraded: line }, 'data directory: a file written by an earlier version was brought up to date')
  for (const line of mended) logger.warn({ mended: line }, 'data directory: a mode let other users in; mended (docs/decisions.md D55)')
  const store = await LevelStore.openOnDisk(dir.dbPath, storeKeyFromSeed(fromBase64url(secrets.seed)))
  const partnerIds = agreement.terms.parties.filter((p) => p !== identity.id)
  const cardOf = new Map(cards.map((c) => [c.body.id, c.body]))
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
  const adapter = config.adapter.callbackUrl
    ? createCallbackAdapter({ baseUrl: config.adapter.callbackUrl, secret: adapterCredentials.callbackSecret, logger })
    : createNullAdapter(logger)
  const mailer = config.smtp ? createSmtpMailer(config.smtp, secrets.smtpPassword, logger) : createNullMailer(logger)
  const alerter = new Alerter({
    channels: config.alerts.channels,
    secrets: secrets.alerts ?? {},
    mailer,
    now: () => Date.now(),
    log: logger,
    shopName: config.name,
  })
  const clock = systemClock()
  const engine = new Engine({
    identity,
    box,
    name: config.name,
    addrs: () => p2p.listenAddrs(),
    agreement,
    earlierAgreements: dir
      .agreements()
      .filter((a) => a.missing.length === 0)
      .map((a) => a.agreement),
    cards,
    clock,
    rng: cryptoRng,
    store,
    transport: p2p.transport,
    logger,
    adapter,
    mailer,
    publicUrl: config.http.publicUrl,
    emit: (at, event) => {
      logger.debug({ at, event }, 'engine event')
      alerter.onEngineEvent(at, event)
    },
  })
  await engine.start()
  await p2p.start()
  const registry = new Registry()
  const http = await buildHttpServer({
    api: engine,
    adapterSecret: adapterCredentials.requestSecret,
    adminToken: secrets.adminToken,
    adminAllowRemote: config.http.adminAllowRemote,
    logger,
    metrics: {
      registry,
      collect: () => ({
        p2p_rejected_frames: rejectedFrames,
        feed_own_seq: engine.feeds()[0]?.seq ?? 0,
        partners_connected: engine.partners().filter((p) => p.connected).length,
        partners_quarantined: engine.partners().filter((p) => p.quarantined).length,
      }),
    },
  })
  const address = await http.listen({ host: config.http.host, port: config.http.port })
  logger.info({ id: identity.id, http: address, p2p: p2p.listenAddrs() }, 'standin node running')
  let stopped = false
  return {
    engine,
    http,
    p2p,
    httpUrl: address,
    pendingTimers: () => clock.pending(),
    async stop() {
      if (stopped) return
      stopped = true
      await http.close()
      await p2p.stop()
      const engineStopped = engine.stop()
      // Where partners can certify us down, they take over while we are gone: the shop stops
      // delivering escrowed orders now (a node starts fenced, and lifts it once it holds leases
      // again). After engine.stop, so no tick lifts it. A shop that cannot be reached in time is
      // the killed-node case the README names.
      if (leaseQuorum(agreement.terms) > 0) {
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
      await mailer.close()
      await store.close()
    },
  }
}
