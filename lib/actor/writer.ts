import type { ServerResponse } from 'node:http'
import type { Http2ServerResponse } from 'node:http2'
import { Socket } from 'node:net'
import { frameChunk, frameText } from '../protocol/framing.js'
import { corkForThisTick } from './corker.js'

export type RawReply = ServerResponse | Http2ServerResponse

export interface WriteCounters {
  bytesWritten: number
}

/**
 * Writes a stream's bytes. On HTTP/1.1 it frames each payload as a chunk itself and writes it
 * straight to the socket (a payload shared by many streams is framed once by its owner); elsewhere
 * (HTTP/2, a socket still busy with a pipelined response) it falls back to `res.write`.
 */
export class Writer {
  readonly res: RawReply
  /** Set when this writer frames chunks and writes them to the socket itself. */
  #socket: Socket | undefined
  #chunked = false

  constructor (res: RawReply, readonly counters: WriteCounters) {
    this.res = res
  }

  /** Sends the status and headers now, so proxies and clients see the stream open. */
  open (headers: Record<string, string | number | string[]>): void {
    const res = this.res as ServerResponse
    const socket = res.socket
    // On HTTP/1.1 the head and what the stream writes at once (retry:, a first id) leave in one syscall.
    if (socket instanceof Socket && !isHttp2(res) && socket.writableCorked === 0) corkForThisTick(socket)
    res.writeHead(200, headers)
    res.flushHeaders()
    // Direct writes are safe only once our headers are on the socket and nothing of ours is buffered.
    if (socket instanceof Socket && !isHttp2(res) && res.writableLength === socket.writableLength) {
      this.#socket = socket
      this.#chunked = (res as { chunkedEncoding?: boolean }).chunkedEncoding === true
    }
  }

  /** True when `writeFramed` may be given a pre-framed HTTP/1.1 chunk. */
  get framesChunks (): boolean {
    return this.#chunked
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

  /** Calls `listener` once the bytes waiting have left. */
  onceDrained (listener: () => void): void {
    (this.#socket ?? this.res).once('drain', listener)
  }

  offDrained (listener: () => void): void {
    (this.#socket ?? this.res).removeListener('drain', listener)
  }

  /** Ends the response; resolves once its last bytes have been handed to the OS or the client left. */
  end (): Promise<void> {
    const res = this.res
    if (res.writableFinished || res.destroyed) return Promise.resolve()
    return new Promise((resolve) => {
      res.once('close', resolve)
      res.once('finish', resolve)
      res.end()
    })
  }
}

function isHttp2 (res: RawReply): boolean {
  return (res as { stream?: unknown }).stream !== undefined
}
