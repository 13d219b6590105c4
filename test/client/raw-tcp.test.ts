import t from 'tap'
import { connect, type ParsedEvent } from '../../lib/client/index.js'
import { tcpServer, writeApart } from './helpers.js'

// Responses written by hand on a TCP socket, one piece per segment, to split what a server written
// with node:http never splits: a CRLF, a UTF-8 code point, the BOM, and the chunked framing itself.

// Connection: close, so that every request comes on a connection of its own.
const head = 'HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n'
const noContent = 'HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n'

// One chunk of the chunked transfer coding, by hand.
function chunk (payload: Buffer | string): Buffer {
  const bytes = typeof payload === 'string' ? Buffer.from(payload) : payload
  return Buffer.concat([Buffer.from(bytes.length.toString(16) + '\r\n'), bytes, Buffer.from('\r\n')])
}

async function collect (url: string): Promise<ParsedEvent[]> {
  const events: ParsedEvent[] = []
  for await (const event of connect(url, { retry: 5 })) events.push(event)
  return events
}

t.test('a CRLF, a code point and the BOM split across TCP segments and chunks', async (t) => {
  const euro = Buffer.from('\u20ac') // 3 bytes
  const smile = Buffer.from('\ud83d\ude00') // 4 bytes
  const server = await tcpServer(t, (socket, index) => {
    if (index > 0) {
      socket.end(noContent)
      return
    }
    void writeApart(socket, [
      head,
      chunk(Buffer.from([0xef])), // the BOM, a byte at a time
      chunk(Buffer.from([0xbb, 0xbf])),
      chunk('id: 1\r'), // CR here ...
      chunk('\ndata: price '), // ... LF there: one line ending
      chunk(Buffer.concat([Buffer.from('9'), euro.subarray(0, 1)])),
      chunk(euro.subarray(1)),
      chunk(Buffer.concat([Buffer.from(' '), smile.subarray(0, 2)])),
      // A chunk's size line in one segment, its payload across two, a CR and its LF in two chunks.
      Buffer.concat([chunk(smile.subarray(2)), Buffer.from('3\r\n\r\n')]),
      '\r\r\n',
      chunk('\n'),
      chunk('data: \ufeffkept\n\n'),
      '0\r\n\r\n'
    ]).then(() => socket.end())
  })
  const events = await collect(server.url)
  t.strictSame(events, [
    { type: 'message', data: 'price 9\u20ac \ud83d\ude00', lastEventId: '1' },
    { type: 'message', data: '\ufeffkept', lastEventId: '1' }
  ])
  t.equal(server.connections, 2)
})

t.test('a response framed by the end of the connection, cut in the middle of an event', async (t) => {
  const server = await tcpServer(t, (socket, index) => {
    if (index > 0) {
      socket.end(noContent)
      return
    }
    void writeApart(socket, [
      'HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n',
      'data: whole\r\n\r\ndata: ',
      'half'
    ]).then(() => socket.end())
  })
  t.strictSame((await collect(server.url)).map((e) => e.data), ['whole'])
})

t.test('a connection reset after the head is a drop, resumed with Last-Event-ID', async (t) => {
  const heads: string[] = []
  const server = await tcpServer(t, (socket, index, requestHead) => {
    heads.push(requestHead.toLowerCase())
    if (index === 0) {
      void writeApart(socket, [head, chunk('id: 5\ndata: before\n\n')]).then(() => socket.resetAndDestroy())
      return
    }
    socket.end(noContent)
  })
  t.strictSame((await collect(server.url)).map((e) => e.data), ['before'])
  t.equal(heads.length, 2)
  t.notMatch(heads[0], 'last-event-id')
  t.match(heads[1], 'last-event-id: 5\r\n')
})

t.test('item 10: an id no header can carry is treated as unknown: the reconnection goes without Last-Event-ID', async (t) => {
  // A C0 control (not tab) and DEL cannot travel in a header; NUL makes the parser ignore the id.
  for (const id of ['a\u0001b', 'x\u001fy', '\u007f', 'caf\u00e9\u0007']) {
    const heads: string[] = []
    const server = await tcpServer(t, (socket, index, requestHead) => {
      heads.push(requestHead.toLowerCase())
      if (index === 0) void writeApart(socket, [head, chunk(`retry: 5\nid: ${id}\ndata: a\n\n`), '0\r\n\r\n']).then(() => socket.end())
      else socket.end(noContent)
    })
    t.strictSame(await collect(server.url), [{ type: 'message', data: 'a', lastEventId: id }], JSON.stringify(id))
    t.equal(heads.length, 2, 'the client did not stop for good')
    t.notMatch(heads[1], 'last-event-id')
  }
})

t.test('item 10: an id with a tab is sent back as it is', async (t) => {
  const heads: string[] = []
  const server = await tcpServer(t, (socket, index, requestHead) => {
    heads.push(requestHead)
    if (index === 0) void writeApart(socket, [head, chunk('retry: 5\nid: a\tb\ndata: a\n\n'), '0\r\n\r\n']).then(() => socket.end())
    else socket.end(noContent)
  })
  await collect(server.url)
  t.match(heads[1], /\r\nlast-event-id: a\tb\r\n/i)
})
