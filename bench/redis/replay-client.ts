// The reconnecting client of the replay scenario, in the runner: one stream over node:http, parsed
// with the package's own parser. It reads a cursor (the id-only block a stream gets when it
// subscribes), and later reconnects with it as Last-Event-ID and times the replay.

import { request, type ClientRequest } from 'node:http'
import { createParser } from '../../lib/client/index.js'
import { now } from '../clock.js'

export interface ReplayResult {
  /** Request sent until the last expected event was parsed, ms. */
  ms: number
  /** Request sent until the first event was parsed, ms. */
  firstMs: number
  received: number
  orderErrors: number
  /** The stream said `event: reset`: the history did not cover the cursor. */
  reset: boolean
  ok: boolean
  failure?: string
}

/**
 * Opens `path` and hands each body chunk to `onText` until it returns true, the time runs out or the
 * stream fails; the request is always destroyed at the end. Resolves with the failure, if any.
 */
function stream (port: number, path: string, headers: Record<string, string>, timeoutMs: number, onText: (text: string) => boolean): Promise<string | undefined> {
  return new Promise((resolve) => {
    let req: ClientRequest | undefined // eslint-disable-line prefer-const -- assigned once the request exists
    const end = (failure: string | undefined): void => {
      clearTimeout(timer)
      req?.destroy()
      resolve(failure)
    }
    const timer = setTimeout(() => end(`no complete answer within ${timeoutMs} ms`), timeoutMs)
    req = request({ host: '127.0.0.1', port, path, agent: false, headers: { accept: 'text/event-stream', ...headers } }, (res) => {
      if (res.statusCode !== 200) return end(`status ${res.statusCode}`)
      res.setEncoding('utf8')
      res.on('data', (text: string) => { if (onText(text)) end(undefined) })
      res.on('end', () => end('stream ended early'))
    })
    req.on('error', (error) => end(error.message))
    req.end()
  })
}

const ID_LINE = /(?:^|\n)id: ?([^\r\n]*)\r?\n/

/** The cursor a fresh stream on `path` starts at: where a client that disconnects now would resume. */
export async function cursorOf (port: number, path: string, timeoutMs: number): Promise<string> {
  let seen = ''
  let cursor: string | undefined
  const failure = await stream(port, path, {}, timeoutMs, (text) => {
    seen += text
    cursor = ID_LINE.exec(seen)?.[1]
    return cursor !== undefined
  })
  if (cursor === undefined) throw new Error(`no cursor from ${path} on port ${port}: ${failure ?? 'no id line'}`)
  return cursor
}

/** Reconnects with `lastEventId` and waits for events `from`..`from+count-1`, each `<seq> ...`, in order. */
export async function replay (port: number, path: string, lastEventId: string, from: number, count: number, timeoutMs: number): Promise<ReplayResult> {
  let received = 0
  let orderErrors = 0
  let reset = false
  let firstAt = NaN
  let lastAt = NaN
  const parser = createParser({
    onEvent (event) {
      if (event.type === 'reset') reset = true
      if (event.type !== 'message') return
      if (received === 0) firstAt = now()
      if (Number.parseInt(event.data, 10) !== from + received) orderErrors++
      if (++received === count) lastAt = now()
    }
  })
  const t0 = now()
  const failure = await stream(port, path, { 'last-event-id': lastEventId }, timeoutMs, (text) => {
    parser.feed(text)
    return received >= count || reset
  })
  const ok = failure === undefined && received === count && orderErrors === 0 && !reset
  return {
    ms: lastAt - t0,
    firstMs: firstAt - t0,
    received,
    orderErrors,
    reset,
    ok,
    ...(ok ? {} : { failure: failure ?? (reset ? 'event: reset' : `${received} of ${count} events, ${orderErrors} out of order`) })
  }
}
