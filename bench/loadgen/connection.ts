// One raw TCP client: parses the HTTP/1.1 response and its chunked body, and the SSE inside just
// enough to find each event's data line, read its sequence number (and publish time), and count it.
// Written for speed with Buffer.indexOf and byte compares: it must keep up with the fastest server
// on one core.

import { connect, type Socket } from 'node:net'
import { now } from '../clock.js'
import type { Phase } from './phase.js'

const HEAD_END = Buffer.from('\r\n\r\n')
const LF = 10
const CR = 13

const enum Body { Size, Extension, Data, DataEnd, Done }

export interface ConnectionEvents {
  headers (connection: SseConnection): void
  closed (connection: SseConnection): void
}

export class SseConnection {
  readonly socket: Socket
  status = 0
  failure: string | undefined
  /** The response ended (last chunk) or the socket closed. */
  finished = false
  /** Events with data whose data is not a benchmark sequence number. */
  others = 0
  phase: Phase | undefined
  next = 0
  received = 0

  #head: Buffer | undefined = Buffer.alloc(0)
  #chunked = false
  #body = Body.Size
  #size = 0
  #remaining = 0
  #partial: Buffer | undefined
  #hasData = false
  #seq = -1
  #stamp = 0
  #readAt = 0

  constructor (port: number, readonly events: ConnectionEvents) {
    const socket = this.socket = connect({ host: '127.0.0.1', port })
    socket.setNoDelay(true)
    socket.on('connect', () => socket.write('GET /t HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n'))
    socket.on('data', (data: Buffer) => this.#data(data))
    socket.on('error', (error) => { this.failure ??= error.message })
    socket.on('close', () => this.#finished())
  }

  get open (): boolean {
    return this.status === 200 && !this.finished
  }

  /** Expects events `phase.from`.. in order from now on. */
  expect (phase: Phase): void {
    this.phase = phase
    this.next = phase.from
    this.received = 0
  }

  /** Closes with a reset, so no TIME_WAIT is left to use up the loopback's ephemeral ports. */
  destroy (): void {
    if (!this.socket.destroyed) this.socket.resetAndDestroy()
  }

  #finished (): void {
    if (this.finished) return
    this.finished = true
    this.events.closed(this)
  }

  #data (data: Buffer): void {
    this.#readAt = now()
    if (this.#head !== undefined) {
      const start = this.#readHead(data)
      if (start < 0) return
      this.#feedBody(data, start)
    } else {
      this.#feedBody(data, 0)
    }
  }

  /** Returns where the body starts in `data`, or -1 while the head is incomplete. */
  #readHead (data: Buffer): number {
    const previous = this.#head!.length
    const head = previous === 0 ? data : Buffer.concat([this.#head!, data])
    const end = head.indexOf(HEAD_END)
    if (end === -1) {
      if (head.length > 16_384) this.#fail('response head too long')
      else this.#head = Buffer.from(head)
      return -1
    }
    const text = head.toString('latin1', 0, end)
    this.#head = undefined
    this.status = Number(text.slice(9, 12))
    this.#chunked = /\r\ntransfer-encoding:[ \t]*chunked/i.test(text)
    if (this.status !== 200) this.#fail(`status ${this.status}`)
    this.events.headers(this)
    return end + 4 - previous
  }

  #fail (reason: string): void {
    this.failure ??= reason
    this.destroy()
  }

  #feedBody (buf: Buffer, i: number): void {
    if (!this.#chunked) {
      this.#scan(buf, i, buf.length)
      return
    }
    const n = buf.length
    while (i < n) {
      switch (this.#body) {
        case Body.Size: {
          const c = buf[i++]
          const digit = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : c >= 65 && c <= 70 ? c - 55 : -1
          if (digit >= 0) this.#size = this.#size * 16 + digit
          else if (c === LF) this.#sizeRead()
          else if (c !== CR) this.#body = Body.Extension
          break
        }
        case Body.Extension:
          if (buf[i++] === LF) this.#sizeRead()
          break
        case Body.Data: {
          const take = Math.min(this.#remaining, n - i)
          this.#scan(buf, i, i + take)
          i += take
          this.#remaining -= take
          if (this.#remaining === 0) this.#body = Body.DataEnd
          break
        }
        case Body.DataEnd:
          if (buf[i++] === LF) {
            this.#body = Body.Size
            this.#size = 0
          }
          break
        case Body.Done:
          return
      }
    }
  }

  #sizeRead (): void {
    if (this.#size === 0) {
      this.#body = Body.Done
      this.#finished()
      return
    }
    this.#remaining = this.#size
    this.#body = Body.Data
  }

  /** Feeds SSE bytes `start`..`end` of `buf`, line by line. */
  #scan (buf: Buffer, start: number, end: number): void {
    let i = start
    if (this.#partial !== undefined) {
      const lf = buf.indexOf(LF, i)
      if (lf === -1 || lf >= end) {
        this.#partial = Buffer.concat([this.#partial, buf.subarray(i, end)])
        return
      }
      const line = Buffer.concat([this.#partial, buf.subarray(i, lf)])
      this.#partial = undefined
      this.#line(line, 0, line.length)
      i = lf + 1
    }
    while (i < end) {
      // The search may run past `end` (into the chunk's CRLF): a hit there means no LF in range.
      const lf = buf.indexOf(LF, i)
      if (lf === -1 || lf >= end) {
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
    // `data:`; every other field (id, event, retry, comments) only matters to real clients.
    if (buf[s] === 100 && buf[s + 1] === 97 && buf[s + 2] === 116 && buf[s + 3] === 97 && buf[s + 4] === 58) {
      if (this.#hasData) return // our events have one data line
      this.#hasData = true
      this.#parseData(buf, s + 5, e)
    }
  }

  /** Reads `<seq> <stamp> ` from the data, after an optional space and an optional JSON quote. */
  #parseData (buf: Buffer, p: number, e: number): void {
    if (buf[p] === 32) p++
    if (buf[p] === 34) p++
    let seq = 0
    const digitsAt = p
    for (let c = buf[p]; p < e && c >= 48 && c <= 57; c = buf[++p]) seq = seq * 10 + c - 48
    this.#seq = p > digitsAt && buf[p] === 32 ? seq : -1
    if (this.#seq < 0 || this.phase?.latencies === undefined) return
    p++
    let stamp = 0
    for (let c = buf[p]; p < e && c >= 48 && c <= 57; c = buf[++p]) stamp = stamp * 10 + c - 48
    if (buf[p] === 46) {
      let scale = 0.1
      for (let c = buf[++p]; p < e && c >= 48 && c <= 57; c = buf[++p]) {
        stamp += (c - 48) * scale
        scale /= 10
      }
    }
    this.#stamp = stamp
  }

  #dispatch (): void {
    this.#hasData = false
    const seq = this.#seq
    const phase = this.phase
    if (seq < 0 || phase === undefined) {
      this.others++
      return
    }
    if (seq !== this.next) phase.orderErrors++
    this.next = seq + 1
    if (seq < phase.from || seq >= phase.from + phase.count) {
      phase.stray++
      return
    }
    if (phase.delivered++ === 0) phase.tFirst = this.#readAt
    if (phase.latencies !== undefined) phase.latency(this.#readAt - this.#stamp)
    if (++this.received === phase.count) phase.streamDone(this.#readAt)
  }
}
