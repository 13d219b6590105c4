import t from 'tap'
import { connect, createParser, SseClient, type ParsedEvent, type SseClientHandler } from '../../lib/client/index.js'
import { httpServer } from './helpers.js'

// A misspelt or misplaced option is refused where it is given, never ignored: `lastEventID` would
// otherwise resume from the start without a word.

const unknown = (where: string, key: string): { code: string, message: RegExp } => ({ code: 'SSE_ERR_INVALID_OPTION', message: new RegExp(`"${where}\\.${key}": unknown option`) })

t.test('item 18: connect() refuses an unknown option at once', async (t) => {
  t.throws(() => connect('http://127.0.0.1:1/', { lastEventID: '7' } as never), unknown('ConnectOptions', 'lastEventID'))
  t.throws(() => connect('http://127.0.0.1:1/', { maxEventSize: 1024, timeout: 5 } as never), unknown('ConnectOptions', 'timeout'))
  t.throws(() => connect('http://127.0.0.1:1/', 'retry' as never), { code: 'SSE_ERR_INVALID_OPTION' })
})

t.test('item 18: SseClient.start refuses an unknown option at once', async (t) => {
  const handler: SseClientHandler<null> = { init: (state) => ({ connect: { url: 'http://127.0.0.1:1/' }, state }), handleEvent: (_event, state) => state }
  t.throws(() => SseClient.start(handler, null, { lastEventID: '7' } as never), unknown('SseClientOptions', 'lastEventID'))
})

t.test('item 18: createParser refuses an unknown option', async (t) => {
  t.throws(() => createParser({ onEvent: () => {}, lastEventID: '7' } as never), unknown('ParserOptions', 'lastEventID'))
  t.throws(() => createParser({ onEvent: () => {}, onevent: () => {} } as never), unknown('ParserOptions', 'onevent'))
})

t.test('item 18: a request a handler returns with an unknown key stops the client before any request', async (t) => {
  const server = await httpServer(t, (_req, res) => res.writeHead(204).end())
  const handleEvent = (_event: ParsedEvent, state: null): null => state
  const misspelt = SseClient.start({ init: (state) => ({ connect: { url: server.url, lastEventID: '7' } as never, state }), handleEvent }, null)
  await t.rejects(misspelt.closed, unknown('ConnectRequest', 'lastEventID'))
  const misplaced = SseClient.start({ init: (state) => ({ connect: { url: server.url }, delay: 10, state } as never), handleEvent }, null)
  await t.rejects(misplaced.closed, unknown('Next', 'delay'))
  t.equal(server.requests.length, 0)
})

t.test('item 18: every known key is accepted', async (t) => {
  const server = await httpServer(t, (_req, res) => res.writeHead(204).end())
  const options = { headers: {}, method: 'GET', body: undefined, lastEventId: '1', signal: new AbortController().signal, retry: 5, dispatcher: undefined, maxEventSize: 1024 }
  for await (const event of connect(server.url, options)) t.fail(event.data)
  t.ok(createParser({ onEvent: () => {}, onRetry: () => {}, onComment: () => {}, lastEventId: '1', maxEventSize: 1024 }))
  const client = SseClient.start({
    init: (state) => ({ connect: { url: server.url, method: 'GET', headers: {}, body: undefined, delay: 0 }, state }),
    handleEvent: (_event, state) => state
  }, null, { retry: 5, lastEventId: '1', dispatcher: undefined, maxEventSize: 1024, restart: 'temporary', maxRestarts: 3, restartWindow: 5000 })
  t.equal((await client.closed).reason, 'no-content')
})
