// Only partners may hold a connection to us or be dialled by us. The key check runs after the
// noise handshake has authenticated the remote key, so a peer cannot claim a partner's id. Before
// it, an inbound socket from an address no partner uses is refused (inbound-allow.ts), so it never
// waits in a handshake.
import type { ConnectionGater, MultiaddrConnection, PeerId } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { ShopId } from '../../protocol/index.js'

export function partnerGater(isPartner: (id: ShopId) => boolean, allowsInbound: (remote: Multiaddr) => boolean = () => true): ConnectionGater {
  const deny = (peer: PeerId): boolean => !isPartner(peer.toString())
  return {
    denyInboundConnection: (maConn: MultiaddrConnection) => !allowsInbound(maConn.remoteAddr),
    denyDialPeer: deny,
    denyInboundEncryptedConnection: deny,
    denyOutboundEncryptedConnection: deny,
    denyInboundUpgradedConnection: deny,
    denyOutboundUpgradedConnection: deny,
  }
}
