// Only partners may hold a connection to us or be dialled by us. The check runs after the noise
// handshake has authenticated the remote key, so a peer cannot claim a partner's id.
import type { ConnectionGater, PeerId } from '@libp2p/interface'
import type { ShopId } from '../../protocol/index.js'

export function partnerGater(isPartner: (id: ShopId) => boolean): ConnectionGater {
  const deny = (peer: PeerId): boolean => !isPartner(peer.toString())
  return {
    denyDialPeer: deny,
    denyInboundEncryptedConnection: deny,
    denyOutboundEncryptedConnection: deny,
    denyInboundUpgradedConnection: deny,
    denyOutboundUpgradedConnection: deny,
  }
}
