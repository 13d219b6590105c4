// node:http at the limit: each event framed once as a complete HTTP/1.1 chunk and written straight
// to every socket, the sockets corked for the whole burst (one syscall per socket per burst).
import type { Socket } from 'node:net'
import { frameChunk } from '../../lib/protocol/framing.js'
import { holdWhileOpen, openResponse, sseBytes, startHttp } from './shared.js'
import type { StartServer } from './types.js'

const start: StartServer = async () => {
  const sockets = new Set<Socket>()
  const http = await startHttp((_req, res) => {
    openResponse(res)
    holdWhileOpen(sockets, res.socket!, res)
  })
  const burst = (batch: string[]): void => {
    for (const socket of sockets) socket.cork()
    for (const data of batch) {
      const framed = frameChunk(sseBytes(data))
      for (const socket of sockets) socket.write(framed)
    }
    for (const socket of sockets) socket.uncork()
  }
  return { port: http.port, connections: () => sockets.size, burst, publish: (data: string) => burst([data]), close: http.close }
}
export default start
