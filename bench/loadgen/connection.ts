// One raw TCP client: parses the HTTP/1.1 response and its chunked body, and hands the SSE inside
// to its EventCounter. Written for speed with Buffer.indexOf and byte compares.

import { connect, type Socket } from 'node:net'
import { now } from '../clock.js'
import { CR, EventCounter, LF } from './event-counter.js'

const HEAD_END = Buffer.from('\r\n\r\n')

const enum Body { Size, Extension, Data, DataEnd, Done }

export interface ConnectionEvents {
  headers (connection: SseConnection): void
  closed (connection: SseConnection): void
}

export class SseConnection extends EventCounter {
  readonly socket: Socket
  status = 0
  failure: string | undefined
  /** The response ended (last chunk) or the socket closed. */
  finished = false

  #head: Buffer | undefined = Buffer.alloc(0)
  #chunked = false
  #body = Body.Size
  #size = 0
  #remaining = 0

  constructor (port: number, readonly events: ConnectionEvents) {
    super()
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
    this.readAt = now()
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
      this.scan(buf, i, buf.length)
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
          this.scan(buf, i, i + take)
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
}
