import type { TopicPosition } from '../broker/types.js'

// The `id:` of a stream with topics: for each topic, its epoch and the offset of the last event the
// stream processed. Format: `<topic>=<epoch>.<offset>` joined by `&`, topics sorted and
// URI-encoded (so `=`, `&`, CR, LF and NUL never appear raw). Opaque to clients.

export type Cursor = Map<string, TopicPosition>

/** Ids longer than this are treated as unknown: the header is hostile or not ours. */
export const MAX_CURSOR_LENGTH = 4096

const EPOCH = /^[A-Za-z0-9_-]{1,64}$/
const OFFSET = /^(0|[1-9][0-9]{0,15})$/

/** The longest epoch this plugin makes (lib/broker/epoch.ts: 12 characters of prefix, 11 of counter). */
const EPOCH_LENGTH_BOUND = 23
/** `=`, `.`, the longest offset (16 digits) and the `&` before the next entry. */
const ENTRY_OVERHEAD = 1 + EPOCH_LENGTH_BOUND + 1 + 16 + 1

/** The most characters `topic`'s entry can take in a cursor, whatever its position. */
export function cursorEntryBound (topic: string): number {
  return encodeURIComponent(topic).length + ENTRY_OVERHEAD
}

export function encodeEntry (topic: string, position: TopicPosition): string {
  return `${encodeURIComponent(topic)}=${position.epoch}.${position.offset}`
}

/** A topic's part of a cursor; a topic whose position is not known yet is left out. */
export interface CursorEntry {
  readonly topic: string
  readonly cursor: TopicPosition | undefined
}

/** Encodes entries given in topic order, so streams on the same topics and positions share an id. */
export function encodeCursor (entries: Iterable<CursorEntry>): string {
  let id = ''
  for (const { topic, cursor } of entries) {
    if (cursor === undefined) continue
    if (id !== '') id += '&'
    id += encodeEntry(topic, cursor)
  }
  return id
}

/** Parses a Last-Event-ID; undefined when it is absent, too long or not a cursor. */
export function decodeCursor (id: string | undefined): Cursor | undefined {
  if (id === undefined || id === '' || id.length > MAX_CURSOR_LENGTH) return undefined
  const cursor: Cursor = new Map()
  for (const entry of id.split('&')) {
    const eq = entry.indexOf('=')
    const dot = entry.lastIndexOf('.')
    if (eq <= 0 || dot < eq) return undefined
    const epoch = entry.slice(eq + 1, dot)
    const offset = entry.slice(dot + 1)
    if (!EPOCH.test(epoch) || !OFFSET.test(offset)) return undefined
    let topic: string
    try {
      topic = decodeURIComponent(entry.slice(0, eq))
    } catch {
      return undefined
    }
    cursor.set(topic, { epoch, offset: Number(offset) })
  }
  return cursor
}
