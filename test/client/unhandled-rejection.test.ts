import t from 'tap'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { httpServer } from './helpers.js'
import { childEnv } from '../helpers/child-env.js'

const script = fileURLToPath(new URL('./fixtures/unawaited-closed.ts', import.meta.url))

for (const mode of ['temporary', 'transient']) {
  t.test(`item 4: a 500 stops SseClient (${mode}) without an unhandled rejection when closed is not awaited yet`, async (t) => {
    // Connection: close, so that no kept-alive socket holds the child's event loop open.
    const server = await httpServer(t, (_req, res) => res.writeHead(500, { connection: 'close' }).end())
    const child = spawn(process.execPath, ['--import', 'tsx', script, server.url, mode], { env: childEnv(), stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (text: string) => { stdout += text })
    child.stderr.setEncoding('utf8').on('data', (text: string) => { stderr += text })
    const [code] = await once(child, 'close')
    t.notMatch(stderr, /unhandled|rejection/i)
    t.equal(code, 0, 'the process did not die')
    t.equal(stdout, 'closed rejects with SSE_ERR_CLIENT_STATUS 500\n', 'closed still rejects for whoever awaits it')
    t.equal(server.requests.length, mode === 'transient' ? 2 : 1, 'a transient client is restarted once, then gives up')
  })
}
