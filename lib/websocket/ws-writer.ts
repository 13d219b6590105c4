import type { WebSocket } from 'ws'
import type { StreamWriter, WriteCounters } from '../actor/writer.js'
import type { CloseReason } from '../types.js'

/** The close code a stream's end sends: 1001 going away at shutdown, 1011 on an error, else 1000. */
function closeCode (reason: CloseReason): number {
  if (reason === 'shutdown') return 1001
  if (reason === 'error') return 1011
  return 1000
}

/**
 * A stream's writer over a WebSocket: a string is a text message, bytes a binary one; heartbeats are
 * pings; what waits is the socket's buffered amount. It is given its socket once the upgrade is done
 * (`init` runs before, on the HTTP request).
 */
export class WebSocketWriter implements StreamWriter {
  #ws: WebSocket | undefined
  #waiting: Array<() => void> = []
  readonly #counters: WriteCounters
  readonly #onSent = (): void => {
    if (this.#waiting.length === 0 || this.pending > 0) return
    const waiting = this.#waiting
    this.#waiting = []
    for (const listener of waiting) listener()
  }

  constructor (counters: WriteCounters) {
    this.#counters = counters
  }

  attach (ws: WebSocket): void {
    this.#ws = ws
  }

  get pending (): number {
    return this.#ws?.bufferedAmount ?? 0
  }

  get destroyed (): boolean {
    return this.#ws === undefined || this.#ws.readyState !== this.#ws.OPEN
  }

  open (): void {} // the upgrade answered already

  write (payload: string | Uint8Array): void {
    const ws = this.#ws
    if (ws === undefined || ws.readyState !== ws.OPEN || payload.length === 0) return
    this.#counters.bytesWritten += typeof payload === 'string' ? Buffer.byteLength(payload) : payload.byteLength
    ws.send(payload, { binary: typeof payload !== 'string' }, this.#onSent)
  }

  writeShared (_framed: Buffer, payload: Buffer): void {
    this.write(payload)
  }

  heartbeat (): void {
    if (!this.destroyed) this.#ws!.ping()
  }

  whenDrained (listener: () => void): () => void {
    this.#waiting.push(listener)
    return () => { this.#waiting = this.#waiting.filter((waiting) => waiting !== listener) }
  }

  end (drainTimeout: number, reason: CloseReason): Promise<void> {
    const ws = this.#ws
    if (ws === undefined || ws.readyState === ws.CLOSED) return Promise.resolve()
    return new Promise((resolve) => {
      const cut = setTimeout(() => ws.terminate(), drainTimeout)
      ws.once('close', () => {
        clearTimeout(cut)
        resolve()
      })
      if (ws.readyState === ws.OPEN) ws.close(closeCode(reason))
    })
  }

  destroy (): void {
    this.#ws?.terminate()
  }
}
