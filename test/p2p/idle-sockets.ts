// TCP connections that are opened and then say nothing, as someone squatting on a node's slots for
// connections still in their handshake would open them. Loopback only.
import net, { type AddressInfo } from 'node:net'
import { multiaddr } from '@multiformats/multiaddr'

/** How long one socket may take to connect before it is given up (and counted as closed). */
const CONNECT_TIMEOUT_MS = 5_000

export interface TcpTarget {
  readonly host: string
  readonly port: number
}

/** The host and TCP port of the first of a node's listen addresses ('/ip4/…/tcp/…/p2p/…'). */
export function tcpTarget(listenAddrs: readonly string[]): TcpTarget {
  const first = listenAddrs[0]
  if (first === undefined) throw new Error('node has no listen address')
  const components = multiaddr(first).getComponents()
  const host = components.find((c) => c.name === 'ip4')?.value
  const port = components.find((c) => c.name === 'tcp')?.value
  if (host === undefined || port === undefined) throw new Error(`not an ip4/tcp address: ${first}`)
  return { host, port: Number(port) }
}

/** A loopback port nobody listens on (it was free a moment ago): dialling it is refused. */
export async function closedPort(): Promise<number> {
  const server = net.createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

export class IdleSockets {
  readonly #sockets: net.Socket[] = []
  /** Sockets whose TCP handshake completed. */
  connected = 0
  /** Sockets that ended; we never close one ourselves before destroyAll(), so the node did. */
  closed = 0

  /**
   * Opens `count` connections to `target`, taking the local addresses in turn, and resolves once
   * each has connected or ended. They send nothing and stay open until the node closes them.
   */
  async open(target: TcpTarget, count: number, localAddresses: readonly string[]): Promise<void> {
    const settled: Promise<void>[] = []
    for (let i = 0; i < count; i++) {
      const socket = net.connect({ host: target.host, port: target.port, localAddress: localAddresses[i % localAddresses.length] })
      this.#sockets.push(socket)
      socket.on('error', () => {}) // a reset from the node shows up as 'close' as well
      socket.once('connect', () => this.connected++)
      socket.once('close', () => this.closed++)
      settled.push(
        new Promise<void>((resolve) => {
          const timer = setTimeout(() => {
            socket.destroy()
            resolve()
          }, CONNECT_TIMEOUT_MS)
          const done = (): void => {
            clearTimeout(timer)
            resolve()
          }
          socket.once('connect', done)
          socket.once('close', done)
        }),
      )
    }
    await Promise.all(settled)
  }

  destroyAll(): void {
    for (const socket of this.#sockets.splice(0)) socket.destroy()
  }
}
