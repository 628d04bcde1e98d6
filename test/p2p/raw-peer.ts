// A bare libp2p node that can write arbitrary bytes on our protocols, to play a misbehaving peer.
import type { Stream } from '@libp2p/interface'
import { multiaddr } from '@multiformats/multiaddr'
import { createHost, type Host } from '../../node/p2p/index.js'
import type { Identity } from '../../protocol/index.js'
import { LOOPBACK } from './helpers.js'

export class RawPeer {
  readonly #hosts: Host[] = []

  /** A started host for `who` that admits everyone, so only the other side's gater decides. */
  async host(who: Identity): Promise<Host> {
    const host = await createHost({ identity: who, listen: [LOOPBACK], gater: {}, maxStreamWindowBytes: 256 * 1024 })
    await host.start()
    this.#hosts.push(host)
    return host
  }

  async open(host: Host, targetAddrs: readonly string[], protocol: string): Promise<Stream> {
    const addr = targetAddrs[0]
    if (addr === undefined) throw new Error('target has no address')
    return host.dialProtocol(multiaddr(addr), protocol)
  }

  async stopAll(): Promise<void> {
    await Promise.all(this.#hosts.splice(0).map((host) => host.stop()))
  }
}

/** A varint length prefix followed by the bytes, written in one send. */
export function rawFrame(bytes: Uint8Array): Uint8Array {
  const prefix: number[] = []
  let n = bytes.byteLength
  while (n >= 0x80) {
    prefix.push((n & 0x7f) | 0x80)
    n = Math.floor(n / 0x80)
  }
  prefix.push(n)
  const out = new Uint8Array(prefix.length + bytes.byteLength)
  out.set(prefix, 0)
  out.set(bytes, prefix.length)
  return out
}
