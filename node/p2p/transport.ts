// The node's Transport over libp2p: partner-only connections, one validated inbound stream per
// partner and protocol, and one bounded queue plus long-lived stream per partner and protocol out.
import type { PeerId } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import { CONTROL_PROTOCOL, ControlMessage, FEED_PROTOCOL, FeedMessage, HELLO, messageKind, type ShopId } from '../../protocol/index.js'
import type { InboundHandler, Protocol, Transport } from '../core/ports.js'
import { Dialer } from './dialer.js'
import { encodeFrame } from './framing.js'
import { partnerGater } from './gater.js'
import { createHost } from './host.js'
import { InboundAllow, ruleMultiaddrs } from './inbound-allow.js'
import { inboundHandler } from './inbound.js'
import { KeepConnected } from './keep-connected.js'
import { resolveLimits, type P2pTransportOptions } from './options.js'
import { PeerQueue } from './peer-queue.js'
import { HELLO_WAIT_MS, PeerVersions } from './versions.js'

export interface P2pTransport {
  readonly transport: Transport
  /** Our shop id, which is also our libp2p PeerId. */
  readonly peerId: ShopId
  start(): Promise<void>
  /** Closes streams and connections and stops every timer; a stopped transport does not restart. */
  stop(): Promise<void>
  /** Where we listen, each ending in /p2p/<our id>; empty before start(). */
  listenAddrs(): string[]
}

const PROTOCOL_IDS: Record<Protocol, string> = { feed: FEED_PROTOCOL, control: CONTROL_PROTOCOL }

export async function createP2pTransport(options: P2pTransportOptions): Promise<P2pTransport> {
  const { logger, isPartner } = options
  const limits = resolveLimits(options)
  const partners = (): readonly ShopId[] => options.partners().filter((peer) => peer !== options.identity.id)
  const inboundAllow = new InboundAllow({
    partners,
    addressesOf: (id) => (options.inboundAddressesOf ?? options.addressesOf)(id),
    allowFrom: options.allowFrom ?? [],
    logger,
  })
  const allowsInbound = (remote: Multiaddr): boolean => {
    if (inboundAllow.allows(remote)) return true
    // debug: a flood of strangers must not become a flood of log lines.
    logger.debug({ remote: remote.toString() }, 'p2p: inbound connection refused: not from a partner address')
    return false
  }
  const libp2p = await createHost({
    identity: options.identity,
    listen: options.listen,
    gater: partnerGater(isPartner, allowsInbound),
    maxStreamWindowBytes: limits.maxStreamWindowBytes,
    maxReadBufferBytes: limits.maxPausedBufferBytes,
    connections: { ...limits.connections, allow: ruleMultiaddrs(inboundAllow.list.rules) },
  })
  const dialer = new Dialer({ libp2p, limits, logger, addressesOf: options.addressesOf })
  const queues = new Map<string, PeerQueue>()
  const announced = new Set<ShopId>()
  const versions = new PeerVersions(logger)
  /** Partners connected whose `hello` we wait for before telling the node (versions.ts). */
  const awaitingHello = new Map<ShopId, NodeJS.Timeout>()
  let handler: InboundHandler = unsetHandler(logger)
  let state: 'created' | 'running' | 'stopped' = 'created'

  const reject = (from: ShopId, protocol: Protocol, reason: string): void => {
    try {
      options.onRejected?.(from, protocol, reason)
    } catch (err) {
      logger.error({ err }, 'p2p: onRejected threw')
    }
  }
  const common = { limits, logger, isPartner, isRunning: () => state === 'running', reject }
  const streamOptions = { maxInboundStreams: limits.maxInboundStreamsPerProtocol }
  await libp2p.handle(
    FEED_PROTOCOL,
    inboundHandler({
      ...common,
      protocol: 'feed',
      schema: FeedMessage,
      tolerate: (from, frame) => versions.isNewerAddition(from, 'feed', frame),
      deliver: (from, m) => handler.onFeedMessage(from, m),
    }),
    streamOptions,
  )
  await libp2p.handle(
    CONTROL_PROTOCOL,
    inboundHandler({
      ...common,
      protocol: 'control',
      schema: ControlMessage,
      tolerate: (from, frame) => versions.isNewerAddition(from, 'control', frame),
      deliver: (from, m) => (m.type === 'hello' ? onHello(from, m.major, m.minor) : handler.onControlMessage(from, m)),
    }),
    streamOptions,
  )

  const queueKey = (peer: ShopId, protocol: Protocol): string => `${protocol} ${peer}`
  const queueFor = (peer: ShopId, protocol: Protocol): PeerQueue => {
    const key = queueKey(peer, protocol)
    let queue = queues.get(key)
    if (!queue) {
      queue = new PeerQueue({
        peer,
        protocol,
        limits,
        logger,
        openStream: (signal) => dialer.openStream(peer, PROTOCOL_IDS[protocol], signal),
      })
      queues.set(key, queue)
    }
    return queue
  }

  const callHandler = (what: string, call: () => void): void => {
    try {
      call()
    } catch (err) {
      logger.error({ err }, `p2p: ${what} handler threw`)
    }
  }
  const announce = (peer: ShopId): void => {
    clearTimeout(awaitingHello.get(peer))
    awaitingHello.delete(peer)
    if (state !== 'running' || announced.has(peer) || !isPartner(peer)) return
    announced.add(peer)
    logger.info({ peer, minor: versions.minorOf(peer) }, 'p2p: partner connected')
    for (const protocol of ['feed', 'control'] as const) queues.get(queueKey(peer, protocol))?.nudge()
    callHandler('onPeerConnected', () => handler.onPeerConnected(peer))
  }
  const onHello = (peer: ShopId, major: number, minor: number): void => {
    versions.hello(peer, major, minor)
    if (awaitingHello.has(peer)) announce(peer)
  }
  const onConnect = (evt: CustomEvent<PeerId>): void => {
    const peer = evt.detail.toString()
    if (!isPartner(peer)) return
    // Ours first, past the version filter: a node from before `hello` drops it as a bad frame.
    const frame = encodeFrame(HELLO)
    const control = queueFor(peer, 'control')
    control.push(frame)
    // The queue may sit in a reconnect pause from the last connection: the hello goes now.
    control.nudge()
    if (versions.heard(peer)) return announce(peer)
    awaitingHello.set(
      peer,
      setTimeout(() => announce(peer), HELLO_WAIT_MS),
    )
  }
  const onDisconnect = (evt: CustomEvent<PeerId>): void => {
    const peer = evt.detail.toString()
    clearTimeout(awaitingHello.get(peer))
    awaitingHello.delete(peer)
    versions.forget(peer)
    // Announced partners only, so the engine sees matched pairs even if the partner set changed.
    if (!announced.delete(peer)) return
    logger.info({ peer }, 'p2p: partner disconnected')
    callHandler('onPeerDisconnected', () => handler.onPeerDisconnected(peer))
  }

  // Once per keep-connected round: follow the partner set (addresses allowed in, connections and
  // queues of former partners closed).
  const prune = (): void => {
    inboundAllow.refresh()
    for (const connection of libp2p.getConnections()) {
      if (connection.status !== 'open' || isPartner(connection.remotePeer.toString())) continue
      logger.info({ peer: connection.remotePeer.toString() }, 'p2p: closing connection to former partner')
      connection.close().catch((err: unknown) => connection.abort(err instanceof Error ? err : new Error(String(err))))
    }
    for (const [key, queue] of queues) {
      if (isPartner(key.slice(key.indexOf(' ') + 1))) continue
      queues.delete(key)
      queue.stop().catch((err: unknown) => logger.warn({ key, err: String(err) }, 'p2p: queue to former partner did not stop cleanly'))
    }
  }
  const keepConnected = new KeepConnected({
    intervalMs: limits.reconnectIntervalMs,
    logger,
    partners,
    isConnected: (peer) => dialer.openConnection(peer) !== undefined,
    hasAddresses: (peer) => dialer.hasAddresses(peer),
    connect: (peer, signal) => dialer.connect(peer, signal),
    prune,
  })

  const transport: Transport = {
    send(peer: ShopId, protocol: Protocol, message: FeedMessage | ControlMessage): boolean {
      if (state !== 'running' || !isPartner(peer)) return false
      if (!versions.canSend(peer, messageKind(message))) {
        logger.debug({ peer, type: messageKind(message), minor: versions.minorOf(peer) }, "p2p: a message kind the partner's protocol lacks, not sent (D96)")
        return false
      }
      let frame: Uint8Array
      try {
        frame = encodeFrame(message)
      } catch (err) {
        logger.error({ peer, protocol, err }, 'p2p: message cannot be encoded, not sent')
        return false
      }
      if (frame.byteLength > limits.maxFrameBytes) {
        // Our own bug: the partner would refuse it and drop the stream with it.
        logger.warn({ peer, protocol, bytes: frame.byteLength }, 'p2p: message larger than maxFrameBytes, not sent')
        return false
      }
      return queueFor(peer, protocol).push(frame)
    },
    isConnected: (peer) => dialer.openConnection(peer) !== undefined,
    setHandler(next) {
      handler = next
    },
  }

  return {
    transport,
    peerId: options.identity.id,
    listenAddrs: () => libp2p.getMultiaddrs().map((addr) => addr.toString()),
    async start() {
      if (state !== 'created') throw new Error(`p2p transport cannot start: it is ${state}`)
      libp2p.addEventListener('peer:connect', onConnect)
      libp2p.addEventListener('peer:disconnect', onDisconnect)
      await libp2p.start()
      state = 'running'
      keepConnected.start()
      logger.info({ peerId: options.identity.id, addrs: libp2p.getMultiaddrs().map(String) }, 'p2p: listening')
    },
    async stop() {
      if (state === 'stopped') return
      state = 'stopped'
      // After stop() the engine hears nothing more, not even the disconnects stopping causes.
      libp2p.removeEventListener('peer:connect', onConnect)
      libp2p.removeEventListener('peer:disconnect', onDisconnect)
      await keepConnected.stop()
      for (const timer of awaitingHello.values()) clearTimeout(timer)
      awaitingHello.clear()
      await Promise.all([...queues.values()].map((queue) => queue.stop()))
      queues.clear()
      announced.clear()
      await libp2p.stop()
      logger.info({ peerId: options.identity.id }, 'p2p: stopped')
    },
  }
}

function unsetHandler(logger: P2pTransportOptions['logger']): InboundHandler {
  const drop = (peer: ShopId): void => logger.debug({ peer }, 'p2p: no handler set, event dropped')
  return {
    onFeedMessage: drop,
    onControlMessage: drop,
    onPeerConnected: drop,
    onPeerDisconnected: drop,
  }
}
