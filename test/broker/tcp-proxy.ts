import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net'

/** How many bytes a client sent first are kept to find its connection (its `CLIENT SETNAME`). */
const OPENING_BYTES = 1024

interface Link {
  client: Socket
  upstream: Socket
  /** What the client sent first. */
  opening: string
}

/**
 * A TCP proxy on 127.0.0.1 in front of Redis, to make Redis unreachable for one broker and bring it
 * back: `cut()` drops every connection and refuses new ones (they are closed at once), `restore()`
 * lets them through again. The port stays the same throughout. `freeze(name)` silences the open
 * connections of that client name, as a dead network path would: no bytes either way, no FIN or RST.
 */
export class TcpProxy {
  readonly #server: Server
  readonly #sockets = new Set<Socket>()
  readonly #links = new Set<Link>()
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

  /** Stops forwarding on the open connections named `name` (new ones go through); returns how many. */
  freeze (name: string): number {
    let frozen = 0
    for (const link of this.#links) {
      if (!link.opening.includes(name)) continue
      for (const [socket, peer] of [[link.client, link.upstream], [link.upstream, link.client]]) {
        socket.unpipe(peer)
        socket.pause()
      }
      frozen++
    }
    return frozen
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
    const link: Link = { client, upstream, opening: '' }
    this.#links.add(link)
    const record = (chunk: Buffer): void => {
      link.opening += chunk.toString('latin1')
      if (link.opening.length >= OPENING_BYTES) client.off('data', record)
    }
    client.on('data', record)
    client.on('close', () => this.#links.delete(link))
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
