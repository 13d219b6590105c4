import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net'

/**
 * A TCP proxy on 127.0.0.1 in front of Redis, to make Redis unreachable for one broker and bring it
 * back: `cut()` drops every connection and refuses new ones (they are closed at once), `restore()`
 * lets them through again. The port stays the same throughout.
 */
export class TcpProxy {
  readonly #server: Server
  readonly #sockets = new Set<Socket>()
  #cut = false

  private constructor (server: Server) {
    this.#server = server
  }

  static async start (target: { host: string, port: number }): Promise<TcpProxy> {
    const server = createServer()
    const proxy = new TcpProxy(server)
    server.on('connection', (client) => proxy.#accept(client, target))
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    return proxy
  }

  get url (): string {
    return `redis://127.0.0.1:${(this.#server.address() as AddressInfo).port}`
  }

  cut (): void {
    this.#cut = true
    for (const socket of this.#sockets) socket.destroy()
  }

  restore (): void {
    this.#cut = false
  }

  async close (): Promise<void> {
    this.cut()
    await new Promise((resolve) => this.#server.close(resolve))
  }

  #accept (client: Socket, target: { host: string, port: number }): void {
    if (this.#cut) {
      client.destroy()
      return
    }
    const upstream = connect(target.port, target.host)
    for (const [socket, peer] of [[client, upstream], [upstream, client]]) {
      this.#sockets.add(socket)
      socket.on('error', () => peer.destroy())
      socket.on('close', () => {
        this.#sockets.delete(socket)
        peer.destroy()
      })
      socket.pipe(peer)
    }
  }
}
