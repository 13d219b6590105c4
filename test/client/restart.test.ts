import t, { type Test } from 'tap'
import { SseClient, ClientRestartLimitError, MAX_BACKOFF, MIN_RETRY, type ParsedEvent, type SseClientHandler } from '../../lib/client/index.js'
import { restartDelay } from '../../lib/client/restart.js'
import { httpServer, openStream } from './helpers.js'

// SseClient under supervision (issue 10 item 3, seed 003): which ends restart the handler from
// `init`, how many restarts within how long, and the backoff between them. Against real servers.

// The lowest backoff (250, 500, 1000 ms): the tests wait as little as the floor allows.
function lowestJitter (t: Test): { draws: number } {
  const seen = { draws: 0 }
  const random = Math.random
  Math.random = () => { seen.draws++; return 0 }
  t.teardown(() => { Math.random = random })
  return seen
}

interface Run { events: string[] }
const fresh = (): Run => ({ events: [] })

t.test('transient: a handler that throws in handleEvent is restarted from init and gets events again', async (t) => {
  lowestJitter(t)
  const server = await httpServer(t, (_req, res, index) => openStream(res, `id: ${index + 1}\ndata: run ${index + 1}\n\n`))
  const log: string[] = []
  const failure = new Error('handler bug')
  const client = SseClient.start<Run>({
    init: (state) => {
      log.push(`init ${JSON.stringify(state)}`)
      return { connect: { url: server.url }, state }
    },
    handleEvent: (event, state) => {
      log.push(`event ${event.data}`)
      if (event.data === 'run 1') throw failure
      setImmediate(() => client.stop('done'))
      return { events: [...state.events, event.data] }
    }
  }, fresh(), { restart: 'transient' })
  const { reason, state } = await client.closed
  t.equal(reason, 'done')
  t.strictSame(state, { events: ['run 2'] }, 'the second run started from the initial state')
  t.strictSame(log, ['init {"events":[]}', 'event run 1', 'init {"events":[]}', 'event run 2'])
  t.equal(client.restarts, 1)
  await server.requests[0].closed // the restart dropped the first connection
  t.strictSame(server.requests.map((r) => r.headers['last-event-id']), [undefined, undefined], 'each run starts afresh, without the id of the last one')
})

t.test('temporary (the default): a callback that throws stops the client, closed rejects', async (t) => {
  const server = await httpServer(t, (_req, res) => openStream(res, 'data: a\n\n'))
  const failure = new Error('handler bug')
  for (const options of [{}, { restart: 'temporary' as const }]) {
    const client = SseClient.start({
      init: (state) => ({ connect: { url: server.url }, state }),
      handleEvent: () => { throw failure }
    }, null, options)
    await t.rejects(client.closed, failure)
    t.equal(client.restarts, 0)
    t.equal(client.status, 'stopped')
  }
  t.equal(server.requests.length, 2, 'one request per client: none was restarted')
  await Promise.all(server.requests.map((r) => r.closed))
})

t.test('transient: a stop a callback returns is a normal end, not restarted', async (t) => {
  const server = await httpServer(t, (_req, res) => openStream(res, 'data: a\n\n'))
  let inits = 0
  const client = SseClient.start({
    init: (state) => { inits++; return { connect: { url: server.url }, state } },
    handleConnect: (_response, state) => ({ stop: 'enough', state }),
    handleEvent: (_event: ParsedEvent, state: null) => state
  }, null, { restart: 'transient' })
  t.strictSame(await client.closed, { reason: 'enough', state: null })
  t.equal(inits, 1)
  t.equal(client.restarts, 0)
})

t.test('permanent: restarted after a 204 and after a stop a callback returns, but not after client.stop()', async (t) => {
  lowestJitter(t)
  const server = await httpServer(t, (_req, res, index) => {
    if (index === 0) res.writeHead(204).end()
    else openStream(res, 'data: a\n\n')
  })
  const log: string[] = []
  let runs = 0
  const client = SseClient.start({
    init: (state) => { log.push(`init ${++runs}`); return { connect: { url: server.url }, state } },
    handleConnect: (_response, state) => {
      log.push(`connect ${runs}`)
      if (runs === 2) return { stop: 'from the handler', state }
      setImmediate(() => client.stop('shutdown'))
    },
    handleEvent: (_event: ParsedEvent, state: null) => state
  }, null, { restart: 'permanent' })
  t.strictSame(await client.closed, { reason: 'shutdown', state: null })
  t.strictSame(log, ['init 1', 'init 2', 'connect 2', 'init 3', 'connect 3'])
  t.equal(client.restarts, 2)
  t.equal(server.requests.length, 3)
})

t.test('stop() while restarting ends the client at once; messages sent then are dropped', async (t) => {
  const seen: string[] = []
  const client = SseClient.start<null, string>({
    init: () => { throw new Error('init bug') },
    handleInfo: (msg) => { seen.push(msg) },
    handleEvent: (_event, state) => state
  }, null, { restart: 'permanent' })
  t.equal(client.status, 'restarting', 'init threw inside start(): the client waits before the next run')
  client.send('lost')
  client.stop('bye')
  t.strictSame(await client.closed, { reason: 'bye', state: null })
  t.strictSame(seen, [])
  t.equal(client.restarts, 1)
})

t.test('maxRestarts exceeded within restartWindow: the client stops for good, closed rejects with the last error', async (t) => {
  lowestJitter(t)
  const errors: Error[] = []
  const client = SseClient.start({
    init: () => {
      errors.push(new Error(`init bug ${errors.length + 1}`))
      throw errors[errors.length - 1]
    },
    handleEvent: (_event: ParsedEvent, state: null) => state
  }, null, { restart: 'transient', maxRestarts: 2, restartWindow: 60_000 })
  await t.rejects(client.closed, { message: 'init bug 3' })
  t.equal(await client.closed.catch((error: unknown) => error), errors[2], 'the error itself, not a wrapper')
  t.equal(errors.length, 3, 'the first run and two restarts')
  t.equal(client.restarts, 2)
  t.equal(client.status, 'stopped')
})

t.test('permanent out of restarts after normal stops: closed rejects with a ClientRestartLimitError', async (t) => {
  lowestJitter(t)
  const server = await httpServer(t, (_req, res) => res.writeHead(204).end())
  const client = SseClient.start({
    init: (state) => ({ connect: { url: server.url }, state }),
    handleEvent: (_event: ParsedEvent, state: null) => state
  }, null, { restart: 'permanent', maxRestarts: 1 })
  const error = await client.closed.catch((error: unknown) => error)
  t.type(error, ClientRestartLimitError)
  t.match(error, { code: 'SSE_ERR_CLIENT_RESTART_LIMIT', reason: 'no-content', message: /more than 1 times in 5000 ms/ })
  t.equal(server.requests.length, 2)
})

t.test('restarts older than restartWindow do not count: the backoff and the budget start over', async (t) => {
  const seen = lowestJitter(t)
  let runs = 0
  const client = SseClient.start({
    init: (state) => {
      if (++runs <= 3) throw new Error(`init bug ${runs}`)
      return { stop: 'healthy', state }
    },
    handleEvent: (_event: ParsedEvent, state: null) => state
  }, null, { restart: 'transient', maxRestarts: 1, restartWindow: 1 })
  t.strictSame(await client.closed, { reason: 'healthy', state: null })
  t.equal(client.restarts, 3, 'one restart a window, three times')
  t.equal(seen.draws, 3, 'one jittered delay a restart')
})

t.test('backoff between restarts: each restart waits in `restarting`, a jittered delay that doubles', async (t) => {
  const seen = lowestJitter(t)
  // The timers the client asks for, whatever xstate schedules them with: the delays, not the time.
  const waits: number[] = []
  const setTimer = globalThis.setTimeout
  globalThis.setTimeout = ((fn: () => void, ms?: number) => {
    if (ms !== undefined && ms >= MIN_RETRY && ms <= MAX_BACKOFF) waits.push(ms)
    return setTimer(fn, ms)
  }) as typeof setTimeout
  t.teardown(() => { globalThis.setTimeout = setTimer })
  const log: string[] = []
  let runs = 0
  const client = SseClient.start({
    init: (state) => {
      log.push(`init, draws ${seen.draws}`)
      if (++runs <= 3) {
        setImmediate(() => log.push(`after the crash: ${client.status}`))
        throw new Error('init bug')
      }
      return { stop: 'healthy', state }
    },
    handleEvent: (_event: ParsedEvent, state: null) => state
  }, null, { restart: 'transient', restartWindow: 60_000 })
  t.equal(client.status, 'restarting')
  await client.closed
  t.strictSame(log, [
    'init, draws 0', 'after the crash: restarting',
    'init, draws 1', 'after the crash: restarting',
    'init, draws 2', 'after the crash: restarting',
    'init, draws 3'
  ])
  t.strictSame(waits, [250, 500, 1000], 'the lowest of each jittered range: 250-500, 500-1000, 1000-2000 ms')
})

t.test('the restart delay: from the floor, doubling with each restart of a window, equal jitter, capped', async (t) => {
  const range = (n: number): [number, number] => [restartDelay(n, () => 0), restartDelay(n, () => 1)]
  t.strictSame([1, 2, 3, 4].map(range), [[250, 500], [500, 1000], [1000, 2000], [2000, 4000]])
  t.equal(restartDelay(20, () => 1), MAX_BACKOFF)
})

t.test('restart options are checked where they are given', async (t) => {
  const handler: SseClientHandler<null> = { init: (state) => ({ state }), handleEvent: (_event, state) => state }
  for (const options of [{ restart: 'always' }, { maxRestarts: -1 }, { maxRestarts: 1.5 }, { restartWindow: 0 }, { restartWindow: NaN }]) {
    t.throws(() => SseClient.start(handler, null, options as never), { code: 'SSE_ERR_CLIENT_INVALID_OPTION', message: new RegExp(`"${Object.keys(options)[0]}"`) })
  }
  const client = SseClient.start(handler, null, { restart: 'permanent', maxRestarts: 0, restartWindow: Infinity })
  client.stop()
  t.equal((await client.closed).reason, 'stopped')
})
