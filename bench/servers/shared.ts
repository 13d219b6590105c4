import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { FastifyInstance } from 'fastify'

export const HOST = '127.0.0.1'

export const SSE_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache'
}

/** An SSE event with one data line, as bytes. */
export function sseBytes (data: string): Buffer {
  return Buffer.from(`data: ${data}\n\n`)
}

/** Publishes a burst one event at a time, for libraries whose publish is per event. */
export function burstOf (publish: (data: string) => unknown): (batch: string[]) => void {
  return (batch) => {
    for (const data of batch) publish(data)
  }
}

/** Writes the status and headers now, so the client sees the stream open. */
export function openResponse (res: ServerResponse): void {
  res.writeHead(200, SSE_HEADERS)
  res.flushHeaders()
}

/** Keeps `item` in `set` while `res` is open. */
export function holdWhileOpen<T> (set: Set<T>, item: T, res: ServerResponse): void {
  set.add(item)
  res.once('close', () => set.delete(item))
}

/** A node:http server whose `GET /t` calls `onStream`; anything else is a 404. */
export async function startHttp (onStream: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ server: Server, port: number, close: () => Promise<void> }> {
  const server = createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/t') onStream(req, res)
    else res.writeHead(404).end()
  })
  await new Promise<void>((resolve) => server.listen(0, HOST, resolve))
  const port = (server.address() as AddressInfo).port
  const close = (): Promise<void> => new Promise((resolve) => {
    server.close(() => resolve())
    server.closeAllConnections()
  })
  return { server, port, close }
}

export async function listenFastify (app: FastifyInstance): Promise<number> {
  await app.listen({ port: 0, host: HOST })
  return (app.server.address() as AddressInfo).port
}

/** The responses of plain `res.write` servers: one shared buffer per event, written to each. */
export class ResponseSet {
  readonly #responses = new Set<ServerResponse>()

  get size (): number {
    return this.#responses.size
  }

  add (res: ServerResponse): void {
    openResponse(res)
    this.hold(res)
  }

  /** Takes a response whose head its server wrote itself. */
  hold (res: ServerResponse): void {
    holdWhileOpen(this.#responses, res, res)
  }

  publish (data: string): void {
    const bytes = sseBytes(data)
    for (const res of this.#responses) res.write(bytes)
  }
}
