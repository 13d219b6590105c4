// The child process of one server under test: starts it, then answers the runner. CPU is measured
// here with process.cpuUsage (user + system) so it is this server's alone; memory after forced GC
// (the runner starts this process with --expose-gc).

import { writeFileSync } from 'node:fs'
import { Session } from 'node:inspector/promises'
import { writeHeapSnapshot } from 'node:v8'
import { now, sleep } from './clock.js'
import { serve } from './ipc.js'
import { eventData } from './payload.js'
import { serverApi } from './server-api.js'
import { isServerName } from './servers/index.js'
import type { BenchServer, StartServer } from './servers/types.js'

const name = process.argv[2] ?? ''
if (!isServerName(name)) throw new Error(`unknown server ${name}`)
const start = ((await import(`./servers/${name}.js`)) as { default: StartServer }).default
const server: BenchServer = await start()
let profiler: Session | undefined

async function collect (): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc
  if (gc === undefined) throw new Error('start the server with --expose-gc')
  // A few rounds with turns of the event loop between: weak callbacks and finalizers run too.
  for (let i = 0; i < 4; i++) {
    gc()
    await sleep(10)
  }
}

const api = {
  ...serverApi(server),
  /** Heap used + external (which includes ArrayBuffers) after GC. */
  async memory () {
    await collect()
    const { heapUsed, external } = process.memoryUsage()
    return { heapUsed, external, total: heapUsed + external }
  },
  /** Publishes `count` events at `rate` per second, each stamped with its publish time. */
  async paced ({ from, count, size, rate }: { from: number, count: number, size: number, rate: number }) {
    const interval = 1000 / rate
    const start = now()
    let late = 0
    for (let i = 0; i < count; i++) {
      const wait = start + i * interval - now()
      if (wait > 1) await sleep(wait)
      else if (wait < -interval) late++
      Promise.resolve(server.publish(eventData(from + i, size, true))).catch((error: unknown) => {
        console.error('publish failed', error)
      })
    }
    return { ms: now() - start, late }
  },
  heapSnapshot: ({ path }: { path: string }) => writeHeapSnapshot(path),
  /** Starts the CPU profiler, so a profile covers exactly the steps the runner chooses. */
  async profileStart ({ intervalUs }: { intervalUs: number }) {
    profiler = new Session()
    profiler.connect()
    await profiler.post('Profiler.enable')
    await profiler.post('Profiler.setSamplingInterval', { interval: intervalUs })
    await profiler.post('Profiler.start')
  },
  async profileStop ({ path }: { path: string }) {
    if (profiler === undefined) throw new Error('profileStop without profileStart')
    const { profile } = await profiler.post('Profiler.stop')
    profiler.disconnect()
    profiler = undefined
    writeFileSync(path, JSON.stringify(profile))
    return path
  }
}

export type ServerApi = typeof api

serve(api)
process.send?.({ ready: true })
// A normal exit, so --cpu-prof writes its profile.
process.on('SIGTERM', () => process.exit(0))
