// Shared pieces for the p2p tests: deterministic identities, a recording logger and handler,
// a bounded polling wait, and a small federation whose partner sets and address book can change.
import type { Logger, InboundHandler } from '../../node/core/ports.js'
import { createP2pTransport, type P2pTransport, type P2pTransportOptions } from '../../node/p2p/index.js'
import { type ControlMessage, type FeedMessage, type Identity, identityFromSeed, sha256, signDocument, toBase64url, utf8 } from '../../protocol/index.js'

export const LOOPBACK = '/ip4/127.0.0.1/tcp/0'

export function identity(name: string): Identity {
  return identityFromSeed(sha256(utf8(`standin p2p test ${name}`)))
}

export interface LogEntry {
  readonly level: 'debug' | 'info' | 'warn' | 'error'
  readonly fields: Record<string, unknown>
  readonly message: string
}

export function recordingLogger(): Logger & { readonly entries: LogEntry[] } {
  const entries: LogEntry[] = []
  const at = (level: LogEntry['level']) => (fields: Record<string, unknown>, message: string) => {
    entries.push({ level, fields, message })
  }
  return { entries, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') }
}

export class Recorder implements InboundHandler {
  readonly feed: { from: string; message: FeedMessage }[] = []
  readonly control: { from: string; message: ControlMessage }[] = []
  readonly connected: string[] = []
  readonly disconnected: string[] = []
  onFeedMessage(from: string, message: FeedMessage): void {
    this.feed.push({ from, message })
  }
  onControlMessage(from: string, message: ControlMessage): void {
    this.control.push({ from, message })
  }
  onPeerConnected(peer: string): void {
    this.connected.push(peer)
  }
  onPeerDisconnected(peer: string): void {
    this.disconnected.push(peer)
  }
}

/** Polls every 10 ms until `condition` holds; fails after `timeoutMs` naming what it waited for. */
export async function waitFor(what: string, condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

export function feedGet(author: string, afterSeq: number): FeedMessage {
  return { type: 'feed.get', author, afterSeq, limit: 10 }
}

export function heartbeat(from: Identity, to: string, time: number): ControlMessage {
  const body = {
    from: from.id,
    to,
    terms: toBase64url(sha256(utf8('terms'))),
    epoch: 0,
    time,
    platform: 'up' as const,
    head: { seq: 0, hash: null },
  }
  return { type: 'heartbeat', heartbeat: signDocument('heartbeat', body, from) }
}

export interface Member {
  readonly name: string
  readonly identity: Identity
  readonly partners: Set<string>
  readonly handler: Recorder
  readonly logger: ReturnType<typeof recordingLogger>
  readonly rejected: { from: string; protocol: string; reason: string }[]
  node: P2pTransport
}

/** Transports that find each other through one address book, as shop cards would provide. */
export class Federation {
  readonly addressBook = new Map<string, string[]>()
  readonly #running = new Set<P2pTransport>()

  async join(name: string, partnerNames: readonly string[], overrides: Partial<P2pTransportOptions> = {}): Promise<Member> {
    const member: Member = {
      name,
      identity: identity(name),
      partners: new Set(partnerNames.map((p) => identity(p).id)),
      handler: new Recorder(),
      logger: recordingLogger(),
      rejected: [],
      node: undefined as unknown as P2pTransport,
    }
    await this.start(member, overrides)
    return member
  }

  /** (Re)starts a member on a fresh port with a fresh transport, keeping its identity. */
  async start(member: Member, overrides: Partial<P2pTransportOptions> = {}): Promise<void> {
    const node = await createP2pTransport({
      identity: member.identity,
      listen: [LOOPBACK],
      isPartner: (id) => member.partners.has(id),
      partners: () => [...member.partners],
      addressesOf: (id) => this.addressBook.get(id) ?? [],
      logger: member.logger,
      onRejected: (from, protocol, reason) => member.rejected.push({ from, protocol, reason }),
      reconnectIntervalMs: 50,
      ...overrides,
    })
    node.transport.setHandler(member.handler)
    await node.start()
    this.#running.add(node)
    member.node = node
    this.addressBook.set(member.identity.id, node.listenAddrs())
  }

  async stop(member: Member): Promise<void> {
    await member.node.stop()
    this.#running.delete(member.node)
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.#running].map((node) => node.stop()))
    this.#running.clear()
  }
}
