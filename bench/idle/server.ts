// The idle-streams server, one of two kinds (argv: kind, heartbeat ms):
// - `plugin`: the plugin, every stream a topics() relay on topic `t`, heartbeats on;
// - `node`: node:http keeping each response open, with one setInterval writing a comment to every
//   socket once an interval: the floor a heartbeat costs, one write syscall per stream and interval.
import { writeFileSync } from 'node:fs'
import type { ServerResponse } from 'node:http'
import { Session } from 'node:inspector/promises'
import Fastify from 'fastify'
import { ssePlugin, topics } from '../../lib/index.js'
import { now } from '../clock.js'
import { serve } from '../ipc.js'
import { holdWhileOpen, listenFastify, openResponse, sseBytes, startHttp } from '../servers/shared.js'

interface IdleServer { port: number, connections: () => number, publish: (data: string) => unknown, close: () => Promise<void> }

async function startPlugin (heartbeat: number): Promise<IdleServer> {
  const app = Fastify()
  await app.register(ssePlugin, { heartbeat, maxConnections: 100_000 })
  app.get('/t', { chunk: true, handler: topics(() => ['t']) })
  const port = await listenFastify(app)
  return { port, connections: () => app.sse.connections, publish: (data) => app.sse.publish('t', data), close: () => app.close() }
}

async function startNode (heartbeat: number): Promise<IdleServer> {
  const responses = new Set<ServerResponse>()
  const http = await startHttp((_req, res) => {
    openResponse(res)
    holdWhileOpen(responses, res, res)
  })
  const comment = Buffer.from(':\n\n')
  const timer = setInterval(() => { for (const res of responses) res.write(comment) }, heartbeat)
  const publish = (data: string): void => {
    const bytes = sseBytes(data)
    for (const res of responses) res.write(bytes)
  }
  return { port: http.port, connections: () => responses.size, publish, close: async () => { clearInterval(timer); await http.close() } }
}

const [kind, heartbeatArg] = process.argv.slice(2)
const server = await (kind === 'node' ? startNode : startPlugin)(Number(heartbeatArg))
let cpuStart = process.cpuUsage()
let profiler: Session | undefined

serve({
  port: () => server.port,
  connections: () => server.connections(),
  /** RSS and heap, in bytes, after a full GC (the runner starts this process with --expose-gc). */
  memory: () => {
    globalThis.gc?.()
    const { rss, heapUsed } = process.memoryUsage()
    return { rss, heapUsed }
  },
  /** Starts counting CPU, and profiling it when `profile` is set. */
  cpuStart: async ({ profile }: { profile: boolean }) => {
    if (profile) {
      profiler = new Session()
      profiler.connect()
      await profiler.post('Profiler.enable')
      await profiler.post('Profiler.start')
    }
    cpuStart = process.cpuUsage()
  },
  /** CPU since cpuStart, in µs; the profile, if one runs, is written to `path`. */
  cpuUsed: async ({ path }: { path: string }) => {
    const used = process.cpuUsage(cpuStart)
    if (profiler !== undefined) {
      writeFileSync(path, JSON.stringify((await profiler.post('Profiler.stop')).profile))
      profiler.disconnect()
      profiler = undefined
    }
    return used
  },
  /** Publishes one event; resolves with the time (clock.now) just before. */
  publish: async (data: string) => {
    const t0 = now()
    await server.publish(data)
    return t0
  },
  close: () => server.close()
})
process.send?.({ ready: true })
