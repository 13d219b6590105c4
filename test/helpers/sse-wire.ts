import http from 'node:http'

// A bare event-stream client for tests that count every event: a real socket (no agent, one
// connection per stream), and a small parser written from the WHATWG rules, independent of the
// package's own client. It keeps the "last event ID string" exactly as a browser's EventSource does:
// set at each dispatch, id-only blocks included, and never from an event the connection cut short.

export interface WireEvent {
  type: string
  data: string
  lastEventId: string
}

export interface WireConnection {
  readonly status: number
  readonly headers: http.IncomingHttpHeaders
  /** Events dispatched on this connection, in order. */
  readonly events: WireEvent[]
  /** The last event ID string after the last dispatch (the `Last-Event-ID` to send on a reconnect). */
  readonly lastEventId: string
  /** The `retry:` values received. */
  readonly retries: number[]
  /** Whether the response ended (the server ended it, the socket dropped, or `close()` was called). */
  readonly isEnded: boolean
  /** Why it ended: 'end' (the server finished the response), 'aborted', 'error: ...', 'closed by the test'. */
  readonly endReason: string | undefined
  readonly ended: Promise<void>
  /** Bytes received. */
  readonly bytes: number
  /** The first 2 KB of the body as received (a 503's JSON, say). */
  readonly body: string
  /** Stops reading the socket (the server's side fills up), and `resume()` reads again. */
  pause (): void
  resume (): void
  /** Cuts the socket. */
  close (): void
}

export interface WireOptions {
  lastEventId?: string | undefined
  /** Called for each dispatched event, as it is parsed. */
  onEvent?: (event: WireEvent, connection: WireConnection) => void
  /** ms to wait for the response head before giving up (the request is destroyed, the promise rejects). */
  headTimeout?: number
}

/** WHATWG "interpret an event stream": lines on CR, LF or CRLF; data, event, id, retry; comments. */
class WireParser {
  #buffer = ''
  #data = ''
  #hasData = false
  #type = ''
  #idBuffer: string
  lastEventId: string
  #first = true

  constructor (readonly onEvent: (event: WireEvent) => void, readonly onRetry: (ms: number) => void, lastEventId = '') {
    this.lastEventId = lastEventId
    this.#idBuffer = lastEventId
  }

  feed (text: string): void {
    if (this.#first && text.length > 0) {
      this.#first = false
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1)
    }
    this.#buffer += text
    let start = 0
    const buffer = this.#buffer
    for (;;) {
      let end = -1
      for (let i = start; i < buffer.length; i++) {
        const c = buffer.charCodeAt(i)
        if (c === 10 || c === 13) { end = i; break }
      }
      if (end === -1) break
      // A CR at the very end may be the first half of a CRLF: wait for the next chunk.
      if (buffer.charCodeAt(end) === 13 && end === buffer.length - 1) break
      const line = buffer.slice(start, end)
      start = end + (buffer.charCodeAt(end) === 13 && buffer.charCodeAt(end + 1) === 10 ? 2 : 1)
      this.#line(line)
    }
    this.#buffer = buffer.slice(start)
  }

  #line (line: string): void {
    if (line === '') {
      this.#dispatch()
      return
    }
    if (line.charCodeAt(0) === 58) return // ':' comment
    const colon = line.indexOf(':')
    const field = colon === -1 ? line : line.slice(0, colon)
    let value = colon === -1 ? '' : line.slice(colon + 1)
    if (value.charCodeAt(0) === 32) value = value.slice(1)
    if (field === 'data') {
      this.#data += value + '\n'
      this.#hasData = true
    } else if (field === 'event') {
      this.#type = value
    } else if (field === 'id') {
      if (!value.includes('\0')) this.#idBuffer = value
    } else if (field === 'retry') {
      if (/^[0-9]+$/.test(value)) this.onRetry(Number(value))
    }
  }

  #dispatch (): void {
    this.lastEventId = this.#idBuffer
    if (!this.#hasData) {
      this.#type = ''
      return
    }
    const event = { type: this.#type === '' ? 'message' : this.#type, data: this.#data.slice(0, -1), lastEventId: this.lastEventId }
    this.#data = ''
    this.#hasData = false
    this.#type = ''
    this.onEvent(event)
  }
}

/**
 * Opens one event-stream request and resolves with the response head. Rejects on a network error
 * before the head (ECONNREFUSED, a reset) or after `headTimeout`.
 */
export function openWire (url: string, options: WireOptions = {}): Promise<WireConnection> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { accept: 'text/event-stream' }
    if (options.lastEventId !== undefined && options.lastEventId !== '') headers['last-event-id'] = options.lastEventId
    const request = http.request(url, { method: 'GET', headers, agent: false })
    let settled = false
    const timer = setTimeout(() => {
      if (settled) return
      settled = true
      request.destroy()
      reject(new Error(`no response head within ${options.headTimeout} ms`))
    }, options.headTimeout ?? 10_000)
    request.on('error', (error) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      reject(error)
    })
    request.on('response', (response) => {
      if (settled) {
        response.destroy()
        return
      }
      settled = true
      clearTimeout(timer)
      const events: WireEvent[] = []
      const retries: number[] = []
      let ended = false
      let endReason: string | undefined
      let bytes = 0
      let body = ''
      let finish!: () => void
      const endedPromise = new Promise<void>((resolveEnded) => { finish = resolveEnded })
      const markEnded = (reason: string): void => {
        if (ended) return
        ended = true
        endReason = reason
        finish()
      }
      const parser: WireParser = new WireParser((event) => {
        if (ended) return
        events.push(event)
        options.onEvent?.(event, connection)
      }, (ms) => retries.push(ms), options.lastEventId ?? '')
      const connection: WireConnection = {
        status: response.statusCode ?? 0,
        headers: response.headers,
        events,
        retries,
        get lastEventId () { return parser.lastEventId },
        get isEnded () { return ended },
        get endReason () { return endReason },
        get bytes () { return bytes },
        get body () { return body },
        ended: endedPromise,
        pause () { response.pause() },
        resume () { response.resume() },
        close () {
          markEnded('closed by the test')
          request.destroy()
          response.destroy()
        }
      }
      response.setEncoding('utf8')
      response.on('data', (chunk: string) => {
        if (ended) return
        bytes += Buffer.byteLength(chunk)
        if (body.length < 2048) body += chunk.slice(0, 2048 - body.length)
        parser.feed(chunk)
      })
      response.on('end', () => markEnded('end'))
      response.on('aborted', () => markEnded('aborted'))
      response.on('error', (error) => markEnded(`error: ${error.message}`))
      response.on('close', () => markEnded(response.complete ? 'end' : 'aborted'))
      request.on('error', (error) => markEnded(`error: ${error.message}`))
      resolve(connection)
    })
    request.end()
  })
}
