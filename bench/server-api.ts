// What every server child process answers the runner, HTTP/1.1 or HTTP/2: its port, its streams, a
// burst (CPU counted from its start, this process's own: process.cpuUsage, user + system), and close.
import { now } from './clock.js'
import { eventBatch } from './payload.js'
import type { BenchServer } from './servers/types.js'

export function serverApi (server: Pick<BenchServer, 'port' | 'connections' | 'burst' | 'close'>) {
  let cpuStart = process.cpuUsage()
  return {
    info: () => ({ port: server.port, pid: process.pid }),
    connections: () => server.connections(),
    /** Publishes events `from`..`from+count-1` as fast as the server allows; CPU counts from here. */
    async burst ({ from, count, size }: { from: number, count: number, size: number }) {
      const batch = eventBatch(from, count, size)
      cpuStart = process.cpuUsage()
      const t0 = now()
      await server.burst(batch)
      const publishMs = now() - t0
      // Writes deferred to the end of the tick (corked sockets) have been handed to the kernel by now.
      await new Promise(setImmediate)
      return { t0, publishMs, flushMs: now() - t0 }
    },
    /** Starts counting CPU from now (a burst does it by itself). */
    cpuReset: () => { cpuStart = process.cpuUsage() },
    /** Server CPU (µs, user + system) since the last burst or cpuReset. */
    cpu: () => {
      const { user, system } = process.cpuUsage(cpuStart)
      return user + system
    },
    /** Stops the server: for this plugin that is `fastify.close()`, timed. */
    async close () {
      const t0 = now()
      await server.close()
      return { ms: now() - t0 }
    }
  }
}
