// The idle-streams load generator: raw sockets, one GET each, spread over several loopback source
// addresses (127.0.0.2 ...) so that no one address runs out of ephemeral ports. Per socket it keeps
// only what the report needs: when bytes last came, the longest silence seen, when the event came.
import net from 'node:net'
import { now, sleep } from '../clock.js'
import { serve } from '../ipc.js'

const SOURCES = 8
const MARK = Buffer.from('data: idle-probe')

class IdleStream {
  open = false
  failed: string | undefined
  lastByte = 0
  maxSilence = 0
  gotEvent = 0
  readonly socket: net.Socket

  constructor (port: number, source: string, onHead: () => void) {
    this.socket = net.connect({ port, host: '127.0.0.1', localAddress: source })
    this.socket.setNoDelay(true)
    this.socket.on('connect', () => this.socket.write('GET /t HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n'))
    this.socket.on('data', (chunk: Buffer) => {
      const at = performance.now()
      if (!this.open) {
        this.open = chunk.includes('200 OK')
        if (!this.open) this.failed = chunk.subarray(0, 40).toString()
        onHead()
      } else if (this.lastByte !== 0) {
        this.maxSilence = Math.max(this.maxSilence, at - this.lastByte)
      }
      this.lastByte = at
      if (this.gotEvent === 0 && chunk.includes(MARK)) this.gotEvent = now()
    })
    this.socket.on('error', (error) => { this.failed ??= error.message; if (!this.open) onHead() })
    this.socket.on('close', () => { this.failed ??= 'closed'; this.open = false })
  }
}

let streams: IdleStream[] = []

serve({
  /** Opens `n` streams, `batch` at a time; resolves with the ms it took and the failures. */
  async open ({ port, n, batch }: { port: number, n: number, batch: number }) {
    const started = performance.now()
    for (let done = 0; done < n; done += batch) {
      const size = Math.min(batch, n - done)
      await new Promise<void>((resolve) => {
        let heads = 0
        for (let i = 0; i < size; i++) {
          streams.push(new IdleStream(port, `127.0.0.${2 + ((done + i) % SOURCES)}`, () => { if (++heads === size) resolve() }))
        }
      })
    }
    const failed = streams.filter((s) => !s.open)
    return { ms: performance.now() - started, failed: failed.length, firstFailure: failed[0]?.failed }
  },
  /** From now on, silences are measured afresh (one running now counts whole when it ends). */
  resetSilence () {
    for (const s of streams) s.maxSilence = 0
  },
  /** Silence per stream (ms) to now, counting the silence still running: max and p99. */
  silence () {
    const at = performance.now()
    const gaps = streams.filter((s) => s.open).map((s) => Math.max(s.maxSilence, at - s.lastByte)).sort((a, b) => a - b)
    return { max: gaps.at(-1) ?? 0, p99: gaps[Math.floor(gaps.length * 0.99)] ?? 0, open: gaps.length, dropped: streams.length - gaps.length }
  },
  /** Waits until every open stream got the probe event, published at `t0` (clock.now), or `timeoutMs` passed. */
  async delivery ({ t0, timeoutMs }: { t0: number, timeoutMs: number }) {
    const open = streams.filter((s) => s.open)
    while (open.some((s) => s.gotEvent === 0) && now() - t0 < timeoutMs) await sleep(5)
    const times = open.map((s) => s.gotEvent === 0 ? Infinity : s.gotEvent - t0).sort((a, b) => a - b)
    return { p50: times[Math.floor(times.length / 2)], p99: times[Math.floor(times.length * 0.99)], max: times.at(-1), missing: times.filter((t) => t === Infinity).length }
  },
  close () {
    for (const s of streams) s.socket.destroy()
    streams = []
  }
})
process.send?.({ ready: true })
