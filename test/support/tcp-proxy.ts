// A loopback TCP proxy that can break a link: used to partition real node processes.
// Two ways to break it, until heal():
//   cut()        existing connections are destroyed and new ones are accepted and closed at once:
//                the dialer sees a dead link at once (a crashed router, a reset).
//   blackhole()  nothing is refused and nothing gets through: open connections stop forwarding
//                (bytes wait, unread, as a real network holds them in retransmission), and new
//                connections are accepted but not connected onwards. Both sides see only silence,
//                as in a real partition, and must notice it through their own timeouts.
// heal() forwards again: held bytes flow on in order and held new connections are connected
// onwards (like a SYN retransmitted after a short partition).
import { createServer, type Server, type Socket, connect } from 'node:net'

type Mode = 'open' | 'cut' | 'blackhole'

export class TcpProxy {
  private readonly sockets = new Set<Socket>()
  /** Client sockets accepted while blackholed, connected onwards at heal(). */
  private readonly held = new Set<Socket>()
  /** Sockets not read from: by the blackhole, or because the other side is not draining. */
  private readonly paused = new Set<Socket>()
  private mode: Mode = 'open'

  private constructor(
    private readonly server: Server,
    readonly port: number,
    private readonly target: { port: number; host: string },
  ) {}

  static async start(targetPort: number, targetHost = '127.0.0.1'): Promise<TcpProxy> {
    const holder: { proxy?: TcpProxy } = {}
    const server = createServer({ pauseOnConnect: true }, (client) => (holder.proxy as TcpProxy).accept(client))
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const address = server.address()
    holder.proxy = new TcpProxy(server, typeof address === 'object' && address ? address.port : 0, { port: targetPort, host: targetHost })
    return holder.proxy
  }

  private track(s: Socket): void {
    this.sockets.add(s)
    s.on('close', () => {
      this.sockets.delete(s)
      this.held.delete(s)
      this.paused.delete(s)
    })
    s.on('error', () => s.destroy())
  }

  private accept(client: Socket): void {
    if (this.mode === 'cut') {
      client.destroy()
      return
    }
    this.track(client)
    if (this.mode === 'blackhole') {
      this.held.add(client) // stays paused (pauseOnConnect): the dialer's bytes wait unread
      return
    }
    this.connectOnwards(client)
  }

  private connectOnwards(client: Socket): void {
    const upstream = connect({ port: this.target.port, host: this.target.host })
    this.track(upstream)
    this.forward(client, upstream)
    this.forward(upstream, client)
    client.on('close', () => upstream.destroy())
    upstream.on('close', () => client.destroy())
    client.resume()
  }

  /** One direction of a proxied connection, with backpressure; not read while blackholed. */
  private forward(from: Socket, to: Socket): void {
    from.on('data', (chunk: Buffer) => {
      // A chunk already read when the blackhole began is passed on: it "crossed" before the cut.
      if (!to.write(chunk) || this.mode === 'blackhole') {
        from.pause()
        this.paused.add(from)
      }
    })
    to.on('drain', () => {
      if (this.mode === 'open' && this.paused.delete(from)) from.resume()
    })
    from.on('end', () => to.end())
  }

  get multiaddr(): string {
    return `/ip4/127.0.0.1/tcp/${this.port}`
  }

  cut(): void {
    this.mode = 'cut'
    for (const s of this.sockets) s.destroy()
  }

  blackhole(): void {
    this.mode = 'blackhole'
    for (const s of this.sockets) {
      if (this.held.has(s)) continue // never read yet; heal() connects it onwards
      s.pause()
      this.paused.add(s)
    }
  }

  heal(): void {
    this.mode = 'open'
    for (const s of this.paused) s.resume()
    this.paused.clear()
    const held = [...this.held]
    this.held.clear()
    for (const client of held) if (!client.destroyed) this.connectOnwards(client)
  }

  async stop(): Promise<void> {
    this.cut()
    await new Promise<void>((resolve) => this.server.close(() => resolve()))
  }
}
