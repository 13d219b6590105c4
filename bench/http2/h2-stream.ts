// One SSE stream of the HTTP/2 load generator: a request on a shared session whose body is scanned
// for each event's data line, its sequence number checked and counted in the phase (as the HTTP/1.1
// load generator's connections do, without the chunked framing HTTP/2 does not have).
import type { ClientHttp2Session, ClientHttp2Stream } from 'node:http2'
import { now } from '../clock.js'
import { EventCounter } from '../loadgen/event-counter.js'

export class H2Stream extends EventCounter {
  readonly stream: ClientHttp2Stream
  status = 0
  failure: string | undefined
  finished = false

  constructor (session: ClientHttp2Session, onSettled: (stream: H2Stream) => void) {
    super()
    const stream = this.stream = session.request({ ':path': '/t', accept: 'text/event-stream' })
    stream.on('response', (headers) => {
      this.status = Number(headers[':status'])
      if (this.status !== 200) this.failure ??= `status ${this.status}`
      onSettled(this)
    })
    stream.on('data', (data: Buffer) => this.#data(data))
    stream.on('error', (error) => { this.failure ??= error.message })
    stream.on('close', () => {
      if (this.finished) return
      this.finished = true
      onSettled(this)
    })
  }

  get open (): boolean {
    return this.status === 200 && !this.finished
  }

  #data (buf: Buffer): void {
    this.readAt = now()
    this.scan(buf, 0, buf.length)
  }
}
