// The load generator, a child process of the runner: raw TCP clients on 127.0.0.1 that open streams
// in ramped batches, count every event and check its order, and time what the runner asks.
// Every loop is bounded by a count and every wait by a timeout.

import { readdirSync } from 'node:fs'
import { now, sleep } from './clock.js'
import { serve } from './ipc.js'
import { SseConnection, type ConnectionEvents } from './loadgen/connection.js'
import { Phase } from './loadgen/phase.js'

interface OpenResult {
  opened: number
  failed: number
  ms: number
  /** Streams opened per second: connect until the response head has arrived. */
  rate: number
  firstFailure?: string
}

let streams: SseConnection[] = []
let phase: Phase | undefined

/** Opens `n` streams in sequential batches of `batch` concurrent connects. */
async function openStreams (port: number, n: number, batch: number, timeoutMs: number, into: SseConnection[]): Promise<OpenResult> {
  const waiting = new Set<SseConnection>()
  let batchDone: () => void = () => {}
  const settle = (connection: SseConnection): void => {
    if (waiting.delete(connection) && waiting.size === 0) batchDone()
  }
  const events: ConnectionEvents = { headers: settle, closed: settle }
  const start = now()
  const deadline = start + timeoutMs
  for (let opened = 0; opened < n && now() < deadline; opened += batch) {
    let timer: NodeJS.Timeout | undefined
    const done = new Promise<void>((resolve) => {
      batchDone = resolve
      timer = setTimeout(resolve, Math.max(0, deadline - now()))
    })
    for (let i = 0; i < Math.min(batch, n - opened); i++) {
      const connection = new SseConnection(port, events)
      waiting.add(connection)
      into.push(connection)
    }
    await done
    clearTimeout(timer)
  }
  const ms = now() - start
  const failed = into.filter((connection) => !connection.open)
  const ok = into.length - failed.length
  return { opened: ok, failed: n - ok, ms, rate: ok / (ms / 1000), firstFailure: failed[0]?.failure ?? (failed.length > 0 ? 'no response head in time' : undefined) }
}

/** Resets every connection and waits (bounded) until their sockets have closed, so their file
 *  descriptors are free before the next step opens thousands more. */
async function closeAll (list: SseConnection[]): Promise<void> {
  for (const connection of list) connection.destroy()
  const start = now()
  while (list.some((connection) => !connection.socket.closed) && now() - start < 5_000) await sleep(10)
}

const api = {
  /** Opens the streams the next scenarios use (ramped: sequential batches). */
  async open ({ port, n, batch, timeoutMs }: { port: number, n: number, batch: number, timeoutMs: number }) {
    await closeAll(streams)
    streams = []
    return openStreams(port, n, batch, timeoutMs, streams)
  },
  /** From now on every open stream must receive events `from`..`from+count-1`, in order. */
  expect ({ from, count, stamped }: { from: number, count: number, stamped: boolean }) {
    const open = streams.filter((connection) => connection.open)
    phase = new Phase(from, count, open.length, stamped)
    for (const connection of open) connection.expect(phase)
    return { streams: open.length }
  },
  /** Waits for the phase to complete or the time to run out; reports what arrived. */
  async wait ({ timeoutMs }: { timeoutMs: number }) {
    if (phase === undefined) throw new Error('wait without expect')
    return await phase.settle(timeoutMs)
  },
  /** Opens streams in sequential batches and closes them again (a warm-up). */
  async openAndClose ({ port, n, batch, timeoutMs }: { port: number, n: number, batch: number, timeoutMs: number }) {
    const fresh: SseConnection[] = []
    const result = await openStreams(port, n, batch, timeoutMs, fresh)
    await closeAll(fresh)
    return result
  },
  /** Waits until every stream has ended (last chunk or socket closed). */
  async ended ({ timeoutMs }: { timeoutMs: number }) {
    const start = now()
    while (now() - start < timeoutMs && streams.some((connection) => !connection.finished)) await sleep(10)
    return { ended: streams.filter((connection) => connection.finished).length, of: streams.length, ms: now() - start }
  },
  /** Open file descriptors of this process (Linux), to see that closed streams gave theirs back. */
  fds () {
    try {
      return readdirSync('/proc/self/fd').length
    } catch {
      return -1
    }
  },
  async close () {
    await closeAll(streams)
    const count = streams.length
    streams = []
    phase = undefined
    return count
  }
}

export type LoadgenApi = typeof api

serve(api)
process.send?.({ ready: true })
