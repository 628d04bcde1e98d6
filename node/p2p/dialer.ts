// Reaching a partner: reuse an open connection, otherwise dial the addresses from its shop card.
// The card is the authority on where a partner listens, so its addresses replace (not join) what
// the peer store held: a partner that moved is not dialled at its old address first.
import type { Connection, Libp2p, Stream } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import type { ShopId } from '../../protocol/index.js'
import type { Logger } from '../core/ports.js'
import type { P2pLimits } from './options.js'

const P2P_CODE = 421

export class NoAddressesError extends Error {
  override name = 'NoAddressesError'
}

export interface DialerDeps {
  readonly libp2p: Libp2p
  readonly limits: P2pLimits
  readonly logger: Logger
  addressesOf(id: ShopId): readonly string[]
}

export class Dialer {
  readonly #deps: DialerDeps

  constructor(deps: DialerDeps) {
    this.#deps = deps
  }

  openConnection(peer: ShopId): Connection | undefined {
    return this.#deps.libp2p.getConnections().find((c) => c.status === 'open' && c.remotePeer.toString() === peer)
  }

  hasAddresses(peer: ShopId): boolean {
    return this.#deps.addressesOf(peer).length > 0
  }

  async connect(peer: ShopId, signal: AbortSignal): Promise<Connection> {
    const existing = this.openConnection(peer)
    if (existing) return existing
    const peerId = peerIdFromString(peer)
    const addrs = this.#cardAddresses(peer)
    if (addrs.length === 0) throw new NoAddressesError(`no usable address for partner ${peer}`)
    await this.#deps.libp2p.peerStore.patch(peerId, { multiaddrs: addrs }, { signal })
    return this.#deps.libp2p.dial(peerId, { signal: this.#attemptSignal(signal) })
  }

  async openStream(peer: ShopId, protocolId: string, signal: AbortSignal): Promise<Stream> {
    const connection = await this.connect(peer, signal)
    return connection.newStream(protocolId, { signal: this.#attemptSignal(signal) })
  }

  #attemptSignal(signal: AbortSignal): AbortSignal {
    return AbortSignal.any([signal, AbortSignal.timeout(this.#deps.limits.dialTimeoutMs)])
  }

  #cardAddresses(peer: ShopId): Multiaddr[] {
    const out: Multiaddr[] = []
    for (const text of this.#deps.addressesOf(peer)) {
      let addr: Multiaddr
      try {
        addr = multiaddr(text)
      } catch {
        this.#deps.logger.debug({ peer, addr: text }, 'p2p: unparseable partner address skipped')
        continue
      }
      const named = addr.getComponents().find((c) => c.code === P2P_CODE)?.value
      if (named !== undefined && named !== peer) {
        this.#deps.logger.warn({ peer, addr: text }, 'p2p: partner address names another peer, skipped')
        continue
      }
      out.push(named === undefined ? addr : addr.decapsulateCode(P2P_CODE))
    }
    return out
  }
}
