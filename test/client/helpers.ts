import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { createServer as createTcpServer, type Socket } from 'node:net'
import { once } from 'node:events'
import type { AddressInfo } from 'node:net'
import type { Test } from 'tap'

export interface SeenRequest {
  method: string
  url: string
  headers: IncomingMessage['headers']
  body: string
  /** Resolves when the server side of this request is closed (finished, or the client went away). */
  closed: Promise<void>
}

export interface TestServer {
  url: string
  requests: SeenRequest[]
}

type Respond = (request: SeenRequest, response: ServerResponse, index: number) => void

/** An HTTP server on 127.0.0.1 that records each request and lets `respond` answer the n-th one. */
export async function httpServer (t: Test, respond: Respond): Promise<TestServer> {
  const requests: SeenRequest[] = []
  const server = createServer((req, res) => {
    let body = ''
    req.setEncoding('utf8')
    req.on('data', (chunk: string) => { body += chunk })
    req.on('end', () => {
      const seen: SeenRequest = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body, closed: once(res, 'close').then(() => {}) }
      requests.push(seen)
      respond(seen, res, requests.length - 1)
    })
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(async () => {
    server.closeAllConnections()
    server.close()
    await once(server, 'close')
  })
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/events`, requests }
}

/** The first request gets `text` as a whole stream, the next ones a 204: a client that reconnects once, then stops. */
export function streamThenNoContent (text: string): Respond {
  return (_request, response, index) => {
    if (index === 0) streamThenEnd(response, text)
    else response.writeHead(204).end()
  }
}

/** Opens an event stream response. */
export function openStream (res: ServerResponse, text = ''): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' })
  res.write(text)
}

/**
 * A broken server: opens an event stream, writes `text`, then a line that never ends, as fast as the
 * client reads it, until the client goes away.
 */
export function endlessLine (res: ServerResponse, text: string): void {
  openStream(res, text + 'data: ')
  const piece = 'x'.repeat(16 * 1024)
  const more = (): void => {
    while (!res.destroyed) if (!res.write(piece)) return // until `drain`
  }
  res.on('drain', more)
  more()
}

/** A whole event stream response: `text`, then the end of the response. */
export function streamThenEnd (res: ServerResponse, text: string): void {
  openStream(res, text)
  res.end()
}

/** A raw TCP server on 127.0.0.1: `respond` writes HTTP by hand on the n-th connection. */
export async function tcpServer (t: Test, respond: (socket: Socket, index: number, head: string) => void): Promise<{ url: string, connections: number }> {
  const sockets = new Set<Socket>()
  const state = { url: '', connections: 0 }
  const server = createTcpServer((socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    socket.setNoDelay(true)
    // Respond once the request head is in, as a real server would.
    let head = ''
    socket.on('data', function onData (data) {
      head += data.toString('latin1')
      if (!head.includes('\r\n\r\n')) return
      socket.off('data', onData)
      respond(socket, state.connections++, head)
    })
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/raw`
  t.teardown(async () => {
    for (const socket of sockets) socket.destroy()
    server.close()
    await once(server, 'close')
  })
  return state
}

/** Writes each piece as its own TCP segment: the next one goes after a pause. */
export async function writeApart (socket: Socket, pieces: Array<string | Buffer>): Promise<void> {
  for (const piece of pieces) {
    socket.write(typeof piece === 'string' ? Buffer.from(piece, 'latin1') : piece)
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}
