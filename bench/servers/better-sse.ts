// better-sse on node:http: a session per request, registered on one channel that broadcasts.
import { createChannel, createSession } from 'better-sse'
import { burstOf, startHttp } from './shared.js'
import type { StartServer } from './types.js'

const start: StartServer = async () => {
  const channel = createChannel()
  const http = await startHttp((req, res) => {
    createSession(req, res).then((session) => channel.register(session), () => res.destroy())
  })
  const publish = (data: string): void => { channel.broadcast(data) }
  return { port: http.port, connections: () => channel.sessionCount, burst: burstOf(publish), publish, close: http.close }
}
export default start
