// The child process of one HTTP/2 server under test: starts it, then answers the runner
// (server-api.ts).
import { serve } from '../ipc.js'
import { serverApi } from '../server-api.js'
import { isH2ServerName, startH2Server } from './servers.js'

const name = process.argv[2] ?? ''
if (!isH2ServerName(name)) throw new Error(`unknown HTTP/2 server ${name}`)
const server = await startH2Server(name)
const api = serverApi(server)

export type H2ServerApi = typeof api

serve(api)
process.send?.({ ready: true })
process.on('SIGTERM', () => process.exit(0))
