// One SSE stream of the HTTP/2 load generator: a request on a shared session whose body is scanned
// for each event's data line, its sequence number checked and counted in the phase (as the HTTP/1.1
// load generator's connections do, without the chunked framing HTTP/2 does not have).
import type { ClientHttp2Session, ClientHttp2Stream } from 'node:http2'
import { now } from '../clock.js'
import type { Phase } from '../loadgen/phase.js'

const LF = 10
const CR = 13

export class H2Stream {
  readonly stream: ClientHttp2Stream
  status = 0
  failure: string | undefined
  finished = false
  phase: Phase | undefined
  next = 0
  received = 0
  #partial: Buffer | undefined
  #hasData = false
  #seq = -1
  #readAt = 0

  constructor (session: ClientHttp2Session, onSettled: (stream: H2Stream) => void) {
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

  expect (phase: Phase): void {
    this.phase = phase
    this.next = phase.from
    this.received = 0
  }

  #data (buf: Buffer): void {
    this.#readAt = now()
    let i = 0
    const end = buf.length
    if (this.#partial !== undefined) {
      const lf = buf.indexOf(LF)
      if (lf === -1) {
        this.#partial = Buffer.concat([this.#partial, buf])
        return
      }
      const line = Buffer.concat([this.#partial, buf.subarray(0, lf)])
      this.#partial = undefined
      this.#line(line, 0, line.length)
      i = lf + 1
    }
    while (i < end) {
      const lf = buf.indexOf(LF, i)
      if (lf === -1) {
        this.#partial = Buffer.from(buf.subarray(i, end))
        return
      }
      this.#line(buf, i, lf)
      i = lf + 1
    }
  }

  #line (buf: Buffer, s: number, e: number): void {
    if (e > s && buf[e - 1] === CR) e--
    if (e === s) {
      if (this.#hasData) this.#dispatch()
      return
    }
    // `data:`; the other fields (id, retry, comments) only matter to real clients.
    if (buf[s] === 100 && buf[s + 1] === 97 && buf[s + 2] === 116 && buf[s + 3] === 97 && buf[s + 4] === 58) {
      if (this.#hasData) return
      this.#hasData = true
      let p = s + 5
      if (buf[p] === 32) p++
      let seq = 0
      const digitsAt = p
      for (let c = buf[p]; p < e && c >= 48 && c <= 57; c = buf[++p]) seq = seq * 10 + c - 48
      this.#seq = p > digitsAt && buf[p] === 32 ? seq : -1
    }
  }

  #dispatch (): void {
    this.#hasData = false
    const seq = this.#seq
    const phase = this.phase
    if (seq < 0 || phase === undefined) return
    if (seq !== this.next) phase.orderErrors++
    this.next = seq + 1
    if (seq < phase.from || seq >= phase.from + phase.count) {
      phase.stray++
      return
    }
    if (phase.delivered++ === 0) phase.tFirst = this.#readAt
    if (++this.received === phase.count) phase.streamDone(this.#readAt)
  }
}
