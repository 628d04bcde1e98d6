// The fire drill's proof (D69): a holder shows it holds the texts of the keys it names without
// showing them. For each key, HMAC-SHA256 keyed by the drill's nonce over "<keyId>\n<key>"; the
// proof is SHA-256 over those MACs in key-id order. The origin, which consigned the keys and keeps
// their texts, computes the same; a holder that lost a key, or holds a wrong text, cannot.
import { createHmac } from 'node:crypto'
import { concatBytes, fromBase64url, sha256, toBase64url, utf8 } from './encoding.js'

export function drillProof(nonce: string, keys: readonly { keyId: string; key: string }[]): string {
  const secret = fromBase64url(nonce)
  const macs = [...keys]
    .sort((a, b) => (a.keyId < b.keyId ? -1 : a.keyId > b.keyId ? 1 : 0))
    .map(
      (k) =>
        new Uint8Array(
          createHmac('sha256', secret)
            .update(utf8(`${k.keyId}\n${k.key}`))
            .digest(),
        ),
    )
  return toBase64url(sha256(concatBytes(...macs)))
}
