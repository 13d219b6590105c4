// The HTTP/2 servers of `npm run bench:http2`, cleartext h2 (prior knowledge) on 127.0.0.1, `GET /t`,
// every stream on one topic. TLS is left out: it would cost the same on every server and hide the
// difference being measured.
import http2, { type Http2ServerResponse, type Http2Session, type ServerHttp2Stream } from 'node:http2'
import type { AddressInfo } from 'node:net'
import Fastify from 'fastify'
import { isPublished, ssePlugin, topics } from '../../lib/index.js'
import { HOST, SSE_HEADERS, sseBytes } from '../servers/shared.js'
import type { BenchServer } from '../servers/types.js'

export const h2ServerNames = ['h2-direct', 'h2-write', 'h2-compat', 'plugin-h2-relay', 'plugin-h2-handle'] as const
export type H2ServerName = typeof h2ServerNames[number]

export const h2ServerLabels: Record<H2ServerName, string> = {
  'h2-direct': 'node:http2 streams, pre-framed event bytes, corked per burst (the limit)',
  'h2-write': 'node:http2 streams, pre-framed event bytes, one write each (not corked)',
  'h2-compat': 'node:http2 compat API, res.write of a shared buffer',
  'plugin-h2-relay': 'fastify-sse-actors on HTTP/2, topics() relay',
  'plugin-h2-handle': 'fastify-sse-actors on HTTP/2, per-actor handle'
}

export function isH2ServerName (name: string): name is H2ServerName {
  return (h2ServerNames as readonly string[]).includes(name)
}

/** Listens; close() ends every session, so no client can keep the process alive. */
async function listen (server: http2.Http2Server): Promise<{ port: number, close: () => Promise<void> }> {
  const sessions = new Set<Http2Session>()
  server.on('session', (session) => {
    sessions.add(session)
    session.once('close', () => sessions.delete(session))
  })
  await new Promise<void>((resolve) => server.listen(0, HOST, resolve))
  const close = (): Promise<void> => new Promise((resolve) => {
    server.close(() => resolve())
    for (const session of sessions) session.destroy()
  })
  return { port: (server.address() as AddressInfo).port, close }
}

/** The limit: each event's bytes made once and written to every stream, corked for the burst
 *  (`corked: false`: the same writes, each handed to the session on its own). */
async function direct (corked: boolean): Promise<BenchServer> {
  const streams = new Set<ServerHttp2Stream>()
  const server = http2.createServer()
  server.on('stream', (stream, headers) => {
    stream.on('error', () => {})
    if (headers[':path'] !== '/t') {
      stream.respond({ ':status': 404 }, { endStream: true })
      return
    }
    stream.respond({ ':status': 200, ...SSE_HEADERS })
    streams.add(stream)
    stream.once('close', () => streams.delete(stream))
  })
  const { port, close } = await listen(server)
  const burst = (batch: string[]): void => {
    if (corked) for (const stream of streams) stream.cork()
    for (const data of batch) {
      const bytes = sseBytes(data)
      for (const stream of streams) stream.write(bytes)
    }
    if (corked) for (const stream of streams) stream.uncork()
  }
  return { port, connections: () => streams.size, burst, publish: (data: string) => burst([data]), close }
}

/** What Fastify sits on: the compat request/response API, one write per event per stream. */
async function compat (): Promise<BenchServer> {
  const responses = new Set<Http2ServerResponse>()
  const server = http2.createServer((req, res) => {
    if (req.url !== '/t') {
      res.writeHead(404).end()
      return
    }
    res.writeHead(200, SSE_HEADERS)
    responses.add(res)
    res.once('close', () => responses.delete(res))
  })
  const { port, close } = await listen(server)
  const publish = (data: string): void => {
    const bytes = sseBytes(data)
    for (const res of responses) res.write(bytes)
  }
  const burst = (batch: string[]): void => { for (const data of batch) publish(data) }
  return { port, connections: () => responses.size, burst, publish, close }
}

async function plugin (kind: 'relay' | 'handle'): Promise<BenchServer> {
  const app = Fastify({ http2: true })
  await app.register(ssePlugin)
  if (kind === 'relay') app.get('/t', { chunk: true, handler: topics(() => ['t']) })
  else app.get('/t', { chunk: true, handler: { init: (token) => token.subscribe('t'), handle: (msg) => isPublished(msg) ? msg.event : undefined } })
  await app.listen({ port: 0, host: HOST })
  const publish = (data: string): Promise<string> => app.sse.publish('t', data)
  return {
    port: (app.server.address() as AddressInfo).port,
    connections: () => app.sse.connections,
    // As on HTTP/1.1: every publish of the burst is made before any is awaited.
    burst: async (batch) => { await Promise.all(batch.map(publish)) },
    publish,
    close: () => app.close()
  }
}

export function startH2Server (name: H2ServerName): Promise<BenchServer> {
  switch (name) {
    case 'h2-direct': return direct(true)
    case 'h2-write': return direct(false)
    case 'h2-compat': return compat()
    case 'plugin-h2-relay': return plugin('relay')
    case 'plugin-h2-handle': return plugin('handle')
  }
}
