import { createParser, type ParsedEvent } from '../../lib/client/parser.js'

// What the parser tests share: a parse that records everything, and the ways a stream is fed.

export interface Parsed {
  events: ParsedEvent[]
  retries: number[]
  comments: string[]
  lastEventId: string
}

export type Feed = (parser: ReturnType<typeof createParser>, input: Uint8Array) => void

export const feeds: Record<string, Feed> = {
  'whole as text': (parser, input) => parser.feed(Buffer.from(input).toString('utf8')),
  'whole as bytes': (parser, input) => parser.feed(input),
  'byte by byte': (parser, input) => { for (let i = 0; i < input.length; i++) parser.feed(input.subarray(i, i + 1)) },
  'as text, one character at a time': (parser, input) => { for (const c of Buffer.from(input).toString('utf8')) parser.feed(c) },
  // Long enough for a line, or a `data:` line's name, to wait in pieces.
  'as text, 7 characters at a time': (parser, input) => {
    const text = Buffer.from(input).toString('utf8')
    for (let i = 0; i < text.length; i += 7) parser.feed(text.slice(i, i + 7))
  }
}

export function parseWith (feed: Feed, input: string | Uint8Array): Parsed {
  const parsed: Parsed = { events: [], retries: [], comments: [], lastEventId: '' }
  const parser = createParser({
    onEvent: (event) => parsed.events.push(event),
    onRetry: (ms) => parsed.retries.push(ms),
    onComment: (text) => parsed.comments.push(text)
  })
  feed(parser, typeof input === 'string' ? Buffer.from(input) : input)
  parser.end()
  parsed.lastEventId = parser.lastEventId
  return parsed
}

export function event (data: string, type = 'message', lastEventId = ''): ParsedEvent {
  return { type, data, lastEventId }
}
