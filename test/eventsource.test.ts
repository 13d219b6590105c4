import t from 'tap'
import { EventSource } from 'eventsource'
import { buildPingApp } from '../example/ping.js'

t.test('the eventsource package, an independent client, receives the ping events', async (t) => {
  const app = await buildPingApp()
  const url = await app.listen({ port: 0, host: '127.0.0.1' })
  t.teardown(() => app.close())
  const source = new EventSource(`${url}/ping`)
  t.teardown(() => source.close())
  const times = await new Promise<string[]>((resolve, reject) => {
    const received: string[] = []
    source.addEventListener('ping', (event) => {
      received.push(JSON.parse(event.data).time)
      if (received.length === 2) resolve(received)
    })
    source.onerror = (error) => reject(error)
  })
  t.equal(times.length, 2)
  t.ok(Date.parse(times[1]) > Date.parse(times[0]))
})
