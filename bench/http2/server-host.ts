// The child process of one HTTP/2 server under test: starts it, then answers the runner. CPU is this
// process's own (process.cpuUsage, user + system), counted from the start of each burst.
import { now } from '../clock.js'
import { serve } from '../ipc.js'
import { eventBatch } from '../payload.js'
import { isH2ServerName, startH2Server } from './servers.js'

const name = process.argv[2] ?? ''
if (!isH2ServerName(name)) throw new Error(`unknown HTTP/2 server ${name}`)
const server = await startH2Server(name)
let cpuStart = process.cpuUsage()

const api = {
  info: () => ({ port: server.port, pid: process.pid }),
  connections: () => server.connections(),
  /** Publishes events `from`..`from+count-1` as fast as the server allows; CPU counts from here. */
  async burst ({ from, count, size }: { from: number, count: number, size: number }) {
    const batch = eventBatch(from, count, size)
    cpuStart = process.cpuUsage()
    const t0 = now()
    await server.burst(batch)
    const publishMs = now() - t0
    await new Promise(setImmediate)
    return { t0, publishMs, flushMs: now() - t0 }
  },
  /** Server CPU (µs, user + system) since the last burst. */
  cpu: () => {
    const { user, system } = process.cpuUsage(cpuStart)
    return user + system
  },
  async close () {
    const t0 = now()
    await server.close()
    return { ms: now() - t0 }
  }
}

export type H2ServerApi = typeof api

serve(api)
process.send?.({ ready: true })
process.on('SIGTERM', () => process.exit(0))
