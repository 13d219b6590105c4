// What every load-generator stream does with its SSE bytes, whatever carries them (an HTTP/1.1
// chunked body, an HTTP/2 stream): finds each event's data line, reads its sequence number (and
// publish time), and counts it in the phase. Written for speed with Buffer.indexOf and byte
// compares: it must keep up with the fastest server on one core.

import type { Phase } from './phase.js'

export const LF = 10
export const CR = 13

export abstract class EventCounter {
  /** Events with data whose data is not a benchmark sequence number. */
  others = 0
  phase: Phase | undefined
  next = 0
  received = 0
  /** When the bytes being scanned were read (ms): the receipt time of the events they end. */
  protected readAt = 0
  #partial: Buffer | undefined
  #hasData = false
  #seq = -1
  #stamp = 0

  /** Expects events `phase.from`.. in order from now on. */
  expect (phase: Phase): void {
    this.phase = phase
    this.next = phase.from
    this.received = 0
  }

  /** Feeds SSE bytes `start`..`end` of `buf`, line by line. */
  protected scan (buf: Buffer, start: number, end: number): void {
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
    if (phase.delivered++ === 0) phase.tFirst = this.readAt
    if (phase.latencies !== undefined) phase.latency(this.readAt - this.#stamp)
    if (++this.received === phase.count) phase.streamDone(this.readAt)
  }
}
