// The HTTP/2 load generator, a child process of the runner: cleartext h2 sessions on 127.0.0.1, each
// carrying many SSE streams, as a browser page does. Counts every event and checks its order.
// Every loop is bounded by a count and every wait by a timeout.
import http2, { type ClientHttp2Session } from 'node:http2'
import { now, sleep } from '../clock.js'
import { serve } from '../ipc.js'
import { Phase } from '../loadgen/phase.js'
import { H2Stream } from './h2-stream.js'

let sessions: ClientHttp2Session[] = []
let streams: H2Stream[] = []
let phase: Phase | undefined

function connect (port: number): Promise<ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    // A window large enough that flow control is not what is measured (the server's is the same).
    const session = http2.connect(`http://127.0.0.1:${port}`, { settings: { initialWindowSize: 1 << 24 } })
    session.once('connect', () => {
      session.setLocalWindowSize(1 << 26)
      resolve(session)
    })
    session.once('error', reject)
    session.on('error', () => {})
  })
}

async function closeAll (): Promise<void> {
  for (const session of sessions) session.destroy()
  const start = now()
  while (sessions.some((session) => !session.closed) && now() - start < 5_000) await sleep(10)
  sessions = []
  streams = []
  phase = undefined
}

const api = {
  /** Opens `n` streams, `perSession` on each session, all at once; resolves once every head came. */
  async open ({ port, n, perSession, timeoutMs }: { port: number, n: number, perSession: number, timeoutMs: number }) {
    await closeAll()
    const start = now()
    // Counted against n, not a set of the ones made so far: the first session's heads may all
    // arrive before the next session is connected.
    const settledOnce = new Set<H2Stream>()
    let settled: () => void = () => {}
    const all = new Promise<void>((resolve) => { settled = resolve })
    const onSettled = (stream: H2Stream): void => {
      if (settledOnce.has(stream)) return
      settledOnce.add(stream)
      if (settledOnce.size === n) settled()
    }
    for (let opened = 0; opened < n; opened += perSession) {
      const session = await connect(port)
      sessions.push(session)
      for (let i = 0; i < Math.min(perSession, n - opened); i++) {
        streams.push(new H2Stream(session, onSettled))
      }
    }
    let timer: NodeJS.Timeout | undefined
    await Promise.race([all, new Promise<void>((resolve) => { timer = setTimeout(resolve, timeoutMs) })])
    clearTimeout(timer)
    const ms = now() - start
    const failed = streams.filter((stream) => !stream.open)
    return { opened: streams.length - failed.length, failed: failed.length, sessions: sessions.length, ms, firstFailure: failed[0]?.failure ?? (failed.length > 0 ? 'no response head in time' : undefined) }
  },
  /** From now on every open stream must receive events `from`..`from+count-1`, in order. */
  expect ({ from, count }: { from: number, count: number }) {
    const open = streams.filter((stream) => stream.open)
    phase = new Phase(from, count, open.length, false)
    for (const stream of open) stream.expect(phase)
    return { streams: open.length }
  },
  async wait ({ timeoutMs }: { timeoutMs: number }) {
    if (phase === undefined) throw new Error('wait without expect')
    return await phase.settle(timeoutMs)
  },
  async close () {
    const count = streams.length
    await closeAll()
    return count
  }
}

export type H2LoadgenApi = typeof api

serve(api)
process.send?.({ ready: true })
