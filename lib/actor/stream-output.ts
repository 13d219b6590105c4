import { IdReservedError } from '../errors.js'
import { describeInvalidChunk, type Chunk } from '../protocol/encoders.js'
import { Event } from '../protocol/event.js'
import { frameChunk } from '../protocol/framing.js'
import { Published } from '../topics/published.js'
import type { StreamTopics } from '../topics/stream-topics.js'
import type { SseStats } from '../types.js'
import type { StreamOptions } from './context.js'
import type { Beating } from './heartbeat.js'
import type { StreamWriter } from './writer.js'

/** A blank line ends what was written: whatever the line endings, the last two line breaks. */
const EVENT_END = /(?:\r\n|\n|\r)(?:\r\n|\n)$|\r\r$/

interface IdBlock { readonly id: string, readonly payload: Buffer, readonly framed: Buffer }

function idBlock (id: string): IdBlock {
  const payload = Buffer.from(`id: ${id}\n\n`)
  return { id, payload, framed: frameChunk(payload) }
}

/** The last id-only block written: the streams that open on a topic between two events share its bytes. */
let lastIdBlock: IdBlock | undefined

/**
 * What a stream writes, in its format: chunks as the handler returned them, topic events with the
 * stream's cursor as their `id:`, id-only blocks and heartbeats. On SSE it knows whether the bytes
 * written so far end at an event boundary, so a heartbeat or an id-only block never ends an event
 * the handler is writing in pieces.
 */
export abstract class StreamOutput implements Beating {
  readonly writer: StreamWriter
  /** The stream's topics, once it subscribed: their cursor rides on what is written. */
  topics: StreamTopics | undefined
  wroteSinceTick = false
  idleTicks = 0
  protected readonly options: StreamOptions
  protected readonly stats: SseStats
  /** The last characters of raw text written on an SSE stream ('' once an event ended). */
  #tail = ''

  // The stream is its output (one object): the actor extends this class.
  protected constructor (writer: StreamWriter, stats: SseStats, options: StreamOptions) {
    this.writer = writer
    this.options = options
    this.stats = stats
  }

  get pending (): number {
    return this.writer.pending
  }

  /** True when the bytes written end at an event boundary (always, off SSE). */
  get atBoundary (): boolean {
    return this.#tail === '' || EVENT_END.test(this.#tail)
  }

  /** `source` is the message being handled: a topic event written as it came may use its shared bytes. */
  writeChunks (chunks: Chunk | Chunk[] | void | undefined | null, source?: unknown): void {
    if (chunks === undefined || chunks === null) return
    if (!Array.isArray(chunks)) {
      this.writeChunk(chunks, source)
      return
    }
    for (const chunk of chunks) this.writeChunk(chunk, source)
  }

  writeChunk (chunk: Chunk, source?: unknown): void {
    if (typeof chunk === 'string' || chunk instanceof Uint8Array) {
      this.writeRaw(chunk)
      return
    }
    if (!(chunk instanceof Event)) throw describeInvalidChunk(chunk)
    let id = chunk.id
    const topics = this.topics
    if (topics !== undefined && topics.size > 0) {
      if (id !== undefined) throw new IdReservedError()
      if (source instanceof Published && source.event === chunk && this.options.rules.eventStream && topics.takeSharedWrite(source)) {
        this.writeShared(source)
        return
      }
      id = topics.takeCursorId()
    }
    this.stats.eventsWritten++
    this.wroteSinceTick = true
    this.#tail = ''
    this.writer.write(this.options.rules.encode(chunk, id))
  }

  /** A string or bytes, as they are. */
  writeRaw (chunk: string | Uint8Array): void {
    this.wroteSinceTick = true
    if (this.options.rules.eventStream) this.#track(chunk)
    this.writer.write(chunk)
  }

  /** A topic event's bytes shared by every stream whose cursor is that event's position alone. */
  writeShared (published: Published): void {
    this.stats.eventsWritten++
    this.wroteSinceTick = true
    this.#tail = ''
    this.writer.writeShared(published.framed, published.payload)
  }

  /** The cursor moved with nothing written to carry it: an id-only block, so a reconnect resumes. */
  writePendingCursor (): void {
    if (!this.options.rules.eventStream || !this.atBoundary) return
    const id = this.topics?.takeCursorId()
    if (id === undefined) return
    this.wroteSinceTick = true
    if (lastIdBlock?.id !== id) lastIdBlock = idBlock(id)
    this.writer.writeShared(lastIdBlock.framed, lastIdBlock.payload)
  }

  beat (): boolean {
    if (this.writer.pending !== 0 || !this.atBoundary) return false
    this.writer.heartbeat()
    return true
  }

  #track (chunk: string | Uint8Array): void {
    const length = chunk.length
    if (length === 0) return
    const last = typeof chunk === 'string' ? chunk.slice(-4) : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).toString('latin1', Math.max(0, length - 4))
    this.#tail = (this.#tail + last).slice(-4)
  }
}
