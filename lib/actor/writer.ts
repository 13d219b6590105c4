import type { ServerResponse } from 'node:http'
import type { Http2ServerResponse } from 'node:http2'
import { Socket } from 'node:net'
import { frameChunk, frameText } from '../protocol/framing.js'
import type { CloseReason } from '../types.js'
import { corkForThisTick } from './corker.js'

export type RawReply = ServerResponse | Http2ServerResponse

const EMPTY = Buffer.alloc(0)

/** ms between looks at a response whose bytes wait below its own high-water mark (HTTP/2, rare). */
const DRAIN_POLL = 10

export interface WriteCounters {
  bytesWritten: number
}

/** What a stream writes through: an HTTP response (Writer) or a WebSocket (WebSocketWriter). */
export interface StreamWriter {
  /** Bytes waiting to leave. */
  readonly pending: number
  /** The connection is gone or going: nothing more can reach the client. */
  readonly destroyed: boolean
  open (status: number, headers: Record<string, string | number | string[]>): void
  write (payload: string | Uint8Array): void
  /** A payload framed once for many streams; `payload` is the same bytes unframed. */
  writeShared (framed: Buffer, payload: Buffer): void
  /** Keeps an idle connection alive: a comment, a ping. */
  heartbeat (): void
  /** Calls `listener` once the bytes waiting have left; returns a function that cancels it. */
  whenDrained (listener: () => void): () => void
  /** Ends the connection for `reason`; a client that has not taken its bytes after `drainTimeout` ms is cut. */
  end (drainTimeout: number, reason: CloseReason): Promise<void>
  /** Cuts the connection at once. */
  destroy (): void
}

const HEARTBEAT = Buffer.from(':\n\n')
/** The heartbeat framed once as an HTTP/1.1 chunk, for every stream. */
const FRAMED_HEARTBEAT = frameChunk(HEARTBEAT)

/**
 * Writes a stream's bytes. On HTTP/1.1 it frames each payload as a chunk itself and writes it
 * straight to the socket (a payload shared by many streams is framed once by its owner); elsewhere
 * (HTTP/2, a socket still busy with a pipelined response) it falls back to `res.write`.
 */
export class Writer implements StreamWriter {
  readonly res: RawReply
  /** Set when this writer frames chunks and writes them to the socket itself. */
  #socket: Socket | undefined
  #chunked = false

  constructor (res: RawReply, readonly counters: WriteCounters) {
    this.res = res
  }

  /** Sends the status and headers now, so proxies and clients see the stream open. */
  open (status: number, headers: Record<string, string | number | string[]>): void {
    const res = this.res as ServerResponse
    const socket = res.socket
    // On HTTP/1.1 the head and what the stream writes at once (retry:, a first id) leave in one syscall.
    if (socket instanceof Socket && !isHttp2(res) && socket.writableCorked === 0) corkForThisTick(socket)
    res.writeHead(status, headers)
    res.flushHeaders()
    // Direct writes are safe only once our headers are on the socket and nothing of ours is buffered.
    if (socket instanceof Socket && !isHttp2(res) && res.writableLength === socket.writableLength) {
      this.#socket = socket
      this.#chunked = (res as { chunkedEncoding?: boolean }).chunkedEncoding === true
    }
  }

  get destroyed (): boolean {
    return this.res.destroyed
  }

  destroy (): void {
    this.res.destroy()
  }

  heartbeat (): void {
    this.writeShared(FRAMED_HEARTBEAT, HEARTBEAT)
  }

  /** Bytes waiting to leave. */
  get pending (): number {
    return this.#socket !== undefined ? this.#socket.writableLength : this.res.writableLength
  }

  write (payload: string | Uint8Array): void {
    if (typeof payload === 'string' && this.#chunked) {
      if (payload.length === 0) return
      const { framed, length } = frameText(payload)
      this.counters.bytesWritten += length
      this.#cork(this.#socket!)
      this.#socket!.write(framed)
      return
    }
    const bytes = typeof payload === 'string' ? Buffer.from(payload) : Buffer.isBuffer(payload) ? payload : Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength)
    if (bytes.length === 0) return
    this.counters.bytesWritten += bytes.length
    const socket = this.#socket
    if (socket === undefined) {
      (this.res as ServerResponse).write(bytes)
      return
    }
    this.#cork(socket)
    socket.write(this.#chunked ? frameChunk(bytes) : bytes)
  }

  /** Writes a payload framed once for many streams; `payload` is the same bytes unframed. */
  writeShared (framed: Buffer, payload: Buffer): void {
    if (!this.#chunked) {
      this.write(payload)
      return
    }
    this.counters.bytesWritten += payload.length
    this.#cork(this.#socket!)
    this.#socket!.write(framed)
  }

  #cork (socket: Socket): void {
    if (socket.writableCorked === 0) corkForThisTick(socket)
  }

  /** Calls `listener` once the bytes waiting have left; returns a function that cancels it. */
  whenDrained (listener: () => void): () => void {
    const socket = this.#socket
    if (socket !== undefined) {
      // A zero-length write calls back once everything before it has left. The socket's 'drain'
      // would come only if it went over its own high-water mark, and ours may be lower.
      // Looked at again every DRAIN_POLL ms too: the property test saw, on Node 22 under load, a
      // stream whose client was reading wait on this callback for good (not yet understood).
      let wanted = true
      const fire = (): void => {
        if (!wanted) return
        wanted = false
        clearInterval(poll)
        listener()
      }
      const poll = setInterval(() => { if (socket.writableLength === 0) fire() }, DRAIN_POLL)
      socket.write(EMPTY, fire)
      return () => {
        wanted = false
        clearInterval(poll)
      }
    }
    const res = this.res
    if (res.writableNeedDrain) {
      res.once('drain', listener)
      return () => { res.removeListener('drain', listener) }
    }
    // Below the response's own high-water mark no 'drain' comes: look again shortly.
    const timer = setTimeout(listener, DRAIN_POLL)
    return () => clearTimeout(timer)
  }

  /**
   * Ends the response; resolves once its last bytes have been handed to the OS or the client left.
   * A client that has not taken them after `drainTimeout` ms is cut: it cannot pin the socket.
   */
  end (drainTimeout: number, _reason?: CloseReason): Promise<void> {
    const res = this.res
    // Gone already (its 'close' came, as after an HTTP/2 stream reset): nothing to wait for.
    if (res.writableFinished || res.destroyed || (res as { closed?: boolean }).closed === true) return Promise.resolve()
    return new Promise((resolve) => {
      const cut = setTimeout(() => res.destroy(), drainTimeout)
      const done = (): void => {
        clearTimeout(cut)
        resolve()
      }
      res.once('close', done)
      res.once('finish', done)
      res.end()
    })
  }
}

function isHttp2 (res: RawReply): boolean {
  return (res as { stream?: unknown }).stream !== undefined
}
