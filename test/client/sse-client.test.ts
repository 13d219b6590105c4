import t from 'tap'
import { Agent } from 'undici'
import { SseClient, ClientStatusError, ClientEventTooLargeError, type SseClientHandler, type ParsedEvent } from '../../lib/client/index.js'
import { endlessLine, httpServer, openStream, streamThenEnd, streamThenNoContent } from './helpers.js'

interface Log { log: string[] }

// A handler that logs every callback; `overrides` replaces the callbacks a test is about.
function logging<State extends Log, Msg = never> (url: string, overrides: Partial<SseClientHandler<State, Msg>> = {}): SseClientHandler<State, Msg> {
  return {
    init: (state) => ({ connect: { url }, state }),
    handleConnect: (response, state) => { state.log.push(`connect ${response.status}`) },
    handleConnectFailure: (reason, state) => {
      state.log.push(`failure ${(reason as ClientStatusError).status}`)
      return { stop: reason }
    },
    handleDisconnect: (reason, state) => {
      state.log.push(`disconnect ${reason === 'end' ? 'end' : 'error'}`)
      return { connect: { url }, state }
    },
    handleEvent: (event, state) => {
      state.log.push(`event ${event.data}`)
      return state
    },
    ...overrides
  }
}

t.test('init connects; events, disconnects and reconnections go through the callbacks', async (t) => {
  const server = await httpServer(t, (_req, res, index) => {
    if (index < 2) streamThenEnd(res, `retry: 5\nid: ${index + 1}\ndata: ${index + 1}\n\n`)
    else res.writeHead(204).end()
  })
  const client = SseClient.start(logging(server.url), { log: [] as string[] })
  const { reason, state } = await client.closed
  t.equal(reason, 'no-content', 'a 204 stops the client')
  t.strictSame(state.log, ['connect 200', 'event 1', 'disconnect end', 'connect 200', 'event 2', 'disconnect end'])
  t.strictSame(server.requests.map((r) => r.headers['last-event-id']), [undefined, '1', '2'])
  t.equal(client.status, 'stopped')
  t.equal(client.lastEventId, '2')
})

t.test('handleEvent returns the new state; requests go through the given dispatcher', async (t) => {
  const server = await httpServer(t, streamThenNoContent('retry: 5\ndata: 2\n\ndata: 3\n\n'))
  const dispatcher = new Agent()
  t.teardown(() => dispatcher.close())
  const connections: string[] = []
  dispatcher.on('connect', (origin) => connections.push(String(origin)))
  const client = SseClient.start({
    init: (state) => ({ connect: { url: server.url }, state }),
    handleEvent: (event, state) => state * Number(event.data)
  }, 1, { dispatcher })
  t.strictSame(await client.closed, { reason: 'no-content', state: 6 })
  t.ok(connections.length > 0)
})

t.test('a connect failure reaches handleConnectFailure, which may stop the client', async (t) => {
  const server = await httpServer(t, (_req, res) => res.writeHead(500).end())
  const client = SseClient.start(logging(server.url), { log: [] as string[] })
  const { reason, state } = await client.closed
  t.type(reason, ClientStatusError)
  t.match(reason, { code: 'SSE_ERR_CLIENT_STATUS', status: 500 })
  t.strictSame(state.log, ['failure 500'])
})

t.test('handleConnectFailure may connect again, with new headers', async (t) => {
  const server = await httpServer(t, (req, res, index) => {
    if (index === 2) res.writeHead(204).end()
    else if (req.headers.authorization === 'Bearer fresh') streamThenEnd(res, 'retry: 5\ndata: welcome\n\n')
    else res.writeHead(401).end()
  })
  type State = Log & { token: string }
  const request = (state: State): { url: string, headers: Record<string, string> } =>
    ({ url: server.url, headers: { authorization: `Bearer ${state.token}` } })
  const client = SseClient.start(logging<State>(server.url, {
    init: (state) => ({ connect: request(state), state }),
    handleConnectFailure: (reason, state) => {
      state.log.push(`failure ${(reason as ClientStatusError).status}`)
      const refreshed = { ...state, token: 'fresh' }
      return { connect: { ...request(refreshed), delay: 1 }, state: refreshed }
    },
    handleDisconnect: (_reason, state) => ({ connect: request(state) })
  }), { log: [], token: 'stale' })
  const { state } = await client.closed
  t.equal(state.token, 'fresh')
  t.strictSame(state.log, ['failure 401', 'connect 200', 'event welcome'])
  t.strictSame(server.requests.map((r) => r.headers.authorization), ['Bearer stale', 'Bearer fresh', 'Bearer fresh'])
})

t.test('by default a failure is retried with backoff, a permanent one rejects closed', async (t) => {
  const server = await httpServer(t, (_req, res, index) => {
    if (index === 0) res.socket?.destroy()
    else if (index === 1) res.writeHead(503, { 'retry-after': '0' }).end()
    else res.writeHead(403).end()
  })
  const client = SseClient.start({
    init: (state) => ({ connect: { url: server.url }, state }),
    handleEvent: (_event, state) => state
  }, null, { retry: 5 })
  await t.rejects(client.closed, { code: 'SSE_ERR_CLIENT_STATUS', status: 403 })
  t.equal(server.requests.length, 3)
})

t.test('by default a disconnect reconnects to the same request after the server\'s retry', async (t) => {
  const server = await httpServer(t, streamThenNoContent('retry: 5\nid: 1\ndata: a\n\n'))
  const client = SseClient.start({
    init: (state) => ({ connect: { url: server.url, method: 'POST', body: 'q', headers: { 'x-one': '1' } }, state }),
    handleEvent: (event, state) => {
      t.equal(client.status, 'open')
      return [...state, event.data]
    }
  }, [] as string[], { retry: 60_000 })
  t.strictSame(await client.closed, { reason: 'no-content', state: ['a'] })
  t.strictSame(server.requests.map((r) => [r.method, r.body, r.headers['x-one'], r.headers['last-event-id']]), [
    ['POST', 'q', '1', undefined],
    ['POST', 'q', '1', '1']
  ])
})

t.test('a delay given overrides the backoff; the client waits in `waiting`', async (t) => {
  const server = await httpServer(t, streamThenNoContent('retry: 60000\ndata: a\n\n'))
  const client = SseClient.start(logging(server.url, {
    init: (state) => ({ connect: { url: server.url, delay: 1 }, state }),
    // Without the delay here, the server's retry of a minute would time the test out.
    handleDisconnect: (_reason, state) => ({ connect: { url: server.url, delay: 1 }, state })
  }), { log: [] as string[] })
  t.equal(client.status, 'waiting')
  await client.closed
  t.equal(server.requests.length, 2)
})

t.test('the handler\'s Last-Event-ID wins over the client\'s', async (t) => {
  const server = await httpServer(t, streamThenNoContent('retry: 5\nid: 1\ndata: a\n\n'))
  const client = SseClient.start(logging(server.url, {
    handleDisconnect: (_reason, state) => ({ connect: { url: server.url, headers: { 'Last-Event-ID': 'mine' } }, state })
  }), { log: [] as string[] }, { lastEventId: 'start' })
  await client.closed
  t.strictSame(server.requests.map((r) => r.headers['last-event-id']), ['start', 'mine'])
})

t.test('send() reaches handleInfo: carry on, connect, stop', async (t) => {
  const server = await httpServer(t, (req, res) => openStream(res, `data: ${String(req.headers.authorization)}\n\n`))
  type Msg = { type: 'ping' } | { type: 'token', token: string } | { type: 'quit' }
  const client = SseClient.start<Log, Msg>(logging(server.url, {
    init: (state) => ({ state }), // idle until a message says otherwise
    handleEvent: (event, state) => {
      state.log.push(`event ${event.data}`)
      if (event.data === 'one') client.send({ type: 'token', token: 'two' }) // a new token: reconnect
      if (event.data === 'two') client.send({ type: 'quit' })
      return state
    },
    handleInfo: (msg, state) => {
      state.log.push(`info ${msg.type}`)
      if (msg.type === 'token') return { connect: { url: server.url, headers: { authorization: msg.token } }, state }
      if (msg.type === 'quit') return { stop: 'quit', state }
    }
  }), { log: [] })
  t.equal(client.status, 'idle')
  client.send({ type: 'ping' })
  t.equal(client.status, 'idle')
  client.send({ type: 'token', token: 'one' })
  t.equal(client.status, 'connecting')
  const { reason, state } = await client.closed
  t.equal(reason, 'quit')
  t.strictSame(state.log, ['info ping', 'info token', 'connect 200', 'event one', 'info token', 'connect 200', 'event two', 'info quit'])
  // Reconnecting from handleInfo closed the first stream; stopping closed the second.
  await Promise.all(server.requests.map((r) => r.closed))
  t.equal(server.requests.length, 2)
})

t.test('a reconnection in the middle of a chunk resumes after the last event handled', async (t) => {
  const server = await httpServer(t, (_req, res, index) => {
    if (index === 0) openStream(res, 'id: 1\ndata: a\n\nid: 2\ndata: b\n\n')
    else res.writeHead(204).end()
  })
  const client = SseClient.start<string[], 'again'>({
    init: (state) => ({ connect: { url: server.url }, state }),
    handleEvent: (event, state) => {
      client.send('again')
      return [...state, event.data]
    },
    handleInfo: (_msg, state) => ({ connect: { url: server.url }, state })
  }, [])
  t.strictSame(await client.closed, { reason: 'no-content', state: ['a'] })
  t.strictSame(server.requests.map((r) => r.headers['last-event-id']), [undefined, '1'])
})

t.test('handleConnect may stop the client; stop() closes the stream', async (t) => {
  const server = await httpServer(t, (_req, res) => openStream(res, 'data: a\n\n'))
  const first = SseClient.start(logging(server.url, { handleConnect: (_response, state) => ({ stop: 'seen', state }) }), { log: [] as string[] })
  t.equal((await first.closed).reason, 'seen')
  const second = SseClient.start(logging(server.url, {
    handleEvent: (_event, state) => {
      setImmediate(() => second.stop())
      return state
    }
  }), { log: [] as string[] })
  t.equal((await second.closed).reason, 'stopped')
  await Promise.all(server.requests.map((r) => r.closed))
  second.stop()
  second.send(undefined as never)
  t.equal(second.status, 'stopped', 'stop and send after the end are ignored')
})

t.test('a disconnect by a network error reaches handleDisconnect with the error', async (t) => {
  const server = await httpServer(t, (_req, res, index) => {
    if (index === 0) {
      openStream(res, 'id: 1\ndata: a\n\n')
      setTimeout(() => res.socket?.destroy(), 10)
    } else {
      res.writeHead(204).end()
    }
  })
  const reasons: unknown[] = []
  const client = SseClient.start(logging(server.url, {
    handleDisconnect: (reason, state) => {
      reasons.push(reason)
      return { connect: { url: server.url, delay: 1 }, state }
    }
  }), { log: [] as string[] })
  t.equal((await client.closed).reason, 'no-content')
  t.equal(reasons.length, 1)
  t.type(reasons[0], Error)
})

t.test('an event past maxEventSize is a disconnect: by default it stops the client, not retried', async (t) => {
  const server = await httpServer(t, (_req, res) => endlessLine(res, 'retry: 5\ndata: before\n\n'))
  const client = SseClient.start(logging(server.url, { handleDisconnect: undefined }), { log: [] as string[] }, { maxEventSize: 64 * 1024 })
  const error = await client.closed.catch((error: unknown) => error)
  t.type(error, ClientEventTooLargeError)
  t.match(error, { code: 'SSE_ERR_CLIENT_EVENT_TOO_LARGE', limit: 64 * 1024 })
  await server.requests[0].closed
  t.equal(server.requests.length, 1)
})

t.test('handleDisconnect gets the ClientEventTooLargeError and decides', async (t) => {
  const server = await httpServer(t, (_req, res, index) => {
    if (index === 0) endlessLine(res, 'retry: 5\ndata: before\n\n')
    else res.writeHead(204).end()
  })
  const reasons: unknown[] = []
  const client = SseClient.start(logging(server.url, {
    handleDisconnect: (reason, state) => {
      reasons.push(reason)
      return { connect: { url: server.url }, state }
    }
  }), { log: [] as string[] }, { maxEventSize: 64 * 1024 })
  const { reason, state } = await client.closed
  t.equal(reason, 'no-content')
  t.strictSame(state.log, ['connect 200', 'event before'])
  t.match(reasons, [{ code: 'SSE_ERR_CLIENT_EVENT_TOO_LARGE' }])
  await server.requests[0].closed
})

t.test('a maxEventSize that is not a positive integer throws from start()', async (t) => {
  t.throws(() => SseClient.start(logging('http://127.0.0.1:1/'), { log: [] as string[] }, { maxEventSize: -1 }), { code: 'SSE_ERR_CLIENT_INVALID_OPTION' })
})

t.test('noreply after a disconnect leaves the client idle', async (t) => {
  const server = await httpServer(t, (_req, res) => streamThenEnd(res, 'data: a\n\n'))
  const client = SseClient.start(logging(server.url, {
    handleDisconnect: (_reason, state) => {
      setImmediate(() => {
        t.equal(client.status, 'idle')
        client.stop('later')
      })
      return { state }
    }
  }), { log: [] as string[] })
  t.equal((await client.closed).reason, 'later')
})

t.test('a callback that throws stops the client: closed rejects, the stream is closed', async (t) => {
  const server = await httpServer(t, (_req, res) => openStream(res, 'data: a\n\n'))
  const failure = new Error('handler bug')
  const client = SseClient.start(logging(server.url, {
    handleEvent: () => { throw failure }
  }), { log: [] as string[] })
  await t.rejects(client.closed, failure)
  await server.requests[0].closed
  t.equal(client.status, 'stopped')
})

t.test('init that throws rejects closed', async (t) => {
  const failure = new Error('init bug')
  const client = SseClient.start({ init: () => { throw failure }, handleEvent: (_event: ParsedEvent, state: null) => state }, null)
  await t.rejects(client.closed, failure)
})

t.test('stop() while waiting to connect; a delay too long for a timer is clamped, not taken as 1 ms', async (t) => {
  const server = await httpServer(t, (_req, res) => res.writeHead(204).end())
  const client = SseClient.start({
    init: (state) => ({ connect: { url: server.url, delay: 1e12 }, state }),
    handleEvent: (_event: ParsedEvent, state: null) => state
  }, null)
  t.equal(client.status, 'waiting')
  await new Promise((resolve) => setTimeout(resolve, 20))
  t.equal(server.requests.length, 0, 'still waiting')
  client.stop()
  t.strictSame(await client.closed, { reason: 'stopped', state: null })
})

t.test('a handler may be a class instance: callbacks are called as its methods', async (t) => {
  const server = await httpServer(t, (_req, res, index) => {
    if (index === 0) res.writeHead(503, { 'retry-after': '0' }).end()
    else if (index === 1) streamThenEnd(res, 'retry: 5\ndata: a\n\n')
    else res.writeHead(204).end()
  })
  class Counter implements SseClientHandler<string[], never> {
    constructor (readonly url: string) {}
    init (state: string[]): { connect: { url: string }, state: string[] } { return { connect: { url: this.url }, state } }
    handleConnect (): void { this.note('connect') }
    handleConnectFailure (): { connect: { url: string } } { this.note('failure'); return { connect: { url: this.url } } }
    handleDisconnect (): { connect: { url: string } } { this.note('disconnect'); return { connect: { url: this.url } } }
    handleEvent (event: ParsedEvent, state: string[]): string[] { return [...state, event.data] }
    readonly notes: string[] = []
    note (what: string): void { this.notes.push(what) }
  }
  const handler = new Counter(server.url)
  t.strictSame(await SseClient.start(handler, []).closed, { reason: 'no-content', state: ['a'] })
  t.strictSame(handler.notes, ['failure', 'connect', 'disconnect'])
})
