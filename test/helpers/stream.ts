import http from 'node:http'
import { createParser as referenceParser } from 'eventsource-parser'

export interface ReceivedEvent {
  event: string | undefined
  data: string
  id: string | undefined
}

/** A real client on a real socket, parsing with an independent parser (eventsource-parser). */
export interface TestStream {
  readonly status: number
  readonly headers: http.IncomingHttpHeaders
  readonly events: ReceivedEvent[]
  /** Everything received, as text. */
  readonly text: () => string
  readonly retries: number[]
  /** Resolves once `count` events arrived (or rejects when the stream ends first). */
  waitFor (count: number): Promise<ReceivedEvent[]>
  /** Resolves when the server ends the stream. */
  readonly ended: Promise<void>
  close (): void
}

export function openStream (url: string, options: { headers?: Record<string, string>, method?: string } = {}): Promise<TestStream> {
  return new Promise((resolve, reject) => {
    const request = http.request(url, { method: options.method ?? 'GET', headers: { accept: 'text/event-stream', ...options.headers }, agent: false })
    request.on('error', reject)
    request.on('response', (response) => {
      const events: ReceivedEvent[] = []
      const retries: number[] = []
      let text = ''
      let waiter: { count: number, resolve: (e: ReceivedEvent[]) => void, reject: (e: Error) => void } | undefined
      const check = (): void => {
        if (waiter !== undefined && events.length >= waiter.count) {
          waiter.resolve(events.slice())
          waiter = undefined
        }
      }
      const parser = referenceParser({
        onEvent: (event) => {
          events.push({ event: event.event, data: event.data, id: event.id })
          check()
        },
        onRetry: (retry) => retries.push(retry)
      })
      let done = false
      const ended = new Promise<void>((resolveEnded) => {
        const finish = (): void => {
          if (done) return
          done = true
          waiter?.reject(new Error(`stream ended after ${events.length} events`))
          waiter = undefined
          resolveEnded()
        }
        response.on('end', finish)
        response.on('close', finish)
        response.on('error', finish)
      })
      response.setEncoding('utf8')
      response.on('data', (chunk: string) => {
        text += chunk
        parser.feed(chunk)
      })
      resolve({
        status: response.statusCode ?? 0,
        headers: response.headers,
        events,
        retries,
        text: () => text,
        ended,
        waitFor (count) {
          if (events.length >= count) return Promise.resolve(events.slice())
          if (done) return Promise.reject(new Error(`stream ended after ${events.length} events`))
          return new Promise((resolveWait, rejectWait) => { waiter = { count, resolve: resolveWait, reject: rejectWait } })
        },
        close () {
          request.destroy()
        }
      })
    })
    request.end()
  })
}

/** Waits until `condition` holds, polling; fails after `attempts` polls. Never a timing assertion. */
export async function eventually (condition: () => boolean, attempts = 500, everyMs = 10): Promise<void> {
  for (let i = 0; i < attempts; i++) {
    if (condition()) return
    await new Promise((resolve) => setTimeout(resolve, everyMs))
  }
  throw new Error('condition never held')
}

/** A light reader for wide fan-out tests: counts the events (blank-line ends) without keeping them. */
export interface CountingStream {
  readonly count: () => number
  close (): void
}

export function countEvents (url: string): Promise<CountingStream> {
  return new Promise((resolve, reject) => {
    const request = http.get(url, { headers: { accept: 'text/event-stream' }, agent: false }, (response) => {
      let count = 0
      let previous = 0
      response.on('data', (chunk: Buffer) => {
        if (previous === 10 && chunk[0] === 10) count++
        for (let at = chunk.indexOf('\n\n'); at !== -1; at = chunk.indexOf('\n\n', at + 2)) count++
        previous = chunk[chunk.length - 1]
      })
      resolve({ count: () => count, close: () => request.destroy() })
    })
    request.on('error', reject)
  })
}
