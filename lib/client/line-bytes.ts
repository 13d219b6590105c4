// The bytes of the lines an event stream parser reads: where the last line ending of a chunk is, the
// bytes of a line that waits for its end, and their decoding as UTF-8 once the line is whole.

import { isAscii, transcode } from 'node:buffer'

export const LF = 10
export const CR = 13

// A buffer grown past this for one huge line is not kept for the rest of the stream.
const KEPT_BYTES = 1 << 20

// The index of the last CR or LF byte, or -1. A chunk usually ends with a line ending or just after
// one: look there first, then let the native search scan what is left.
export function lastLineEnding (bytes: Buffer): number {
  const near = Math.max(bytes.length - 64, 0)
  for (let i = bytes.length - 1; i >= near; i--) {
    const c = bytes[i]
    if (c === LF || c === CR) return i
  }
  if (near === 0) return -1
  return Math.max(bytes.lastIndexOf(LF, near - 1), bytes.lastIndexOf(CR, near - 1))
}

// ignoreBOM: the parser strips the one BOM at the start of the stream itself.
const decoder = new TextDecoder('utf-8', { ignoreBOM: true })

// The fastest exact decoder for the piece, measured on Node 20: the one-shot TextDecoder (V8, with
// simdutf) for small pieces and ASCII; for larger text with other characters, ICU's transcode to
// UTF-16, up to twice as fast. On valid UTF-8 both give the same text. Transcode throws on invalid
// bytes (or on a Node built without ICU): the TextDecoder then replaces them as the Encoding standard says.
export function decode (bytes: Buffer, start: number, end: number): string {
  const piece = start === 0 && end === bytes.length ? bytes : bytes.subarray(start, end)
  if (piece.length < 1024 || isAscii(piece)) return decoder.decode(piece)
  try {
    return transcode(piece, 'utf8', 'utf16le').toString('utf16le')
  } catch {
    return decoder.decode(piece)
  }
}

// The bytes of a line that has not ended yet, copied (the caller may reuse its buffers) into one
// buffer that grows by doubling, so a long line fed in small pieces is copied a bounded number of times.
export class ByteQueue {
  length = 0
  private buffer = Buffer.allocUnsafe(256)
  // Doubling stops at the parser's limit: a line that stays within it never takes twice its memory.
  private readonly maxCapacity: number

  constructor (maxCapacity: number) {
    this.maxCapacity = maxCapacity
  }

  push (bytes: Uint8Array, start: number, end: number): void {
    const needed = this.length + end - start
    if (needed > this.buffer.length) {
      const grown = Buffer.allocUnsafe(Math.max(needed, Math.min(this.buffer.length * 2, this.maxCapacity)))
      this.buffer.copy(grown, 0, 0, this.length)
      this.buffer = grown
    }
    if (end - start > 64) {
      this.buffer.set(bytes.subarray(start, end), this.length)
    } else {
      // A few bytes are copied faster one by one than through a view.
      const buffer = this.buffer
      for (let i = start, at = this.length; i < end; i++, at++) buffer[at] = bytes[i]
    }
    this.length = needed
  }

  take (): string {
    const text = decode(this.buffer, 0, this.length)
    this.clear()
    return text
  }

  clear (): void {
    this.length = 0
    // Do not hold on to the memory of one huge line for the life of the stream.
    if (this.buffer.length > KEPT_BYTES) this.buffer = Buffer.allocUnsafe(256)
  }
}
