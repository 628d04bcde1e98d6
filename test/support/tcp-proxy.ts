// A loopback TCP proxy that can cut a link: used to partition real node processes. While cut,
// existing connections are destroyed and new ones are accepted and closed at once (the dialer
// sees a dead link, like a network partition), until heal().
import { createServer, type Server, type Socket, connect } from 'node:net'

export class TcpProxy {
  private readonly sockets = new Set<Socket>()
  private cutNow = false

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(targetPort: number, targetHost = '127.0.0.1'): Promise<TcpProxy> {
    const holder: { proxy?: TcpProxy } = {}
    const server = createServer((client) => {
      const proxy = holder.proxy as TcpProxy
      if (proxy.cutNow) {
        client.destroy()
        return
      }
      const upstream = connect(targetPort, targetHost)
      for (const s of [client, upstream]) {
        proxy.sockets.add(s)
        s.on('close', () => proxy.sockets.delete(s))
        s.on('error', () => s.destroy())
      }
      client.pipe(upstream)
      upstream.pipe(client)
      client.on('close', () => upstream.destroy())
      upstream.on('close', () => client.destroy())
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const address = server.address()
    holder.proxy = new TcpProxy(server, typeof address === 'object' && address ? address.port : 0)
    return holder.proxy
  }

  get multiaddr(): string {
    return `/ip4/127.0.0.1/tcp/${this.port}`
  }

  cut(): void {
    this.cutNow = true
    for (const s of this.sockets) s.destroy()
  }

  heal(): void {
    this.cutNow = false
  }

  async stop(): Promise<void> {
    this.cut()
    await new Promise<void>((resolve) => this.server.close(() => resolve()))
  }
}
