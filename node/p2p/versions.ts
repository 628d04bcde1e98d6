// Protocol negotiation with each partner (D96). Both sides send `hello` first on a connection; until
// a partner's arrives (or HELLO_WAIT_MS passed: a node from before `hello` never sends one), the
// node is not told the partner connected, so nothing it sends meanwhile can be a type the partner
// does not know. From then on a message type newer than the partner's minor is not sent, and a
// frame whose type we do not know, from a partner on a newer minor, is its addition: dropped
// quietly, not counted against it. A partner on another major is logged: nothing it says parses.
import { KNOWN_MESSAGE_TYPES, MESSAGE_SINCE_MINOR, PROTOCOL_MINOR, PROTOCOL_VERSION, type ShopId, fromUtf8 } from '../../protocol/index.js'
import type { Logger, Protocol } from '../core/ports.js'

/** How long a connection waits for the partner's `hello` before taking it for minor 0 (ms). */
export const HELLO_WAIT_MS = 1_000

export class PeerVersions {
  /** Minor per connected partner that said `hello`; absent: minor 0 (or not heard yet). */
  private readonly minors = new Map<ShopId, number>()

  constructor(private readonly logger: Logger) {}

  hello(peer: ShopId, major: number, minor: number): void {
    if (major !== PROTOCOL_VERSION) {
      this.logger.error(
        { peer, major, ours: PROTOCOL_VERSION },
        'p2p: partner speaks another major protocol version; nothing it sends can be read: one of you must upgrade',
      )
      return
    }
    this.minors.set(peer, minor)
    if (minor !== PROTOCOL_MINOR)
      this.logger.info({ peer, minor, ours: PROTOCOL_MINOR }, 'p2p: partner on another minor protocol version; each sends the other what it knows')
  }

  /** Whether the partner said `hello` on its current connection. */
  heard(peer: ShopId): boolean {
    return this.minors.has(peer)
  }

  forget(peer: ShopId): void {
    this.minors.delete(peer)
  }

  minorOf(peer: ShopId): number {
    return this.minors.get(peer) ?? 0
  }

  /** False for a message type the partner's minor does not have. */
  canSend(peer: ShopId, type: string): boolean {
    return (MESSAGE_SINCE_MINOR[type] ?? 0) <= this.minorOf(peer)
  }

  /** True for a frame that failed to parse because it is a type the partner's newer minor added. */
  isNewerAddition(peer: ShopId, protocol: Protocol, frame: Uint8Array): boolean {
    if (this.minorOf(peer) <= PROTOCOL_MINOR) return false
    try {
      const type = (JSON.parse(fromUtf8(frame)) as { type?: unknown }).type
      return typeof type === 'string' && !KNOWN_MESSAGE_TYPES[protocol].has(type)
    } catch {
      return false
    }
  }
}
