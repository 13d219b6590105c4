// node:http, one `res.write` of a shared buffer per client: what most hand-written SSE servers do.
import { burstOf, ResponseSet, startHttp } from './shared.js'
import type { StartServer } from './types.js'

const start: StartServer = async () => {
  const streams = new ResponseSet()
  const http = await startHttp((_req, res) => streams.add(res))
  const publish = (data: string): void => streams.publish(data)
  return { port: http.port, connections: () => streams.size, burst: burstOf(publish), publish, close: http.close }
}
export default start
